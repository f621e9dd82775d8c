package billing_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gpcore/gpcore/internal/billing"
	"github.com/gpcore/gpcore/internal/fault"
)

func TestTestProviderTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t, billing.Config{})
	ada := e.person(t, "ada@example.com")
	p := e.profile(t, ada.ID, company())
	accepted := []struct {
		token string
		brand billing.CardBrand
		last4 string
	}{
		{"tok_visa", billing.CardBrandVisa, "4242"},
		{"tok_visa_debit", billing.CardBrandVisa, "5556"},
		{"tok_mastercard", billing.CardBrandMastercard, "4444"},
		{"tok_mastercard_debit", billing.CardBrandMastercard, "8210"},
		{"tok_amex", billing.CardBrandAmex, "8431"},
		{"tok_discover", billing.CardBrandDiscover, "1117"},
		{"tok_diners", billing.CardBrandDinersClub, "0004"},
		{"tok_jcb", billing.CardBrandJCB, "0505"},
	}
	for i, tt := range accepted {
		c := e.card(t, ada.ID, p.ID, tt.token)
		wantExpiry := time.Date(2029, 1, 1, 0, 0, 0, 0, time.UTC) // end of December 2028
		if c.Brand != tt.brand || c.Last4 != tt.last4 || !c.ExpiresAt.Equal(wantExpiry) || !c.Valid ||
			!c.Supports3DSecure || c.Default != (i == 0) || c.ProfileID != p.ID {
			t.Errorf("%s: card = %+v", tt.token, c)
		}
	}
	cards, total, err := e.billing.ListCards(t.Context(), ada.ID, p.ID, page(1, 100))
	if err != nil || total != int64(len(accepted)) {
		t.Fatalf("ListCards = %d cards, %v", total, err)
	}
	for i, c := range cards {
		if c.Last4 != accepted[i].last4 {
			t.Errorf("card %d ends %s, want %s (oldest first)", i, c.Last4, accepted[i].last4)
		}
	}

	refused := []struct {
		token string
		kind  fault.Kind
		text  string
	}{
		{"tok_chargeDeclined", fault.KindFailedPrecondition, "card_declined"},
		{"tok_chargeDeclinedInsufficientFunds", fault.KindFailedPrecondition, "insufficient_funds"},
		{"tok_chargeDeclinedExpiredCard", fault.KindFailedPrecondition, "expired_card"},
		{"tok_nonsense", fault.KindInvalidArgument, "not a test card token"},
		{"4242424242424242", fault.KindInvalidArgument, "not a test card token"},
	}
	for _, tt := range refused {
		setup, err := e.billing.BeginCardSetup(t.Context(), ada.ID, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.billing.ConfirmTestCard(t.Context(), setup.ClientSecret, tt.token)
		wantFault(t, err, tt.kind, "payment_method", tt.text)
		// The setup is still open: a good card completes it.
		if _, err := e.billing.ConfirmTestCard(t.Context(), setup.ClientSecret, "tok_visa"); err != nil {
			t.Fatalf("retry with tok_visa after %s: %v", tt.token, err)
		}
	}

	setup, err := e.billing.BeginCardSetup(t.Context(), ada.ID, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.billing.ConfirmTestCard(t.Context(), setup.ClientSecret, "tok_visa"); err != nil {
		t.Fatal(err)
	}
	_, err = e.billing.ConfirmTestCard(t.Context(), setup.ClientSecret, "tok_visa")
	wantFault(t, err, fault.KindNotFound, "", "not found") // used up
}

func TestBeginCardSetup(t *testing.T) {
	t.Parallel()
	e := newEnv(t, billing.Config{})
	ada := e.person(t, "ada@example.com")
	bob := e.person(t, "bob@example.com")
	p := e.profile(t, ada.ID, company())
	a, err := e.billing.BeginCardSetup(t.Context(), ada.ID, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.billing.BeginCardSetup(t.Context(), ada.ID, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(a.ID, "seti_test_") || a.ClientSecret != a.ID || a.ID == b.ID || a.CustomerRef == "" || a.CustomerRef != b.CustomerRef {
		t.Fatalf("setups = %+v, %+v: want distinct ids for one customer", a, b)
	}
	_, err = e.billing.BeginCardSetup(t.Context(), bob.ID, p.ID)
	wantFault(t, err, fault.KindNotFound, "", "not found")

	// A setup older than a week is dropped when the profile begins another.
	e.clock.Add(8 * 24 * time.Hour)
	if _, err := e.billing.BeginCardSetup(t.Context(), ada.ID, p.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.billing.ConfirmTestCard(t.Context(), a.ID, "tok_visa")
	wantFault(t, err, fault.KindNotFound, "", "not found")
}

func TestChangeDefaultAndRemoveCard(t *testing.T) {
	t.Parallel()
	e := newEnv(t, billing.Config{})
	ada := e.person(t, "ada@example.com")
	bob := e.person(t, "bob@example.com")
	p := e.profile(t, ada.ID, company())
	visa := e.card(t, ada.ID, p.ID, "tok_visa")
	mc := e.card(t, ada.ID, p.ID, "tok_mastercard")
	amex := e.card(t, ada.ID, p.ID, "tok_amex")
	defaults := func() []string {
		t.Helper()
		cards, _, err := e.billing.ListCards(t.Context(), ada.ID, p.ID, page(1, 100))
		if err != nil {
			t.Fatal(err)
		}
		var d []string
		for _, c := range cards {
			if c.Default {
				d = append(d, c.ID)
			}
		}
		return d
	}
	if d := defaults(); len(d) != 1 || d[0] != visa.ID {
		t.Fatalf("default cards = %v, want the first card %s", d, visa.ID)
	}

	c, err := e.billing.ChangeDefaultCard(t.Context(), ada.ID, p.ID, mc.ID)
	if err != nil || !c.Default || c.ID != mc.ID {
		t.Fatalf("ChangeDefaultCard = %+v, %v", c, err)
	}
	if d := defaults(); len(d) != 1 || d[0] != mc.ID {
		t.Fatalf("default cards = %v, want %s", d, mc.ID)
	}
	_, err = e.billing.ChangeDefaultCard(t.Context(), bob.ID, p.ID, visa.ID)
	wantFault(t, err, fault.KindNotFound, "", "billing profile")
	other := e.profile(t, ada.ID, company())
	_, err = e.billing.ChangeDefaultCard(t.Context(), ada.ID, other.ID, visa.ID)
	wantFault(t, err, fault.KindNotFound, "", "credit card")

	// Removing the default card makes the newest remaining one the default.
	if err := e.billing.RemoveCard(t.Context(), ada.ID, p.ID, mc.ID); err != nil {
		t.Fatal(err)
	}
	if d := defaults(); len(d) != 1 || d[0] != amex.ID {
		t.Fatalf("default cards after removal = %v, want the newest %s", d, amex.ID)
	}
	err = e.billing.RemoveCard(t.Context(), bob.ID, p.ID, amex.ID)
	wantFault(t, err, fault.KindNotFound, "", "billing profile")
	err = e.billing.RemoveCard(t.Context(), ada.ID, p.ID, mc.ID)
	wantFault(t, err, fault.KindNotFound, "", "credit card")

	// The last card of a profile a project uses stays.
	if err := e.billing.RemoveCard(t.Context(), ada.ID, p.ID, visa.ID); err != nil {
		t.Fatal(err)
	}
	e.project(t, ada.ID, "Shop", p.ID)
	err = e.billing.RemoveCard(t.Context(), ada.ID, p.ID, amex.ID)
	wantFault(t, err, fault.KindFailedPrecondition, "", "last credit card")
	e.card(t, ada.ID, p.ID, "tok_jcb")
	if err := e.billing.RemoveCard(t.Context(), ada.ID, p.ID, amex.ID); err != nil {
		t.Fatalf("RemoveCard with another card left: %v", err)
	}
	if d := defaults(); len(d) != 1 {
		t.Fatalf("default cards = %v, want the JCB", d)
	}

	// The provider reporting a card removed on its side removes it here.
	jcb, _, _ := e.billing.ListCards(t.Context(), ada.ID, p.ID, page(1, 100))
	var ref string
	if err := e.db.NewSelect().TableExpr("credit_cards").Column("provider_ref").Where("id = ?", jcb[0].ID).Scan(t.Context(), &ref); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second report finds nothing, and that is fine
		if err := e.billing.CardRemovedAtProvider(t.Context(), billing.TestProviderName, ref); err != nil {
			t.Fatal(err)
		}
	}
	if cards, total, _ := e.billing.ListCards(t.Context(), ada.ID, p.ID, page(1, 100)); total != 0 {
		t.Fatalf("cards after the provider removed the last = %+v", cards)
	}
}

func TestConcurrentCardSetupsHaveOneDefault(t *testing.T) {
	t.Parallel()
	e := newEnv(t, billing.Config{})
	ada := e.person(t, "ada@example.com")
	p := e.profile(t, ada.ID, company())
	const n = 8
	setups := make([]string, n)
	for i := range setups {
		s, err := e.billing.BeginCardSetup(t.Context(), ada.ID, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		setups[i] = s.ClientSecret
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for _, s := range setups {
		wg.Go(func() {
			_, err := e.billing.ConfirmTestCard(t.Context(), s, "tok_visa")
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	cards, _, _ := e.billing.ListCards(t.Context(), ada.ID, p.ID, page(1, 100))
	defaults := 0
	for _, c := range cards {
		if c.Default {
			defaults++
		}
	}
	if len(cards) != n || defaults != 1 {
		t.Fatalf("%d cards with %d defaults, want %d with 1", len(cards), defaults, n)
	}
}

func TestTestConfirmHandler(t *testing.T) {
	t.Parallel()
	e := newEnv(t, billing.Config{})
	ada := e.person(t, "ada@example.com")
	p := e.profile(t, ada.ID, company())
	srv := httptest.NewServer(billing.TestConfirmHandler(e.billing))
	t.Cleanup(srv.Close)
	setup, err := e.billing.BeginCardSetup(t.Context(), ada.ID, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	post := func(form url.Values) int {
		t.Helper()
		res, err := http.PostForm(srv.URL, form)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		return res.StatusCode
	}
	tests := []struct {
		name string
		form url.Values
		want int
	}{
		{"missing token", url.Values{"setup_intent": {setup.ClientSecret}}, http.StatusBadRequest},
		{"unknown token", url.Values{"setup_intent": {setup.ClientSecret}, "payment_method": {"tok_x"}}, http.StatusBadRequest},
		{"unknown setup", url.Values{"setup_intent": {"seti_test_nope"}, "payment_method": {"tok_visa"}}, http.StatusNotFound},
		{"declined", url.Values{"setup_intent": {setup.ClientSecret}, "payment_method": {"tok_chargeDeclined"}}, http.StatusPaymentRequired},
		{"accepted", url.Values{"setup_intent": {setup.ClientSecret}, "payment_method": {"tok_visa"}}, http.StatusOK},
		{"used up", url.Values{"setup_intent": {setup.ClientSecret}, "payment_method": {"tok_visa"}}, http.StatusNotFound},
	}
	for _, tt := range tests {
		if got := post(tt.form); got != tt.want {
			t.Errorf("%s: status %d, want %d", tt.name, got, tt.want)
		}
	}
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: status %d", res.StatusCode)
	}
	if _, total, _ := e.billing.ListCards(t.Context(), ada.ID, p.ID, page(1, 10)); total != 1 {
		t.Errorf("%d cards, want the one accepted", total)
	}
}
