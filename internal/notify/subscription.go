package notify

import (
	"fmt"
	"sync"
)

// Subscription is one subscriber's feed of events: those whose audience
// includes its user. Its methods are safe for concurrent use.
type Subscription struct {
	hub    *Hub
	userID string
	ch     chan Delivery

	mu    sync.Mutex
	ended bool
	err   error
	// stopWatch stops watching the context Subscribe was given.
	stopWatch func() bool
}

// Events returns the channel the events arrive on, as deliveries, in the
// order they were published (for events published by one goroutine, or in
// one transaction). It is closed when the subscription ends, after the
// events still buffered.
func (s *Subscription) Events() <-chan Delivery { return s.ch }

// Err says why the subscription ended: nil while it is open and after the
// subscriber ended it (Close, or the context given to Subscribe was done); an
// error wrapping ErrLagged when it missed events; ErrStopped when the hub
// stopped. Read it once Events is closed.
func (s *Subscription) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Close ends the subscription. Events still buffered can be read from
// Events before it reports closed. Closing twice is harmless.
func (s *Subscription) Close() {
	s.hub.remove(s)
	s.end(nil)
}

// end ends s with err unless it has ended already. The caller removes s from
// the hub.
func (s *Subscription) end(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.ended {
		s.endLocked(err)
	}
}

// endLocked ends s with err; s.mu is held.
func (s *Subscription) endLocked(err error) {
	s.ended = true
	s.err = err
	close(s.ch)
	if s.stopWatch != nil {
		s.stopWatch()
	}
}

// send offers d to s without waiting. It reports false when s's buffer was
// full: s has then ended with ErrLagged and the caller removes it from the
// hub. An ended s takes nothing and reports true.
func (s *Subscription) send(d Delivery) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return true
	}
	select {
	case s.ch <- d:
		return true
	default:
		s.endLocked(fmt.Errorf("%w: %d events waited unread", ErrLagged, cap(s.ch)))
		return false
	}
}
