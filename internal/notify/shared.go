package notify

import (
	"context"
	"fmt"
	"sync"
)

// Delivery is an event as a subscription hands it out (its Audience empty:
// it is addressed to the subscriber). Every subscription of a hub that gets
// one published event gets the same delivery, so that their readers can
// share the work the event causes: see Shared.
type Delivery struct {
	Event
	// loads is shared by every copy of the delivery; nil for a Delivery
	// made outside a hub.
	loads *loads
}

// newDelivery returns a delivery of e with loads of its own.
func newDelivery(e Event) Delivery {
	return Delivery{Event: e, loads: &loads{byKey: map[string]*load{}}}
}

// loads holds the shared loads of one delivery, by key.
type loads struct {
	mu    sync.Mutex
	byKey map[string]*load
}

// load is one shared load: done is closed once value and err are set.
type load struct {
	done  chan struct{}
	value any
	err   error
}

// Shared returns what fn returns for d and key, calling fn once for all the
// readers that get d's event from this hub: the first reader to ask calls
// it, the others wait for it and get the same value (and error). The value
// is shared, so readers must not change it. key tells apart the different
// loads one event needs; a key must always be used with the same T.
//
// This is how a stream handler loads the object an event names once per
// replica and event, however many subscribers it has, rather than once per
// subscriber. The load happens when the first reader comes to the event,
// after the change was committed, so it shows the change the event
// announces (or a later state). A later change is a later event with loads
// of its own: a reader never gets an older load for it, and since each
// reader takes its events in order, what it gets of one object never goes
// back in time.
//
// fn runs with ctx's values but not its cancellation, so that a reader that
// goes away in the middle does not fail the readers waiting for it; a reader
// whose ctx is done while it waits gets ctx's error. A Delivery that did not
// come from a hub shares nothing: fn is called every time.
func Shared[T any](ctx context.Context, d Delivery, key string, fn func(context.Context) (T, error)) (T, error) {
	var zero T
	if d.loads == nil {
		return fn(ctx)
	}
	d.loads.mu.Lock()
	l, ok := d.loads.byKey[key]
	if !ok {
		l = &load{done: make(chan struct{})}
		d.loads.byKey[key] = l
	}
	d.loads.mu.Unlock()
	if !ok {
		l.run(context.WithoutCancel(ctx), func(ctx context.Context) (any, error) { return fn(ctx) })
	}
	select {
	case <-l.done:
	default:
		select {
		case <-l.done:
		case <-ctx.Done():
			return zero, ctx.Err()
		}
	}
	if l.err != nil {
		return zero, l.err
	}
	v, ok := l.value.(T)
	if !ok {
		return zero, fmt.Errorf("notify: shared load %q holds a %T, not a %T", key, l.value, zero)
	}
	return v, nil
}

// run calls fn and publishes its result. A panic in fn fails the waiting
// readers with an error before it goes on up, so that none waits forever.
func (l *load) run(ctx context.Context, fn func(context.Context) (any, error)) {
	finished := false
	defer func() {
		if !finished {
			r := recover()
			l.err = fmt.Errorf("notify: shared load panicked: %v", r)
			close(l.done)
			panic(r)
		}
	}()
	l.value, l.err = fn(ctx)
	finished = true
	close(l.done)
}
