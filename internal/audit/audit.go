// Package audit keeps gpcore's audit log: one entry per API call made with a
// valid access token, saying who called (the token's subject, the account
// and OAuth client it acts for, the token itself), what they called (the
// procedure, the request with its secrets redacted, the result code), from
// where (IP address, user agent) and under which request id. It owns the
// table of migration 00009_audit_log.sql. The API's audit interceptor
// (internal/api/interceptor) builds the entries and redacts the payloads;
// this package queues, stores and reads them.
//
// # Writing off the call's path
//
// Record does not touch the database. It puts the entry on a bounded
// in-memory queue and returns; Run, one goroutine, takes what is queued and
// writes it in batches, one multi-row INSERT per batch. A synchronous insert
// per call would put a write transaction on every call, reads included: on
// SQLite that serialises every request behind the single writer, on
// PostgreSQL it adds a round trip and a commit to each call, and a slow or
// failing database would slow or fail calls whose own work had succeeded.
// Batching turns a burst of calls into a handful of inserts: BenchmarkRecord
// measures a call's share at 1 to 3 µs queued against 0.4 to 1.3 ms for an
// INSERT of its own, on SQLite and PostgreSQL alike.
//
// An audit log that silently loses entries is worse than a slow one, so a
// full queue makes Record wait, up to Config.MaxWait, for room (back-pressure
// on the callers rather than loss); only when the database has not kept up
// for that long is the entry dropped. A batch the database refuses is
// retried (Config.Attempts, with a doubling delay) before its entries are
// dropped. A dropped entry is never silent: it is counted in
// gpcore_audit_entries_dropped_total{reason} and written in full to the
// process log at error level, so the log holds what the table could not. The
// price of the queue is that entries still queued when the process dies
// without a graceful stop are lost; a graceful stop (Run's context ending)
// writes everything queued before Run returns.
//
// # Retention
//
// Entries are kept until an operator deletes them; retention and archiving
// are out of scope for now.
package audit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/uptrace/bun"

	"github.com/gpcore/gpcore/internal/store"
)

// Defaults for Config fields left zero.
const (
	DefaultQueueSize  = 10000
	DefaultBatchSize  = 500
	DefaultMaxWait    = 2 * time.Second
	DefaultAttempts   = 3
	DefaultRetryDelay = 100 * time.Millisecond
	// DefaultListLimit is List's page when Filter.Limit is 0; MaxListLimit
	// its largest.
	DefaultListLimit = 100
	MaxListLimit     = 1000
)

// writeTimeout bounds one batch insert.
const writeTimeout = 10 * time.Second

// The reasons an entry is dropped, the label of the drop counter.
const (
	// ReasonQueueFull: the queue stayed full for Config.MaxWait.
	ReasonQueueFull = "queue_full"
	// ReasonWriteFailed: the database refused the entry's batch
	// Config.Attempts times.
	ReasonWriteFailed = "write_failed"
	// ReasonInvalid: the entry lacks what the table requires (a bug in the
	// caller); refused so that it cannot spoil the batch it would join.
	ReasonInvalid = "invalid"
	// ReasonStopped: the entry came after Run had stopped.
	ReasonStopped = "stopped"
)

// The principal kinds an entry records.
const (
	KindUser   = "user"
	KindClient = "client"
)

// Entry is one audited call.
type Entry struct {
	// ID is the entry's id; Record sets it.
	ID string
	// CreatedAt is when the call was made.
	CreatedAt time.Time
	// RPCMethod is the procedure, e.g.
	// "/gpcore.api.cloud.v1.CloudService/CreateProject".
	RPCMethod string
	// Code is the call's result: "ok" or a Connect code name such as
	// "not_found". It is empty for a stream, recorded when it starts.
	Code string
	// Stream tells a streaming call from a unary one.
	Stream bool
	// UserID is the account the call acted as: the person, or the service
	// account of a client.
	UserID string
	// ClientID is the OAuth client that obtained the token.
	ClientID string
	// Kind is KindUser for a person's token, KindClient for a
	// client-credentials token.
	Kind string
	// Token is the access token the call was made with.
	Token Token
	// IPAddress is the caller's address.
	IPAddress string
	// UserAgent is the caller's User-Agent header.
	UserAgent string
	// RequestID is the X-Request-Id the call was answered with.
	RequestID string
	// Payload is the request message as JSON, secrets redacted.
	Payload []byte
}

// Token describes the access token of an audited call.
type Token struct {
	// Subject is its sub claim.
	Subject string
	// ID is its jti claim.
	ID string
	// Issuer is its iss claim.
	Issuer string
	// Type is its typ claim.
	Type string
	// IssuedAt is its iat claim; zero when it has none.
	IssuedAt time.Time
	// ExpiresAt is its exp claim.
	ExpiresAt time.Time
}

// check refuses an entry the table would refuse, naming what is missing.
func (e *Entry) check() error {
	var missing []string
	if !strings.HasPrefix(e.RPCMethod, "/") || strings.Count(e.RPCMethod, "/") < 2 {
		missing = append(missing, "rpc method")
	}
	if e.Code == "" && !e.Stream {
		missing = append(missing, "code")
	}
	if e.UserID == "" {
		missing = append(missing, "user id")
	}
	if e.Kind != KindUser && e.Kind != KindClient {
		missing = append(missing, "principal kind")
	}
	if e.Token.Subject == "" {
		missing = append(missing, "token subject")
	}
	if e.Token.ExpiresAt.IsZero() {
		missing = append(missing, "token expiry")
	}
	if e.RequestID == "" {
		missing = append(missing, "request id")
	}
	if e.CreatedAt.IsZero() {
		missing = append(missing, "time")
	}
	if len(missing) > 0 {
		return fmt.Errorf("audit: entry without %s", strings.Join(missing, ", "))
	}
	return nil
}

// Config tunes a Log; the zero value is usable.
type Config struct {
	// QueueSize is how many entries may wait to be written
	// (DefaultQueueSize if 0).
	QueueSize int
	// BatchSize is the most entries one INSERT writes (DefaultBatchSize if 0).
	BatchSize int
	// MaxWait is how long Record waits for room in a full queue before it
	// drops the entry (DefaultMaxWait if 0; negative: do not wait).
	MaxWait time.Duration
	// Attempts is how many times a batch is tried (DefaultAttempts if 0);
	// RetryDelay is the wait before the second try, doubling for each
	// further one (DefaultRetryDelay if 0).
	Attempts   int
	RetryDelay time.Duration
	// Registerer gets the log's metrics; nil means they are not exported.
	Registerer prometheus.Registerer
	// Logger gets retries and, in full, every dropped entry
	// (slog.Default() if nil).
	Logger *slog.Logger
}

// Log is the audit log. Record queues entries, Run writes them, List reads
// them. It is safe for concurrent use.
type Log struct {
	db    *store.DB
	cfg   Config
	log   *slog.Logger
	queue chan item

	// mu orders Record and Flush against the end of Run: they hold it for
	// reading while they enqueue; Run takes it to set stopped, after which
	// nothing more is enqueued and the queue can be drained for good.
	mu      sync.RWMutex
	stopped bool

	written prometheus.Counter
	dropped *prometheus.CounterVec
}

// item is an entry to write, or a flush marker to close once everything
// queued before it is written or dropped.
type item struct {
	entry   Entry
	flushed chan struct{}
}

// New returns the audit log stored in db. Nothing is written until Run runs.
// It registers the log's metrics with cfg.Registerer:
// gpcore_audit_entries_written_total, gpcore_audit_entries_dropped_total
// (by reason) and gpcore_audit_queue_length.
func New(db *store.DB, cfg Config) *Log {
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = DefaultQueueSize
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.MaxWait == 0 {
		cfg.MaxWait = DefaultMaxWait
	}
	if cfg.Attempts <= 0 {
		cfg.Attempts = DefaultAttempts
	}
	if cfg.RetryDelay <= 0 {
		cfg.RetryDelay = DefaultRetryDelay
	}
	l := &Log{
		db:    db,
		cfg:   cfg,
		log:   cfg.Logger,
		queue: make(chan item, cfg.QueueSize),
		written: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gpcore_audit_entries_written_total",
			Help: "Audit log entries written to the database.",
		}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gpcore_audit_entries_dropped_total",
			Help: "Audit log entries not written to the database (each is logged at error level instead), by reason: " +
				ReasonQueueFull + ", " + ReasonWriteFailed + ", " + ReasonInvalid + ", " + ReasonStopped + ".",
		}, []string{"reason"}),
	}
	if l.log == nil {
		l.log = slog.Default()
	}
	for _, r := range []string{ReasonQueueFull, ReasonWriteFailed, ReasonInvalid, ReasonStopped} {
		l.dropped.WithLabelValues(r)
	}
	if cfg.Registerer != nil {
		cfg.Registerer.MustRegister(l.written, l.dropped, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "gpcore_audit_queue_length",
			Help: "Audit log entries waiting to be written.",
		}, func() float64 { return float64(len(l.queue)) }))
	}
	return l
}

// Record queues e to be written and gives it its id. It returns at once
// unless the queue is full; then it waits up to Config.MaxWait for room and
// otherwise drops e (see the package documentation). It never fails the
// caller.
func (l *Log) Record(e Entry) {
	e.ID = uuid.Must(uuid.NewV7()).String() // time-ordered, so ids sort like entries
	if err := e.check(); err != nil {
		l.drop(ReasonInvalid, e, err)
		return
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.stopped {
		l.drop(ReasonStopped, e, errStopped)
		return
	}
	select {
	case l.queue <- item{entry: e}:
		return
	default:
	}
	if l.cfg.MaxWait < 0 {
		l.drop(ReasonQueueFull, e, errQueueFull)
		return
	}
	timer := time.NewTimer(l.cfg.MaxWait)
	defer timer.Stop()
	select {
	case l.queue <- item{entry: e}:
	case <-timer.C:
		l.drop(ReasonQueueFull, e, errQueueFull)
	}
}

var (
	errStopped   = errors.New("audit: the log is stopped")
	errQueueFull = errors.New("audit: the queue stayed full")
)

// Flush waits until every entry recorded before it is written (or dropped),
// or until ctx ends. It needs Run to be running.
func (l *Log) Flush(ctx context.Context) error {
	done := make(chan struct{})
	if err := l.enqueueMarker(ctx, done); err != nil {
		return err
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l *Log) enqueueMarker(ctx context.Context, done chan struct{}) error {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.stopped {
		return errStopped
	}
	select {
	case l.queue <- item{flushed: done}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Run writes queued entries until ctx ends; then it stops taking entries
// (later ones are dropped as ReasonStopped), writes everything still queued
// and returns nil. Run it once, in one goroutine.
func (l *Log) Run(ctx context.Context) error {
	done, stopped := ctx.Done(), chan struct{}(nil)
	for {
		select {
		case it := <-l.queue:
			l.writeFrom(it)
		case <-done:
			// Set stopped under the write lock, which waits for the Records
			// and Flushes under way; meanwhile keep writing, so that those
			// waiting for room in a full queue get it.
			done, stopped = nil, make(chan struct{})
			go func() {
				l.mu.Lock()
				l.stopped = true
				l.mu.Unlock()
				close(stopped)
			}()
		case <-stopped:
			// Nothing is enqueued any more: what is queued is all there is.
			for {
				select {
				case it := <-l.queue:
					l.writeFrom(it)
				default:
					return nil
				}
			}
		}
	}
}

// writeFrom writes first and whatever else is queued, up to a batch, then
// releases the flush markers among them.
func (l *Log) writeFrom(first item) {
	var (
		batch   []Entry
		markers []chan struct{}
	)
	add := func(it item) {
		if it.flushed != nil {
			markers = append(markers, it.flushed)
		} else {
			batch = append(batch, it.entry)
		}
	}
	add(first)
collect:
	for len(batch) < l.cfg.BatchSize {
		select {
		case it := <-l.queue:
			add(it)
		default:
			break collect
		}
	}
	if len(batch) > 0 {
		l.write(batch)
	}
	for _, m := range markers {
		close(m)
	}
}

// write inserts batch in one statement, retrying as configured, and drops
// its entries when every attempt fails.
func (l *Log) write(batch []Entry) {
	rows := make([]row, len(batch))
	for i, e := range batch {
		rows[i] = toRow(e)
	}
	delay := l.cfg.RetryDelay
	var err error
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
		_, err = l.db.NewInsert().Model(&rows).Exec(ctx)
		cancel()
		if err == nil {
			l.written.Add(float64(len(rows)))
			return
		}
		if attempt >= l.cfg.Attempts {
			break
		}
		l.log.Warn("audit: writing entries failed; retrying", "entries", len(rows), "attempt", attempt, "retry_in", delay, "err", err)
		time.Sleep(delay)
		delay *= 2
	}
	err = fmt.Errorf("audit: write %d entries: %w", len(rows), err)
	for _, e := range batch {
		l.drop(ReasonWriteFailed, e, err)
	}
}

// drop counts e as dropped for reason and writes it in full to the process
// log, the only place it is kept.
func (l *Log) drop(reason string, e Entry, err error) {
	l.dropped.WithLabelValues(reason).Inc()
	l.log.Error("audit entry not stored in the database; this line is its record",
		"reason", reason, "err", err,
		"id", e.ID, "created_at", e.CreatedAt, "rpc_method", e.RPCMethod, "code", e.Code, "stream", e.Stream,
		"user_id", e.UserID, "client_id", e.ClientID, "kind", e.Kind,
		"token_subject", e.Token.Subject, "token_id", e.Token.ID, "token_issuer", e.Token.Issuer,
		"token_type", e.Token.Type, "token_issued_at", e.Token.IssuedAt, "token_expires_at", e.Token.ExpiresAt,
		"ip_address", e.IPAddress, "user_agent", e.UserAgent, "request_id", e.RequestID,
		"payload", string(e.Payload))
}

// Filter selects entries for List. Empty fields select everything.
type Filter struct {
	// UserID selects the calls made as this account.
	UserID string
	// RequestID selects the calls answered with this request id.
	RequestID string
	// Limit is the most entries returned (DefaultListLimit if 0, at most
	// MaxListLimit).
	Limit int
}

// List returns the stored entries f selects, newest first. It reads only
// what is written: Flush first to include what is still queued.
func (l *Log) List(ctx context.Context, f Filter) ([]Entry, error) {
	limit := f.Limit
	switch {
	case limit <= 0:
		limit = DefaultListLimit
	case limit > MaxListLimit:
		limit = MaxListLimit
	}
	var rows []row
	q := l.db.NewSelect().Model(&rows).OrderExpr("created_at DESC, id DESC").Limit(int64(limit))
	if f.UserID != "" {
		q = q.Where("user_id = ?", f.UserID)
	}
	if f.RequestID != "" {
		q = q.Where("request_id = ?", f.RequestID)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("audit: list entries: %w", err)
	}
	entries := make([]Entry, len(rows))
	for i, r := range rows {
		entries[i] = r.entry()
	}
	return entries, nil
}

// row is a row of audit_log.
type row struct {
	bun.BaseModel `bun:"table:audit_log"`

	ID             string    `bun:"id,pk"`
	CreatedAt      time.Time `bun:"created_at"`
	RPCMethod      string    `bun:"rpc_method"`
	Code           string    `bun:"code"`
	Stream         bool      `bun:"stream"`
	UserID         string    `bun:"user_id"`
	ClientID       string    `bun:"client_id"`
	PrincipalKind  string    `bun:"principal_kind"`
	TokenSubject   string    `bun:"token_subject"`
	TokenID        string    `bun:"token_id"`
	TokenIssuer    string    `bun:"token_issuer"`
	TokenType      string    `bun:"token_type"`
	TokenIssuedAt  time.Time `bun:"token_issued_at,nullzero"`
	TokenExpiresAt time.Time `bun:"token_expires_at"`
	IPAddress      string    `bun:"ip_address"`
	UserAgent      string    `bun:"user_agent"`
	RequestID      string    `bun:"request_id"`
	Payload        string    `bun:"payload"`
}

func toRow(e Entry) row {
	return row{
		ID:             e.ID,
		CreatedAt:      e.CreatedAt.UTC(),
		RPCMethod:      e.RPCMethod,
		Code:           e.Code,
		Stream:         e.Stream,
		UserID:         e.UserID,
		ClientID:       e.ClientID,
		PrincipalKind:  e.Kind,
		TokenSubject:   e.Token.Subject,
		TokenID:        e.Token.ID,
		TokenIssuer:    e.Token.Issuer,
		TokenType:      e.Token.Type,
		TokenIssuedAt:  e.Token.IssuedAt.UTC(),
		TokenExpiresAt: e.Token.ExpiresAt.UTC(),
		IPAddress:      e.IPAddress,
		UserAgent:      e.UserAgent,
		RequestID:      e.RequestID,
		Payload:        string(e.Payload),
	}
}

func (r row) entry() Entry {
	e := Entry{
		ID:        r.ID,
		CreatedAt: r.CreatedAt.UTC(),
		RPCMethod: r.RPCMethod,
		Code:      r.Code,
		Stream:    r.Stream,
		UserID:    r.UserID,
		ClientID:  r.ClientID,
		Kind:      r.PrincipalKind,
		Token: Token{
			Subject:   r.TokenSubject,
			ID:        r.TokenID,
			Issuer:    r.TokenIssuer,
			Type:      r.TokenType,
			ExpiresAt: r.TokenExpiresAt.UTC(),
		},
		IPAddress: r.IPAddress,
		UserAgent: r.UserAgent,
		RequestID: r.RequestID,
		Payload:   []byte(r.Payload),
	}
	if !r.TokenIssuedAt.IsZero() {
		e.Token.IssuedAt = r.TokenIssuedAt.UTC()
	}
	return e
}
