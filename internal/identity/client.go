package identity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/gpcore/gpcore/internal/fault"
)

// ServiceAccountPrefix starts the username of every service account, followed
// by its client's id, as in Keycloak.
const ServiceAccountPrefix = "service-account-"

// Client is a confidential OAuth client: machines sign in with its id and
// secret (the client_credentials grant) and act as its service account.
type Client struct {
	// ID is the OAuth client_id, a UUID.
	ID          string
	Name        string
	Description string
	// OwnerUserID is the person who created the client.
	OwnerUserID string
	// ServiceAccount is the client's own account (type SERVICE_ACCOUNT): the
	// subject of its tokens and what gets added to projects.
	ServiceAccount User
	// SecretGeneration counts the client's secrets, from 1;
	// ResetClientSecret adds one. Tokens carry the generation they were
	// issued under (see ClientSecretGeneration).
	SecretGeneration int64
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// clientRow is an oauth_clients row.
type clientRow struct {
	bun.BaseModel `bun:"table:oauth_clients"`

	ID                   string    `bun:"id,pk"`
	SecretHash           string    `bun:"secret_hash"`
	Name                 string    `bun:"name"`
	Description          string    `bun:"description"`
	OwnerUserID          string    `bun:"owner_user_id"`
	ServiceAccountUserID string    `bun:"service_account_user_id"`
	SecretGeneration     int64     `bun:"secret_generation"`
	CreatedAt            time.Time `bun:"created_at"`
	UpdatedAt            time.Time `bun:"updated_at"`
}

// Bounds of a client's name and description, in characters.
const (
	maxClientNameLength        = 100
	maxClientDescriptionLength = 1000
)

// checkClientText checks and trims a client's name (required, one line) and
// description (optional, may span lines); errors name the field.
func checkClientText(name, description string) (string, string, error) {
	name, err := checkText("name", name, maxClientNameLength, false)
	if err != nil {
		return "", "", err
	}
	if name == "" {
		return "", "", fault.Invalid("name", "a name is required")
	}
	description, err = checkText("description", description, maxClientDescriptionLength, true)
	if err != nil {
		return "", "", err
	}
	return name, description, nil
}

// CreateClient creates a confidential OAuth client owned by the person
// ownerUserID, together with its service account, and returns it with its
// secret: 32 random bytes, base64url-encoded. Only a hash of the secret is
// kept, so this is the one time it is known. An unknown owner is
// fault.NotFound, a service account fault.FailedPrecondition; a bad "name" or
// "description" is fault.InvalidArgument.
func (s *Service) CreateClient(ctx context.Context, ownerUserID, name, description string) (Client, string, error) {
	name, description, err := checkClientText(name, description)
	if err != nil {
		return Client{}, "", err
	}
	secret := newSecret()
	now := s.now()
	client := clientRow{
		ID:               uuid.NewString(),
		SecretHash:       hashSecret(secret),
		Name:             name,
		Description:      description,
		OwnerUserID:      ownerUserID,
		SecretGeneration: 1,
		CreatedAt:        now,
		UpdatedAt:        now,
	}
	account := s.newUserRow(UserTypeServiceAccount)
	account.Username = ServiceAccountPrefix + client.ID
	account.FullName = name
	account.Confirmed = true
	client.ServiceAccountUserID = account.ID

	err = s.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var ownerType string
		err := tx.NewSelect().Model((*userRow)(nil)).Column("type").Where("id = ?", ownerUserID).Scan(ctx, &ownerType)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return fault.NotFound("user", ownerUserID)
		case err != nil:
			return fmt.Errorf("find owner: %w", err)
		case ownerType != string(UserTypeUser):
			return fault.Precondition("a service account cannot own OAuth clients; sign in as a person")
		}
		if err := insertUser(ctx, tx, &account, nil); err != nil {
			return err
		}
		if _, err := tx.NewInsert().Model(&client).Exec(ctx); err != nil {
			return fmt.Errorf("insert client: %w", err)
		}
		return nil
	})
	switch fault.KindOf(err) {
	case fault.KindNotFound, fault.KindFailedPrecondition:
		return Client{}, "", err
	}
	if err != nil {
		return Client{}, "", fmt.Errorf("identity: create client: %w", err)
	}
	return client.client(account.user(nil, nil)), secret, nil
}

// errBadClient is the one answer to an unknown client id or a wrong secret.
var errBadClient = fault.Unauthenticated("unknown client or wrong client credentials")

// AuthenticateClient checks a confidential client's id and secret (the OAuth
// client_credentials grant) and returns the client with its service account.
// An unknown id or a wrong secret is fault.Unauthenticated with one message;
// a client whose service account is locked is fault.Unauthenticated saying so.
// An unknown id costs as much time as a wrong secret.
func (s *Service) AuthenticateClient(ctx context.Context, clientID, secret string) (Client, error) {
	var row clientRow
	err := s.db.NewSelect().Model(&row).Where("id = ?", clientID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		_, _ = verifySecret(s.dummyHash(), secret)
		return Client{}, errBadClient
	}
	if err != nil {
		return Client{}, fmt.Errorf("identity: authenticate client: %w", err)
	}
	ok, err := verifySecret(row.SecretHash, secret)
	if err != nil {
		return Client{}, fmt.Errorf("identity: authenticate client %s: %w", row.ID, err)
	}
	if !ok {
		return Client{}, errBadClient
	}
	account, err := s.GetUser(ctx, row.ServiceAccountUserID)
	if err != nil {
		return Client{}, fmt.Errorf("identity: service account of client %s: %w", row.ID, err)
	}
	if account.Locked {
		return Client{}, fault.Unauthenticated("the client's service account is locked")
	}
	return row.client(account), nil
}

// client maps the row and its service account to a Client.
func (r clientRow) client(account User) Client {
	return Client{
		ID:               r.ID,
		Name:             r.Name,
		Description:      r.Description,
		OwnerUserID:      r.OwnerUserID,
		ServiceAccount:   account,
		SecretGeneration: r.SecretGeneration,
		CreatedAt:        r.CreatedAt.UTC(),
		UpdatedAt:        r.UpdatedAt.UTC(),
	}
}
