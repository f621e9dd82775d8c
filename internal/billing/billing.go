package billing

import (
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/jobs"
	"github.com/gpcore/gpcore/internal/store"
)

// Config tunes the service; the zero value is usable: the built-in test
// payment provider, the built-in plan catalog and VATRule for a seller in
// DefaultSellerCountry.
type Config struct {
	// Provider holds the customers' payment methods (TestProvider if nil).
	Provider Provider
	// Plans is the plan catalog ChangeDefaultPlanCode checks codes against
	// (BuiltinPlans{} if nil).
	Plans PlanCatalog
	// TaxRule decides the tax rate of billing profiles
	// (VATRule{SellerCountry: DefaultSellerCountry} if nil).
	TaxRule TaxRule
	// DefaultPlanCode is the plan code of new billing profiles whose owner
	// has no default plan code of their own (users.default_plan_code)
	// (PlanGPCore if empty).
	DefaultPlanCode string
	// Seller is the operator as its invoices name it (DefaultSellerName
	// and the tax rule's seller country where empty).
	Seller Seller
	// Logger gets what cannot be returned: a provider clean-up that failed
	// after a profile was deleted, a bill that could not be closed or
	// charged (slog.Default() if nil).
	Logger *slog.Logger
	// Now is the clock (time.Now if nil).
	Now func() time.Time
}

// DefaultSellerName names the operator on invoices when Config.Seller has
// no name.
const DefaultSellerName = "gpcore"

// Service manages billing profiles, their credit cards and plan codes,
// meters the nodes and bills them (see Sweep), and answers the project
// domain's billing questions (see BillingState and DeletionGuard).
type Service struct {
	db  *store.DB
	cfg Config
	log *slog.Logger
	// queue takes the jobs the service's changes need (see UseQueue).
	queue *jobs.Queue
}

// New returns a Service on db, which must be migrated. It checks cfg and
// fills in the defaults.
func New(db *store.DB, cfg Config) (*Service, error) {
	if cfg.Provider == nil {
		cfg.Provider = TestProvider{}
	}
	if cfg.Plans == nil {
		cfg.Plans = BuiltinPlans{}
	}
	if cfg.TaxRule == nil {
		cfg.TaxRule = VATRule{SellerCountry: DefaultSellerCountry}
	}
	if r, ok := cfg.TaxRule.(VATRule); ok {
		if err := r.check(); err != nil {
			return nil, fmt.Errorf("billing: %w", err)
		}
		if cfg.Seller.Country == "" {
			cfg.Seller.Country = r.SellerCountry
		}
	}
	if cfg.Seller.Name == "" {
		cfg.Seller.Name = DefaultSellerName
	}
	if cfg.Seller.Country == "" {
		cfg.Seller.Country = DefaultSellerCountry
	}
	if cfg.DefaultPlanCode == "" {
		cfg.DefaultPlanCode = PlanGPCore
	}
	if err := checkPlanCodeSyntax(cfg.DefaultPlanCode); err != nil {
		return nil, fmt.Errorf("billing: default plan code: %w", err)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{db: db, cfg: cfg, log: cfg.Logger}, nil
}

// UseQueue makes s enqueue in q, in the transaction of the change, the job
// that charges a billing profile's failed bills again when the profile gets
// another default card (see AddWorkers, whose workers q must run). Call it
// once, before s is used: the queue is built after s, since its workers
// need s. Without a queue, as in the operator's commands, which change no
// card, only the sweep charges them again.
func (s *Service) UseQueue(q *jobs.Queue) { s.queue = q }

// now is the clock in UTC, to the microsecond PostgreSQL stores.
func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Microsecond) }

// lockRow makes q lock the rows it selects until the transaction ends, in
// PostgreSQL's lock mode (e.g. "UPDATE", "NO KEY UPDATE", "SHARE"). On
// SQLite every transaction already holds the database's write lock.
func lockRow(q *bun.SelectQuery, mode string) *bun.SelectQuery {
	if q.Dialect().Name() == dialect.PG {
		return q.For(mode)
	}
	return q
}

// wrap adds the operation to an unexpected error; fault errors pass
// unchanged, for the API to show.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var fe *fault.Error
	if errors.As(err, &fe) {
		return err
	}
	return fmt.Errorf("billing: %s: %w", op, err)
}

// noRows reports whether err says a query found nothing.
func noRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
