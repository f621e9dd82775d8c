package cloudv1_test

import (
	"context"
	"testing"
	"time"

	"connectrpc.com/connect"

	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	"github.com/gpcore/gpcore/internal/billing/billingtest"
	"github.com/gpcore/gpcore/internal/identity"
	"github.com/gpcore/gpcore/internal/testserver"
)

// TestUpdateProjectCreditCard: UpdateProject's credit_card_id has the
// project's bills charged to that card of its billing profile, which
// becomes the profile's default card: a bill that failed on the old card is
// charged to it and paid. A card that is not the project's profile's, or
// that the caller may not use, is NotFound naming credit_card_id, and the
// refusal changes nothing.
func TestUpdateProjectCreditCard(t *testing.T) {
	t.Parallel()
	s := startBillServer(t)
	ctx := context.Background()
	c := s.customer(t, "ada@example.com")
	visa := s.defaultCard(t, c)
	failing := s.addCard(t, c, "tok_chargeCustomerFail")
	update := func(token string, req *cloudv1.UpdateProjectRequest, opts ...connect.ClientOption) error {
		if req.Id == "" {
			req.Id = c.project.ID
		}
		_, err := s.v1(token, opts...).UpdateProject(ctx, connect.NewRequest(req))
		return err
	}
	if err := update(c.token, &cloudv1.UpdateProjectRequest{CreditCardId: failing.ID}, connect.WithGRPC()); err != nil {
		t.Fatalf("UpdateProject credit_card_id: %v", err)
	}
	if got := s.defaultCard(t, c); got.ID != failing.ID {
		t.Fatalf("the card charged = %s, want %s", got.ID, failing.ID)
	}
	logs := projectLogs(t, s.v1(c.token), &cloudv1.ListProjectLogsRequest{Id: c.project.ID})
	if m := logs.GetLogs()[0].GetMessage(); m != "changed the credit card to VISA ending 0341" {
		t.Fatalf("newest log entry %q", m)
	}

	// The month's bill fails on that card; naming the other one charges it again.
	n := billingtest.OrderNode(t, s.db, billingtest.Order{ProjectID: c.project.ID, FlavourID: billingtest.FlavourS1, FQDN: "a.example.com", At: berlin(t, "2026-11-10 10:00")})
	billingtest.Destroy(t, s.db, n, berlin(t, "2026-11-10 11:00"))
	s.clock.Set(berlin(t, "2026-12-01 00:05"))
	if err := s.billing.Sweep(t.Context()); err != nil {
		t.Fatal(err)
	}
	status := func() cloudv1.BillStatus {
		t.Helper()
		res, err := s.v1(c.token).ListBillingProfileBills(ctx, connect.NewRequest(&cloudv1.ListBillingProfileBillsRequest{Id: c.profile.ID}))
		if err != nil || len(res.Msg.GetBills()) != 1 {
			t.Fatalf("bills %v, %v", res, err)
		}
		return res.Msg.GetBills()[0].GetStatus()
	}
	if got := status(); got != cloudv1.BillStatus_BILL_STATUS_FAILED {
		t.Fatalf("bill %v, want FAILED", got)
	}

	// Refusals, over both protocols: nothing changes.
	eve := s.customer(t, "eve@example.com")
	eves := s.defaultCard(t, eve)
	member, err := s.identity.Register(ctx, identity.RegisterInput{Email: "member@example.com", Password: "Correct-Horse-42", FirstName: "Mem", LastName: "Ber"})
	if err != nil {
		t.Fatal(err)
	}
	memberToken, err := s.issuer.IssueForUser(ctx, member)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.projects.Invite(ctx, c.user.ID, c.project.ID, member.Email); err != nil {
		t.Fatal(err)
	}
	if err := s.projects.Join(ctx, member.ID, c.project.ID, true); err != nil {
		t.Fatal(err)
	}
	for _, proto := range cloudProtocols {
		for _, tc := range []struct {
			name  string
			token string
			req   *cloudv1.UpdateProjectRequest
			field string
		}{
			{"another user's card", c.token, &cloudv1.UpdateProjectRequest{Name: "Renamed", CreditCardId: eves.ID}, "credit_card_id"},
			{"an unknown card", c.token, &cloudv1.UpdateProjectRequest{CreditCardId: "6a0c1a3e-39a4-4d16-9d4e-2d0f0b7c2f11"}, "credit_card_id"},
			{"a member, not the profile's owner", memberToken.AccessToken, &cloudv1.UpdateProjectRequest{CreditCardId: visa.ID}, "credit_card_id"},
			{"the card of another profile", c.token, &cloudv1.UpdateProjectRequest{BillingAddressId: eve.profile.ID, CreditCardId: eves.ID}, "billing_address_id"},
			{"another user changing their own project to this card", eve.token, &cloudv1.UpdateProjectRequest{Id: eve.project.ID, CreditCardId: visa.ID}, "credit_card_id"},
		} {
			err := update(tc.token, tc.req, proto.opts...)
			testserver.WantCode(t, err, connect.CodeNotFound, tc.field)
		}
	}
	if got := s.defaultCard(t, c); got.ID != failing.ID {
		t.Fatalf("after the refusals the card charged = %s, want %s", got.ID, failing.ID)
	}
	if got := s.defaultCard(t, eve); got.ID != eves.ID {
		t.Fatalf("after the refusals eve's card = %s, want %s", got.ID, eves.ID)
	}
	if p := getProject(t, s.v1(c.token), c.project.ID); p.GetName() != c.project.Name || p.GetBillingProfile().GetId() != c.profile.ID {
		t.Fatalf("after the refusals the project is %v", p)
	}

	s.clock.Set(s.clock.Now().Add(time.Minute))
	if err := update(c.token, &cloudv1.UpdateProjectRequest{CreditCardId: visa.ID}); err != nil {
		t.Fatal(err)
	}
	if err := s.billing.Sweep(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := status(); got != cloudv1.BillStatus_BILL_STATUS_SUCCEEDED {
		t.Fatalf("bill after naming the good card %v, want SUCCEEDED", got)
	}
}
