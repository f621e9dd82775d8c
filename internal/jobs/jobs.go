package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"
	"github.com/uptrace/bun"

	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/store"
)

// Defaults of the Config fields left zero.
const (
	// DefaultMaxWorkers is how many jobs one process works at once.
	DefaultMaxWorkers = 10
	// DefaultMaxAttempts is how many attempts a job gets before it is
	// discarded: with River's attempt⁴-second backoff, retries span about four
	// hours.
	DefaultMaxAttempts = 10
	// DefaultJobTimeout bounds one attempt. Attempts are meant to be short
	// (a request or a poll); long operations snooze between attempts.
	DefaultJobTimeout = 5 * time.Minute
	// DefaultRescueStuckJobsAfter is how long a job may stay running before it
	// is taken for the leftover of a crashed process and retried.
	DefaultRescueStuckJobsAfter = 10 * time.Minute
)

// hardStopTimeout bounds how long Stop waits for cancelled jobs to return
// once its own deadline has passed.
const hardStopTimeout = 10 * time.Second

// migrateLock names the store lock that serialises River migrations between
// replicas starting together.
const migrateLock = "jobs.migrate"

// Config configures a Queue. Only Workers is required.
type Config struct {
	// Workers holds a worker for every job kind this process works; River
	// refuses to insert a kind that has none.
	Workers *river.Workers
	// Logger receives the queue's lines (one per job attempt) and River's own
	// warnings and errors. Defaults to slog.Default().
	Logger *slog.Logger
	// MaxWorkers is how many jobs this process works at once. Defaults to
	// DefaultMaxWorkers.
	MaxWorkers int
	// MaxAttempts is how many attempts a job gets before it is discarded,
	// unless its kind or its InsertOpts say otherwise. Defaults to
	// DefaultMaxAttempts.
	MaxAttempts int
	// RetryPolicy schedules the next attempt of a failed job. Defaults to
	// River's exponential backoff (attempt⁴ seconds, with jitter).
	RetryPolicy river.ClientRetryPolicy
	// JobTimeout cancels an attempt's context after this long; -1 means
	// never. Defaults to DefaultJobTimeout.
	JobTimeout time.Duration
	// RescueStuckJobsAfter is how long a job may stay running before the
	// rescuer (on the leader replica) takes it for the leftover of a crashed
	// process and schedules a retry. It must exceed JobTimeout. Defaults to
	// DefaultRescueStuckJobsAfter.
	RescueStuckJobsAfter time.Duration
	// PollInterval is how often to look for jobs when no notification came.
	// Defaults to River's (one second).
	PollInterval time.Duration
	// PeriodicJobs are inserted on a schedule (river.NewPeriodicJob) by the
	// replica that is River's leader; their kinds need workers too.
	PeriodicJobs []*river.PeriodicJob
}

// Queue inserts jobs into the database and works them. It is safe for
// concurrent use.
type Queue struct {
	client *river.Client[*sql.Tx]
	log    *slog.Logger
	// interrupting is set when Stop cancels running jobs, so that their
	// ends are logged as interruptions rather than failures.
	interrupting *atomic.Bool
}

// New builds a Queue on db that works the kinds in cfg.Workers once started.
// It does not touch the database, but Start and InsertTx need the tables
// Migrate makes.
func New(db *store.DB, cfg Config) (*Queue, error) {
	if cfg.Workers == nil {
		return nil, errors.New("jobs: Config.Workers is required")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	log = log.With("component", "jobs")
	maxWorkers := cfg.MaxWorkers
	if maxWorkers == 0 {
		maxWorkers = DefaultMaxWorkers
	}
	jobTimeout := cfg.JobTimeout
	if jobTimeout == 0 {
		jobTimeout = DefaultJobTimeout
	}
	rescueAfter := cfg.RescueStuckJobsAfter
	if rescueAfter == 0 {
		rescueAfter = DefaultRescueStuckJobsAfter
	}
	maxAttempts := cfg.MaxAttempts
	if maxAttempts == 0 {
		maxAttempts = DefaultMaxAttempts
	}
	driver, err := newDriver(db)
	if err != nil {
		return nil, err
	}
	interrupting := new(atomic.Bool)
	client, err := river.NewClient(driver, &river.Config{
		FetchPollInterval:    cfg.PollInterval,
		JobTimeout:           jobTimeout,
		Logger:               slog.New(minLevel{slog.LevelWarn, log.Handler()}),
		MaxAttempts:          maxAttempts,
		Middleware:           []rivertype.Middleware{&logMiddleware{log: log, interrupting: interrupting}},
		PeriodicJobs:         cfg.PeriodicJobs,
		Queues:               map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: maxWorkers}},
		RescueStuckJobsAfter: rescueAfter,
		RetryPolicy:          cfg.RetryPolicy,
		Workers:              cfg.Workers,
	})
	if err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	return &Queue{client: client, log: log, interrupting: interrupting}, nil
}

// newDriver returns the River driver for db's dialect. Both take the *sql.DB
// under bun, so jobs join bun transactions; on PostgreSQL the store's pgx
// pool also lends River a connection to LISTEN on.
func newDriver(db *store.DB) (riverdriver.Driver[*sql.Tx], error) {
	switch db.Dialect {
	case store.SQLite:
		return riversqlite.New(db.DB.DB), nil
	case store.Postgres:
		return riverdatabasesql.NewWithPgxListener(db.DB.DB, db.Pool()), nil
	default:
		return nil, fmt.Errorf("jobs: unsupported dialect %v", db.Dialect)
	}
}

// Migrate brings River's tables up to date in db. Run it after db.Migrate,
// before the Queue is used (and in `gpcore migrate`). Replicas starting together on PostgreSQL migrate one after the
// other (a store lock), and the later ones find nothing to do.
func Migrate(ctx context.Context, db *store.DB) error {
	driver, err := newDriver(db)
	if err != nil {
		return err
	}
	migrator, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return fmt.Errorf("jobs: migrations: %w", err)
	}
	return db.WithLock(ctx, migrateLock, func(ctx context.Context) error {
		if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
			return fmt.Errorf("jobs: migrate: %w", err)
		}
		return nil
	})
}

// Start starts fetching and working jobs in the background and returns. ctx
// bounds the start-up only: the workers run until Stop, and their contexts
// carry ctx's values. It logs the queue's River client id, the name River
// records in river_job.attempted_by for every attempt this process works.
func (q *Queue) Start(ctx context.Context) error {
	if err := q.client.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("jobs: start: %w", err)
	}
	q.log.InfoContext(ctx, "job queue started", "river_client_id", q.client.ID())
	return nil
}

// Stop stops fetching jobs and waits for the running ones to finish. If ctx
// ends first, it cancels their contexts and waits a few more seconds for
// them to return. River puts a job whose worker returned because of that
// cancellation back in the queue at once, without using up an attempt, for
// the next process or another replica to pick up. Stop returns nil when
// every job finished on its own, and an error wrapping ctx's when some were
// cut off.
func (q *Queue) Stop(ctx context.Context) error {
	err := q.client.Stop(ctx)
	if err == nil {
		q.log.InfoContext(ctx, "job queue stopped")
		return nil
	}
	q.log.WarnContext(ctx, "job queue: jobs still running at the stop deadline; cancelling them", "error", err)
	q.interrupting.Store(true)
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), hardStopTimeout)
	defer cancel()
	if herr := q.client.StopAndCancel(hctx); herr != nil {
		return fmt.Errorf("jobs: stop: running jobs ignored cancellation for %s: %w", hardStopTimeout, errors.Join(err, herr))
	}
	q.log.InfoContext(ctx, "job queue stopped; cut-off jobs are back in the queue")
	return fmt.Errorf("jobs: stop: running jobs were cut off and put back in the queue: %w", err)
}

// InsertTx adds a job to tx: it exists, and can be worked, only once tx
// commits. opts may be nil (the kind's InsertOpts apply). A unique kind that
// already has an unfinished job for the same target gets a *DuplicateError.
func (q *Queue) InsertTx(ctx context.Context, tx bun.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobRow, error) {
	return insertTx(ctx, q.client, q.log, tx, args, opts)
}

// InsertFromJobTx is InsertTx for a worker: it adds a job to tx through the
// queue working the job whose context ctx is, for a job that finds work
// left without a job to do it.
func InsertFromJobTx(ctx context.Context, tx bun.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobRow, error) {
	client, err := river.ClientFromContextSafely[*sql.Tx](ctx)
	if err != nil {
		return nil, fmt.Errorf("jobs: insert %s: %w", args.Kind(), err)
	}
	return insertTx(ctx, client, Logger(ctx), tx, args, opts)
}

// insertTx adds a job to tx through client.
func insertTx(ctx context.Context, client *river.Client[*sql.Tx], log *slog.Logger, tx bun.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobRow, error) {
	res, err := client.InsertTx(ctx, tx.Tx, args, opts)
	if err != nil {
		return nil, fmt.Errorf("jobs: insert %s: %w", args.Kind(), err)
	}
	if res.UniqueSkippedAsDuplicate {
		return nil, &DuplicateError{Kind: args.Kind(), JobID: res.Job.ID}
	}
	log.DebugContext(ctx, "job inserted", "job_id", res.Job.ID, "job_kind", res.Job.Kind)
	return res.Job, nil
}

// OnePerTarget is the uniqueness of a kind that acts on one object: at most
// one of its jobs per object is unfinished (pending, scheduled, available,
// running or retryable) at a time. The object is named by the args fields
// tagged `river:"unique"` (all fields when none is tagged); a job that has
// finished (completed, cancelled or discarded) no longer counts. Jobs of
// different kinds never conflict.
func OnePerTarget() river.UniqueOpts {
	return river.UniqueOpts{
		ByArgs: true,
		ByState: []rivertype.JobState{
			rivertype.JobStateAvailable,
			rivertype.JobStatePending,
			rivertype.JobStateRetryable,
			rivertype.JobStateRunning,
			rivertype.JobStateScheduled,
		},
	}
}

// DuplicateError is InsertTx's refusal of a unique job whose target already
// has an unfinished job of the same kind. It unwraps to a
// fault.ErrFailedPrecondition, so it reaches API callers as one.
type DuplicateError struct {
	// Kind is the kind of the refused job.
	Kind string
	// JobID is the id of the unfinished job already there.
	JobID int64
}

// Error implements error.
func (e *DuplicateError) Error() string {
	return fmt.Sprintf("a %s job for this target is already queued or running (job %d)", e.Kind, e.JobID)
}

// Unwrap returns the fault the refusal stands for.
func (e *DuplicateError) Unwrap() error {
	return &fault.Error{Kind: fault.KindFailedPrecondition, Message: e.Error()}
}

// CompleteTx marks job completed as part of tx, from inside its worker: the
// completion commits or rolls back with the worker's own writes. After the
// commit Work should return nil.
func CompleteTx[T river.JobArgs](ctx context.Context, tx bun.Tx, job *river.Job[T]) error {
	// The driver type only pins the transaction type (*sql.Tx); River takes
	// the actual driver from the client in ctx.
	if _, err := river.JobCompleteTx[riverdriver.Driver[*sql.Tx]](ctx, tx.Tx, job); err != nil {
		return fmt.Errorf("jobs: complete job %d: %w", job.ID, err)
	}
	return nil
}
