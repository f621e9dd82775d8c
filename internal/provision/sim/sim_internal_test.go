package sim

import (
	"testing"

	"github.com/gpcore/gpcore/internal/provision"
)

// TestOperationsFollowTheTable checks the simulated operations against the
// transition table: each event leads to one state whatever the state it
// leaves, each run of steps is legal from there and ends where the table
// says the operation ends.
func TestOperationsFollowTheTable(t *testing.T) {
	t.Parallel()
	for _, op := range operations {
		start := op.start()
		for _, e := range provision.Edges() {
			if e.Event == op.event && e.To != start {
				t.Errorf("%s leads to %s from %s, and to %s elsewhere", op.event, e.To, e.From, start)
			}
		}
		path := op.path() // panics on an illegal step
		if end, want := path[len(path)-1], provision.Target(start); end != want {
			t.Errorf("%s ends in %s, want %s", op.event, end, want)
		}
		if !op.power.Valid() {
			t.Errorf("%s: power %q", op.event, op.power)
		}
	}
}
