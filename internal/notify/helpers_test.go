package notify_test

import (
	"context"
	"log/slog"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/gpcore/gpcore/internal/notify"
	"github.com/gpcore/gpcore/internal/store"
	"github.com/gpcore/gpcore/internal/store/storetest"
)

// waitTimeout bounds every wait for something to arrive; it only matters
// when a test is about to fail.
const waitTimeout = 30 * time.Second

// openDB returns a fresh database handle for t: SQLite, or a PostgreSQL
// schema when GPCORE_TEST_POSTGRES_DSN is set. The hub needs no tables.
func openDB(t testing.TB) *store.DB {
	t.Helper()
	return storetest.Open(t, storetest.NewConfig(t))
}

// newHub returns a started hub on db, stopped when t ends. Its log goes to
// t's output unless cfg names a logger.
func newHub(t testing.TB, db *store.DB, cfg notify.Config) *notify.Hub {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(t.Output(), nil))
	}
	h, err := notify.New(t.Context(), db, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := h.Start(t.Context()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		if err := h.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return h
}

// subscribe subscribes userID to h for the rest of t.
func subscribe(t testing.TB, h *notify.Hub, userID string) *notify.Subscription {
	t.Helper()
	sub, err := h.Subscribe(t.Context(), userID)
	if err != nil {
		t.Fatalf("Subscribe(%s): %v", userID, err)
	}
	return sub
}

// publish publishes events on h or fails t.
func publish(t testing.TB, h *notify.Hub, events ...notify.Event) {
	t.Helper()
	if err := h.Publish(t.Context(), events...); err != nil {
		t.Fatalf("Publish: %v", err)
	}
}

// users returns n new user ids.
func users(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = uuid.NewString()
	}
	return ids
}

// nodeEvent is a node event for audience.
func nodeEvent(audience ...string) notify.Event {
	return notify.Event{Kind: notify.KindNode, ID: uuid.NewString(), ProjectID: uuid.NewString(), Audience: audience}
}

// delivered is e as a subscription delivers it: without its audience.
func delivered(e notify.Event) notify.Event {
	e.Audience = nil
	return e
}

// next returns the next event sub delivers, failing t if it ends or nothing
// comes.
func next(t testing.TB, sub *notify.Subscription) notify.Event {
	t.Helper()
	select {
	case d, ok := <-sub.Events():
		if !ok {
			t.Fatalf("subscription ended (%v), want an event", sub.Err())
		}
		return d.Event
	case <-time.After(waitTimeout):
		t.Fatalf("no event within %s", waitTimeout)
		return notify.Event{}
	}
}

// expect fails t unless the next events on sub are want, in order.
func expect(t testing.TB, sub *notify.Subscription, want ...notify.Event) {
	t.Helper()
	for i, w := range want {
		if got := next(t, sub); !reflect.DeepEqual(got, delivered(w)) {
			t.Fatalf("event %d = %+v, want %+v", i, got, delivered(w))
		}
	}
}

// fence publishes a fresh event to audience on h and checks that it is the
// next event on each of subs: whatever the test said must not arrive before
// it did not arrive. Delivery is ordered, so this proves absence without
// waiting for a time.
func fence(t testing.TB, h *notify.Hub, audience []string, subs ...*notify.Subscription) {
	t.Helper()
	f := notify.Event{Kind: notify.KindUser, ID: "fence-" + uuid.NewString(), Audience: audience}
	publish(t, h, f)
	for _, sub := range subs {
		expect(t, sub, f)
	}
}

// drain waits for sub to end and returns the events it still held.
func drain(t testing.TB, sub *notify.Subscription) []notify.Event {
	t.Helper()
	var got []notify.Event
	timeout := time.After(waitTimeout)
	for {
		select {
		case d, ok := <-sub.Events():
			if !ok {
				return got
			}
			got = append(got, d.Event)
		case <-timeout:
			t.Fatalf("subscription still open after %s", waitTimeout)
		}
	}
}
