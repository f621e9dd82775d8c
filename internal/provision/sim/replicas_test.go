package sim_test

import (
	"slices"
	"testing"
	"time"

	"github.com/gpcore/gpcore/internal/catalog"
	"github.com/gpcore/gpcore/internal/provision"
	"github.com/gpcore/gpcore/internal/provision/sim"
)

// recorder plays the control plane of several replicas, each with its own
// sim: it records the request one sim accepted and the states the sims
// report, and asks with what it recorded, as the node worker does.
type recorder struct {
	t     *testing.T
	clock *fakeClock
	srv   provision.Server
}

// accepted records that a sim accepted request e now.
func (r *recorder) accepted(e provision.Event) {
	r.srv.Requested, r.srv.RequestedAt = e, r.clock.Now()
}

// look asks d where the server is, records the answer, and ends the
// recorded request once the server is settled.
func (r *recorder) look(d *sim.Driver) catalog.ProvisionState {
	r.t.Helper()
	st := state(r.t, d, r.srv)
	r.srv.ProvisionState, r.srv.PowerState = st.Provision, st.Power
	if provision.Settled(st.Provision) {
		r.srv.Requested, r.srv.RequestedAt = "", time.Time{}
	}
	return st.Provision
}

// TestReplicasAgree: two sims (two replicas) take turns at looking at one
// server, as the attempts of one job spread over replicas do. The sim that
// did not accept the request follows the recorded one, so the looks walk
// the operation forward, each state once, as with one sim; and a sim that
// last saw the server at the end of an earlier operation follows the next
// one another sim accepted instead of reporting the old end.
func TestReplicasAgree(t *testing.T) {
	t.Parallel()
	clock := newClock()
	a := sim.New(sim.Config{Clock: clock, Durations: sim.DefaultDurations()})
	b := sim.New(sim.Config{Clock: clock, Durations: sim.DefaultDurations()})
	r := &recorder{t: t, clock: clock, srv: provision.Server{ID: "s1", ProvisionState: catalog.StateDeploying, PowerState: catalog.PowerOff}}

	walk := func(what string, sims ...*sim.Driver) []catalog.ProvisionState {
		t.Helper()
		seen := []catalog.ProvisionState{r.srv.ProvisionState}
		for i := 0; !provision.Settled(seen[len(seen)-1]); i++ {
			if i > 600 {
				t.Fatalf("%s: not settled after ten minutes: %v", what, seen)
			}
			clock.Advance(500 * time.Millisecond)
			if now := r.look(sims[i%len(sims)]); now != seen[len(seen)-1] {
				seen = append(seen, now)
			}
		}
		return seen
	}

	// A accepts the install; the looks alternate between B and A.
	must(t, a.Deploy(t.Context(), r.srv, deployment))
	r.accepted(provision.Deploy)
	deploy := []catalog.ProvisionState{
		catalog.StateDeploying, catalog.StateDeployWait, catalog.StateDeploying,
		catalog.StateDeployDone, catalog.StateActive,
	}
	if got := walk("install", b, a); !slices.Equal(got, deploy) {
		t.Fatalf("install looked at by both replicas went through %v, want %v", got, deploy)
	}

	// B, which saw the install end, does not report that end for the
	// reinstall A accepts.
	r.srv.ProvisionState = catalog.StateRebuild // as the control plane records the reinstall
	must(t, a.Rebuild(t.Context(), r.srv, deployment))
	r.accepted(provision.Rebuild)
	rebuild := append([]catalog.ProvisionState{catalog.StateRebuild}, deploy...)
	if got := walk("reinstall", b, a); !slices.Equal(got, rebuild) {
		t.Fatalf("reinstall looked at by both replicas went through %v, want %v", got, rebuild)
	}

	// A sim that hears of the server for the first time in the middle of a
	// request B accepted plays it from when it was recorded: it reports
	// B's state at every moment.
	r.srv.ProvisionState = catalog.StateDeleting
	must(t, b.Destroy(t.Context(), r.srv))
	r.accepted(provision.Delete)
	clock.Advance(3500 * time.Millisecond)
	c := sim.New(sim.Config{Clock: clock, Durations: sim.DefaultDurations()})
	for i := 0; i < 60; i++ {
		if got, want := state(t, c, r.srv), state(t, b, r.srv); got != want {
			t.Fatalf("%v into the teardown: the new replica's sim reports %+v, the accepting one %+v", 3500*time.Millisecond+time.Duration(i)*500*time.Millisecond, got, want)
		}
		clock.Advance(500 * time.Millisecond)
	}
	if st := state(t, c, r.srv); st.Provision != catalog.StateAvailable {
		t.Fatalf("after the teardown: %s, want AVAILABLE", st.Provision)
	}
}

// TestOwnRequestKeepsItsFault: the sim that accepted a request keeps running
// it when the request's record comes back with the looks: a fault it was
// given still fires.
func TestOwnRequestKeepsItsFault(t *testing.T) {
	t.Parallel()
	clock := newClock()
	d := sim.New(sim.Config{Clock: clock, Durations: sim.DefaultDurations()})
	r := &recorder{t: t, clock: clock, srv: provision.Server{ID: "s1", ProvisionState: catalog.StateDeploying, PowerState: catalog.PowerOff}}
	must(t, d.Fail(r.srv.ID, catalog.StateDeployWait, "PXE boot timed out"))
	must(t, d.Deploy(t.Context(), r.srv, deployment))
	clock.Advance(time.Millisecond)
	r.accepted(provision.Deploy)
	for i := 0; i < 60 && !provision.Settled(r.look(d)); i++ {
		clock.Advance(time.Second)
	}
	if st := state(t, d, r.srv); st.Provision != catalog.StateDeployFail || st.LastError != "PXE boot timed out" {
		t.Fatalf("after the install: %+v, want DEPLOY_FAIL with the fault's error", st)
	}
}
