package cloudv1_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	typev1 "github.com/gpcore/gpcore/gen/gpcore/type/v1"
	"github.com/gpcore/gpcore/internal/billing/billingtest"
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
// node's billing, a change of its billing period, its name or its tags is
// refused as a failed precondition that says why, and writes nothing; while
// the teardown is under way, and after it failed.
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
			_, err = n.c.UpdateNode(context.Background(), connect.NewRequest(&cloudv1.UpdateNodeRequest{
				Id: id, ProjectId: c.project.ID, Fqdn: proto.String("renamed.example"), Tags: map[string]string{"role": "db"},
			}))
			testserver.WantCode(t, err, connect.CodeFailedPrecondition, "")
			if !strings.Contains(err.Error(), "billed.example is being destroyed") {
				t.Fatalf("%s: the refused update %q does not say why", when, err)
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

// billedBy lists the project's nodes with the extended search's
// billing_period filter, by id.
func (n nodeCalls) billedBy(period string) []string {
	n.t.Helper()
	res, err := n.c.ListNodes(context.Background(), connect.NewRequest(&cloudv1.ListNodesRequest{Id: n.projectID, ExtendedSearch: &typev1.SearchRequest{
		Filters: []*typev1.Filter{{Name: "billing_period", Value: &typev1.Filter_StringValue{StringValue: period}}},
	}}))
	if err != nil {
		n.t.Fatal(err)
	}
	var ids []string
	for _, node := range res.Msg.GetNodes() {
		ids = append(ids, node.GetId())
	}
	return ids
}

// TestBillingPeriodChangeTakesEffect: a change of billing period asked for
// takes effect when the node's term ends: from then on GetNode, ListNodes
// and its billing_period filter all show the new period, the project's log
// says so, and the project's members are told of the node.
func TestBillingPeriodChangeTakesEffect(t *testing.T) {
	t.Parallel()
	clock := &billingtest.Clock{}
	ordered := time.Date(2026, 11, 10, 10, 15, 0, 0, time.UTC)
	clock.Set(ordered)
	s := startNodeServer(t, nodeServerOptions{clock: clock})
	c := s.customer(t)
	calls := nodeCalls{t, s.v1(c.token), c.project.ID}
	f := subscribe(t, calls.c)
	id := calls.create("switch.example")
	f.awaitEnd(t, id, stateActive, "The installation is done")

	monthly := cloudv1.BillingPeriod_BILLING_PERIOD_MONTHLY
	n, err := calls.changeBillingPeriod(id, monthly)
	if err != nil || n.GetBillingPeriod() != cloudv1.BillingPeriod_BILLING_PERIOD_HOURLY || n.GetTargetBillingPeriod() != monthly {
		t.Fatalf("ChangeNodeBillingPeriod: %v, %v", n, err)
	}
	f.await(t, id, "the pending change", func(n *cloudv1.Node) bool { return n.TargetBillingPeriod != nil })
	if got := calls.billedBy("HOURLY"); !slices.Equal(got, []string{id}) {
		t.Fatalf("billed hourly while the change is pending: %v", got)
	}
	if got := calls.billedBy("MONTHLY"); len(got) != 0 {
		t.Fatalf("billed monthly while the change is pending: %v", got)
	}

	// The hour ordered in ends at 11:00: the node is billed by the month
	// from then on.
	termEnd := time.Date(2026, 11, 10, 11, 0, 0, 0, time.UTC)
	clock.Set(termEnd.Add(time.Second))
	n, err = calls.get(id)
	if err != nil || n.GetBillingPeriod() != monthly || n.TargetBillingPeriod != nil || !n.GetPaidUntilAt().AsTime().Equal(termEnd.AddDate(0, 1, 0)) {
		t.Fatalf("GetNode once the change took effect: %v, %v", n, err)
	}
	if got := calls.billedBy("MONTHLY"); !slices.Equal(got, []string{id}) {
		t.Fatalf("billed monthly once the change took effect: %v", got)
	}
	if got := calls.billedBy("HOURLY"); len(got) != 0 {
		t.Fatalf("billed hourly once the change took effect: %v", got)
	}
	f.await(t, id, "the change taking effect", func(n *cloudv1.Node) bool {
		return n.GetBillingPeriod() == monthly && n.TargetBillingPeriod == nil
	})
	logs := messages(projectLogs(t, calls.c, &cloudv1.ListProjectLogsRequest{Id: c.project.ID}).GetLogs())
	if !slices.Contains(logs, "the node switch.example is billed monthly since 2026-11-10T11:00:00Z, as asked") {
		t.Fatalf("the project's log does not say the change took effect: %v", logs)
	}
	if got := s.count(t, "SELECT COUNT(*) FROM nodes WHERE id = ? AND billing_period = 'MONTHLY' AND target_billing_period IS NULL AND paid_until_at = ?",
		id, termEnd.AddDate(0, 1, 0)); got != 1 {
		t.Fatal("the node's row does not record the change")
	}
}
