package audit_test

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

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gpcore/gpcore/internal/audit"
	"github.com/gpcore/gpcore/internal/store"
	"github.com/gpcore/gpcore/internal/store/storetest"
)

// entry is a valid entry for user, made at t.
func entry(user string, at time.Time) audit.Entry {
	return audit.Entry{
		CreatedAt: at,
		RPCMethod: "/gpcore.api.cloud.v1.CloudService/GetProject",
		Code:      "ok",
		UserID:    user,
		ClientID:  "gpcore-cli",
		Kind:      audit.KindUser,
		Token: audit.Token{
			Subject: user, ID: "jti-" + user, Issuer: "http://127.0.0.1/realms/gpcore", Type: "Bearer",
			IssuedAt: at.Add(-time.Minute), ExpiresAt: at.Add(14 * time.Minute),
		},
		IPAddress: "203.0.113.7",
		UserAgent: "connect-go/1.0",
		RequestID: fmt.Sprintf("req-%s-%d", user, at.UnixMicro()),
		Payload:   []byte(`{"id":"p-1"}`),
	}
}

// harness is a Log on a fresh database with its metrics and its log lines.
type harness struct {
	db   *store.DB
	log  *audit.Log
	reg  *prometheus.Registry
	mu   sync.Mutex
	logs bytes.Buffer
}

func (h *harness) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.logs.Write(p)
}

func (h *harness) logged() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.logs.String()
}

func newHarness(t testing.TB, cfg audit.Config) *harness {
	h := &harness{db: storetest.New(t), reg: prometheus.NewRegistry()}
	cfg.Registerer = h.reg
	cfg.Logger = slog.New(slog.NewTextHandler(h, nil))
	h.log = audit.New(h.db, cfg)
	return h
}

// run runs the writer until the test ends.
func (h *harness) run(t testing.TB) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.log.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

func (h *harness) flush(t testing.TB) {
	t.Helper()
	if err := h.log.Flush(context.Background()); err != nil {
		t.Fatalf("Flush: %v", err)
	}
}

func (h *harness) list(t testing.TB, f audit.Filter) []audit.Entry {
	t.Helper()
	got, err := h.log.List(context.Background(), f)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	return got
}

// metric returns the value of the counter name (with the label reason, when
// given) or of the gauge name.
func (h *harness) metric(t testing.TB, name, reason string) float64 {
	t.Helper()
	families, err := h.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if reason != "" && (len(m.GetLabel()) != 1 || m.GetLabel()[0].GetValue() != reason) {
				continue
			}
			if m.GetGauge() != nil {
				return m.GetGauge().GetValue()
			}
			return m.GetCounter().GetValue()
		}
	}
	t.Fatalf("no metric %s{reason=%q}", name, reason)
	return 0
}

// TestRecordAndList: recorded entries come back from List with every field,
// newest first, filtered by user and by request id.
func TestRecordAndList(t *testing.T) {
	h := newHarness(t, audit.Config{})
	h.run(t)
	at := time.Date(2026, 3, 1, 12, 0, 0, 123456000, time.UTC)
	first, second, other := entry("u-1", at), entry("u-1", at.Add(time.Second)), entry("u-2", at)
	second.Token.IssuedAt = time.Time{}
	second.Code, second.Stream = "", true
	for _, e := range []audit.Entry{first, second, other} {
		h.log.Record(e)
	}
	h.flush(t)

	got := h.list(t, audit.Filter{UserID: "u-1"})
	if len(got) != 2 {
		t.Fatalf("List(u-1) = %d entries, want 2", len(got))
	}
	for i, want := range []audit.Entry{second, first} {
		g := got[i]
		if g.ID == "" {
			t.Errorf("entry %d has no id", i)
		}
		want.ID = g.ID
		if fmt.Sprint(g) != fmt.Sprint(want) {
			t.Errorf("entry %d:\n got %+v\nwant %+v", i, g, want)
		}
	}
	if got := h.list(t, audit.Filter{RequestID: other.RequestID}); len(got) != 1 || got[0].UserID != "u-2" {
		t.Errorf("List(request id) = %+v", got)
	}
	if got := h.list(t, audit.Filter{}); len(got) != 3 {
		t.Errorf("List() = %d entries, want 3", len(got))
	}
	if got := h.list(t, audit.Filter{Limit: 1}); len(got) != 1 {
		t.Errorf("List(limit 1) = %d entries", len(got))
	}
	if n := h.metric(t, "gpcore_audit_entries_written_total", ""); n != 3 {
		t.Errorf("written = %v, want 3", n)
	}
}

// TestBatches: more entries than a batch holds are all written.
func TestBatches(t *testing.T) {
	h := newHarness(t, audit.Config{BatchSize: 3, QueueSize: 100})
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for i := range 10 {
		h.log.Record(entry("u-1", at.Add(time.Duration(i)*time.Second)))
	}
	if n := h.metric(t, "gpcore_audit_queue_length", ""); n != 10 {
		t.Errorf("queue length before Run = %v, want 10", n)
	}
	h.run(t)
	h.flush(t)
	if got := h.list(t, audit.Filter{}); len(got) != 10 {
		t.Fatalf("List = %d entries, want 10", len(got))
	}
}

// TestQueueFull: when the queue stays full, the entry is dropped, counted
// and logged in full; it never blocks beyond MaxWait.
func TestQueueFull(t *testing.T) {
	h := newHarness(t, audit.Config{QueueSize: 1, MaxWait: -1})
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	kept, lost := entry("u-1", at), entry("u-2", at)
	h.log.Record(kept)
	h.log.Record(lost) // nobody writes: the queue is full
	if n := h.metric(t, "gpcore_audit_entries_dropped_total", audit.ReasonQueueFull); n != 1 {
		t.Errorf("dropped(queue_full) = %v, want 1", n)
	}
	if l := h.logged(); !strings.Contains(l, "request_id="+lost.RequestID) || !strings.Contains(l, "reason=queue_full") {
		t.Errorf("the dropped entry is not in the log:\n%s", l)
	}
	h.run(t)
	h.flush(t)
	if got := h.list(t, audit.Filter{}); len(got) != 1 || got[0].UserID != "u-1" {
		t.Errorf("List = %+v, want the first entry only", got)
	}
}

// TestQueueFullWaits: a full queue makes Record wait for room rather than
// drop, when the writer catches up within MaxWait.
func TestQueueFullWaits(t *testing.T) {
	h := newHarness(t, audit.Config{QueueSize: 1, MaxWait: time.Hour})
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	h.log.Record(entry("u-1", at))
	recorded := make(chan struct{})
	go func() {
		h.log.Record(entry("u-2", at)) // waits: the queue is full and nobody writes yet
		close(recorded)
	}()
	h.run(t)
	<-recorded
	h.flush(t)
	if got := h.list(t, audit.Filter{}); len(got) != 2 {
		t.Errorf("List = %d entries, want 2", len(got))
	}
	if n := h.metric(t, "gpcore_audit_entries_dropped_total", audit.ReasonQueueFull); n != 0 {
		t.Errorf("dropped(queue_full) = %v, want 0", n)
	}
}

// TestWriteFailed: a batch the database refuses is retried, then dropped,
// counted and logged; the writer goes on.
func TestWriteFailed(t *testing.T) {
	h := newHarness(t, audit.Config{Attempts: 2, RetryDelay: time.Millisecond})
	if _, err := h.db.ExecContext(context.Background(), "ALTER TABLE audit_log RENAME TO audit_log_away"); err != nil {
		t.Fatal(err)
	}
	h.run(t)
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	lost := entry("u-1", at)
	h.log.Record(lost)
	h.flush(t)
	if n := h.metric(t, "gpcore_audit_entries_dropped_total", audit.ReasonWriteFailed); n != 1 {
		t.Errorf("dropped(write_failed) = %v, want 1", n)
	}
	if l := h.logged(); !strings.Contains(l, "retrying") || !strings.Contains(l, "request_id="+lost.RequestID) {
		t.Errorf("log lacks the retry or the dropped entry:\n%s", l)
	}

	if _, err := h.db.ExecContext(context.Background(), "ALTER TABLE audit_log_away RENAME TO audit_log"); err != nil {
		t.Fatal(err)
	}
	h.log.Record(entry("u-2", at))
	h.flush(t)
	if got := h.list(t, audit.Filter{}); len(got) != 1 || got[0].UserID != "u-2" {
		t.Errorf("after the database recovered, List = %+v", got)
	}
}

// TestInvalidEntry: an entry the table would refuse is dropped on its own,
// before it can spoil a batch.
func TestInvalidEntry(t *testing.T) {
	h := newHarness(t, audit.Config{})
	h.run(t)
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	bad := entry("u-1", at)
	bad.RequestID, bad.Code = "", ""
	h.log.Record(bad)
	h.log.Record(entry("u-2", at))
	h.flush(t)
	if n := h.metric(t, "gpcore_audit_entries_dropped_total", audit.ReasonInvalid); n != 1 {
		t.Errorf("dropped(invalid) = %v, want 1", n)
	}
	if l := h.logged(); !strings.Contains(l, "entry without code, request id") {
		t.Errorf("log does not say what is missing:\n%s", l)
	}
	if got := h.list(t, audit.Filter{}); len(got) != 1 || got[0].UserID != "u-2" {
		t.Errorf("List = %+v", got)
	}
}

// TestStopWritesQueued: when Run's context ends, what is queued is written
// before Run returns; later entries are dropped as stopped.
func TestStopWritesQueued(t *testing.T) {
	h := newHarness(t, audit.Config{})
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for i := range 5 {
		h.log.Record(entry(fmt.Sprintf("u-%d", i), at))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := h.log.Run(ctx); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := h.list(t, audit.Filter{}); len(got) != 5 {
		t.Errorf("after Run stopped, List = %d entries, want 5", len(got))
	}
	h.log.Record(entry("late", at))
	if n := h.metric(t, "gpcore_audit_entries_dropped_total", audit.ReasonStopped); n != 1 {
		t.Errorf("dropped(stopped) = %v, want 1", n)
	}
	if err := h.log.Flush(context.Background()); err == nil {
		t.Errorf("Flush after Run stopped: no error")
	}
}

// TestStopWhileRecordWaits: a Record waiting for room in a full queue does
// not hold up the stop: it is written, or, had it come after the stop,
// dropped as stopped; either way Run returns.
func TestStopWhileRecordWaits(t *testing.T) {
	h := newHarness(t, audit.Config{QueueSize: 1, MaxWait: time.Hour})
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	h.log.Record(entry("u-1", at))
	recorded := make(chan struct{})
	go func() {
		h.log.Record(entry("u-2", at)) // the queue is full: it waits
		close(recorded)
	}()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := h.log.Run(ctx); err != nil {
		t.Fatalf("Run: %v", err)
	}
	<-recorded
	written := len(h.list(t, audit.Filter{}))
	stopped := h.metric(t, "gpcore_audit_entries_dropped_total", audit.ReasonStopped)
	if written+int(stopped) != 2 || written < 1 {
		t.Errorf("written %d, dropped as stopped %v; want the first written and the second written or dropped", written, stopped)
	}
}

// TestConcurrentRecord: many goroutines record at once; every entry is
// written exactly once.
func TestConcurrentRecord(t *testing.T) {
	h := newHarness(t, audit.Config{QueueSize: 16, BatchSize: 7, MaxWait: time.Hour})
	h.run(t)
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 25 {
				h.log.Record(entry(fmt.Sprintf("u-%d", g), at.Add(time.Duration(i)*time.Millisecond)))
			}
		})
	}
	wg.Wait()
	h.flush(t)
	if got := h.list(t, audit.Filter{Limit: audit.MaxListLimit}); len(got) != 200 {
		t.Errorf("List = %d entries, want 200", len(got))
	}
}

func TestFlushHonoursContext(t *testing.T) {
	h := newHarness(t, audit.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := h.log.Flush(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Flush without a writer and a cancelled context = %v", err)
	}
}

// BenchmarkRecord measures what an audited call pays for its entry:
// "queued" is what Record does, queue it with the writer batching behind
// (the final flush included); "written-each" is the alternative, waiting
// for each entry's own INSERT on the call's path.
func BenchmarkRecord(b *testing.B) {
	for _, each := range []bool{false, true} {
		name := "queued"
		if each {
			name = "written-each"
		}
		b.Run(name, func(b *testing.B) {
			h := newHarness(b, audit.Config{})
			h.run(b)
			at := time.Now().UTC()
			for i := 0; b.Loop(); i++ {
				h.log.Record(entry("u-1", at.Add(time.Duration(i))))
				if each {
					h.flush(b)
				}
			}
			h.flush(b)
		})
	}
}
