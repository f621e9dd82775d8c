package notify

import (
	"context"
	"testing"

	"github.com/gpcore/gpcore/internal/store/storetest"
)

// open counts the subscriptions h holds.
func (h *Hub) open() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	n := 0
	for _, set := range h.subs {
		n += len(set)
	}
	return n
}

// TestEndedSubscriptionsAreForgotten checks that every way a subscription
// ends also removes it from the hub, so that a long-running hub does not
// grow.
func TestEndedSubscriptionsAreForgotten(t *testing.T) {
	t.Parallel()
	h, err := New(t.Context(), storetest.Open(t, storetest.NewConfig(t)), Config{Buffer: 1})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := h.Start(t.Context()); err != nil {
		t.Fatalf("Start: %v", err)
	}

	closed, _ := h.Subscribe(t.Context(), "alice")
	closed.Close()
	if n := h.open(); n != 0 {
		t.Fatalf("%d subscriptions after Close, want 0", n)
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancelled, _ := h.Subscribe(ctx, "alice")
	cancel()
	for range cancelled.Events() {
	}
	// Close, which the context watcher calls, forgets a subscription before
	// it closes its channel.
	if n := h.open(); n != 0 {
		t.Fatalf("%d subscriptions after the context was done, want 0", n)
	}

	lagging, _ := h.Subscribe(t.Context(), "alice")
	h.deliver(deliveries([]Event{{Kind: KindNode, ID: "1", Audience: []string{"alice"}}, {Kind: KindNode, ID: "2", Audience: []string{"alice"}}}))
	if n := h.open(); n != 0 || lagging.Err() == nil {
		t.Fatalf("%d subscriptions after one lagged (Err %v), want 0", n, lagging.Err())
	}

	_, _ = h.Subscribe(t.Context(), "alice")
	_, _ = h.Subscribe(t.Context(), "bob")
	if err := h.Stop(t.Context()); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if n := h.open(); n != 0 {
		t.Fatalf("%d subscriptions after Stop, want 0", n)
	}
}
