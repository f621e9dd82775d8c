package provision

import (
	"fmt"
	"slices"

	"github.com/gpcore/gpcore/internal/catalog"
	"github.com/gpcore/gpcore/internal/fault"
)

//go:generate go run ./gendiagram -o ../../docs/states.md

// Event is something that moves a server from one provisioning state to
// another. Requested events are asked for by a customer or an operator
// (through the API, and then a job); the others report how the hardware is
// getting on with what was asked.
type Event string

// The requested events.
const (
	// Deploy installs an image on an AVAILABLE server (CreateNode), or tries
	// a failed first install again.
	Deploy Event = "deploy"
	// Rebuild reinstalls an ACTIVE server (ReinstallNode), or one whose
	// deploy failed or that is in ERROR.
	Rebuild Event = "rebuild"
	// Delete tears an instance down (DestroyNode); cleaning follows.
	Delete Event = "delete"
	// Rescue boots the rescue system (ChangeNodeRescueMode on).
	Rescue Event = "rescue"
	// Unrescue boots the installed system again (ChangeNodeRescueMode off).
	Unrescue Event = "unrescue"
	// Abort stops a cleaning, inspection or rescue that waits on the
	// hardware; it lands in the matching failure state.
	Abort Event = "abort"
	// Manage takes a server out of service into MANAGEABLE (operator), or
	// starts verifying a freshly enrolled one.
	Manage Event = "manage"
	// Provide cleans a MANAGEABLE server and makes it AVAILABLE (operator).
	Provide Event = "provide"
	// Inspect reads a MANAGEABLE server's hardware (operator).
	Inspect Event = "inspect"
	// Adopt takes a server that is already running an instance into ACTIVE
	// without deploying it (operator).
	Adopt Event = "adopt"
)

// The progress events, reported by the hardware.
const (
	VerifyDone    Event = "verify-done"
	InspectWait   Event = "inspect-wait"
	InspectResume Event = "inspect-resume"
	InspectDone   Event = "inspect-done"
	AdoptDone     Event = "adopt-done"
	DeployWait    Event = "deploy-wait"
	DeployResume  Event = "deploy-resume"
	// DeployDone: the image and the configuration are written; the server
	// reboots into the installed system (DEPLOY_DONE).
	DeployDone Event = "deploy-done"
	// Activate: the installed system is up (ACTIVE).
	Activate Event = "activate"
	// Redeploy: a rebuild has torn the old instance down and deploys anew.
	Redeploy Event = "redeploy"
	// DeleteDone: the instance is torn down (DELETED); cleaning follows.
	DeleteDone   Event = "delete-done"
	Clean        Event = "clean"
	CleanWait    Event = "clean-wait"
	CleanResume  Event = "clean-resume"
	CleanDone    Event = "clean-done"
	RescueWait   Event = "rescue-wait"
	RescueResume Event = "rescue-resume"
	RescueDone   Event = "rescue-done"
	UnrescueDone Event = "unrescue-done"
	// Fail: the operation in progress failed; last_error says why.
	Fail Event = "fail"
)

// Requested reports whether e is asked for by a user or an operator, rather
// than reported by the hardware.
func (e Event) Requested() bool {
	return slices.Contains([]Event{Deploy, Rebuild, Delete, Rescue, Unrescue, Abort, Manage, Provide, Inspect, Adopt}, e)
}

// Edge is one legal state change: event e moves a server in From to To.
type Edge struct {
	From  catalog.ProvisionState
	Event Event
	To    catalog.ProvisionState
}

// Short names for the table.
const (
	enroll       = catalog.StateEnroll
	verifying    = catalog.StateVerifying
	manageable   = catalog.StateManageable
	available    = catalog.StateAvailable
	active       = catalog.StateActive
	deployWait   = catalog.StateDeployWait
	deploying    = catalog.StateDeploying
	deployFail   = catalog.StateDeployFail
	deployDone   = catalog.StateDeployDone
	deleting     = catalog.StateDeleting
	deleted      = catalog.StateDeleted
	cleaning     = catalog.StateCleaning
	cleanWait    = catalog.StateCleanWait
	cleanFail    = catalog.StateCleanFail
	errorState   = catalog.StateError
	rebuild      = catalog.StateRebuild
	inspecting   = catalog.StateInspecting
	inspectFail  = catalog.StateInspectFail
	inspectWait  = catalog.StateInspectWait
	adopting     = catalog.StateAdopting
	adoptFail    = catalog.StateAdoptFail
	rescue       = catalog.StateRescue
	rescueFail   = catalog.StateRescueFail
	rescuing     = catalog.StateRescuing
	unrescueFail = catalog.StateUnrescueFail
	rescueWait   = catalog.StateRescueWait
	unrescuing   = catalog.StateUnrescuing
)

// table is every legal provisioning state change: Ironic's state machine
// (ironic/common/states.py), with its events named after what they finish,
// with the Juno-era states the reference still lists given their
// transitory meaning (REBUILD: a reinstall is under way and the old
// instance is going; DEPLOY_DONE: the image is written and the server boots
// it; DELETED: the instance is gone and cleaning is next), and without
// manual cleaning from MANAGEABLE (gpcore cleans only to make a server
// AVAILABLE). The order is the diagram's.
var table = []Edge{
	// Enrolment and operator care.
	{enroll, Manage, verifying},
	{verifying, VerifyDone, manageable},
	{verifying, Fail, enroll},
	{manageable, Provide, cleaning},
	{available, Manage, manageable},
	{manageable, Inspect, inspecting},
	{inspecting, InspectWait, inspectWait},
	{inspectWait, InspectResume, inspecting},
	{inspecting, InspectDone, manageable},
	{inspectWait, InspectDone, manageable},
	{inspecting, Fail, inspectFail},
	{inspectWait, Fail, inspectFail},
	{inspectWait, Abort, inspectFail},
	{inspectFail, Inspect, inspecting},
	{inspectFail, Manage, manageable},
	{manageable, Adopt, adopting},
	{adopting, AdoptDone, active},
	{adopting, Fail, adoptFail},
	{adoptFail, Adopt, adopting},
	{adoptFail, Manage, manageable},

	// Deploying (CreateNode) and rebuilding (ReinstallNode).
	{available, Deploy, deploying},
	{deploying, DeployWait, deployWait},
	{deployWait, DeployResume, deploying},
	{deploying, DeployDone, deployDone},
	{deployDone, Activate, active},
	{deploying, Fail, deployFail},
	{deployWait, Fail, deployFail},
	{deployDone, Fail, deployFail},
	{deployFail, Deploy, deploying},
	{active, Rebuild, rebuild},
	{deployFail, Rebuild, rebuild},
	{errorState, Rebuild, rebuild},
	{rebuild, Redeploy, deploying},
	{rebuild, Fail, deployFail},

	// Deleting (DestroyNode) and cleaning.
	{active, Delete, deleting},
	{deployWait, Delete, deleting},
	{deployFail, Delete, deleting},
	{errorState, Delete, deleting},
	{rescue, Delete, deleting},
	{rescueWait, Delete, deleting},
	{rescueFail, Delete, deleting},
	{unrescueFail, Delete, deleting},
	{deleting, DeleteDone, deleted},
	{deleting, Fail, errorState},
	{deleted, Clean, cleaning},
	{cleaning, CleanWait, cleanWait},
	{cleanWait, CleanResume, cleaning},
	{cleaning, CleanDone, available},
	{cleaning, Fail, cleanFail},
	{cleanWait, Fail, cleanFail},
	{cleanWait, Abort, cleanFail},
	{cleanFail, Manage, manageable},

	// Rescue mode (ChangeNodeRescueMode).
	{active, Rescue, rescuing},
	{rescuing, RescueWait, rescueWait},
	{rescueWait, RescueResume, rescuing},
	{rescuing, RescueDone, rescue},
	{rescuing, Fail, rescueFail},
	{rescueWait, Fail, rescueFail},
	{rescueWait, Abort, rescueFail},
	{rescue, Rescue, rescuing},
	{rescueFail, Rescue, rescuing},
	{unrescueFail, Rescue, rescuing},
	{rescue, Unrescue, unrescuing},
	{rescueFail, Unrescue, unrescuing},
	{unrescueFail, Unrescue, unrescuing},
	{unrescuing, UnrescueDone, active},
	{unrescuing, Fail, unrescueFail},
}

// transitions indexes table by state and event.
var transitions = func() map[catalog.ProvisionState]map[Event]catalog.ProvisionState {
	m := map[catalog.ProvisionState]map[Event]catalog.ProvisionState{}
	for _, e := range table {
		if m[e.From] == nil {
			m[e.From] = map[Event]catalog.ProvisionState{}
		}
		if _, dup := m[e.From][e.Event]; dup {
			panic(fmt.Sprintf("provision: two edges for %s on %s", e.From, e.Event))
		}
		m[e.From][e.Event] = e.To
	}
	return m
}()

// Edges returns every legal state change, in the table's order.
func Edges() []Edge { return slices.Clone(table) }

// Transition returns the state that event e moves a server in from to. An
// event the state does not allow is refused with a fault.Precondition that
// names the state.
func Transition(from catalog.ProvisionState, e Event) (catalog.ProvisionState, error) {
	if to, ok := transitions[from][e]; ok {
		return to, nil
	}
	return "", fault.Precondition("the server is %s: %s is not possible now", from, e)
}

// Settled reports whether s is at rest: no progress event leaves it, so
// nothing happens to the server until someone asks for something (ACTIVE,
// AVAILABLE, RESCUE, the failure states, ...). A worker polls the hardware
// until it reports a settled state.
func Settled(s catalog.ProvisionState) bool {
	for e := range transitions[s] {
		if !e.Requested() {
			return false
		}
	}
	return true
}

// Target returns where the operation in progress in s ends if it succeeds
// (Ironic's target_provision_state): ACTIVE for DEPLOY_WAIT, AVAILABLE for
// CLEANING. A settled state is its own target.
func Target(s catalog.ProvisionState) catalog.ProvisionState {
	path, end := shortest(s, func(e Edge) bool { return !e.Event.Requested() && e.Event != Fail },
		func(s catalog.ProvisionState) bool { return Settled(s) })
	if path == nil {
		return s
	}
	return end
}

// instanceStates are the states of a server that holds a customer's
// instance (see HoldsInstance).
var instanceStates = []catalog.ProvisionState{
	deploying, deployWait, deployDone, deployFail, active, rebuild,
	rescuing, rescueWait, rescue, rescueFail, unrescuing, unrescueFail,
}

// HoldsInstance reports whether a server in s holds a customer's instance:
// one being installed or reinstalled, installed, in rescue, or failed at one
// of those, every state ACTIVE leads to without a deletion. A server being
// torn down or cleaned, a free one and one in the operator's care hold none;
// they have no remote console to open (Driver.OpenConsole), so that nobody
// watches a teardown or inherits the previous customer's screen.
func HoldsInstance(s catalog.ProvisionState) bool { return slices.Contains(instanceStates, s) }

// Failure returns the state an operation under way in s ends in when it
// fails, or when gpcore gives it up (the driver refused it, or could not be
// reached for as long as the job retried): where the fail event leads from
// s (DEPLOY_FAIL from DEPLOYING, ERROR from DELETING, CLEAN_FAIL from
// CLEAN_WAIT, RESCUE_FAIL from RESCUING, ...), or, from a state that cannot
// fail itself, where it leads from the nearest state the operation's
// progress reaches that can (CLEAN_FAIL from DELETED, whose cleaning is
// next). A settled state is its own failure: nothing is under way in it.
func Failure(s catalog.ProvisionState) catalog.ProvisionState {
	if Settled(s) {
		return s
	}
	canFail := func(s catalog.ProvisionState) bool { _, ok := transitions[s][Fail]; return ok }
	from := s
	if !canFail(s) {
		path, end := shortest(s, func(e Edge) bool { return !e.Event.Requested() && e.Event != Fail }, canFail)
		if path == nil {
			return s
		}
		from = end
	}
	return transitions[from][Fail]
}

// Walk returns the progress events that lead from one state to another, the
// shortest way: the steps the hardware took between two polls, so a worker
// can record each of them. from == to gives no steps. A state the hardware
// cannot have reached from from on its own is refused with a
// fault.Precondition naming both.
func Walk(from, to catalog.ProvisionState) ([]Event, error) {
	if from == to {
		return nil, nil
	}
	path, _ := shortest(from, func(e Edge) bool { return !e.Event.Requested() },
		func(s catalog.ProvisionState) bool { return s == to })
	if path == nil {
		return nil, fault.Precondition("the server is %s: the hardware cannot have reached %s from there", from, to)
	}
	return path, nil
}

// shortest searches the table breadth first from start, along the edges
// follow accepts, for the nearest state other than start that done accepts.
// It returns the events of the path (nil when there is none) and the state
// it ends in. Ties go to the edge that comes first in the table.
func shortest(start catalog.ProvisionState, follow func(Edge) bool, done func(catalog.ProvisionState) bool) ([]Event, catalog.ProvisionState) {
	type visit struct {
		state catalog.ProvisionState
		path  []Event
	}
	seen := map[catalog.ProvisionState]bool{start: true}
	queue := []visit{{state: start}}
	for len(queue) > 0 {
		v := queue[0]
		queue = queue[1:]
		for _, e := range table {
			if e.From != v.state || !follow(e) || seen[e.To] {
				continue
			}
			path := append(slices.Clone(v.path), e.Event)
			if done(e.To) {
				return path, e.To
			}
			seen[e.To] = true
			queue = append(queue, visit{e.To, path})
		}
	}
	return nil, ""
}
