package cloudv1_test

import (
	"context"
	"strings"
	"testing"

	"connectrpc.com/connect"

	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	"github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1/cloudv1connect"
	"github.com/gpcore/gpcore/internal/catalog"
	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/testserver"
)

const (
	stateActive       = cloudv1.ServerProvisioningState_SERVER_PROVISIONING_STATE_ACTIVE
	stateDeployFail   = cloudv1.ServerProvisioningState_SERVER_PROVISIONING_STATE_DEPLOY_FAIL
	stateRescueFail   = cloudv1.ServerProvisioningState_SERVER_PROVISIONING_STATE_RESCUE_FAIL
	stateUnrescueFail = cloudv1.ServerProvisioningState_SERVER_PROVISIONING_STATE_UNRESCUE_FAIL
	stateError        = cloudv1.ServerProvisioningState_SERVER_PROVISIONING_STATE_ERROR
)

// nodeCalls are the node requests of one customer, through a client.
type nodeCalls struct {
	t         *testing.T
	c         cloudv1connect.CloudServiceClient
	projectID string
}

func (n nodeCalls) create(fqdn string) string {
	n.t.Helper()
	res, err := n.c.CreateNode(context.Background(), connect.NewRequest(orderS1(n.projectID, fqdn)))
	if err != nil {
		n.t.Fatal(err)
	}
	return res.Msg.GetNodes()[0].GetId()
}

func (n nodeCalls) reinstall(id string) error {
	_, err := n.c.ReinstallNode(context.Background(), connect.NewRequest(&cloudv1.ReinstallNodeRequest{Id: id, ProjectId: n.projectID}))
	return err
}

func (n nodeCalls) rescue(id string, on bool) error {
	_, err := n.c.ChangeNodeRescueMode(context.Background(), connect.NewRequest(&cloudv1.ChangeNodeRescueModeRequest{
		Id: id, ProjectId: n.projectID, RescueMode: &cloudv1.RescueMode{Enabled: on},
	}))
	return err
}

func (n nodeCalls) destroy(id string) error {
	_, err := n.c.DestroyNode(context.Background(), connect.NewRequest(&cloudv1.DestroyNodeRequest{Id: id, ProjectId: n.projectID}))
	return err
}

func (n nodeCalls) get(id string) (*cloudv1.Node, error) {
	res, err := n.c.GetNode(context.Background(), connect.NewRequest(&cloudv1.GetNodeRequest{Id: id, ProjectId: n.projectID}))
	if err != nil {
		return nil, err
	}
	return res.Msg.GetNode(), nil
}

// must fails the test on err.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// awaitEnd waits until the node is in state at the end of an operation:
// its notification, and the server log entry the operation's end writes
// (a node notification is rendered when it is sent, so an earlier one can
// show the state too, before the operation has ended).
func (f *feed) awaitEnd(t *testing.T, id string, state cloudv1.ServerProvisioningState, log string) {
	t.Helper()
	f.awaitStatus(t, id, state)
	f.awaitLog(t, log)
}

// awaitDeleted waits for the notification that the node is gone.
func (f *feed) awaitDeleted(t *testing.T, id string) {
	t.Helper()
	f.await(t, id, "deletion", func(n *cloudv1.Node) bool {
		return n.GetBillingPeriod() == cloudv1.BillingPeriod_BILLING_PERIOD_DELETED
	})
}

// TestRefusedRequestsEndInFailureStates: when the provisioning backend
// refuses a request, the node does not stay in the state the request put it
// in: it ends in the operation's failure state, the refusal in its server
// log, and takes the requests that state allows, a destroy above all.
func TestRefusedRequestsEndInFailureStates(t *testing.T) {
	t.Parallel()
	s := startNodeServer(t, nodeServerOptions{})
	c := s.customer(t)
	calls := nodeCalls{t, s.v1(c.token), c.project.ID}
	grpc := nodeCalls{t, s.v1(c.token, connect.WithGRPC()), c.project.ID}
	f := subscribe(t, calls.c)
	id := calls.create("refused.example")
	f.awaitEnd(t, id, stateActive, "The installation is done")

	// A refused reinstall fails the deploy; another reinstall is accepted
	// and recovers the node.
	s.hw.refuse("Rebuild", fault.Precondition("the disk controller is missing"))
	must(t, calls.reinstall(id))
	f.awaitEnd(t, id, stateDeployFail, "The provisioning backend refused the reinstallation: the disk controller is missing")
	s.hw.refuse("Rebuild", nil)
	must(t, grpc.reinstall(id))
	f.awaitEnd(t, id, stateActive, "The reinstallation is done")

	// A refused rescue fails the rescue; leaving rescue mode is accepted.
	s.hw.refuse("Rescue", fault.Precondition("no rescue image"))
	must(t, calls.rescue(id, true))
	f.awaitEnd(t, id, stateRescueFail, "refused the rescue boot: no rescue image")
	must(t, grpc.rescue(id, false))
	f.awaitEnd(t, id, stateActive, "The return from rescue is done")

	// So does a refused return from rescue.
	s.hw.refuse("Rescue", nil)
	must(t, calls.rescue(id, true))
	f.awaitEnd(t, id, cloudv1.ServerProvisioningState_SERVER_PROVISIONING_STATE_RESCUE, "The rescue boot is done")
	s.hw.refuse("Unrescue", fault.Precondition("the installed system's disk is gone"))
	must(t, calls.rescue(id, false))
	f.awaitEnd(t, id, stateUnrescueFail, "refused the return from rescue")
	s.hw.refuse("Unrescue", nil)
	must(t, calls.rescue(id, false))
	f.awaitEnd(t, id, stateActive, "The return from rescue is done")

	// A refused destroy leaves the node in ERROR, still the customer's and
	// no longer billed: it takes nothing but another destroy, which
	// deletes it and gives its server back.
	serverID := s.serverOf(t, id)
	s.hw.refuse("Destroy", fault.Precondition("the BMC refuses"))
	must(t, calls.destroy(id))
	f.awaitEnd(t, id, stateError, "refused the teardown and cleaning: the BMC refuses")
	n, err := calls.get(id)
	if err != nil || n.GetStatus() != stateError || n.GetHasConsoleAccess() {
		t.Fatalf("a node whose teardown was refused: %v, %v", n, err)
	}
	if got := s.count(t, "SELECT COUNT(*) FROM nodes WHERE id = ? AND usage_ended_at IS NOT NULL", id); got != 1 {
		t.Fatal("the node is still billed after DestroyNode")
	}
	err = grpc.reinstall(id)
	testserver.WantCode(t, err, connect.CodeFailedPrecondition, "")
	if !strings.Contains(err.Error(), "being destroyed") {
		t.Fatalf("reinstall of a destroyed node: %v", err)
	}
	s.hw.refuse("Destroy", nil)
	must(t, grpc.destroy(id))
	f.awaitDeleted(t, id)
	if got := s.count(t, "SELECT COUNT(*) FROM servers WHERE id = ? AND provision_state = ? AND in_pool AND NOT in_use",
		serverID, catalog.StateAvailable); got != 1 {
		t.Fatal("the server of the destroyed node is not back in the pool")
	}
}

// TestGivenUpOperationsEndInFailureStates: a job that runs out of attempts
// because the backend cannot be reached gives its operation up in the
// operation's failure state, so that the node can be destroyed; a
// teardown given up leaves the node in ERROR, for DestroyNode to retry.
func TestGivenUpOperationsEndInFailureStates(t *testing.T) {
	t.Parallel()
	s := startNodeServer(t, nodeServerOptions{maxAttempts: 1})
	c := s.customer(t)
	calls := nodeCalls{t, s.v1(c.token, connect.WithGRPC()), c.project.ID}
	f := subscribe(t, calls.c)

	// An install given up: DEPLOY_FAIL, and the node can be destroyed.
	s.hw.setUnreachable(true)
	lost := calls.create("lost.example")
	f.awaitEnd(t, lost, stateDeployFail, "The provisioning backend could not be reached; the installation was given up")
	s.hw.setUnreachable(false)
	must(t, calls.destroy(lost))
	f.awaitDeleted(t, lost)

	// A teardown given up: ERROR; destroying again deletes the node.
	id := calls.create("teardown.example")
	f.awaitEnd(t, id, stateActive, "The installation is done")
	s.hw.setUnreachable(true)
	must(t, calls.destroy(id))
	f.awaitEnd(t, id, stateError, "the teardown and cleaning was given up")
	s.hw.setUnreachable(false)
	must(t, calls.destroy(id))
	f.awaitDeleted(t, id)
	if got := s.count(t, "SELECT COUNT(*) FROM servers WHERE in_use"); got != 0 {
		t.Fatalf("%d servers in use after both nodes are gone", got)
	}
}

// TestFailedTeardownTakesDestroyAgain: a teardown the hardware fails (the
// sim's injected fault) leaves the node in ERROR with its server, and
// DestroyNode is accepted again.
func TestFailedTeardownTakesDestroyAgain(t *testing.T) {
	t.Parallel()
	s := startNodeServer(t, nodeServerOptions{})
	c := s.customer(t)
	calls := nodeCalls{t, s.v1(c.token), c.project.ID}
	f := subscribe(t, calls.c)
	id := calls.create("stuck.example")
	f.awaitEnd(t, id, stateActive, "The installation is done")
	if err := s.sim.Fail(s.serverOf(t, id), catalog.StateDeleting, "the BMC lost power"); err != nil {
		t.Fatal(err)
	}
	must(t, calls.destroy(id))
	f.awaitEnd(t, id, stateError, "The teardown of node stuck.example failed (ERROR)")
	if got := s.count(t, "SELECT COUNT(*) FROM ip_addresses a JOIN server_interfaces i ON i.id = a.interface_id WHERE i.server_id = ?",
		s.serverOf(t, id)); got != 2 {
		t.Fatalf("the node whose teardown failed has %d addresses, want its 2", got)
	}
	must(t, calls.destroy(id))
	f.awaitDeleted(t, id)
}

// TestResumedRequestIsNotMadeTwice: a worker that crashes after the
// backend accepted a reinstall or a rescue, before it recorded that,
// resumes without asking again: a Rebuild or a Rescue asked for twice
// would start over.
func TestResumedRequestIsNotMadeTwice(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, method string
		request      func(nodeCalls, string) error
		end          cloudv1.ServerProvisioningState
		accepted     string
		done         string
	}{
		{"reinstall", "Rebuild", func(n nodeCalls, id string) error { return n.reinstall(id) }, stateActive,
			"The provisioning backend accepted the reinstallation", "The reinstallation is done"},
		{"rescue", "Rescue", func(n nodeCalls, id string) error { return n.rescue(id, true) },
			cloudv1.ServerProvisioningState_SERVER_PROVISIONING_STATE_RESCUE, "The provisioning backend accepted the rescue boot",
			"The rescue boot is done"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := startNodeServer(t, nodeServerOptions{})
			c := s.customer(t)
			calls := nodeCalls{t, s.v1(c.token, connect.WithGRPC()), c.project.ID}
			f := subscribe(t, calls.c)
			id := calls.create("resumed-" + tc.name + ".example")
			f.awaitEnd(t, id, stateActive, "The installation is done")

			accepted := s.hw.stall(tc.method)
			must(t, tc.request(calls, id))
			awaitAccepted(t, accepted, tc.method)
			s.crash(t)
			f.awaitEnd(t, id, tc.end, tc.done)
			if got := s.hw.made(tc.method); got != 1 {
				t.Fatalf("the backend was asked for %d %s requests, want 1", got, tc.method)
			}
			if got := s.count(t, "SELECT COUNT(*) FROM server_logs WHERE node_id = ? AND message = ?", id, tc.accepted); got != 1 {
				t.Fatalf("%q logged %d times, want once", tc.accepted, got)
			}
		})
	}
}

// TestLostJobIsTakenUp: an operation whose job is gone before it ended (its
// last attempt could not record anything) is taken up by the periodic
// node_operations_resume job, which says so in the server log, and the new
// job does not ask the backend again for what it had accepted.
func TestLostJobIsTakenUp(t *testing.T) {
	t.Parallel()
	s := startNodeServer(t, nodeServerOptions{})
	c := s.customer(t)
	calls := nodeCalls{t, s.v1(c.token, connect.WithGRPC()), c.project.ID}
	f := subscribe(t, calls.c)
	id := calls.create("lost-job.example")
	f.awaitEnd(t, id, stateActive, "The installation is done")

	accepted := s.hw.stall("Rebuild")
	must(t, calls.reinstall(id))
	awaitAccepted(t, accepted, "reinstall")
	s.crashLosingJobs(t, "node_reinstall")
	f.awaitLog(t, "The reinstallation had no job left to carry it out: taken up again")
	f.awaitEnd(t, id, stateActive, "The reinstallation is done")
	if got := s.hw.made("Rebuild"); got != 1 {
		t.Fatalf("the backend was asked for %d Rebuild requests, want 1", got)
	}
	must(t, calls.reinstall(id)) // the node is at rest again
}

// TestResetShowsUntilItEnds: a reset leaves the power on, so a node shows
// power RESET from the request until the reset has ended (here only once a
// crashed worker's job has been resumed), on the stream and to GetNode,
// and ON again after.
func TestResetShowsUntilItEnds(t *testing.T) {
	t.Parallel()
	s := startNodeServer(t, nodeServerOptions{})
	c := s.customer(t)
	calls := nodeCalls{t, s.v1(c.token), c.project.ID}
	f := subscribe(t, calls.c)
	id := calls.create("reset.example")
	f.awaitEnd(t, id, stateActive, "The installation is done")

	accepted := s.hw.stall("SetPower")
	_, err := s.v1(c.token, connect.WithGRPC()).PowerActionNode(context.Background(), connect.NewRequest(&cloudv1.PowerActionNodeRequest{
		Id: id, ProjectId: c.project.ID, PowerState: cloudv1.ServerPowerState_SERVER_POWER_STATE_RESET,
	}))
	must(t, err)
	awaitAccepted(t, accepted, "reset")
	f.await(t, id, "power RESET", func(n *cloudv1.Node) bool {
		return n.GetPowerState() == cloudv1.ServerPowerState_SERVER_POWER_STATE_RESET && n.GetStatus() == stateActive
	})
	n, err := calls.get(id)
	if err != nil || n.GetPowerState() != cloudv1.ServerPowerState_SERVER_POWER_STATE_RESET {
		t.Fatalf("GetNode during the reset: %v, %v; want power RESET", n, err)
	}
	s.crash(t)
	f.awaitLog(t, "Power RESET done: the server is ON")
	if n, err = calls.get(id); err != nil || n.GetPowerState() != cloudv1.ServerPowerState_SERVER_POWER_STATE_ON {
		t.Fatalf("GetNode after the reset: %v, %v; want power ON", n, err)
	}
}
