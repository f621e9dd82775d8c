package testserver

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"connectrpc.com/connect"

	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	paymentv1 "github.com/gpcore/gpcore/gen/gpcore/api/payment/v1"
	"github.com/gpcore/gpcore/gen/gpcore/api/payment/v1/paymentv1connect"
)

// BilledProject creates a project for u that may order nodes (no project
// lock): it is billed to a new billing profile of a US company with a card
// (PayingProfile).
func (s *Server) BilledProject(t testing.TB, u User, name string) *cloudv1.Project {
	t.Helper()
	company := "Example Inc."
	profile := s.PayingProfile(t, u, &paymentv1.CreateBillingProfileRequest{
		Name: "Ops", Company: &company, CountryCode: "US", Street: "1 Main St", City: "Springfield",
		Postcode: "12345", BillingEmail: "billing@example.com",
	})
	p, err := s.Cloud(u.Token).CreateProject(context.Background(), connect.NewRequest(&cloudv1.CreateProjectRequest{Name: name, BillingAddressId: profile.GetId()}))
	if err != nil {
		t.Fatalf("create project %q: %v", name, err)
	}
	return p.Msg.GetProject()
}

// PayingProfile creates the billing profile req for u with a default card,
// both made the way the panel makes them: through PaymentService and the
// built-in test payment provider's confirmation (POST /payment/test/confirm)
// of the test card tok_visa.
func (s *Server) PayingProfile(t testing.TB, u User, req *paymentv1.CreateBillingProfileRequest) *cloudv1.BillingProfile {
	t.Helper()
	ctx := context.Background()
	pay := paymentv1connect.NewPaymentServiceClient(H2CClient(), s.URL, ClientOptions(u.Token)...)
	profile, err := pay.CreateBillingProfile(ctx, connect.NewRequest(req))
	if err != nil {
		t.Fatalf("create billing profile: %v", err)
	}
	profileID := profile.Msg.GetBillingProfile().GetId()
	setup, err := pay.AddCreditCard(ctx, connect.NewRequest(&paymentv1.AddCreditCardRequest{BillingProfileId: profileID}))
	if err != nil {
		t.Fatalf("add credit card: %v", err)
	}
	res, err := http.PostForm(s.URL+"/payment/test/confirm", url.Values{
		"setup_intent": {setup.Msg.GetStripeSetupIdent()}, "payment_method": {"tok_visa"},
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("confirm the test card: %s", res.Status)
	}
	return profile.Msg.GetBillingProfile()
}
