// Package sim is the simulated datacenter's hardware: a provision.Driver
// that walks servers through Ironic's states on a clock, with configurable
// timing (how long each state lasts) and injectable faults ([Driver.Fail],
// [Driver.FailPower]). It is the embedded default, and the driver of tests
// (zero durations: an operation is over at the first GetState). Nothing
// runs in the background: a server's state is worked out from the clock
// whenever it is asked for.
//
// The sim keeps its servers in memory only. It stays consistent with the
// control plane across restarts because the database is the source of
// truth: the first time the sim hears of a server (after a restart, every
// server is new to it) it takes the state the caller recorded
// (provision.Server's ProvisionState and PowerState) as the hardware's. A
// server recorded in the middle of an operation carries on with it from
// there, as real hardware would have while the control plane was down, so a
// job resuming after a crash sees it finish whether or not it asks again.
// This also covers the usual order of things, where the domain records
// DEPLOYING (or DELETING, RESCUING, ...) when it accepts a request, before
// the job asks the sim. The OperationID of each server's last accepted
// request (provision.State.OperationID) is kept in memory too: a sim that
// has just taken a server over reports none, and the first request then
// carries on with the operation under way, as above.
//
// Several replicas of the control plane each have a sim of their own, and
// the attempts of one job may run on any of them. They agree through what
// the control plane records of the request under way (provision.Server's
// Requested and RequestedAt): a sim that did not accept that request itself
// plays it from the moment it was recorded, so that every replica's sim
// reports the same state at the same time, as hardware they all shared
// would. That takes the same durations on every replica, and a Clock that
// tells the time the control plane records (both are the system clock in
// gpcore serve).
//
// # Remote consoles
//
// Each server has a simulated BMC. [Driver.OpenConsole] opens a console
// session on it that takes the request's user name and password until the
// request's expiry, by the sim's clock; [Driver.ConsoleLogin] is a VNC
// client logging in, accepted only with the credentials of a session still
// open. There is no screen behind it: the sim checks credentials, it serves
// no VNC. Destroy closes a server's sessions, and sessions live in memory
// only, so a restart closes them all.
package sim

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/gpcore/gpcore/internal/catalog"
	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/provision"
)

// Clock tells the time. Tests pass a fake they move by hand; a
// clockwork.Clock fits.
type Clock interface {
	Now() time.Time
}

// Config configures a Driver.
type Config struct {
	// Clock defaults to the system clock.
	Clock Clock
	// Durations is how long the hardware stays in each state an operation
	// passes through (DEPLOYING, DEPLOY_WAIT, ...); a missing state takes no
	// time. Nil means no time at all. DefaultDurations is the embedded
	// default's.
	Durations map[catalog.ProvisionState]time.Duration
}

// DefaultDurations returns the timing of the embedded default: about twenty
// seconds to deploy, fifteen to clean, ten to rescue, so that a user
// watching `gpcore node create --wait` sees every state go by.
func DefaultDurations() map[catalog.ProvisionState]time.Duration {
	return map[catalog.ProvisionState]time.Duration{
		catalog.StateDeploying:   3 * time.Second,
		catalog.StateDeployWait:  10 * time.Second,
		catalog.StateDeployDone:  5 * time.Second,
		catalog.StateRebuild:     2 * time.Second,
		catalog.StateDeleting:    2 * time.Second,
		catalog.StateDeleted:     1 * time.Second,
		catalog.StateCleaning:    3 * time.Second,
		catalog.StateCleanWait:   8 * time.Second,
		catalog.StateRescuing:    2 * time.Second,
		catalog.StateRescueWait:  5 * time.Second,
		catalog.StateUnrescuing:  5 * time.Second,
		catalog.StateVerifying:   2 * time.Second,
		catalog.StateInspecting:  3 * time.Second,
		catalog.StateInspectWait: 5 * time.Second,
		catalog.StateAdopting:    3 * time.Second,
	}
}

// operation is how the simulated hardware carries out one kind of request.
type operation struct {
	// event is the requested event that starts it.
	event provision.Event
	// steps are the progress events of a successful run, from the state
	// event leads to.
	steps []provision.Event
	// power is the power state once the operation has succeeded.
	power catalog.PowerState
}

// The operations, in the order in which lookup matches a recorded state to
// the operation it is part of.
var (
	deployOp = &operation{
		event: provision.Deploy,
		steps: []provision.Event{provision.DeployWait, provision.DeployResume, provision.DeployDone, provision.Activate},
		power: catalog.PowerOn,
	}
	rebuildOp = &operation{
		event: provision.Rebuild,
		steps: []provision.Event{provision.Redeploy, provision.DeployWait, provision.DeployResume, provision.DeployDone, provision.Activate},
		power: catalog.PowerOn,
	}
	destroyOp = &operation{
		event: provision.Delete,
		steps: []provision.Event{provision.DeleteDone, provision.Clean, provision.CleanWait, provision.CleanResume, provision.CleanDone},
		power: catalog.PowerOff,
	}
	rescueOp = &operation{
		event: provision.Rescue,
		steps: []provision.Event{provision.RescueWait, provision.RescueResume, provision.RescueDone},
		power: catalog.PowerOn,
	}
	unrescueOp = &operation{
		event: provision.Unrescue,
		steps: []provision.Event{provision.UnrescueDone},
		power: catalog.PowerOn,
	}
	operations = []*operation{deployOp, rebuildOp, destroyOp, rescueOp, unrescueOp}
)

// start is the state op's event leads to; it is the same from every state
// that allows the event (a test checks).
func (op *operation) start() catalog.ProvisionState {
	for _, e := range provision.Edges() {
		if e.Event == op.event {
			return e.To
		}
	}
	panic(fmt.Sprintf("sim: no edge for %s", op.event))
}

// path returns the states op passes through, from start to where it ends.
func (op *operation) path() []catalog.ProvisionState {
	s := op.start()
	states := []catalog.ProvisionState{s}
	for _, e := range op.steps {
		next, err := provision.Transition(s, e)
		if err != nil {
			panic(fmt.Sprintf("sim: operation %s: %v", op.event, err))
		}
		s = next
		states = append(states, s)
	}
	return states
}

// under reports whether s is a state op passes through before it ends.
func (op *operation) under(s catalog.ProvisionState) bool {
	path := op.path()
	return slices.Contains(path[:len(path)-1], s)
}

// Driver is the simulated hardware. It is safe for concurrent use.
type Driver struct {
	clock     Clock
	durations map[catalog.ProvisionState]time.Duration

	mu      sync.Mutex
	servers map[string]*server
	// faults holds the last_error of each pending fault, by server and the
	// state the operation fails in; powerFaults, by server.
	faults      map[faultKey]string
	powerFaults map[string]string
	// consoles holds the open console sessions of each server's BMC, by
	// server id and then session id.
	consoles map[string]map[string]*consoleSession
}

var _ provision.Driver = (*Driver)(nil)

type faultKey struct {
	serverID string
	in       catalog.ProvisionState
}

// server is one simulated machine.
type server struct {
	id string
	// op is the operation last asked for; nil if none was since the sim took
	// the server over from a recorded state.
	op *operation
	// takenOverIn is the state the sim took the server over in, when an
	// operation was under way then, until the server is next asked for
	// something or reported settled: the first request for that operation
	// is the one that put the server in that state (made before the sim
	// heard of it), not a new one.
	takenOverIn catalog.ProvisionState
	state       catalog.ProvisionState
	power       catalog.PowerState
	lastError   string
	// since is when the server entered state.
	since time.Time
	// plan is what the hardware does next: one event each time the current
	// state's duration is up.
	plan []provision.Event
	// donePower is the power state once the plan has run without failing.
	donePower catalog.PowerState
	// requested is set when this sim accepted the request that started op;
	// closed once a caller saw op end.
	requested, closed bool
	// anchor is the recorded time of the request op follows (see follow);
	// zero until a caller passes it.
	anchor time.Time
	// operationID is the provision.Server.OperationID of the last request
	// the server accepted.
	operationID string
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// New returns a simulated datacenter with no servers known yet.
func New(cfg Config) *Driver {
	clock := cfg.Clock
	if clock == nil {
		clock = systemClock{}
	}
	durations := map[catalog.ProvisionState]time.Duration{}
	for s, d := range cfg.Durations {
		durations[s] = d
	}
	return &Driver{
		clock:       clock,
		durations:   durations,
		servers:     map[string]*server{},
		faults:      map[faultKey]string{},
		powerFaults: map[string]string{},
		consoles:    map[string]map[string]*consoleSession{},
	}
}

// Fail makes the operation server serverID is in, or the next one to pass
// through state in, fail there: when its time in in is up, the server goes
// to the failure state the table gives for in (DEPLOY_FAIL for DEPLOY_WAIT,
// CLEAN_FAIL for CLEAN_WAIT, ERROR for DELETING, ...) with last_error
// lastError. The fault fires once; a second Fail for the same server and
// state replaces it. "Fail the next deploy of s1" is
// Fail("s1", catalog.StateDeployWait, "PXE boot timed out"); "fail
// cleaning" is Fail("s1", catalog.StateCleanWait, "disk erase failed").
func (d *Driver) Fail(serverID string, in catalog.ProvisionState, lastError string) error {
	if provision.Settled(in) {
		return fmt.Errorf("sim: %q is not a state an operation passes through", in)
	}
	if _, err := provision.Transition(in, provision.Fail); err != nil {
		return fmt.Errorf("sim: an operation cannot fail in %s: %w", in, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.faults[faultKey{serverID, in}] = lastError
	return nil
}

// FailPower makes the next SetPower on server serverID fail as an
// unreachable BMC would: it returns an error saying lastError and changes
// nothing.
func (d *Driver) FailPower(serverID, lastError string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.powerFaults[serverID] = lastError
}

// Deploy implements provision.Driver.
func (d *Driver) Deploy(ctx context.Context, s provision.Server, _ provision.Deployment) error {
	return d.request(ctx, s, deployOp)
}

// Rebuild implements provision.Driver.
func (d *Driver) Rebuild(ctx context.Context, s provision.Server, _ provision.Deployment) error {
	return d.request(ctx, s, rebuildOp)
}

// Destroy implements provision.Driver. Once the teardown is accepted, the
// server's console sessions are closed.
func (d *Driver) Destroy(ctx context.Context, s provision.Server) error {
	if err := d.request(ctx, s, destroyOp); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.consoles, s.ID)
	return nil
}

// Rescue implements provision.Driver.
func (d *Driver) Rescue(ctx context.Context, s provision.Server, password string) error {
	if password == "" {
		return fault.Invalid("password", "a rescue needs a root password")
	}
	return d.request(ctx, s, rescueOp)
}

// Unrescue implements provision.Driver.
func (d *Driver) Unrescue(ctx context.Context, s provision.Server) error {
	return d.request(ctx, s, unrescueOp)
}

// SetPower implements provision.Driver.
func (d *Driver) SetPower(ctx context.Context, s provision.Server, target catalog.PowerState) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !target.Valid() {
		return fault.Invalid("power_state", "unknown power target %q", target)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	srv, err := d.lookup(s)
	if err != nil {
		return err
	}
	if msg, ok := d.powerFaults[s.ID]; ok {
		delete(d.powerFaults, s.ID)
		return fmt.Errorf("sim: server %s: power %s: %s", s.ID, target, msg)
	}
	if !provision.Settled(srv.state) {
		return fault.Precondition("the server is %s: power changes wait until the operation ends", srv.state)
	}
	srv.power = target
	if target == catalog.PowerReset {
		srv.power = catalog.PowerOn
	}
	return nil
}

// GetState implements provision.Driver.
func (d *Driver) GetState(ctx context.Context, s provision.Server) (provision.State, error) {
	if err := ctx.Err(); err != nil {
		return provision.State{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	srv, err := d.lookup(s)
	if err != nil {
		return provision.State{}, err
	}
	if provision.Settled(srv.state) {
		srv.takenOverIn = "" // the caller saw the operation end
		srv.closed = true
	}
	return provision.State{Provision: srv.state, Power: srv.power, LastError: srv.lastError, OperationID: srv.operationID}, nil
}

// request starts op on s, or does nothing if s is already in it or done
// with it; either way the server has accepted the request, and GetState
// reports its s.OperationID from then on. d.mu must not be held.
func (d *Driver) request(ctx context.Context, s provision.Server, op *operation) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	srv, err := d.lookup(s)
	if err != nil {
		return err
	}
	if err := d.start(srv, op); err != nil {
		return err
	}
	srv.operationID = s.OperationID
	return nil
}

// start starts op on srv, or does nothing if srv is already in it or done
// with it. d.mu must be held.
func (d *Driver) start(srv *server, op *operation) error {
	if in := srv.takenOverIn; in != "" {
		srv.takenOverIn = ""
		if op.under(in) {
			// The request that started the operation the sim took over,
			// under way or over: this sim accepts it.
			srv.op, srv.requested = op, true
			return nil
		}
	}
	if !provision.Settled(srv.state) && srv.op == op {
		return nil // under way
	}
	start, err := provision.Transition(srv.state, op.event)
	if err != nil {
		if path := op.path(); srv.state == path[len(path)-1] {
			return nil // done
		}
		return err
	}
	*srv = server{
		id:        srv.id,
		op:        op,
		state:     start,
		power:     catalog.PowerOn,
		since:     d.clock.Now(),
		plan:      slices.Clone(op.steps),
		donePower: op.power,
		requested: true,
	}
	return nil
}

// lookup returns the server s names, brought up to the present. A server the
// sim has not seen yet starts in the state the caller recorded, and carries
// on with the operation that state is part of; one whose recorded request
// another sim accepted follows that request (see follow). d.mu must be held.
func (d *Driver) lookup(s provision.Server) (*server, error) {
	now := d.clock.Now()
	srv, ok := d.servers[s.ID]
	if !ok {
		if !s.ProvisionState.Valid() {
			return nil, fmt.Errorf("sim: server %s: unknown to the sim, and no recorded state to start from (%q)", s.ID, s.ProvisionState)
		}
		srv = &server{id: s.ID, state: s.ProvisionState, power: s.PowerState, since: now}
		if !provision.Settled(srv.state) {
			srv.takenOverIn = srv.state
		}
		if !srv.power.Valid() || srv.power == catalog.PowerReset {
			srv.power = catalog.PowerOn
		}
		if err := resume(srv); err != nil {
			return nil, err
		}
		d.servers[s.ID] = srv
	}
	d.advance(srv, now)
	d.follow(srv, s, now)
	return srv, nil
}

// follow makes srv play the request the control plane recorded as under
// way on s (s.Requested, accepted at s.RequestedAt) when it is not the one
// srv is running: from the moment it was recorded, as the hardware every
// replica shares would have. A request this sim accepted itself and that no
// caller has seen end yet is left running (its own timing and faults), and
// so is a run that already follows the recorded request. d.mu must be held.
func (d *Driver) follow(srv *server, s provision.Server, now time.Time) {
	op := requestedOp(s.Requested)
	if op == nil || s.RequestedAt.IsZero() || srv.anchor.Equal(s.RequestedAt) {
		return
	}
	if srv.op == op && srv.requested && !srv.closed {
		srv.anchor = s.RequestedAt // the request this sim accepted, now recorded
		return
	}
	*srv = server{
		id:        srv.id,
		op:        op,
		state:     op.start(),
		power:     catalog.PowerOn,
		since:     s.RequestedAt,
		plan:      slices.Clone(op.steps),
		donePower: op.power,
		anchor:    s.RequestedAt,
	}
	d.advance(srv, now)
}

// requestedOp is the operation request e starts; nil for any other event.
func requestedOp(e provision.Event) *operation {
	for _, op := range operations {
		if op.event == e {
			return op
		}
	}
	return nil
}

// resume plans the rest of the operation a server taken over in srv.state
// is part of: the remaining steps of the first operation that passes through
// the state, or for states no simulated operation passes through
// (VERIFYING, INSPECTING, ...), the shortest way to its target.
func resume(srv *server) error {
	if provision.Settled(srv.state) {
		return nil
	}
	for _, op := range operations {
		if i := slices.Index(op.path(), srv.state); i >= 0 && i < len(op.steps) {
			srv.plan = slices.Clone(op.steps[i:])
			srv.donePower = op.power
			return nil
		}
	}
	target := provision.Target(srv.state)
	plan, err := provision.Walk(srv.state, target)
	if err != nil {
		return fmt.Errorf("sim: server %s: %w", srv.id, err)
	}
	srv.plan = plan
	srv.donePower = catalog.PowerOff
	if target == catalog.StateActive || target == catalog.StateRescue {
		srv.donePower = catalog.PowerOn
	}
	return nil
}

// advance plays srv's plan up to now, failing it where a fault waits. d.mu
// must be held.
func (d *Driver) advance(srv *server, now time.Time) {
	for len(srv.plan) > 0 {
		due := srv.since.Add(d.durations[srv.state])
		if now.Before(due) {
			return
		}
		key := faultKey{srv.id, srv.state}
		if msg, ok := d.faults[key]; ok {
			delete(d.faults, key)
			failed, err := provision.Transition(srv.state, provision.Fail)
			if err != nil {
				panic(fmt.Sprintf("sim: fault: %v", err)) // Fail checked the state
			}
			srv.state, srv.since, srv.lastError, srv.plan = failed, due, msg, nil
			return
		}
		next, err := provision.Transition(srv.state, srv.plan[0])
		if err != nil {
			panic(fmt.Sprintf("sim: plan step: %v", err)) // plans are built from the table
		}
		srv.state, srv.since, srv.plan = next, due, srv.plan[1:]
		if len(srv.plan) == 0 {
			srv.power = srv.donePower
		}
	}
}
