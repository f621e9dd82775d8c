// Package identity owns gpcore's accounts: people (users), the service
// accounts behind OAuth clients, and the clients themselves. It registers and
// authenticates users, confirms their e-mail addresses, keeps their time
// zone, manages their OAuth clients, checks client credentials and creates
// the first operator account; it knows nothing of tokens (see internal/auth)
// or of the API.
//
// Secrets are never stored in the clear: passwords and client secrets are
// hashed with argon2id (memory-hard, no input length limit, the OWASP first
// choice; parameters are kept in each hash so they can be raised later).
// E-mail addresses are stored lower-cased and are unique; the database's
// unique constraint, not a read before the write, decides duplicates, so two
// concurrent registrations of one address end with exactly one account.
//
// # E-mail confirmation
//
// Register, and ResendConfirmEmail on request, queue a mail with a
// confirmation link (Config.PublicURL + ConfirmPath + "?token=...") in the
// internal/mail outbox, in the same transaction that creates the account or
// the link. The token is 256 random bits; only its SHA-256 is stored, it works
// for Config.ConfirmationTTL, and it confirms only the address it was sent
// to. Once the address is confirmed, every link sent to it says so when
// opened, expired or not. ConfirmHandler serves the link. Resending is refused with
// ResourceExhausted within Config.ResendInterval of the previous resend.
//
// # OAuth clients
//
// A client belongs to the person who created it; anyone else gets NotFound
// for it, as for a client that does not exist. Deleting a client deletes the
// client and its refresh tokens and locks (rather than deletes) its service
// account, so that the projects, memberships and logs that name the account
// keep pointing at a real one. Each client has a secret generation that
// ResetClientSecret increments; ClientSecretGeneration tells token
// verification the current one (NotFound once the client is deleted), so
// that tokens issued before a reset or a deletion stop working. It caches
// what it reads for Config.ClientCacheTTL; a change made on this replica
// takes effect at once, one made on another replica within that time.
//
// # Notifications
//
// A change to an account (its time zone, its e-mail confirmation, its last
// sign-in, a service account's name or lock) is published in its
// transaction to Config.Hub as a notify.KindUser event, to the account and,
// when fellow project members see what changed (a service account's name),
// to Config.Audience.
// Accounts that are being created have nobody to tell yet.
package identity

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"github.com/gpcore/gpcore/internal/notify"
	"github.com/gpcore/gpcore/internal/store"
)

// Defaults for Config fields left zero.
const (
	DefaultNodeLimit       = 10
	DefaultTimezone        = "UTC"
	DefaultOperatorEmail   = "admin@gpcore.localhost"
	DefaultPublicURL       = "http://127.0.0.1:8080"
	DefaultConfirmationTTL = 48 * time.Hour
	DefaultResendInterval  = time.Minute
	DefaultClientCacheTTL  = 10 * time.Second
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
	// PublicURL is the base URL people reach gpcore at, e.g.
	// "https://cloud.example.com"; links in mails point there
	// (DefaultPublicURL if empty).
	PublicURL string
	// ConfirmationTTL is how long an e-mail confirmation link works
	// (DefaultConfirmationTTL if 0).
	ConfirmationTTL time.Duration
	// ResendInterval is the least time between two confirmation mails that
	// an account asks for (DefaultResendInterval if 0).
	ResendInterval time.Duration
	// ClientCacheTTL is how long ClientSecretGeneration trusts what it read:
	// the longest another replica accepts the tokens of a client deleted or
	// reset here (DefaultClientCacheTTL if 0).
	ClientCacheTTL time.Duration
	// MailQueued is called after a transaction that queued mail commits, to
	// wake the mail relay (mail.Relay.Wake); if nil, the relay finds the mail
	// at its next poll.
	MailQueued func()
	// Hub carries the change notifications: every transaction that changes
	// an account publishes to it (notify.KindUser). Nil publishes nothing,
	// for tools and tests without subscribers.
	Hub *notify.Hub
	// Audience names, inside the transaction db that changes the account
	// userID, who else sees it: its fellow project members
	// (project.UserAudience). Nil tells only the account itself.
	Audience func(ctx context.Context, db bun.IDB, userID string) ([]string, error)
	// Logger gets the errors ConfirmHandler cannot show (slog.Default() if
	// nil).
	Logger *slog.Logger
	// Now is the clock (time.Now if nil).
	Now func() time.Time
}

// Service manages users and OAuth clients in the database.
type Service struct {
	db  *store.DB
	cfg Config
	log *slog.Logger

	// dummyHash is verified against when an account does not exist, so that a
	// miss costs as much as a wrong password.
	dummyHash func() string
	// generations caches ClientSecretGeneration.
	generations *generationCache
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
	if err := checkTimezone(cfg.DefaultTimezone); err != nil {
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
	if cfg.PublicURL == "" {
		cfg.PublicURL = DefaultPublicURL
	}
	if u, err := url.Parse(cfg.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("identity: public URL %q is not an http(s) URL without query, fragment or user", cfg.PublicURL)
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	if cfg.ConfirmationTTL == 0 {
		cfg.ConfirmationTTL = DefaultConfirmationTTL
	}
	if cfg.ResendInterval == 0 {
		cfg.ResendInterval = DefaultResendInterval
	}
	if cfg.ClientCacheTTL == 0 {
		cfg.ClientCacheTTL = DefaultClientCacheTTL
	}
	if cfg.ConfirmationTTL < 0 || cfg.ResendInterval < 0 || cfg.ClientCacheTTL < 0 {
		return nil, errors.New("identity: confirmation TTL, resend interval and client cache TTL must not be negative")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Service{
		db:          db,
		cfg:         cfg,
		log:         log,
		dummyHash:   sync.OnceValue(func() string { return hashSecret("no such account") }),
		generations: newGenerationCache(cfg.ClientCacheTTL),
	}, nil
}

// mailQueued tells the mail relay that a committed transaction queued mail.
func (s *Service) mailQueued() {
	if s.cfg.MailQueued != nil {
		s.cfg.MailQueued()
	}
}

// now is the current time in UTC, to the microsecond: what both databases
// keep, so that a value returned from memory equals the one read back later.
func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Microsecond) }

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
