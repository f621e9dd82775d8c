package app

import (
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gpcore/gpcore/internal/billing"
	"github.com/gpcore/gpcore/internal/mail"
	"github.com/gpcore/gpcore/internal/provision"
)

// Config is everything `gpcore serve` can be told. The zero value plus
// Defaults() is the embedded default: SQLite in the data directory, the
// embedded seed, the embedded OpenID Connect issuer.
type Config struct {
	// Listen is the host:port the one API port listens on.
	Listen string
	// DataDir is the embedded default's home: the SQLite database lives here.
	DataDir string
	// Database is a PostgreSQL DSN; empty means SQLite in DataDir.
	Database string
	// SeedFile is a catalog seed file loaded into an empty catalog on first
	// start; empty means the embedded simulated datacenter.
	SeedFile string
	// PublicURL is the base URL clients reach this server at; tokens are
	// issued for PublicURL + "/realms/gpcore". Empty means http://<Listen>.
	PublicURL string
	// LogLevel is debug, info, warn or error.
	LogLevel string
	// LogFormat is text or json.
	LogFormat string
	// ShutdownTimeout bounds the graceful shutdown on SIGTERM.
	ShutdownTimeout time.Duration
	// AccessTokenTTL and RefreshTokenTTL are the lifetimes of issued tokens.
	AccessTokenTTL, RefreshTokenTTL time.Duration
	// SMTPURL is the SMTP server mail goes through, e.g.
	// smtp://user:password@smtp.example.com:587 (see mail.ParseSMTPURL);
	// empty means mail is written to the log.
	SMTPURL string
	// MailFrom is the sender of gpcore's mail, e.g. "gpcore
	// <noreply@example.com>"; required with SMTPURL.
	MailFrom string
	// MailSender, when set, replaces the SMTP or log sender; tests set it.
	// Not a flag.
	MailSender mail.Sender
	// Now, when set, is the clock of the domain services (accounts, tokens,
	// projects, nodes, billing) instead of time.Now; tests move it to run a
	// month in no time. The job queue and the simulated hardware keep the
	// real clock. Not a flag.
	Now func() time.Time
	// PaymentProvider, when set, replaces the built-in test payment provider
	// (it must accept the test provider's card setups, as one that embeds
	// billing.TestProvider does); tests set it to watch the charges. Not a
	// flag.
	PaymentProvider billing.Provider
	// BillingSweepInterval is how often the billing sweep, which closes the
	// billing periods that have ended and charges the bills, runs
	// (billing.SweepInterval if zero); tests shorten it. Not a flag.
	BillingSweepInterval time.Duration
	// SellerCountry is the operator's ISO 3166-1 country for the VAT rule;
	// empty means DE.
	SellerCountry string
	// SellerName, SellerAddress (lines separated by newlines) and
	// SellerVATID name the operator on invoices; an empty name means
	// billing.DefaultSellerName.
	SellerName, SellerAddress, SellerVATID string
	// StripeSecretKey and StripeWebhookSecret switch payments from the
	// built-in test provider to Stripe; both or neither.
	StripeSecretKey, StripeWebhookSecret string
	// LagoURL and LagoAPIKey make Lago the plan catalog; empty means the
	// built-in catalog.
	LagoURL, LagoAPIKey string
	// Currency is the ISO 4217 currency new projects are priced and billed
	// in, EUR or USD (any case); empty means EUR. A project keeps the
	// currency it was created with.
	Currency string
	// SimStepDelay is how long the simulated hardware stays in each state an
	// operation passes through (DefaultSimStepDelay is the flag's default);
	// zero finishes every operation at once, as tests want.
	SimStepDelay time.Duration
	// Driver, when set, replaces the simulated hardware SimStepDelay
	// configures; tests set it to a sim they hold. Not a flag.
	Driver provision.Driver
	// JobTimeout bounds one attempt of a durable job, and JobRescueAfter is
	// how long a job may stay running before it is taken for the leftover of
	// a crashed process and run again; zero means jobs.DefaultJobTimeout and
	// jobs.DefaultRescueStuckJobsAfter.
	JobTimeout, JobRescueAfter time.Duration
	// TrustedProxies are the reverse proxies (CIDR prefixes or addresses)
	// whose X-Forwarded-For header names the caller's address in the audit
	// log; empty means the header is ignored.
	TrustedProxies []string
	// trustedProxies is TrustedProxies parsed by validate.
	trustedProxies []netip.Prefix
}

// DefaultDataDir is $XDG_DATA_HOME/gpcore, or ~/.local/share/gpcore.
func DefaultDataDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "gpcore")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "share", "gpcore")
	}
	return "gpcore-data"
}

// validate checks the configuration and fills derived defaults.
func (c *Config) validate() error {
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return fmt.Errorf("--listen %q: want host:port: %w", c.Listen, err)
	}
	if c.Database == "" && c.DataDir == "" {
		return fmt.Errorf("--data-dir: must not be empty when --database is not set")
	}
	if c.Database != "" && !strings.HasPrefix(c.Database, "postgres://") && !strings.HasPrefix(c.Database, "postgresql://") {
		return fmt.Errorf("--database: want a postgres:// or postgresql:// DSN (empty means SQLite in --data-dir)")
	}
	if (c.StripeSecretKey == "") != (c.StripeWebhookSecret == "") {
		return fmt.Errorf("--stripe-secret-key and --stripe-webhook-secret: give both or neither")
	}
	if (c.LagoURL == "") != (c.LagoAPIKey == "") {
		return fmt.Errorf("--lago-url and --lago-api-key: give both or neither")
	}
	switch cur := strings.ToUpper(strings.TrimSpace(c.Currency)); cur {
	case "":
		c.Currency = "EUR"
	case "EUR", "USD":
		c.Currency = cur
	default:
		return fmt.Errorf("--currency %q: want EUR or USD, the currencies the API knows", c.Currency)
	}
	if c.SMTPURL != "" && c.MailFrom == "" {
		return fmt.Errorf("--mail-from: required with --smtp-url")
	}
	if c.PublicURL == "" {
		c.PublicURL = "http://" + c.Listen
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	var err error
	if c.trustedProxies, err = parseTrustedProxies(c.TrustedProxies); err != nil {
		return err
	}
	if c.SimStepDelay < 0 {
		return fmt.Errorf("--sim-step-delay %s: must not be negative", c.SimStepDelay)
	}
	if c.JobTimeout < 0 || c.JobRescueAfter < 0 {
		return fmt.Errorf("--job-timeout %s, --job-rescue-after %s: must not be negative", c.JobTimeout, c.JobRescueAfter)
	}
	if c.BillingSweepInterval < 0 {
		return fmt.Errorf("billing sweep interval %s: must not be negative", c.BillingSweepInterval)
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = 20 * time.Second
	}
	if c.AccessTokenTTL <= 0 {
		c.AccessTokenTTL = 15 * time.Minute
	}
	if c.RefreshTokenTTL <= 0 {
		c.RefreshTokenTTL = 30 * 24 * time.Hour
	}
	return nil
}

// NewLogger builds the process logger from LogLevel and LogFormat.
func (c *Config) NewLogger() (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", c.LogLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch c.LogFormat {
	case "text", "":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	default:
		return nil, fmt.Errorf("--log-format %q: want text or json", c.LogFormat)
	}
}
