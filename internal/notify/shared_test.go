package notify_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gpcore/gpcore/internal/notify"
)

// counter is a load that counts its calls and returns the id of the event
// it was asked for.
type counter struct{ calls atomic.Int64 }

func (c *counter) load(d notify.Delivery) func(context.Context) (string, error) {
	return func(context.Context) (string, error) {
		c.calls.Add(1)
		return "loaded " + d.ID, nil
	}
}

// nextDelivery is next for the delivery itself.
func nextDelivery(t *testing.T, sub *notify.Subscription) notify.Delivery {
	t.Helper()
	select {
	case d, ok := <-sub.Events():
		if !ok {
			t.Fatalf("subscription ended (%v), want an event", sub.Err())
		}
		return d
	case <-t.Context().Done():
		t.Fatal("test ended while waiting")
	}
	return notify.Delivery{}
}

// TestSharedLoadsOncePerEvent: every subscription that gets one event,
// however many users and subscriptions of one user there are, shares one
// load of each key; the next event loads again. The audience of 1,000 is
// split over several payloads on PostgreSQL, whose parts are still one
// delivery.
func TestSharedLoadsOncePerEvent(t *testing.T) {
	t.Parallel()
	h := newHub(t, openDB(t), notify.Config{})
	audience := users(1000)
	subs := make([]*notify.Subscription, 0, len(audience)+1)
	for _, u := range audience {
		subs = append(subs, subscribe(t, h, u))
	}
	subs = append(subs, subscribe(t, h, audience[0])) // a second stream of one user
	first, second := nodeEvent(audience...), nodeEvent(audience...)
	publish(t, h, first, second)

	for _, e := range []notify.Event{first, second} {
		var objects, viewers counter
		var wg sync.WaitGroup
		errs := make(chan error, len(subs))
		for _, sub := range subs {
			d := nextDelivery(t, sub)
			if d.ID != e.ID {
				t.Fatalf("got event %s, want %s", d.ID, e.ID)
			}
			wg.Go(func() {
				for _, c := range []*counter{&objects, &viewers} {
					key := "object"
					if c == &viewers {
						key = "viewers"
					}
					v, err := notify.Shared(t.Context(), d, key, c.load(d))
					if err != nil || v != "loaded "+e.ID {
						errs <- errors.Join(err, errors.New("got "+v))
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if n, m := objects.calls.Load(), viewers.calls.Load(); n != 1 || m != 1 {
			t.Fatalf("event %s: %d loads of the object and %d of the viewers for %d subscriptions, want 1 each", e.ID, n, m, len(subs))
		}
	}
}

// TestSharedOnTwoReplicas: each replica loads once for its own subscribers.
func TestSharedOnTwoReplicas(t *testing.T) {
	t.Parallel()
	r := newReplicas(t)
	audience := users(400)
	var subs []*notify.Subscription
	for _, u := range audience {
		subs = append(subs, subscribe(t, r.a, u), subscribe(t, r.b, u))
	}
	e := nodeEvent(audience...)
	publish(t, r.a, e)
	var c counter
	for _, sub := range subs {
		if _, err := notify.Shared(t.Context(), nextDelivery(t, sub), "object", c.load(notify.Delivery{Event: e})); err != nil {
			t.Fatal(err)
		}
	}
	if n := c.calls.Load(); n != 2 {
		t.Fatalf("%d loads on two replicas, want 2", n)
	}
}

// TestSharedWaiters: a reader that goes away while another loads gets its
// context's error; the load itself is not cut short by its own reader
// going away, and everyone else gets its value.
func TestSharedWaiters(t *testing.T) {
	t.Parallel()
	h := newHub(t, openDB(t), notify.Config{})
	alice := users(1)
	subA, subB, subC := subscribe(t, h, alice[0]), subscribe(t, h, alice[0]), subscribe(t, h, alice[0])
	publish(t, h, nodeEvent(alice...))
	dA, dB, dC := nextDelivery(t, subA), nextDelivery(t, subB), nextDelivery(t, subC)

	started, release := make(chan struct{}), make(chan struct{})
	var loadCtxErr error
	ctxA, cancelA := context.WithCancel(t.Context())
	gotA := make(chan error, 1)
	go func() {
		v, err := notify.Shared(ctxA, dA, "object", func(ctx context.Context) (string, error) {
			close(started)
			<-release
			loadCtxErr = ctx.Err()
			return "value", nil
		})
		if err == nil && v != "value" {
			err = errors.New("A got " + v)
		}
		gotA <- err
	}()
	<-started
	cancelA() // A's client goes away while A loads for everyone

	ctxB, cancelB := context.WithCancel(t.Context())
	cancelB()
	if _, err := notify.Shared(ctxB, dB, "object", func(context.Context) (string, error) {
		return "", errors.New("B loaded again")
	}); !errors.Is(err, context.Canceled) {
		t.Fatalf("a waiter whose context ended got %v, want context.Canceled", err)
	}

	close(release)
	if err := <-gotA; err != nil {
		t.Fatalf("the loading reader: %v", err)
	}
	if loadCtxErr != nil {
		t.Fatalf("the load saw its reader's cancellation: %v", loadCtxErr)
	}
	v, err := notify.Shared(t.Context(), dC, "object", func(context.Context) (string, error) {
		return "", errors.New("C loaded again")
	})
	if err != nil || v != "value" {
		t.Fatalf("a later reader got %q, %v; want the shared value", v, err)
	}
	if _, err := notify.Shared(t.Context(), dC, "object", func(context.Context) (int, error) { return 1, nil }); err == nil {
		t.Fatal("a key used with another type: no error")
	}
}

// TestSharedErrorsAndPanics: a failed load fails every reader of the event
// alike; a panicking one panics its own reader and fails the others rather
// than leaving them waiting.
func TestSharedErrorsAndPanics(t *testing.T) {
	t.Parallel()
	h := newHub(t, openDB(t), notify.Config{})
	alice := users(1)
	subA, subB := subscribe(t, h, alice[0]), subscribe(t, h, alice[0])
	publish(t, h, nodeEvent(alice...))
	dA, dB := nextDelivery(t, subA), nextDelivery(t, subB)

	errDB := errors.New("database gone")
	if _, err := notify.Shared(t.Context(), dA, "failing", func(context.Context) (string, error) { return "", errDB }); !errors.Is(err, errDB) {
		t.Fatalf("the loading reader got %v, want %v", err, errDB)
	}
	if _, err := notify.Shared(t.Context(), dB, "failing", func(context.Context) (string, error) { return "ok", nil }); !errors.Is(err, errDB) {
		t.Fatalf("the other reader got %v, want the shared %v", err, errDB)
	}

	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Fatalf("the loading reader recovered %v, want the load's panic", r)
			}
		}()
		_, _ = notify.Shared(t.Context(), dA, "panicking", func(context.Context) (string, error) { panic("boom") })
	}()
	if _, err := notify.Shared(t.Context(), dB, "panicking", func(context.Context) (string, error) { return "ok", nil }); err == nil {
		t.Fatal("the other reader of a load that panicked: no error")
	}
}

// TestSharedOutsideAHub: a Delivery not made by a hub shares nothing.
func TestSharedOutsideAHub(t *testing.T) {
	t.Parallel()
	var c counter
	d := notify.Delivery{Event: nodeEvent("alice")}
	for range 2 {
		if _, err := notify.Shared(t.Context(), d, "object", c.load(d)); err != nil {
			t.Fatal(err)
		}
	}
	if n := c.calls.Load(); n != 2 {
		t.Fatalf("%d loads, want 2", n)
	}
}
