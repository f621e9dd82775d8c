package notify_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gpcore/gpcore/internal/notify"
)

// streamed runs notify.Stream in a goroutine and reports what it sends and
// how it ends.
type streamed struct {
	// sent gets "event <id>" and "heartbeat <unix seconds>".
	sent chan string
	// done gets Stream's result.
	done chan error
}

// runStream runs Stream on sub with the heartbeat ticks of beats; the send
// callbacks fail with failWith when it is not nil.
func runStream(ctx context.Context, sub *notify.Subscription, beats <-chan time.Time, failWith error) streamed {
	s := streamed{sent: make(chan string, 16), done: make(chan error, 1)}
	go func() {
		s.done <- notify.Stream(ctx, sub, beats,
			func(d notify.Delivery) error {
				s.sent <- "event " + d.ID
				return failWith
			},
			func(t time.Time) error {
				s.sent <- fmt.Sprint("heartbeat ", t.Unix())
				return failWith
			})
	}()
	return s
}

func (s streamed) expectSent(t *testing.T, want string) {
	t.Helper()
	select {
	case got := <-s.sent:
		if got != want {
			t.Fatalf("stream sent %q, want %q", got, want)
		}
	case <-time.After(waitTimeout):
		t.Fatalf("stream sent nothing within %s, want %q", waitTimeout, want)
	}
}

func (s streamed) expectEnd(t *testing.T, want error) {
	t.Helper()
	select {
	case err := <-s.done:
		if !errors.Is(err, want) || (want == nil && err != nil) {
			t.Fatalf("Stream returned %v, want %v", err, want)
		}
	case <-time.After(waitTimeout):
		t.Fatalf("Stream still running after %s", waitTimeout)
	}
}

func TestStream(t *testing.T) {
	t.Parallel()
	h := newHub(t, openDB(t), notify.Config{})
	alice := users(1)
	beats := make(chan time.Time)

	t.Run("events and heartbeats until the client goes away", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		sub := subscribe(t, h, alice[0])
		s := runStream(ctx, sub, beats, nil)
		e := nodeEvent(alice...)
		publish(t, h, e)
		s.expectSent(t, "event "+e.ID)
		beats <- time.Unix(100, 0)
		s.expectSent(t, "heartbeat 100")
		beats <- time.Unix(105, 0)
		s.expectSent(t, "heartbeat 105")
		cancel()
		s.expectEnd(t, nil)
	})

	t.Run("the subscriber closes", func(t *testing.T) {
		sub := subscribe(t, h, alice[0])
		s := runStream(t.Context(), sub, beats, nil)
		sub.Close()
		s.expectEnd(t, nil)
	})

	t.Run("a send fails", func(t *testing.T) {
		errGone := errors.New("client gone")
		sub := subscribe(t, h, alice[0])
		s := runStream(t.Context(), sub, beats, errGone)
		beats <- time.Unix(110, 0)
		s.expectSent(t, "heartbeat 110")
		s.expectEnd(t, errGone)
	})

	t.Run("the hub stops", func(t *testing.T) {
		stopping := newHub(t, openDB(t), notify.Config{})
		sub := subscribe(t, stopping, alice[0])
		s := runStream(t.Context(), sub, beats, nil)
		if err := stopping.Stop(t.Context()); err != nil {
			t.Fatalf("Stop: %v", err)
		}
		s.expectEnd(t, notify.ErrStopped)
	})
}
