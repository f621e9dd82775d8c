package sim_test

import (
	"testing"

	"github.com/gpcore/gpcore/internal/catalog"
	"github.com/gpcore/gpcore/internal/provision"
	"github.com/gpcore/gpcore/internal/provision/sim"
)

// TestTakeOverThenFirstRequestWithZeroDurations: with zero durations the
// sim plays an operation it takes over to its end at once, failure
// included; the request that follows is the one that started it, so it
// does not start the operation over and hide the failure.
func TestTakeOverThenFirstRequestWithZeroDurations(t *testing.T) {
	t.Parallel()
	d := sim.New(sim.Config{})
	srv := provision.Server{ID: "s1", ProvisionState: catalog.StateDeploying, PowerState: catalog.PowerOff}
	must(t, d.Fail(srv.ID, catalog.StateDeployWait, "PXE boot timed out"))
	must(t, d.Deploy(t.Context(), srv, deployment))
	if st := state(t, d, srv); st.Provision != catalog.StateDeployFail || st.LastError != "PXE boot timed out" {
		t.Fatalf("after the first Deploy: %+v, want DEPLOY_FAIL with the fault's error", st)
	}
}

// TestRequestAfterTheTakenOverOperationEnded: once the caller has seen the
// operation the sim took over end, the same request again is a new one
// (a second rescue boots the rescue system again).
func TestRequestAfterTheTakenOverOperationEnded(t *testing.T) {
	t.Parallel()
	clock := newClock()
	d := sim.New(sim.Config{Clock: clock, Durations: sim.DefaultDurations()})
	srv := provision.Server{ID: "s1", ProvisionState: catalog.StateRescuing, PowerState: catalog.PowerOn}
	if seen := timeline(t, d, clock, srv); seen[len(seen)-1] != catalog.StateRescue {
		t.Fatalf("taken over in RESCUING, went through %v, want RESCUE at the end", seen)
	}
	must(t, d.Rescue(t.Context(), srv, "another password"))
	if st := state(t, d, srv); st.Provision != catalog.StateRescuing {
		t.Fatalf("rescue asked for again: %s, want RESCUING (started over)", st.Provision)
	}
}
