package auth

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/uptrace/bun"

	"github.com/gpcore/gpcore/internal/store"
)

// signingKeyBits is the RSA modulus size of new signing keys.
const signingKeyBits = 2048

// keyRow is an oauth_signing_keys row.
type keyRow struct {
	bun.BaseModel `bun:"table:oauth_signing_keys"`

	ID         string    `bun:"id,pk"`
	Algorithm  string    `bun:"algorithm"`
	PrivateKey string    `bun:"private_key"`
	Active     bool      `bun:"active"`
	CreatedAt  time.Time `bun:"created_at"`
}

// keySet is the issuer's keys as loaded from the database: the active one
// signs, all of them verify and are published.
type keySet struct {
	signer jose.Signer
	public map[string]*rsa.PublicKey // by key id
	jwks   jose.JSONWebKeySet
}

// loadKeys reads the signing keys from db and, when none is active (the very
// first start), generates one and stores it. Replicas starting together race
// to insert; the unique index on the active flag lets one win, and the others
// load the winner's key.
func loadKeys(ctx context.Context, db *store.DB, now time.Time) (*keySet, error) {
	for range 2 {
		var rows []keyRow
		if err := db.NewSelect().Model(&rows).Order("created_at", "id").Scan(ctx); err != nil {
			return nil, fmt.Errorf("auth: load signing keys: %w", err)
		}
		for _, r := range rows {
			if r.Active {
				return newKeySet(rows)
			}
		}
		row, err := newKeyRow(now)
		if err != nil {
			return nil, err
		}
		_, err = db.NewInsert().Model(&row).Exec(ctx)
		if err == nil {
			return newKeySet(append(rows, row))
		}
		if !store.IsUniqueViolation(err) {
			return nil, fmt.Errorf("auth: store signing key: %w", err)
		}
		// Another replica stored its key first: load that one.
	}
	return nil, errors.New("auth: no active signing key after storing one")
}

// newKeyRow generates an RSA key and returns it as an active row; the key id
// is its RFC 7638 thumbprint.
func newKeyRow(now time.Time) (keyRow, error) {
	key, err := rsa.GenerateKey(rand.Reader, signingKeyBits)
	if err != nil {
		return keyRow{}, fmt.Errorf("auth: generate signing key: %w", err)
	}
	thumb, err := (&jose.JSONWebKey{Key: &key.PublicKey}).Thumbprint(crypto.SHA256)
	if err != nil {
		return keyRow{}, fmt.Errorf("auth: signing key thumbprint: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return keyRow{}, fmt.Errorf("auth: encode signing key: %w", err)
	}
	return keyRow{
		ID:         base64.RawURLEncoding.EncodeToString(thumb),
		Algorithm:  string(jose.RS256),
		PrivateKey: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		Active:     true,
		CreatedAt:  now,
	}, nil
}

// newKeySet parses rows, exactly one of which is active.
func newKeySet(rows []keyRow) (*keySet, error) {
	ks := &keySet{public: make(map[string]*rsa.PublicKey, len(rows))}
	for _, r := range rows {
		key, err := parsePrivateKey(r.PrivateKey)
		if err != nil {
			return nil, fmt.Errorf("auth: signing key %s: %w", r.ID, err)
		}
		ks.public[r.ID] = &key.PublicKey
		ks.jwks.Keys = append(ks.jwks.Keys, jose.JSONWebKey{
			Key:       &key.PublicKey,
			KeyID:     r.ID,
			Algorithm: r.Algorithm,
			Use:       "sig",
		})
		if !r.Active {
			continue
		}
		ks.signer, err = jose.NewSigner(
			jose.SigningKey{Algorithm: jose.SignatureAlgorithm(r.Algorithm), Key: jose.JSONWebKey{Key: key, KeyID: r.ID}},
			(&jose.SignerOptions{}).WithType("JWT"))
		if err != nil {
			return nil, fmt.Errorf("auth: signer for key %s: %w", r.ID, err)
		}
	}
	return ks, nil
}

// parsePrivateKey decodes a PKCS #8 PEM RSA private key.
func parsePrivateKey(s string) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode([]byte(s))
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, errors.New("not a PKCS #8 PEM block")
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	rsaKey, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("a %T, not an RSA key", key)
	}
	return rsaKey, nil
}
