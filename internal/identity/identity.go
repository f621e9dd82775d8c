// Package identity owns gpcore's accounts: people (users), the service
// accounts behind OAuth clients, and the clients themselves. It registers and
// authenticates users, checks client credentials and creates the first
// operator account; it knows nothing of tokens (see internal/auth) or of the
// API.
//
// Secrets are never stored in the clear: passwords and client secrets are
// hashed with argon2id (memory-hard, no input length limit, the OWASP first
// choice; parameters are kept in each hash so they can be raised later).
// E-mail addresses are stored lower-cased and are unique; the database's
// unique constraint, not a read before the write, decides duplicates, so two
// concurrent registrations of one address end with exactly one account.
package identity

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"github.com/gpcore/gpcore/internal/store"
)

// Defaults for Config fields left zero.
const (
	DefaultNodeLimit     = 10
	DefaultTimezone      = "UTC"
	DefaultOperatorEmail = "admin@gpcore.localhost"
)

// OperatorRoles are the realm roles EnsureOperator gives the first operator.
var OperatorRoles = []string{"admin", "manage-payment", "view-payment"}

// Config tunes the service; the zero value is usable.
type Config struct {
	// DefaultNodeLimit is the node limit of new accounts (DefaultNodeLimit if 0).
	DefaultNodeLimit int
	// DefaultTimezone is the IANA time zone of new accounts (DefaultTimezone,
	// UTC, if empty). UTC rather than a local zone because a self-hosted
	// installation can be anywhere; users change theirs later.
	DefaultTimezone string
	// OperatorEmail is the e-mail address of the account EnsureOperator creates
	// (DefaultOperatorEmail if empty).
	OperatorEmail string
	// Now is the clock (time.Now if nil).
	Now func() time.Time
}

// Service manages users and OAuth clients in the database.
type Service struct {
	db  *store.DB
	cfg Config

	// dummyHash is verified against when an account does not exist, so that a
	// miss costs as much as a wrong password.
	dummyHash func() string
}

// New returns a Service on db, which must be migrated. It checks cfg and fills
// in the defaults.
func New(db *store.DB, cfg Config) (*Service, error) {
	if cfg.DefaultNodeLimit == 0 {
		cfg.DefaultNodeLimit = DefaultNodeLimit
	}
	if cfg.DefaultNodeLimit < 0 {
		return nil, fmt.Errorf("identity: default node limit %d is negative", cfg.DefaultNodeLimit)
	}
	if cfg.DefaultTimezone == "" {
		cfg.DefaultTimezone = DefaultTimezone
	}
	if _, err := time.LoadLocation(cfg.DefaultTimezone); err != nil {
		return nil, fmt.Errorf("identity: default time zone: %w", err)
	}
	if cfg.OperatorEmail == "" {
		cfg.OperatorEmail = DefaultOperatorEmail
	}
	email, err := normalizeEmail(cfg.OperatorEmail)
	if err != nil {
		return nil, fmt.Errorf("identity: operator e-mail: %w", err)
	}
	cfg.OperatorEmail = email
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{
		db:        db,
		cfg:       cfg,
		dummyHash: sync.OnceValue(func() string { return hashSecret("no such account") }),
	}, nil
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC() }

// nextCustomerNumber takes the next customer number, e.g. "C100001". The
// counter row stays locked until tx ends, so user creations queue here.
func nextCustomerNumber(ctx context.Context, tx bun.Tx) (string, error) {
	var n int64
	err := tx.NewUpdate().
		Table("identity_counters").
		Set("value = value + 1").
		Where("name = ?", "customer_number").
		Returning("value").
		Scan(ctx, &n)
	if err != nil {
		return "", fmt.Errorf("take customer number: %w", err)
	}
	return fmt.Sprintf("C%d", n), nil
}
