package notify_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/gpcore/gpcore/internal/notify"
)

// The tests in this file run on SQLite by default and on PostgreSQL (where
// every event goes through NOTIFY and the hub's listener) when
// GPCORE_TEST_POSTGRES_DSN is set: one suite, both databases.

func TestDeliversToTheAudienceOnly(t *testing.T) {
	t.Parallel()
	h := newHub(t, openDB(t), notify.Config{})
	u := users(3)
	alice, bob, carol := u[0], u[1], u[2]
	alice1, alice2 := subscribe(t, h, alice), subscribe(t, h, alice)
	bobSub, carolSub := subscribe(t, h, bob), subscribe(t, h, carol)

	toAliceAndBob := nodeEvent(alice, bob, alice) // a duplicate is delivered once
	toCarol := notify.Event{Kind: notify.KindProject, ID: "p", ProjectID: "p", Audience: []string{carol}}
	publish(t, h, toAliceAndBob, toCarol)

	expect(t, alice1, toAliceAndBob)
	expect(t, alice2, toAliceAndBob)
	expect(t, bobSub, toAliceAndBob)
	expect(t, carolSub, toCarol)
	// Nobody got anything else: no second copy, nothing for others.
	fence(t, h, u, alice1, alice2, bobSub, carolSub)
}

func TestKeepsOrder(t *testing.T) {
	t.Parallel()
	h := newHub(t, openDB(t), notify.Config{})
	alice := users(1)
	sub := subscribe(t, h, alice[0])

	var batch []notify.Event
	for range 50 {
		e := nodeEvent(alice...)
		publish(t, h, e)
		batch = append(batch, e)
	}
	for range 50 {
		batch = append(batch, nodeEvent(alice...))
	}
	publish(t, h, batch[50:]...)
	expect(t, sub, batch...)
}

func TestDeliversEventsOfLargeAudiences(t *testing.T) {
	t.Parallel()
	h := newHub(t, openDB(t), notify.Config{})
	// 1,000 members' ids are ~39 KB of JSON: several notifications on
	// PostgreSQL, and each member is in exactly one of them.
	members := users(1000)
	subs := make([]*notify.Subscription, len(members))
	for i, m := range members {
		subs[i] = subscribe(t, h, m)
	}
	e := nodeEvent(members...)
	other := notify.Event{Kind: notify.KindServerLog, ID: "log-1", ProjectID: e.ProjectID, Audience: members[:10]}
	publish(t, h, e, other)
	for i, sub := range subs {
		expect(t, sub, e)
		if i < 10 {
			expect(t, sub, other)
		}
	}
	fence(t, h, members, subs...)
}

func TestSlowSubscriberIsDropped(t *testing.T) {
	t.Parallel()
	const buffer = 4
	h := newHub(t, openDB(t), notify.Config{Buffer: buffer})
	u := users(2)
	slow := subscribe(t, h, u[0])
	fast := subscribe(t, h, u[0])
	other := subscribe(t, h, u[1])

	// slow never reads. Publishers must not wait for it, and fast and other
	// must get everything.
	var sent []notify.Event
	for range 3 * buffer {
		e := nodeEvent(u...)
		publish(t, h, e)
		expect(t, fast, e)
		expect(t, other, e)
		sent = append(sent, e)
	}

	// slow still hands out what its buffer held, then reports why it ended.
	var want []notify.Event
	for _, e := range sent[:buffer] {
		want = append(want, delivered(e))
	}
	if got := drain(t, slow); !reflect.DeepEqual(got, want) {
		t.Fatalf("slow subscriber read %+v, want the first %d events sent", got, buffer)
	}
	if err := slow.Err(); !errors.Is(err, notify.ErrLagged) {
		t.Fatalf("slow subscriber's Err = %v, want ErrLagged", err)
	}
	if fast.Err() != nil || other.Err() != nil {
		t.Fatalf("keeping-up subscribers ended: %v, %v", fast.Err(), other.Err())
	}
	// A new subscription of the same user starts afresh.
	again := subscribe(t, h, u[0])
	fence(t, h, u, again, fast, other)
}

func TestSubscriberEndsSubscription(t *testing.T) {
	t.Parallel()
	h := newHub(t, openDB(t), notify.Config{})
	alice := users(1)

	closed := subscribe(t, h, alice[0])
	ctx, cancel := context.WithCancel(t.Context())
	cancelled, err := h.Subscribe(ctx, alice[0])
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	kept := subscribe(t, h, alice[0])

	e := nodeEvent(alice...)
	publish(t, h, e)
	expect(t, kept, e)
	closed.Close()
	closed.Close() // harmless
	cancel()
	for name, sub := range map[string]*notify.Subscription{"closed": closed, "cancelled": cancelled} {
		// Both still hand out what they held, then end without an error.
		if got := drain(t, sub); len(got) != 1 || !reflect.DeepEqual(got[0], delivered(e)) {
			t.Errorf("%s subscription held %+v, want %+v", name, got, delivered(e))
		}
		if err := sub.Err(); err != nil {
			t.Errorf("%s subscription's Err = %v, want nil", name, err)
		}
	}
	// Publishing to the ended subscriptions' user goes on working.
	fence(t, h, alice, kept)

	if _, err := h.Subscribe(ctx, alice[0]); !errors.Is(err, context.Canceled) {
		t.Errorf("Subscribe with a done context: %v, want context.Canceled", err)
	}
	if _, err := h.Subscribe(t.Context(), ""); err == nil {
		t.Error("Subscribe accepted an empty user id")
	}
}

func TestPublishRefusesMalformedEvents(t *testing.T) {
	t.Parallel()
	h := newHub(t, openDB(t), notify.Config{})
	alice := users(1)
	sub := subscribe(t, h, alice[0])
	long := strings.Repeat("x", notify.MaxIDLength+1)
	for _, tc := range []struct {
		name string
		bad  notify.Event
	}{
		{"unknown kind", notify.Event{Kind: "bill", ID: "b", Audience: alice}},
		{"no kind", notify.Event{ID: "b", Audience: alice}},
		{"no id", notify.Event{Kind: notify.KindNode, Audience: alice}},
		{"long id", notify.Event{Kind: notify.KindNode, ID: long, Audience: alice}},
		{"long project id", notify.Event{Kind: notify.KindNode, ID: "n", ProjectID: long, Audience: alice}},
		{"empty user", notify.Event{Kind: notify.KindNode, ID: "n", Audience: []string{alice[0], ""}}},
		{"long user", notify.Event{Kind: notify.KindNode, ID: "n", Audience: []string{long}}},
	} {
		// A good event next to a bad one is not published either.
		if err := h.Publish(t.Context(), nodeEvent(alice...), tc.bad); err == nil {
			t.Errorf("%s: Publish accepted %+v", tc.name, tc.bad)
		}
	}
	// An event for nobody is fine, and reaches nobody.
	publish(t, h, notify.Event{Kind: notify.KindNode, ID: "n"})
	fence(t, h, alice, sub)
}

func TestPublishTx(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	h := newHub(t, db, notify.Config{})
	alice := users(1)
	sub := subscribe(t, h, alice[0])

	committed := nodeEvent(alice...)
	err := h.InTx(t.Context(), func(ctx context.Context, tx bun.Tx) error {
		if err := h.PublishTx(ctx, tx, committed); err != nil {
			return err
		}
		select {
		case e := <-sub.Events():
			t.Errorf("event %+v delivered before the commit", e)
		default:
		}
		return nil
	})
	if err != nil {
		t.Fatalf("InTx: %v", err)
	}
	expect(t, sub, committed)

	errRollback := errors.New("roll back")
	err = h.InTx(t.Context(), func(ctx context.Context, tx bun.Tx) error {
		if err := h.PublishTx(ctx, tx, nodeEvent(alice...)); err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("InTx = %v, want the rollback error", err)
	}

	err = h.InTx(t.Context(), func(ctx context.Context, tx bun.Tx) error {
		return h.PublishTx(ctx, tx, notify.Event{Kind: "bill", ID: "b", Audience: alice})
	})
	if err == nil {
		t.Error("PublishTx accepted a malformed event")
	}

	err = db.InTx(t.Context(), func(ctx context.Context, tx bun.Tx) error {
		return h.PublishTx(ctx, tx, nodeEvent(alice...))
	})
	if err == nil || !strings.Contains(err.Error(), "InTx") {
		t.Errorf("PublishTx in a transaction of store.DB.InTx = %v, want a refusal", err)
	}

	func() {
		defer func() {
			if recover() == nil {
				t.Error("InTx swallowed a panic")
			}
		}()
		_ = h.InTx(t.Context(), func(ctx context.Context, tx bun.Tx) error {
			if err := h.PublishTx(ctx, tx, nodeEvent(alice...)); err != nil {
				return err
			}
			panic("boom")
		})
	}()

	// Nothing of the rolled-back, refused or panicking transactions arrived.
	fence(t, h, alice, sub)
}

func TestLifecycle(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	h, err := notify.New(t.Context(), db, notify.Config{})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	alice := users(1)
	if _, err := h.Subscribe(t.Context(), alice[0]); err == nil {
		t.Fatal("Subscribe before Start succeeded")
	}
	if err := h.Start(t.Context()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if err := h.Start(t.Context()); err == nil {
		t.Error("second Start succeeded")
	}
	held := subscribe(t, h, alice[0])
	reader := subscribe(t, h, alice[0])
	sent := []notify.Event{nodeEvent(alice...), nodeEvent(alice...)}
	publish(t, h, sent...)
	// Once reader has both events, held has them too: one delivery reaches
	// every subscription.
	expect(t, reader, sent...)

	if err := h.Stop(t.Context()); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if got := drain(t, held); !reflect.DeepEqual(got, []notify.Event{delivered(sent[0]), delivered(sent[1])}) {
		t.Errorf("after Stop the subscription held %+v, want both events", got)
	}
	if err := held.Err(); !errors.Is(err, notify.ErrStopped) {
		t.Errorf("Err after Stop = %v, want ErrStopped", err)
	}
	if _, err := h.Subscribe(t.Context(), alice[0]); !errors.Is(err, notify.ErrStopped) {
		t.Errorf("Subscribe after Stop = %v, want ErrStopped", err)
	}
	if err := h.Publish(t.Context(), nodeEvent(alice...)); err != nil {
		t.Errorf("Publish after Stop: %v", err)
	}
	if err := h.Stop(t.Context()); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	if err := h.Start(t.Context()); err == nil {
		t.Error("Start after Stop succeeded")
	}
}

func TestNewRefusesNegativeBuffer(t *testing.T) {
	t.Parallel()
	if _, err := notify.New(t.Context(), openDB(t), notify.Config{Buffer: -1}); err == nil {
		t.Error("New accepted a negative buffer")
	}
}
