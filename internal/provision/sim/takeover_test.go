package sim_test

import (
	"errors"
	"testing"

	"github.com/gpcore/gpcore/internal/catalog"
	"github.com/gpcore/gpcore/internal/fault"
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

// TestStateReportsTheAcceptedRequest: GetState reports the operation id of
// the last request the server accepted, not of one it refused; a sim that
// takes a server over knows none.
func TestStateReportsTheAcceptedRequest(t *testing.T) {
	t.Parallel()
	d := sim.New(sim.Config{})
	srv := available("s1")
	srv.OperationID = "rebuild-1"
	if err := d.Rebuild(t.Context(), srv, deployment); !errors.Is(err, fault.ErrFailedPrecondition) {
		t.Fatalf("a rebuild of an AVAILABLE server: %v, want a refusal", err)
	}
	if st := state(t, d, srv); st.OperationID != "" {
		t.Fatalf("after a refused request: operation %q", st.OperationID)
	}
	srv.OperationID = "deploy-2"
	must(t, d.Deploy(t.Context(), srv, deployment))
	if st := state(t, d, srv); st.Provision != catalog.StateActive || st.OperationID != "deploy-2" {
		t.Fatalf("after the deploy: %+v", st)
	}
	srv.OperationID = "rebuild-3"
	must(t, d.Rebuild(t.Context(), srv, deployment))
	if st := state(t, d, srv); st.Provision != catalog.StateActive || st.OperationID != "rebuild-3" {
		t.Fatalf("after the rebuild: %+v", st)
	}
	restarted := sim.New(sim.Config{})
	if st := state(t, restarted, provision.Server{ID: "s1", ProvisionState: catalog.StateActive, PowerState: catalog.PowerOn}); st.OperationID != "" {
		t.Fatalf("a sim that took the server over reports operation %q", st.OperationID)
	}
}
