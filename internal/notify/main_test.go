package notify_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if any goroutine outlives the tests: a hub's
// listener, a subscription's context watcher or a benchmark's readers.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
