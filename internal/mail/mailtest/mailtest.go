// Package mailtest gives tests a mail.Sender that keeps what it is sent and
// lets them wait for a message, so a test can read the mail a server sent
// without polling.
package mailtest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/gpcore/gpcore/internal/mail"
)

// waitLimit bounds Wait, so that a mail that never comes fails the test with
// a message instead of hanging until the test binary's timeout.
const waitLimit = 30 * time.Second

// Mailbox is a mail.Sender that stores every message; safe for concurrent
// use. The zero value is not usable: call New.
type Mailbox struct {
	mu   sync.Mutex
	msgs []mail.Message
	// arrived is closed, and replaced, whenever a message arrives.
	arrived chan struct{}
}

// New returns an empty mailbox.
func New() *Mailbox { return &Mailbox{arrived: make(chan struct{})} }

// Send stores m and never fails.
func (b *Mailbox) Send(_ context.Context, m mail.Message) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.msgs = append(b.msgs, m)
	close(b.arrived)
	b.arrived = make(chan struct{})
	return nil
}

// To returns the messages sent to the address to so far, oldest first.
func (b *Mailbox) To(to string) []mail.Message {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []mail.Message
	for _, m := range b.msgs {
		if m.To == to {
			out = append(out, m)
		}
	}
	return out
}

// Wait waits until n messages have been sent to the address to and returns
// the n-th (counting from 1). It fails t if they do not arrive within 30
// seconds or before t's context ends.
func (b *Mailbox) Wait(t testing.TB, to string, n int) mail.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitLimit)
	defer cancel()
	for {
		b.mu.Lock()
		arrived := b.arrived
		b.mu.Unlock()
		if got := b.To(to); len(got) >= n {
			return got[n-1]
		}
		select {
		case <-arrived:
		case <-ctx.Done():
			t.Fatalf("mailtest: %d message(s) to %s arrived, waited for %d: %v", len(b.To(to)), to, n, ctx.Err())
			return mail.Message{}
		}
	}
}
