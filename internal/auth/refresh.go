package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// refreshRow is an oauth_refresh_tokens row: a refresh token that has not
// been used yet.
type refreshRow struct {
	bun.BaseModel `bun:"table:oauth_refresh_tokens"`

	TokenHash string    `bun:"token_hash,pk"`
	UserID    string    `bun:"user_id"`
	ClientID  string    `bun:"client_id"`
	Scope     string    `bun:"scope"`
	ExpiresAt time.Time `bun:"expires_at"`
	CreatedAt time.Time `bun:"created_at"`
}

// hashRefreshToken returns the hex SHA-256 of token. Refresh tokens are 256
// random bits, so a fast hash suffices to keep them useless to a reader of the
// database while letting us look them up.
func hashRefreshToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// storeRefreshToken creates a refresh token for userID and clientID with
// scope, valid until expiresAt, and returns it.
func (i *Issuer) storeRefreshToken(ctx context.Context, userID, clientID, scope string, expiresAt time.Time) (string, error) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	token := base64.RawURLEncoding.EncodeToString(b)
	row := refreshRow{
		TokenHash: hashRefreshToken(token),
		UserID:    userID,
		ClientID:  clientID,
		Scope:     scope,
		ExpiresAt: expiresAt,
		CreatedAt: i.now(),
	}
	if _, err := i.db.NewInsert().Model(&row).Exec(ctx); err != nil {
		return "", fmt.Errorf("auth: store refresh token: %w", err)
	}
	return token, nil
}

// consumeRefreshToken deletes the refresh token and returns what it was
// issued for; found is false when there is no such token (never issued,
// used already or revoked). One statement finds and deletes it, so of two
// concurrent uses only one finds it.
func (i *Issuer) consumeRefreshToken(ctx context.Context, token string) (row refreshRow, found bool, err error) {
	err = i.db.NewDelete().Model(&row).
		Where("token_hash = ?", hashRefreshToken(token)).
		Returning("*").
		Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return refreshRow{}, false, nil
	}
	if err != nil {
		return refreshRow{}, false, fmt.Errorf("auth: use refresh token: %w", err)
	}
	row.ExpiresAt = row.ExpiresAt.UTC()
	return row, true, nil
}
