package sim_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gpcore/gpcore/internal/catalog"
	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/provision"
	"github.com/gpcore/gpcore/internal/provision/sim"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// available is a free server as the control plane records it.
func available(id string) provision.Server {
	return provision.Server{ID: id, ProvisionState: catalog.StateAvailable, PowerState: catalog.PowerOff}
}

var deployment = provision.Deployment{
	Image:        provision.Image{ID: "debian-13"},
	Hostname:     "web1.example.net",
	RootPassword: "secret",
}

func state(t *testing.T, d *sim.Driver, s provision.Server) provision.State {
	t.Helper()
	st, err := d.GetState(t.Context(), s)
	if err != nil {
		t.Fatalf("GetState(%s): %v", s.ID, err)
	}
	return st
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// timeline moves the clock a second at a time until the server is settled,
// and returns every state it was seen in, each once, starting with the
// current one. Consecutive states must be a legal walk.
func timeline(t *testing.T, d *sim.Driver, clock *fakeClock, s provision.Server) []catalog.ProvisionState {
	t.Helper()
	seen := []catalog.ProvisionState{state(t, d, s).Provision}
	for i := 0; !provision.Settled(seen[len(seen)-1]); i++ {
		if i > 600 {
			t.Fatalf("%s not settled after ten minutes: %v", s.ID, seen)
		}
		clock.Advance(time.Second)
		if now := state(t, d, s).Provision; now != seen[len(seen)-1] {
			if _, err := provision.Walk(seen[len(seen)-1], now); err != nil {
				t.Fatalf("%s went from %s to %s: %v", s.ID, seen[len(seen)-1], now, err)
			}
			seen = append(seen, now)
		}
	}
	return seen
}

func TestDeployWalksToActive(t *testing.T) {
	t.Parallel()
	clock := newClock()
	d := sim.New(sim.Config{Clock: clock, Durations: sim.DefaultDurations()})
	srv := available("s1")
	must(t, d.Deploy(t.Context(), srv, deployment))
	got := timeline(t, d, clock, srv)
	want := []catalog.ProvisionState{
		catalog.StateDeploying, catalog.StateDeployWait, catalog.StateDeploying,
		catalog.StateDeployDone, catalog.StateActive,
	}
	if !slices.Equal(got, want) {
		t.Fatalf("deploy went through %v, want %v", got, want)
	}
	if st := state(t, d, srv); st.Power != catalog.PowerOn || st.LastError != "" {
		t.Fatalf("after deploy: %+v, want power ON and no error", st)
	}
}

func TestZeroDurationsFinishAtOnce(t *testing.T) {
	t.Parallel()
	d := sim.New(sim.Config{})
	srv := available("s1")
	must(t, d.Deploy(t.Context(), srv, deployment))
	if st := state(t, d, srv); st.Provision != catalog.StateActive {
		t.Fatalf("state after deploy = %s, want ACTIVE at once", st.Provision)
	}
}

func TestDestroyCleansBackToAvailable(t *testing.T) {
	t.Parallel()
	clock := newClock()
	d := sim.New(sim.Config{Clock: clock, Durations: sim.DefaultDurations()})
	srv := provision.Server{ID: "s1", ProvisionState: catalog.StateActive, PowerState: catalog.PowerOn}
	must(t, d.Destroy(t.Context(), srv))
	got := timeline(t, d, clock, srv)
	want := []catalog.ProvisionState{
		catalog.StateDeleting, catalog.StateDeleted, catalog.StateCleaning,
		catalog.StateCleanWait, catalog.StateCleaning, catalog.StateAvailable,
	}
	if !slices.Equal(got, want) {
		t.Fatalf("destroy went through %v, want %v", got, want)
	}
	if st := state(t, d, srv); st.Power != catalog.PowerOff {
		t.Fatalf("power after cleaning = %s, want OFF", st.Power)
	}
}

func TestRescueAndUnrescue(t *testing.T) {
	t.Parallel()
	clock := newClock()
	d := sim.New(sim.Config{Clock: clock, Durations: sim.DefaultDurations()})
	srv := provision.Server{ID: "s1", ProvisionState: catalog.StateActive, PowerState: catalog.PowerOn}
	if err := d.Rescue(t.Context(), srv, ""); fault.KindOf(err) != fault.KindInvalidArgument {
		t.Fatalf("rescue without a password = %v, want invalid argument", err)
	}
	must(t, d.Rescue(t.Context(), srv, "rescue-pw"))
	if got, want := timeline(t, d, clock, srv), []catalog.ProvisionState{
		catalog.StateRescuing, catalog.StateRescueWait, catalog.StateRescuing, catalog.StateRescue,
	}; !slices.Equal(got, want) {
		t.Fatalf("rescue went through %v, want %v", got, want)
	}
	must(t, d.Unrescue(t.Context(), srv))
	if got, want := timeline(t, d, clock, srv), []catalog.ProvisionState{
		catalog.StateUnrescuing, catalog.StateActive,
	}; !slices.Equal(got, want) {
		t.Fatalf("unrescue went through %v, want %v", got, want)
	}
}

func TestRebuildRedeploys(t *testing.T) {
	t.Parallel()
	clock := newClock()
	d := sim.New(sim.Config{Clock: clock, Durations: sim.DefaultDurations()})
	srv := provision.Server{ID: "s1", ProvisionState: catalog.StateActive, PowerState: catalog.PowerOn}
	must(t, d.Rebuild(t.Context(), srv, deployment))
	if got, want := timeline(t, d, clock, srv), []catalog.ProvisionState{
		catalog.StateRebuild, catalog.StateDeploying, catalog.StateDeployWait, catalog.StateDeploying,
		catalog.StateDeployDone, catalog.StateActive,
	}; !slices.Equal(got, want) {
		t.Fatalf("rebuild went through %v, want %v", got, want)
	}
}

// TestFaults injects failures: each lands its operation in the failure
// state with the given last_error, on the faulty server only and once: the
// same operation asked again (where the failure state allows it) succeeds
// and clears last_error.
func TestFaults(t *testing.T) {
	t.Parallel()
	deploy := func(ctx context.Context, d *sim.Driver, s provision.Server) error {
		return d.Deploy(ctx, s, deployment)
	}
	destroy := func(ctx context.Context, d *sim.Driver, s provision.Server) error { return d.Destroy(ctx, s) }
	rescue := func(ctx context.Context, d *sim.Driver, s provision.Server) error { return d.Rescue(ctx, s, "pw") }
	unrescue := func(ctx context.Context, d *sim.Driver, s provision.Server) error { return d.Unrescue(ctx, s) }
	for _, tc := range []struct {
		name      string
		in        catalog.ProvisionState
		lastError string
		from      catalog.ProvisionState
		run       func(context.Context, *sim.Driver, provision.Server) error
		failed    catalog.ProvisionState
		ok        catalog.ProvisionState
		retrying  bool // the failure state allows the operation again
	}{
		{"deploy", catalog.StateDeployWait, "PXE boot timed out",
			catalog.StateAvailable, deploy, catalog.StateDeployFail, catalog.StateActive, true},
		{"deploy after the image is written", catalog.StateDeployDone, "no bootable disk",
			catalog.StateAvailable, deploy, catalog.StateDeployFail, catalog.StateActive, true},
		{"cleaning", catalog.StateCleanWait, "disk erase failed",
			catalog.StateActive, destroy, catalog.StateCleanFail, catalog.StateAvailable, false},
		{"tear-down", catalog.StateDeleting, "BMC refused power off",
			catalog.StateActive, destroy, catalog.StateError, catalog.StateAvailable, true},
		{"rescue", catalog.StateRescueWait, "rescue ramdisk did not call back",
			catalog.StateActive, rescue, catalog.StateRescueFail, catalog.StateRescue, true},
		{"unrescue", catalog.StateUnrescuing, "instance did not boot",
			catalog.StateRescue, unrescue, catalog.StateUnrescueFail, catalog.StateActive, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clock := newClock()
			d := sim.New(sim.Config{Clock: clock, Durations: sim.DefaultDurations()})
			srv := provision.Server{ID: "s1", ProvisionState: tc.from, PowerState: catalog.PowerOn}
			other := provision.Server{ID: "s2", ProvisionState: tc.from, PowerState: catalog.PowerOn}
			must(t, d.Fail(srv.ID, tc.in, tc.lastError))
			must(t, tc.run(t.Context(), d, srv))
			must(t, tc.run(t.Context(), d, other))
			seen := timeline(t, d, clock, srv)
			if got := seen[len(seen)-1]; got != tc.failed {
				t.Fatalf("ended in %s (via %v), want %s", got, seen, tc.failed)
			}
			if st := state(t, d, srv); st.LastError != tc.lastError {
				t.Fatalf("last_error = %q, want %q", st.LastError, tc.lastError)
			}
			seen = timeline(t, d, clock, other)
			if st := state(t, d, other); seen[len(seen)-1] != tc.ok || st.LastError != "" {
				t.Fatalf("the other server: %+v via %v, want %s with no error", st, seen, tc.ok)
			}

			err := tc.run(t.Context(), d, srv)
			if !tc.retrying {
				if !errors.Is(err, fault.ErrFailedPrecondition) {
					t.Fatalf("asking again in %s = %v, want a refusal", tc.failed, err)
				}
				return
			}
			must(t, err)
			seen = timeline(t, d, clock, srv)
			if st := state(t, d, srv); seen[len(seen)-1] != tc.ok || st.LastError != "" {
				t.Fatalf("asked again: %+v via %v, want %s with no error", st, seen, tc.ok)
			}
		})
	}
}

// TestFaultOnAServerTheDomainMovedFirst is the usual order in gpcore: the
// domain records DEPLOYING when it accepts the order, so the sim first
// hears of the server in DEPLOYING; a fault set before, or during the
// operation, still fires.
func TestFaultOnAServerTheDomainMovedFirst(t *testing.T) {
	t.Parallel()
	for _, lookFirst := range []bool{false, true} {
		clock := newClock()
		d := sim.New(sim.Config{Clock: clock, Durations: sim.DefaultDurations()})
		srv := provision.Server{ID: "s1", ProvisionState: catalog.StateDeploying, PowerState: catalog.PowerOff}
		if lookFirst {
			if st := state(t, d, srv); st.Provision != catalog.StateDeploying {
				t.Fatalf("unknown server recorded DEPLOYING reported as %s", st.Provision)
			}
		}
		must(t, d.Deploy(t.Context(), srv, deployment))
		must(t, d.Fail(srv.ID, catalog.StateDeployWait, "PXE boot timed out"))
		seen := timeline(t, d, clock, srv)
		want := []catalog.ProvisionState{catalog.StateDeploying, catalog.StateDeployWait, catalog.StateDeployFail}
		if !slices.Equal(seen, want) {
			t.Fatalf("looked first %v: went through %v, want %v", lookFirst, seen, want)
		}
	}
}

func TestFailRejectsImpossibleFaults(t *testing.T) {
	t.Parallel()
	d := sim.New(sim.Config{})
	for _, in := range []catalog.ProvisionState{
		catalog.StateActive,     // settled: no operation fails there
		catalog.StateDeleted,    // passed through, but cannot fail
		catalog.StateDeployFail, // a failure already
		"BOGUS",
	} {
		if err := d.Fail("s1", in, "x"); err == nil {
			t.Errorf("Fail in %s accepted", in)
		}
	}
}

// TestRequestsAreSafeToRepeat: asking for what is under way or done changes
// nothing; asking for what the state does not allow is refused.
func TestRequestsAreSafeToRepeat(t *testing.T) {
	t.Parallel()
	clock := newClock()
	d := sim.New(sim.Config{Clock: clock, Durations: sim.DefaultDurations()})
	srv := available("s1")
	must(t, d.Deploy(t.Context(), srv, deployment))
	clock.Advance(4 * time.Second) // into DEPLOY_WAIT
	if st := state(t, d, srv); st.Provision != catalog.StateDeployWait {
		t.Fatalf("state = %s, want DEPLOY_WAIT", st.Provision)
	}
	must(t, d.Deploy(t.Context(), srv, deployment)) // a job re-run asks again
	clock.Advance(9 * time.Second)                  // DEPLOY_WAIT lasts 10 s in all: not restarted
	if st := state(t, d, srv); st.Provision != catalog.StateDeploying {
		t.Fatalf("state = %s, want DEPLOYING again (the wait not restarted)", st.Provision)
	}
	for _, refused := range []func() error{
		func() error { return d.Rescue(t.Context(), srv, "pw") },
		func() error { return d.Destroy(t.Context(), srv) },
		func() error { return d.Rebuild(t.Context(), srv, deployment) },
		func() error { return d.SetPower(t.Context(), srv, catalog.PowerOff) },
	} {
		if err := refused(); !errors.Is(err, fault.ErrFailedPrecondition) || fault.KindOf(err) != fault.KindFailedPrecondition {
			t.Errorf("request while deploying = %v, want a failed precondition", err)
		}
	}
	timeline(t, d, clock, srv)
	must(t, d.Deploy(t.Context(), srv, deployment)) // done already
	must(t, d.Unrescue(t.Context(), srv))           // not rescued, and ACTIVE is where it ends
	if st := state(t, d, srv); st.Provision != catalog.StateActive {
		t.Fatalf("repeated requests moved the server to %s", st.Provision)
	}
	if err := d.Rescue(t.Context(), available("s2"), "pw"); !errors.Is(err, fault.ErrFailedPrecondition) {
		t.Fatalf("rescue of an AVAILABLE server = %v, want a refusal", err)
	}
	must(t, d.Destroy(t.Context(), available("s3"))) // clean already
}

// TestRestartStartsFromTheRecordedState: a new sim (a restarted control
// plane) knows no servers; it takes the recorded state, and a server
// recorded in the middle of an operation finishes it.
func TestRestartStartsFromTheRecordedState(t *testing.T) {
	t.Parallel()
	clock := newClock()
	d := sim.New(sim.Config{Clock: clock, Durations: sim.DefaultDurations()})
	active := provision.Server{ID: "s1", ProvisionState: catalog.StateActive, PowerState: catalog.PowerOff}
	if st := state(t, d, active); st.Provision != catalog.StateActive || st.Power != catalog.PowerOff || st.LastError != "" {
		t.Fatalf("unknown ACTIVE server reported as %+v", st)
	}
	for _, tc := range []struct {
		recorded catalog.ProvisionState
		want     []catalog.ProvisionState
		power    catalog.PowerState
	}{
		{catalog.StateDeployWait, []catalog.ProvisionState{catalog.StateDeployWait, catalog.StateDeploying, catalog.StateDeployDone, catalog.StateActive}, catalog.PowerOn},
		{catalog.StateRebuild, []catalog.ProvisionState{catalog.StateRebuild, catalog.StateDeploying, catalog.StateDeployWait, catalog.StateDeploying, catalog.StateDeployDone, catalog.StateActive}, catalog.PowerOn},
		{catalog.StateCleanWait, []catalog.ProvisionState{catalog.StateCleanWait, catalog.StateCleaning, catalog.StateAvailable}, catalog.PowerOff},
		{catalog.StateRescuing, []catalog.ProvisionState{catalog.StateRescuing, catalog.StateRescueWait, catalog.StateRescuing, catalog.StateRescue}, catalog.PowerOn},
		{catalog.StateInspectWait, []catalog.ProvisionState{catalog.StateInspectWait, catalog.StateManageable}, catalog.PowerOff},
	} {
		srv := provision.Server{ID: "mid-" + string(tc.recorded), ProvisionState: tc.recorded, PowerState: catalog.PowerOn}
		if got := timeline(t, d, clock, srv); !slices.Equal(got, tc.want) {
			t.Errorf("recorded %s: went through %v, want %v", tc.recorded, got, tc.want)
		}
		if st := state(t, d, srv); st.Power != tc.power {
			t.Errorf("recorded %s: power %s at the end, want %s", tc.recorded, st.Power, tc.power)
		}
	}
	// Once known, the sim's own state wins over what a caller passes.
	stale := active
	stale.ProvisionState = catalog.StateAvailable
	if st := state(t, d, stale); st.Provision != catalog.StateActive {
		t.Fatalf("known server reported as %s, want its own ACTIVE", st.Provision)
	}
	if _, err := d.GetState(t.Context(), provision.Server{ID: "nameless"}); err == nil {
		t.Fatal("GetState of an unknown server with no recorded state succeeded")
	}
}

func TestSetPower(t *testing.T) {
	t.Parallel()
	d := sim.New(sim.Config{})
	srv := provision.Server{ID: "s1", ProvisionState: catalog.StateActive, PowerState: catalog.PowerOn}
	for _, tc := range []struct{ target, want catalog.PowerState }{
		{catalog.PowerOff, catalog.PowerOff},
		{catalog.PowerOn, catalog.PowerOn},
		{catalog.PowerReset, catalog.PowerOn},
	} {
		must(t, d.SetPower(t.Context(), srv, tc.target))
		if st := state(t, d, srv); st.Power != tc.want {
			t.Errorf("after %s: power %s, want %s", tc.target, st.Power, tc.want)
		}
	}
	if err := d.SetPower(t.Context(), srv, "SIDEWAYS"); fault.KindOf(err) != fault.KindInvalidArgument {
		t.Errorf("SetPower(SIDEWAYS) = %v, want invalid argument", err)
	}

	d.FailPower(srv.ID, "BMC unreachable")
	err := d.SetPower(t.Context(), srv, catalog.PowerOff)
	if err == nil || fault.KindOf(err) != fault.KindInternal {
		t.Fatalf("SetPower with a power fault = %v, want a plain (retryable) error", err)
	}
	if st := state(t, d, srv); st.Power != catalog.PowerOn {
		t.Fatalf("a failed SetPower changed power to %s", st.Power)
	}
	must(t, d.SetPower(t.Context(), srv, catalog.PowerOff)) // the fault fired once
}

// TestConcurrentUse drives many servers from many goroutines (run with
// -race).
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	d := sim.New(sim.Config{})
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Go(func() {
			srv := available(fmt.Sprintf("s%d", i))
			srv.BMCAddress = "10.0.0.1"
			if err := d.Deploy(t.Context(), srv, deployment); err != nil {
				t.Error(err)
				return
			}
			if _, err := d.GetState(t.Context(), srv); err != nil {
				t.Error(err)
			}
			c := provision.ConsoleRequest{SessionID: srv.ID, Username: "u" + srv.ID, Password: "p" + srv.ID, ExpiresAt: time.Now().Add(time.Hour)}
			if _, err := d.OpenConsole(t.Context(), srv, c); err != nil {
				t.Error(err)
			}
			if err := d.ConsoleLogin(srv.ID, c.Username, c.Password); err != nil {
				t.Error(err)
			}
			if err := d.Destroy(t.Context(), srv); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for i := range 32 {
		if st := state(t, d, available(fmt.Sprintf("s%d", i))); st.Provision != catalog.StateAvailable {
			t.Errorf("s%d ended in %s", i, st.Provision)
		}
	}
}
