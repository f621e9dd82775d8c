package cloudv1_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	"github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1/cloudv1connect"
	"github.com/gpcore/gpcore/internal/billing/billingtest"
	"github.com/gpcore/gpcore/internal/project"
	"github.com/gpcore/gpcore/internal/testserver"
)

// awaitServerLog reads notifications until a server log entry containing
// text arrives.
func (f *feed) awaitServerLog(t *testing.T, text string) {
	t.Helper()
	timeout := time.NewTimer(nodeWait)
	defer timeout.Stop()
	var seen []string
	for {
		select {
		case n := <-f.notes:
			if l := n.GetServerLog(); l != nil {
				if strings.Contains(l.GetMessage(), text) {
					return
				}
				seen = append(seen, l.GetMessage())
			}
		case err := <-f.err:
			t.Fatalf("stream ended (%v) while waiting for the log %q", err, text)
		case <-timeout.C:
			t.Fatalf("no log %q; got %q", text, seen)
		}
	}
}

// deleteRefused fails the test unless deleting the project is refused with
// FailedPrecondition saying every one of want and none of not, and the
// project is still there, as its owner sees it.
func deleteRefused(t *testing.T, c cloudv1connect.CloudServiceClient, projectID string, want, not []string) {
	t.Helper()
	ctx := context.Background()
	_, err := c.DeleteProject(ctx, connect.NewRequest(&cloudv1.DeleteProjectRequest{Id: projectID}))
	testserver.WantCode(t, err, connect.CodeFailedPrecondition, "")
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Fatalf("refusal %q does not say %q", err, w)
		}
	}
	for _, n := range not {
		if strings.Contains(err.Error(), n) {
			t.Fatalf("refusal %q says %q", err, n)
		}
	}
	if p := getProject(t, c, projectID); len(p.GetMembers()) != 1 {
		t.Fatalf("the refused deletion changed the project: %v", p)
	}
}

// TestDeleteProjectWithNodes: a project is not deleted while it has a node,
// live or being destroyed (until its server is clean), nor while its
// nodes' usage is not billed; the refusal says why and deletes nothing.
// Once the month is billed and paid, it goes.
func TestDeleteProjectWithNodes(t *testing.T) {
	t.Parallel()
	s := startNodeBillServer(t)
	ctx := context.Background()
	c := s.customer(t, "ada@example.com")
	doomed, err := s.projects.Create(ctx, c.user.ID, project.CreateInput{Name: "Doomed", BillingProfileID: c.profile.ID})
	if err != nil {
		t.Fatal(err)
	}
	for _, proto := range cloudProtocols {
		t.Run(proto.name, func(t *testing.T) {
			v1 := s.v1(c.token, proto.opts...)
			f := subscribe(t, v1)
			fqdn := "doomed-" + proto.name + ".example.com"
			created, err := v1.CreateNode(ctx, connect.NewRequest(orderS1(doomed.ID, fqdn)))
			if err != nil {
				t.Fatal(err)
			}
			id := created.Msg.GetNodes()[0].GetId()
			stillThere := func() {
				t.Helper()
				if _, err := v1.GetNode(ctx, connect.NewRequest(&cloudv1.GetNodeRequest{Id: id, ProjectId: doomed.ID})); err != nil {
					t.Fatalf("the node after a refused deletion: %v", err)
				}
			}

			// Being installed (the clock stands still), then live.
			f.awaitServerLog(t, "accepted the installation")
			deleteRefused(t, v1, doomed.ID, []string{"it still has a node"}, nil)
			stillThere()
			s.clock.Set(s.clock.Now().Add(time.Minute))
			f.awaitServerLog(t, "The installation is done")
			deleteRefused(t, v1, doomed.ID, []string{"it still has a node"}, nil)
			stillThere()

			// Being destroyed: the node counts until its server is clean.
			if _, err := v1.DestroyNode(ctx, connect.NewRequest(&cloudv1.DestroyNodeRequest{Id: id, ProjectId: doomed.ID})); err != nil {
				t.Fatal(err)
			}
			f.awaitServerLog(t, "accepted the teardown and cleaning")
			deleteRefused(t, v1, doomed.ID, []string{"it still has a node"}, nil)
			var live int
			if err := s.db.NewSelect().TableExpr("nodes").ColumnExpr("COUNT(*)").
				Where("id = ?", id).Where("deleted_at IS NULL").Scan(ctx, &live); err != nil || live != 1 {
				t.Fatalf("the node being destroyed: %d live rows, %v", live, err)
			}
			s.clock.Set(s.clock.Now().Add(time.Minute))
			f.awaitServerLog(t, "deleted: the server is clean")

			// The server is clean: no node stands in the way, its usage does.
			deleteRefused(t, v1, doomed.ID, []string{"usage not billed yet"}, []string{"node"})
		})
	}

	// The month ends, its bill is charged to the card and paid.
	s.clock.Set(berlin(t, "2026-12-01 00:05"))
	if err := s.billing.Sweep(t.Context()); err != nil {
		t.Fatal(err)
	}
	v1 := s.v1(c.token)
	if _, err := v1.DeleteProject(ctx, connect.NewRequest(&cloudv1.DeleteProjectRequest{Id: doomed.ID})); err != nil {
		t.Fatalf("deleting the project once its nodes are gone and billed: %v", err)
	}
	_, err = v1.GetProject(ctx, connect.NewRequest(&cloudv1.GetProjectRequest{Id: doomed.ID}))
	testserver.WantCode(t, err, connect.CodeNotFound, "")
}

// TestDeleteProjectWithUnpaidBill: a project with a bill whose payment
// failed is not deleted; once the bill is paid (charged again to another
// default card), it is.
func TestDeleteProjectWithUnpaidBill(t *testing.T) {
	t.Parallel()
	s := startBillServer(t)
	ctx := context.Background()
	c := s.customer(t, "ada@example.com")
	visa := s.defaultCard(t, c)
	failing := s.addCard(t, c, "tok_chargeCustomerFail")
	if _, err := s.billing.ChangeDefaultCard(ctx, c.user.ID, c.profile.ID, failing.ID); err != nil {
		t.Fatal(err)
	}
	doomed, err := s.projects.Create(ctx, c.user.ID, project.CreateInput{Name: "Doomed", BillingProfileID: c.profile.ID})
	if err != nil {
		t.Fatal(err)
	}
	n := billingtest.OrderNode(t, s.db, billingtest.Order{ProjectID: doomed.ID, FlavourID: billingtest.FlavourS1, FQDN: "a.example.com", At: berlin(t, "2026-11-10 10:00")})
	billingtest.Destroy(t, s.db, n, berlin(t, "2026-11-10 11:00"))
	s.clock.Set(berlin(t, "2026-12-01 00:05"))
	if err := s.billing.Sweep(t.Context()); err != nil {
		t.Fatal(err)
	}
	bills := func() []*cloudv1.Bill {
		t.Helper()
		res, err := s.v1(c.token).ListBillingProfileBills(ctx, connect.NewRequest(&cloudv1.ListBillingProfileBillsRequest{Id: c.profile.ID}))
		if err != nil {
			t.Fatal(err)
		}
		return res.Msg.GetBills()
	}
	if b := bills(); len(b) != 1 || b[0].GetStatus() != cloudv1.BillStatus_BILL_STATUS_FAILED {
		t.Fatalf("bills %v, want one FAILED", b)
	}

	for _, proto := range cloudProtocols {
		deleteRefused(t, s.v1(c.token, proto.opts...), doomed.ID, []string{"it has 1 unpaid bill(s)"}, nil)
	}
	if b := bills(); len(b) != 1 || b[0].GetStatus() != cloudv1.BillStatus_BILL_STATUS_FAILED {
		t.Fatalf("bills after the refusals %v, want the FAILED one", b)
	}

	// Another default card, later: the bill is charged again and paid.
	s.clock.Set(s.clock.Now().Add(time.Minute))
	if _, err := s.billing.ChangeDefaultCard(ctx, c.user.ID, c.profile.ID, visa.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.billing.Sweep(t.Context()); err != nil {
		t.Fatal(err)
	}
	if b := bills(); len(b) != 1 || b[0].GetStatus() != cloudv1.BillStatus_BILL_STATUS_SUCCEEDED {
		t.Fatalf("bills after the retry %v, want it SUCCEEDED", b)
	}
	if _, err := s.v1(c.token).DeleteProject(ctx, connect.NewRequest(&cloudv1.DeleteProjectRequest{Id: doomed.ID})); err != nil {
		t.Fatalf("deleting the project once its bill is paid: %v", err)
	}
}
