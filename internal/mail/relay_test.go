package mail_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/gpcore/gpcore/internal/mail"
	"github.com/gpcore/gpcore/internal/mail/mailtest"
	"github.com/gpcore/gpcore/internal/store"
	"github.com/gpcore/gpcore/internal/store/storetest"
)

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newClock() *clock { return &clock{now: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)} }

// flaky is a Sender that fails while failing is set, counting its calls.
type flaky struct {
	mu      sync.Mutex
	failing bool
	calls   int
	box     *mailtest.Mailbox
}

func (f *flaky) Send(ctx context.Context, m mail.Message) error {
	f.mu.Lock()
	f.calls++
	failing := f.failing
	f.mu.Unlock()
	if failing {
		return errors.New("451 try again later")
	}
	return f.box.Send(ctx, m)
}

func (f *flaky) set(failing bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failing = failing
}

func (f *flaky) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// enqueue queues a mail to to in its own transaction.
func enqueue(t *testing.T, db *store.DB, to string, now time.Time) {
	t.Helper()
	err := db.InTx(t.Context(), func(ctx context.Context, tx bun.Tx) error {
		return mail.Enqueue(ctx, tx, mail.Message{To: to, Subject: "Hello", Body: "Grüße\n"}, now)
	})
	if err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
}

// outboxRow is what the tests read of a mail_outbox row.
type outboxRow struct {
	Recipient string    `bun:"recipient"`
	Attempts  int       `bun:"attempts"`
	NextAt    time.Time `bun:"next_attempt_at"`
	LastError string    `bun:"last_error"`
	FailedAt  time.Time `bun:"failed_at,nullzero"`
}

func rows(t *testing.T, db *store.DB) []outboxRow {
	t.Helper()
	var out []outboxRow
	if err := db.NewSelect().Table("mail_outbox").
		Column("recipient", "attempts", "next_attempt_at", "last_error", "failed_at").
		Order("recipient").Scan(t.Context(), &out); err != nil {
		t.Fatalf("read outbox: %v", err)
	}
	return out
}

// deliver runs one DeliverDue and returns how many were sent.
func deliver(t *testing.T, r *mail.Relay) int {
	t.Helper()
	n, err := r.DeliverDue(t.Context())
	if err != nil {
		t.Fatalf("DeliverDue: %v", err)
	}
	return n
}

func TestEnqueueIsTransactional(t *testing.T) {
	db := storetest.New(t)
	clk := newClock()
	box := mailtest.New()
	relay := mail.NewRelay(db, box, mail.RelayConfig{Now: clk.Now})

	rollback := errors.New("change refused")
	err := db.InTx(t.Context(), func(ctx context.Context, tx bun.Tx) error {
		if err := mail.Enqueue(ctx, tx, mail.Message{To: "lost@example.com", Subject: "Hello"}, clk.Now()); err != nil {
			return err
		}
		return rollback
	})
	if !errors.Is(err, rollback) {
		t.Fatalf("InTx = %v", err)
	}
	enqueue(t, db, "kept@example.com", clk.Now())

	if n := deliver(t, relay); n != 1 {
		t.Fatalf("delivered %d, want 1", n)
	}
	if got := box.To("lost@example.com"); len(got) != 0 {
		t.Fatalf("mail of a rolled-back transaction was sent: %v", got)
	}
	got := box.To("kept@example.com")
	if len(got) != 1 || got[0].Subject != "Hello" || got[0].Body != "Grüße\n" {
		t.Fatalf("delivered %+v", got)
	}
	if left := rows(t, db); len(left) != 0 {
		t.Fatalf("sent mail left in the outbox: %+v", left)
	}
	if n := deliver(t, relay); n != 0 {
		t.Fatalf("second pass delivered %d, want 0", n)
	}
}

func TestEnqueueRefusals(t *testing.T) {
	db := storetest.New(t)
	for _, m := range []mail.Message{
		{To: "", Subject: "s"},
		{To: "Jane <jane@example.com>", Subject: "s"},
		{To: "a@example.com, b@example.com", Subject: "s"},
		{To: "jane@example.com", Subject: ""},
		{To: "jane@example.com", Subject: "two\r\nBcc: x@example.com"},
	} {
		if err := mail.Enqueue(t.Context(), db.DB, m, time.Now()); err == nil {
			t.Errorf("Enqueue(%+v) accepted", m)
		}
	}
}

func TestRelayRetriesThenGivesUp(t *testing.T) {
	db := storetest.New(t)
	clk := newClock()
	sender := &flaky{failing: true, box: mailtest.New()}
	relay := mail.NewRelay(db, sender, mail.RelayConfig{Now: clk.Now, MaxAttempts: 3, RetryDelay: time.Minute, MaxRetryDelay: 90 * time.Second})
	enqueue(t, db, "retry@example.com", clk.Now())
	enqueue(t, db, "later@example.com", clk.Now())

	// First failure: retried a minute later, not before.
	if n := deliver(t, relay); n != 0 || sender.count() != 2 {
		t.Fatalf("delivered %d with %d calls, want 0 with 2", n, sender.count())
	}
	r := rows(t, db)[1]
	if r.Attempts != 1 || !r.NextAt.Equal(clk.Now().Add(time.Minute)) || !strings.Contains(r.LastError, "451") || !r.FailedAt.IsZero() {
		t.Fatalf("after one failure: %+v", r)
	}
	clk.Add(59 * time.Second)
	if deliver(t, relay); sender.count() != 2 {
		t.Fatalf("retried before the delay: %d calls", sender.count())
	}

	// Second failure: the delay doubles, capped at 90s.
	clk.Add(time.Second)
	deliver(t, relay)
	if r := rows(t, db)[1]; r.Attempts != 2 || !r.NextAt.Equal(clk.Now().Add(90*time.Second)) {
		t.Fatalf("after two failures: %+v", r)
	}

	// Third failure: given up, kept with its error.
	clk.Add(90 * time.Second)
	deliver(t, relay)
	for _, r := range rows(t, db) {
		if r.Attempts != 3 || !r.FailedAt.Equal(clk.Now()) || !strings.Contains(r.LastError, "451") {
			t.Fatalf("after the last attempt: %+v", r)
		}
	}
	sender.set(false)
	clk.Add(time.Hour)
	if n := deliver(t, relay); n != 0 || sender.count() != 6 {
		t.Fatalf("failed mail was tried again: delivered %d, %d calls", n, sender.count())
	}
}

func TestRelayRecovers(t *testing.T) {
	db := storetest.New(t)
	clk := newClock()
	sender := &flaky{failing: true, box: mailtest.New()}
	relay := mail.NewRelay(db, sender, mail.RelayConfig{Now: clk.Now})
	enqueue(t, db, "jane@example.com", clk.Now())
	deliver(t, relay)
	sender.set(false)
	clk.Add(mail.DefaultRetryDelay)
	if n := deliver(t, relay); n != 1 || len(sender.box.To("jane@example.com")) != 1 || len(rows(t, db)) != 0 {
		t.Fatalf("after recovery: delivered %d, outbox %+v", n, rows(t, db))
	}
}

// blocking is a Sender that holds every message until its context ends, as
// a relay that dies mid-delivery does.
type blocking struct{ started chan struct{} }

func (b blocking) Send(ctx context.Context, _ mail.Message) error {
	close(b.started)
	<-ctx.Done()
	return ctx.Err()
}

// TestRelayLease: a relay that stops in the middle of a delivery keeps the
// message for one send timeout; then another relay delivers it.
func TestRelayLease(t *testing.T) {
	db := storetest.New(t)
	clk := newClock()
	enqueue(t, db, "jane@example.com", clk.Now())

	stuck := blocking{started: make(chan struct{})}
	dying := mail.NewRelay(db, stuck, mail.RelayConfig{Now: clk.Now, SendTimeout: time.Minute})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := dying.DeliverDue(ctx)
		done <- err
	}()
	<-stuck.started
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("DeliverDue of the dying relay = %v, want context.Canceled", err)
	}

	box := mailtest.New()
	other := mail.NewRelay(db, box, mail.RelayConfig{Now: clk.Now})
	if n := deliver(t, other); n != 0 {
		t.Fatalf("delivered %d while the lease held, want 0", n)
	}
	clk.Add(time.Minute)
	if n := deliver(t, other); n != 1 || len(box.To("jane@example.com")) != 1 {
		t.Fatalf("after the lease: delivered %d", n)
	}
}

// TestRelaysShareTheOutbox runs relays side by side on one database: every
// message is delivered exactly once.
func TestRelaysShareTheOutbox(t *testing.T) {
	db := storetest.New(t)
	clk := newClock()
	const messages, relays = 30, 4
	for i := range messages {
		enqueue(t, db, fmt.Sprintf("user%02d@example.com", i), clk.Now())
	}
	box := mailtest.New()
	var wg sync.WaitGroup
	for range relays {
		r := mail.NewRelay(db, box, mail.RelayConfig{Now: clk.Now, BatchSize: 7})
		wg.Go(func() {
			if _, err := r.DeliverDue(t.Context()); err != nil {
				t.Errorf("DeliverDue: %v", err)
			}
		})
	}
	wg.Wait()
	for i := range messages {
		to := fmt.Sprintf("user%02d@example.com", i)
		if got := len(box.To(to)); got != 1 {
			t.Errorf("%s got %d mails, want 1", to, got)
		}
	}
	if left := rows(t, db); len(left) != 0 {
		t.Fatalf("outbox not empty: %+v", left)
	}
}

// TestRelayRunWakes: a running relay sends queued mail when woken, long
// before its next poll, and Run returns when its context ends.
func TestRelayRunWakes(t *testing.T) {
	db := storetest.New(t)
	box := mailtest.New()
	relay := mail.NewRelay(db, box, mail.RelayConfig{PollInterval: time.Hour})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- relay.Run(ctx) }()

	enqueue(t, db, "jane@example.com", time.Now())
	relay.Wake()
	if m := box.Wait(t, "jane@example.com", 1); m.Subject != "Hello" {
		t.Fatalf("delivered %+v", m)
	}
	enqueue(t, db, "jane@example.com", time.Now())
	relay.Wake()
	box.Wait(t, "jane@example.com", 2)

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
}

// TestRelayLogsWhatBecameOfTheMail: with no SMTP server, LogSender writes
// the mail to the log and the relay's line says it was logged, never that
// it was sent; a sender that delivers gets "mail sent".
func TestRelayLogsWhatBecameOfTheMail(t *testing.T) {
	db := storetest.New(t)
	clk := newClock()
	var logged bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logged, nil))
	relay := mail.NewRelay(db, mail.LogSender{Log: log}, mail.RelayConfig{Now: clk.Now, Logger: log})
	enqueue(t, db, "jane@example.com", clk.Now())
	if n := deliver(t, relay); n != 1 {
		t.Fatalf("delivered %d, want 1", n)
	}
	lines := strings.Split(strings.TrimSpace(logged.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `msg="mail not sent (no SMTP server configured), here it is"`) ||
		!strings.Contains(lines[1], `msg="mail logged, not sent"`) || !strings.Contains(lines[1], "to=jane@example.com subject=Hello") {
		t.Fatalf("log of a mail without SMTP server:\n%s", logged.String())
	}
	if strings.Contains(logged.String(), "mail sent") {
		t.Fatalf("the log says a mail that was only logged was sent:\n%s", logged.String())
	}

	logged.Reset()
	relay = mail.NewRelay(db, mailtest.New(), mail.RelayConfig{Now: clk.Now, Logger: log})
	enqueue(t, db, "jane@example.com", clk.Now())
	if n := deliver(t, relay); n != 1 {
		t.Fatalf("delivered %d, want 1", n)
	}
	if !strings.Contains(logged.String(), `msg="mail sent"`) {
		t.Fatalf("log of a delivered mail:\n%s", logged.String())
	}
}
