package stripepay_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v85"

	"github.com/gpcore/gpcore/internal/billing"
	"github.com/gpcore/gpcore/internal/billing/billingtest"
	"github.com/gpcore/gpcore/internal/billing/stripepay"
	"github.com/gpcore/gpcore/internal/catalog"
	"github.com/gpcore/gpcore/internal/pagination"
	"github.com/gpcore/gpcore/internal/project"
)

func TestCharge(t *testing.T) {
	t.Parallel()
	fake := &fakeStripe{}
	api := httptest.NewServer(fake)
	t.Cleanup(api.Close)
	p, err := stripepay.New(stripepay.Config{SecretKey: "sk_test_gpcore", APIURL: api.URL, HTTPClient: api.Client()})
	if err != nil {
		t.Fatal(err)
	}
	charge := billing.Charge{CustomerRef: "cus_123", Amount: 31589, Currency: catalog.EUR, Key: "gpcore-bill-b1-1", Description: "Bill 000001"}
	for _, tc := range []struct {
		card string
		want billing.ChargeResult
	}{
		{"pm_visa", billing.ChargeResult{Ref: "pi_ok", Outcome: billing.ChargeSucceeded}},
		{"pm_amex", billing.ChargeResult{Ref: "pi_processing", Outcome: billing.ChargePending}},
		{"pm_fail", billing.ChargeResult{Ref: "pi_fail", Outcome: billing.ChargeDeclined, Reason: "insufficient_funds: Your card has insufficient funds."}},
		{"pm_3ds", billing.ChargeResult{Ref: "pi_3ds", Outcome: billing.ChargeDeclined, Reason: "the payment needs the card holder (requires_action)"}},
	} {
		charge.CardRef = tc.card
		got, err := p.Charge(t.Context(), charge)
		if err != nil || got != tc.want {
			t.Errorf("Charge(%s) = %+v, %v; want %+v", tc.card, got, err, tc.want)
		}
		reqs := fake.took()
		if len(reqs) != 1 {
			t.Fatalf("requests %q", reqs)
		}
		form, _ := url.ParseQuery(strings.SplitN(strings.SplitN(reqs[0], " ", 3)[2], " idempotency-key=", 2)[0])
		if !strings.HasPrefix(reqs[0], "POST /v1/payment_intents ") || !strings.HasSuffix(reqs[0], " idempotency-key=gpcore-bill-b1-1") ||
			form.Get("amount") != "31589" || form.Get("currency") != "eur" || form.Get("customer") != "cus_123" ||
			form.Get("payment_method") != tc.card || form.Get("confirm") != "true" || form.Get("off_session") != "true" ||
			form.Get("metadata[gpcore_payment]") != "gpcore-bill-b1-1" {
			t.Errorf("request %q", reqs[0])
		}
	}
	// Stripe unreachable: an error, for a later try.
	api.Close()
	if _, err := p.Charge(t.Context(), charge); err == nil {
		t.Error("a charge without Stripe succeeded")
	}
}

// TestBillSettledByWebhook charges a bill to a card Stripe processes, and
// settles it by the payment_intent.succeeded event.
func TestBillSettledByWebhook(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	setup, err := e.billing.BeginCardSetup(t.Context(), e.user.ID, e.profile.ID)
	if err != nil {
		t.Fatal(err)
	}
	payload := setupSucceeded(setup.ID, "pm_amex")
	if status := e.send(t, payload, signed(payload, webhookSecret, time.Now())); status != http.StatusOK {
		t.Fatalf("webhook status %d", status)
	}
	projects, err := project.New(e.db, project.Config{Billing: e.billing})
	if err != nil {
		t.Fatal(err)
	}
	pr, err := projects.Create(t.Context(), e.user.ID, project.CreateInput{Name: "Shop", BillingProfileID: e.profile.ID})
	if err != nil {
		t.Fatal(err)
	}
	// A node that ran 40 days ago: its month has ended whatever the zone.
	start := time.Now().Add(-40 * 24 * time.Hour)
	n := billingtest.OrderNode(t, e.db, billingtest.Order{ProjectID: pr.ID, FlavourID: billingtest.FlavourS1, FQDN: "a.example.com", At: start})
	billingtest.Destroy(t, e.db, n, start.Add(30*time.Minute))
	e.stripe.took()
	if err := e.billing.Sweep(t.Context()); err != nil {
		t.Fatal(err)
	}
	bills := func() []billing.Bill {
		l, err := e.billing.ListBills(t.Context(), e.user.ID, e.profile.ID, 0, pagination.Page{Number: 1, Limit: 10})
		if err != nil || len(l.Bills) != 1 {
			t.Fatalf("bills %+v, %v", l, err)
		}
		return l.Bills
	}
	if b := bills()[0]; b.Status != billing.BillPending {
		t.Fatalf("bill %+v, want it pending while Stripe processes", b)
	}
	// Another payment's events change nothing; this one's settles the bill.
	for _, ev := range [][]byte{
		event(stripe.EventTypePaymentIntentPaymentFailed, `{"id":"pi_other","object":"payment_intent","status":"requires_payment_method"}`),
		event(stripe.EventTypePaymentIntentSucceeded, `{"id":"pi_processing","object":"payment_intent","status":"succeeded"}`),
	} {
		if status := e.send(t, ev, signed(ev, webhookSecret, time.Now())); status != http.StatusOK {
			t.Fatalf("webhook status %d", status)
		}
	}
	if b := bills()[0]; b.Status != billing.BillSucceeded {
		t.Fatalf("bill %+v, want it paid", b)
	}
}
