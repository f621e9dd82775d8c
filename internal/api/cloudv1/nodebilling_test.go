package cloudv1_test

import (
	"context"
	"strings"
	"testing"

	"connectrpc.com/connect"

	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/testserver"
)

func (n nodeCalls) changeBillingPeriod(id string, period cloudv1.BillingPeriod) (*cloudv1.Node, error) {
	res, err := n.c.ChangeNodeBillingPeriod(context.Background(), connect.NewRequest(&cloudv1.ChangeNodeBillingPeriodRequest{
		Id: id, ProjectId: n.projectID, BillingPeriod: period,
	}))
	if err != nil {
		return nil, err
	}
	return res.Msg.GetNode(), nil
}

// TestChangeBillingPeriodOfADestroyedNode: once DestroyNode has ended a
// node's billing, a change of its billing period is refused as a failed
// precondition that says why, and writes nothing; while the teardown is
// under way, and after it failed.
func TestChangeBillingPeriodOfADestroyedNode(t *testing.T) {
	t.Parallel()
	s := startNodeServer(t, nodeServerOptions{})
	c := s.customer(t)
	calls := nodeCalls{t, s.v1(c.token), c.project.ID}
	grpc := nodeCalls{t, s.v1(c.token, connect.WithGRPC()), c.project.ID}
	f := subscribe(t, calls.c)
	id := calls.create("billed.example")
	f.awaitEnd(t, id, stateActive, "The installation is done")

	refused := func(when string) {
		t.Helper()
		before, err := calls.get(id)
		if err != nil {
			t.Fatal(err)
		}
		logs := len(projectLogs(t, calls.c, &cloudv1.ListProjectLogsRequest{Id: c.project.ID}).GetLogs())
		for _, n := range []nodeCalls{calls, grpc} {
			_, err := n.changeBillingPeriod(id, cloudv1.BillingPeriod_BILLING_PERIOD_MONTHLY)
			testserver.WantCode(t, err, connect.CodeFailedPrecondition, "")
			if !strings.Contains(err.Error(), "billed.example is being destroyed") {
				t.Fatalf("%s: the refusal %q does not say why", when, err)
			}
		}
		after, err := calls.get(id)
		if err != nil {
			t.Fatal(err)
		}
		if after.TargetBillingPeriod != nil || !after.GetUpdatedAt().AsTime().Equal(before.GetUpdatedAt().AsTime()) {
			t.Fatalf("%s: the refused change wrote to the node: %v", when, after)
		}
		if got := len(projectLogs(t, calls.c, &cloudv1.ListProjectLogsRequest{Id: c.project.ID}).GetLogs()); got != logs {
			t.Fatalf("%s: the refused change wrote %d project log entries", when, got-logs)
		}
	}

	// While the teardown waits for an unreachable backend, the node is
	// DELETING and no longer billed.
	s.hw.setUnreachable(true)
	must(t, calls.destroy(id))
	n, err := calls.get(id)
	if err != nil || n.GetStatus() != cloudv1.ServerProvisioningState_SERVER_PROVISIONING_STATE_DELETING {
		t.Fatalf("node being destroyed: %v, %v", n, err)
	}
	refused("DELETING")
	// A teardown that failed leaves it in ERROR, still not billed.
	s.hw.refuse("Destroy", fault.Precondition("the BMC refuses"))
	s.hw.setUnreachable(false)
	f.awaitEnd(t, id, stateError, "refused the teardown and cleaning: the BMC refuses")
	refused("ERROR")
}
