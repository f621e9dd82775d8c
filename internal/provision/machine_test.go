package provision_test

import (
	"bytes"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/gpcore/gpcore/internal/catalog"
	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/provision"
)

// TestEveryEdgeIsLegal walks the table: every listed edge is a legal
// transition between two of the reference's states, and no (state, event)
// pair appears twice.
func TestEveryEdgeIsLegal(t *testing.T) {
	t.Parallel()
	type key struct {
		from  catalog.ProvisionState
		event provision.Event
	}
	seen := map[key]bool{}
	for _, e := range provision.Edges() {
		if !e.From.Valid() || !e.To.Valid() {
			t.Errorf("edge %v: not a provisioning state", e)
		}
		if seen[key{e.From, e.Event}] {
			t.Errorf("edge %v: a second edge for %s on %s", e, e.From, e.Event)
		}
		seen[key{e.From, e.Event}] = true
		to, err := provision.Transition(e.From, e.Event)
		if err != nil || to != e.To {
			t.Errorf("Transition(%s, %s) = %s, %v; want %s", e.From, e.Event, to, err, e.To)
		}
	}
}

// TestIllegalTransitionsAreRefused tries a selection of changes the machine
// must not make.
func TestIllegalTransitionsAreRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		from  catalog.ProvisionState
		event provision.Event
	}{
		{catalog.StateAvailable, provision.Rescue},      // nothing to rescue
		{catalog.StateAvailable, provision.Delete},      // no instance
		{catalog.StateAvailable, provision.Rebuild},     // nothing to rebuild
		{catalog.StateActive, provision.Deploy},         // reinstalling is rebuild
		{catalog.StateDeploying, provision.Rescue},      // busy
		{catalog.StateDeploying, provision.Delete},      // Ironic: only once it waits
		{catalog.StateCleaning, provision.Deploy},       // not available yet
		{catalog.StateCleanFail, provision.Deploy},      // needs an operator
		{catalog.StateCleanFail, provision.Provide},     // manage first
		{catalog.StateRescue, provision.Rebuild},        // unrescue first
		{catalog.StateRescue, provision.Activate},       // progress of another op
		{catalog.StateActive, provision.Unrescue},       // not rescued
		{catalog.StateActive, provision.DeployDone},     // no deploy under way
		{catalog.StateDeployFail, provision.Rescue},     // nothing booted
		{catalog.StateDeleted, provision.Deploy},        // still to be cleaned
		{catalog.StateEnroll, provision.Deploy},         // not verified
		{catalog.StateManageable, provision.Deploy},     // provide first
		{catalog.StateUnrescuing, provision.Unrescue},   // busy
		{catalog.StateRebuild, provision.Rebuild},       // busy
		{catalog.StateActive, provision.Event("bogus")}, // no such event
		{catalog.ProvisionState("BOGUS"), provision.Deploy},
	} {
		to, err := provision.Transition(tc.from, tc.event)
		if err == nil {
			t.Errorf("Transition(%s, %s) = %s, want a refusal", tc.from, tc.event, to)
			continue
		}
		if !errors.Is(err, fault.ErrFailedPrecondition) {
			t.Errorf("Transition(%s, %s) error %v is not a failed precondition", tc.from, tc.event, err)
		}
		if !strings.Contains(err.Error(), string(tc.from)) {
			t.Errorf("Transition(%s, %s) error %q does not name the state", tc.from, tc.event, err)
		}
	}
}

// reachable returns the states reachable from start along the table.
func reachable(start catalog.ProvisionState) map[catalog.ProvisionState]bool {
	seen := map[catalog.ProvisionState]bool{start: true}
	for queue := []catalog.ProvisionState{start}; len(queue) > 0; queue = queue[1:] {
		for _, e := range provision.Edges() {
			if e.From == queue[0] && !seen[e.To] {
				seen[e.To] = true
				queue = append(queue, e.To)
			}
		}
	}
	return seen
}

// TestEveryStateIsReachable: from AVAILABLE a server can get into every
// state but the two of enrolment, which come before it (as in Ironic, no
// edge leads back to ENROLL but a failed verification); from ENROLL, where
// an imported server starts, into every state.
func TestEveryStateIsReachable(t *testing.T) {
	t.Parallel()
	fromAvailable := reachable(catalog.StateAvailable)
	fromEnroll := reachable(catalog.StateEnroll)
	for _, s := range catalog.ProvisionStates() {
		if !fromEnroll[s] {
			t.Errorf("%s is not reachable from ENROLL", s)
		}
		beforeAvailable := s == catalog.StateEnroll || s == catalog.StateVerifying
		if fromAvailable[s] == beforeAvailable {
			t.Errorf("%s reachable from AVAILABLE: %v, want %v", s, fromAvailable[s], !beforeAvailable)
		}
	}
}

// TestHoldsInstance: a server holds an instance exactly in the states
// ACTIVE leads to without a deletion, and a deployment puts it in one at
// once.
func TestHoldsInstance(t *testing.T) {
	t.Parallel()
	want := map[catalog.ProvisionState]bool{catalog.StateActive: true}
	for queue := []catalog.ProvisionState{catalog.StateActive}; len(queue) > 0; queue = queue[1:] {
		for _, e := range provision.Edges() {
			if e.From == queue[0] && e.Event != provision.Delete && !want[e.To] {
				want[e.To] = true
				queue = append(queue, e.To)
			}
		}
	}
	for _, s := range catalog.ProvisionStates() {
		if got := provision.HoldsInstance(s); got != want[s] {
			t.Errorf("HoldsInstance(%s) = %v, want %v", s, got, want[s])
		}
	}
	if to, err := provision.Transition(catalog.StateAvailable, provision.Deploy); err != nil || !provision.HoldsInstance(to) {
		t.Errorf("a deployment starts in %s (%v), which holds no instance", to, err)
	}
}

func TestSettledAndTarget(t *testing.T) {
	t.Parallel()
	settled := []catalog.ProvisionState{
		catalog.StateEnroll, catalog.StateManageable, catalog.StateAvailable, catalog.StateActive,
		catalog.StateError, catalog.StateRescue, catalog.StateDeployFail, catalog.StateCleanFail,
		catalog.StateInspectFail, catalog.StateAdoptFail, catalog.StateRescueFail, catalog.StateUnrescueFail,
	}
	targets := map[catalog.ProvisionState]catalog.ProvisionState{
		catalog.StateVerifying:   catalog.StateManageable,
		catalog.StateInspecting:  catalog.StateManageable,
		catalog.StateInspectWait: catalog.StateManageable,
		catalog.StateAdopting:    catalog.StateActive,
		catalog.StateDeploying:   catalog.StateActive,
		catalog.StateDeployWait:  catalog.StateActive,
		catalog.StateDeployDone:  catalog.StateActive,
		catalog.StateRebuild:     catalog.StateActive,
		catalog.StateDeleting:    catalog.StateAvailable,
		catalog.StateDeleted:     catalog.StateAvailable,
		catalog.StateCleaning:    catalog.StateAvailable,
		catalog.StateCleanWait:   catalog.StateAvailable,
		catalog.StateRescuing:    catalog.StateRescue,
		catalog.StateRescueWait:  catalog.StateRescue,
		catalog.StateUnrescuing:  catalog.StateActive,
	}
	for _, s := range catalog.ProvisionStates() {
		want := slices.Contains(settled, s)
		if got := provision.Settled(s); got != want {
			t.Errorf("Settled(%s) = %v, want %v", s, got, want)
		}
		wantTarget := s
		if !want {
			wantTarget = targets[s]
		}
		if got := provision.Target(s); got != wantTarget {
			t.Errorf("Target(%s) = %s, want %s", s, got, wantTarget)
		}
	}
}

// TestFailure: every state an operation passes through fails into a
// settled state, the one the table's fail event gives (or, for DELETED, the
// one its cleaning would fail in); a settled state is its own.
func TestFailure(t *testing.T) {
	t.Parallel()
	want := map[catalog.ProvisionState]catalog.ProvisionState{
		catalog.StateVerifying:   catalog.StateEnroll,
		catalog.StateInspecting:  catalog.StateInspectFail,
		catalog.StateInspectWait: catalog.StateInspectFail,
		catalog.StateAdopting:    catalog.StateAdoptFail,
		catalog.StateDeploying:   catalog.StateDeployFail,
		catalog.StateDeployWait:  catalog.StateDeployFail,
		catalog.StateDeployDone:  catalog.StateDeployFail,
		catalog.StateRebuild:     catalog.StateDeployFail,
		catalog.StateDeleting:    catalog.StateError,
		catalog.StateDeleted:     catalog.StateCleanFail,
		catalog.StateCleaning:    catalog.StateCleanFail,
		catalog.StateCleanWait:   catalog.StateCleanFail,
		catalog.StateRescuing:    catalog.StateRescueFail,
		catalog.StateRescueWait:  catalog.StateRescueFail,
		catalog.StateUnrescuing:  catalog.StateUnrescueFail,
	}
	for _, s := range catalog.ProvisionStates() {
		got := provision.Failure(s)
		if provision.Settled(s) {
			if got != s {
				t.Errorf("Failure(%s) = %s, want the settled state itself", s, got)
			}
			continue
		}
		if got != want[s] || !provision.Settled(got) {
			t.Errorf("Failure(%s) = %s, want %s (settled)", s, got, want[s])
		}
		// The hardware can get there on its own: the failure is a walk.
		if _, err := provision.Walk(s, got); err != nil {
			t.Errorf("Failure(%s) = %s, which no walk reaches: %v", s, got, err)
		}
	}
}

func TestWalk(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		from, to catalog.ProvisionState
		want     []provision.Event
	}{
		{catalog.StateActive, catalog.StateActive, nil},
		{catalog.StateDeploying, catalog.StateDeployWait, []provision.Event{provision.DeployWait}},
		{catalog.StateDeployWait, catalog.StateActive, []provision.Event{provision.DeployResume, provision.DeployDone, provision.Activate}},
		{catalog.StateDeployWait, catalog.StateDeployFail, []provision.Event{provision.Fail}},
		{catalog.StateRebuild, catalog.StateDeployWait, []provision.Event{provision.Redeploy, provision.DeployWait}},
		{catalog.StateDeleting, catalog.StateAvailable, []provision.Event{provision.DeleteDone, provision.Clean, provision.CleanDone}},
		{catalog.StateDeleting, catalog.StateCleanFail, []provision.Event{provision.DeleteDone, provision.Clean, provision.Fail}},
		{catalog.StateRescueWait, catalog.StateRescue, []provision.Event{provision.RescueResume, provision.RescueDone}},
	} {
		got, err := provision.Walk(tc.from, tc.to)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("Walk(%s, %s) = %v, %v; want %v", tc.from, tc.to, got, err, tc.want)
		}
		// Applying the steps gets there.
		s := tc.from
		for _, e := range got {
			next, err := provision.Transition(s, e)
			if err != nil {
				t.Fatalf("Walk(%s, %s) step %s: %v", tc.from, tc.to, e, err)
			}
			s = next
		}
		if s != tc.to {
			t.Errorf("Walk(%s, %s) ends in %s", tc.from, tc.to, s)
		}
	}
	// The hardware does not move on its own out of a settled state, nor
	// along a requested event.
	for _, tc := range [][2]catalog.ProvisionState{
		{catalog.StateActive, catalog.StateDeploying},
		{catalog.StateAvailable, catalog.StateActive},
		{catalog.StateDeployFail, catalog.StateActive},
		{catalog.StateCleaning, catalog.StateActive},
	} {
		if got, err := provision.Walk(tc[0], tc[1]); !errors.Is(err, fault.ErrFailedPrecondition) {
			t.Errorf("Walk(%s, %s) = %v, %v; want a refusal", tc[0], tc[1], got, err)
		}
	}
}

// TestDiagramIsCurrent fails when docs/states.md no longer matches the
// table: run `go generate ./internal/provision`.
func TestDiagramIsCurrent(t *testing.T) {
	t.Parallel()
	got, err := os.ReadFile("../../docs/states.md")
	if err != nil {
		t.Fatalf("%v (run go generate ./internal/provision)", err)
	}
	if want := provision.Diagram(); !bytes.Equal(got, want) {
		t.Fatal("docs/states.md is stale: run go generate ./internal/provision and commit the result")
	}
	for _, e := range provision.Edges() {
		if !bytes.Contains(got, []byte(string(e.From)+" --> "+string(e.To)+": ")) {
			t.Errorf("the diagram lacks the edge %v", e)
		}
	}
}
