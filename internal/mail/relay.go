package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
	"unicode/utf8"

	"github.com/gpcore/gpcore/internal/store"
)

// Defaults for RelayConfig fields left zero.
const (
	DefaultPollInterval  = 10 * time.Second
	DefaultMaxAttempts   = 10
	DefaultRetryDelay    = time.Minute
	DefaultMaxRetryDelay = time.Hour
	DefaultSendTimeout   = time.Minute
	DefaultBatchSize     = 20
)

// RelayConfig tunes a Relay; the zero value is usable.
type RelayConfig struct {
	// PollInterval is how often the relay looks for due mail when nobody
	// wakes it (DefaultPollInterval if 0): it picks up retries, mail queued
	// by other replicas and mail whose relay died.
	PollInterval time.Duration
	// MaxAttempts is how many deliveries of a message are tried before it is
	// marked failed (DefaultMaxAttempts if 0).
	MaxAttempts int
	// RetryDelay is the wait after the first failed delivery; it doubles with
	// each further failure up to MaxRetryDelay (DefaultRetryDelay and
	// DefaultMaxRetryDelay if 0).
	RetryDelay, MaxRetryDelay time.Duration
	// SendTimeout bounds one delivery and is the lease a relay holds on the
	// message meanwhile (DefaultSendTimeout if 0).
	SendTimeout time.Duration
	// BatchSize is how many due messages one query fetches (DefaultBatchSize
	// if 0).
	BatchSize int
	// Now is the clock (time.Now if nil).
	Now func() time.Time
	// Logger gets deliveries and failures (slog.Default() if nil).
	Logger *slog.Logger
}

// Relay delivers the outbox's due mail through a Sender. Every replica may
// run one: a message is taken by one relay at a time.
type Relay struct {
	db     *store.DB
	sender Sender
	cfg    RelayConfig
	log    *slog.Logger
	wake   chan struct{}
}

// NewRelay returns a relay that delivers the mail queued in db through
// sender. Start it with Run.
func NewRelay(db *store.DB, sender Sender, cfg RelayConfig) *Relay {
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.RetryDelay <= 0 {
		cfg.RetryDelay = DefaultRetryDelay
	}
	if cfg.MaxRetryDelay <= 0 {
		cfg.MaxRetryDelay = DefaultMaxRetryDelay
	}
	if cfg.SendTimeout <= 0 {
		cfg.SendTimeout = DefaultSendTimeout
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Relay{db: db, sender: sender, cfg: cfg, log: log, wake: make(chan struct{}, 1)}
}

func (r *Relay) now() time.Time { return r.cfg.Now().UTC() }

// Wake makes a running relay look for due mail now rather than at its next
// poll. Call it after committing a transaction that queued mail; it never
// blocks.
func (r *Relay) Wake() {
	select {
	case r.wake <- struct{}{}:
	default: // a wake-up is pending already
	}
}

// Run delivers due mail until ctx is done, then returns nil. It looks at
// start, when woken and every PollInterval. A delivery under way when ctx
// ends is abandoned; its lease runs out and it is sent again later.
func (r *Relay) Run(ctx context.Context) error {
	tick := time.NewTicker(r.cfg.PollInterval)
	defer tick.Stop()
	for {
		if _, err := r.DeliverDue(ctx); err != nil && ctx.Err() == nil {
			r.log.ErrorContext(ctx, "mail relay failed", "error", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-r.wake:
		case <-tick.C:
		}
	}
}

// DeliverDue tries every message that is due now once and returns how many
// the sender accepted. A failed delivery is not an error here: it is logged
// and scheduled again (or marked failed after MaxAttempts). The error is a
// database failure or ctx ending.
func (r *Relay) DeliverDue(ctx context.Context) (int, error) {
	sent := 0
	for {
		var due []outboxRow
		err := r.db.NewSelect().Model(&due).
			Where("failed_at IS NULL").
			Where("next_attempt_at <= ?", r.now()).
			Order("next_attempt_at", "id").
			Limit(int64(r.cfg.BatchSize)).
			Scan(ctx)
		if err != nil {
			return sent, fmt.Errorf("mail: find due mail: %w", err)
		}
		for _, m := range due {
			ok, err := r.deliver(ctx, m)
			if err != nil {
				return sent, err
			}
			if ok {
				sent++
			}
		}
		if len(due) < r.cfg.BatchSize {
			return sent, nil
		}
	}
}

// deliver takes message m, sends it and records the outcome; ok is true when
// the sender accepted it. A message another relay took meanwhile is left
// alone.
func (r *Relay) deliver(ctx context.Context, m outboxRow) (ok bool, err error) {
	// Take the lease: attempts is the row's version, so of two relays that
	// read the row only one moves it.
	res, err := r.db.NewUpdate().Model((*outboxRow)(nil)).
		Set("attempts = attempts + 1").
		Set("next_attempt_at = ?", r.now().Add(r.cfg.SendTimeout)).
		Where("id = ?", m.ID).
		Where("attempts = ?", m.Attempts).
		Where("failed_at IS NULL").
		Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("mail: take message %s: %w", m.ID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("mail: take message %s: %w", m.ID, err)
	}
	if n != 1 {
		return false, nil // another relay has it
	}
	m.Attempts++

	sctx, cancel := context.WithTimeout(ctx, r.cfg.SendTimeout)
	sendErr := r.sender.Send(sctx, Message{To: m.Recipient, Subject: m.Subject, Body: m.Body})
	cancel()
	if ctx.Err() != nil {
		return false, ctx.Err() // shutting down: the lease brings the message back
	}
	if sendErr == nil {
		if _, err := r.db.NewDelete().Model((*outboxRow)(nil)).Where("id = ?", m.ID).Exec(ctx); err != nil {
			return false, fmt.Errorf("mail: delete sent message %s: %w", m.ID, err)
		}
		r.log.InfoContext(ctx, r.outcome(), "id", m.ID, "to", m.Recipient, "subject", m.Subject, "attempt", m.Attempts)
		return true, nil
	}

	now := r.now()
	q := r.db.NewUpdate().Model((*outboxRow)(nil)).
		Set("last_error = ?", truncate(sendErr.Error(), 1000)).
		Where("id = ?", m.ID)
	if m.Attempts >= r.cfg.MaxAttempts {
		q = q.Set("failed_at = ?", now)
		r.log.ErrorContext(ctx, "mail undeliverable, giving up", "id", m.ID, "to", m.Recipient,
			"subject", m.Subject, "attempts", m.Attempts, "error", sendErr)
	} else {
		next := now.Add(r.retryDelay(m.Attempts))
		q = q.Set("next_attempt_at = ?", next)
		r.log.WarnContext(ctx, "mail delivery failed, will retry", "id", m.ID, "to", m.Recipient,
			"attempt", m.Attempts, "retry_at", next, "error", sendErr)
	}
	if _, err := q.Exec(ctx); err != nil {
		return false, fmt.Errorf("mail: record failed delivery of %s: %w", m.ID, errors.Join(err, sendErr))
	}
	return false, nil
}

// outcomer is a Sender that says what became of the mail it accepted, when
// that is not "mail sent" (LogSender only logs it).
type outcomer interface {
	Outcome() string
}

// outcome is what the relay logs of a message its sender accepted.
func (r *Relay) outcome() string {
	if o, ok := r.sender.(outcomer); ok {
		return o.Outcome()
	}
	return "mail sent"
}

// retryDelay is the wait after the attempts-th failed delivery.
func (r *Relay) retryDelay(attempts int) time.Duration {
	d := r.cfg.RetryDelay
	for i := 1; i < attempts && d < r.cfg.MaxRetryDelay; i++ {
		d *= 2
	}
	return min(d, r.cfg.MaxRetryDelay)
}

// truncate shortens s to at most n bytes, on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
