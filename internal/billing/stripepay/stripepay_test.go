package stripepay_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v85"
	"github.com/stripe/stripe-go/v85/webhook"

	"github.com/gpcore/gpcore/internal/billing"
	"github.com/gpcore/gpcore/internal/billing/stripepay"
	"github.com/gpcore/gpcore/internal/catalog"
	"github.com/gpcore/gpcore/internal/identity"
	"github.com/gpcore/gpcore/internal/pagination"
	"github.com/gpcore/gpcore/internal/store"
	"github.com/gpcore/gpcore/internal/store/storetest"
)

const webhookSecret = "whsec_test_secret"

// fakeStripe is a local stand-in for the part of Stripe's API the provider
// calls, answering with the JSON Stripe documents and recording requests.
type fakeStripe struct {
	mu       sync.Mutex
	requests []string          // "METHOD /path form"
	cards    map[string]string // payment method id -> its JSON
}

func (f *fakeStripe) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer sk_test_gpcore" {
		http.Error(w, `{"error":{"type":"invalid_request_error","message":"bad key"}}`, http.StatusUnauthorized)
		return
	}
	_ = r.ParseForm()
	f.mu.Lock()
	f.requests = append(f.requests, r.Method+" "+r.URL.Path+" "+r.PostForm.Encode())
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	path := r.URL.Path
	switch {
	case r.Method == http.MethodPost && path == "/v1/customers":
		fmt.Fprint(w, `{"id":"cus_123","object":"customer"}`)
	case r.Method == http.MethodPost && path == "/v1/payment_intents":
		f.mu.Lock()
		f.requests[len(f.requests)-1] += " idempotency-key=" + r.Header.Get("Idempotency-Key")
		f.mu.Unlock()
		switch r.PostForm.Get("payment_method") {
		case "pm_fail":
			w.WriteHeader(http.StatusPaymentRequired)
			fmt.Fprint(w, `{"error":{"type":"card_error","code":"card_declined","decline_code":"insufficient_funds",
				"message":"Your card has insufficient funds.","payment_intent":{"id":"pi_fail","object":"payment_intent","status":"requires_payment_method"}}}`)
		case "pm_amex":
			fmt.Fprint(w, `{"id":"pi_processing","object":"payment_intent","status":"processing"}`)
		case "pm_3ds":
			fmt.Fprint(w, `{"id":"pi_3ds","object":"payment_intent","status":"requires_action"}`)
		default:
			fmt.Fprint(w, `{"id":"pi_ok","object":"payment_intent","status":"succeeded"}`)
		}
	case r.Method == http.MethodPost && path == "/v1/setup_intents":
		n := len(f.requests)
		fmt.Fprintf(w, `{"id":"seti_%d","object":"setup_intent","client_secret":"seti_%d_secret_abc","status":"requires_payment_method","customer":%q}`,
			n, n, r.PostForm.Get("customer"))
	case r.Method == http.MethodGet && strings.HasPrefix(path, "/v1/payment_methods/"):
		f.mu.Lock()
		card, ok := f.cards[strings.TrimPrefix(path, "/v1/payment_methods/")]
		f.mu.Unlock()
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"error":{"type":"invalid_request_error","code":"resource_missing","message":"No such PaymentMethod"}}`)
			return
		}
		fmt.Fprint(w, card)
	case r.Method == http.MethodPost && strings.HasSuffix(path, "/detach"):
		id := strings.TrimSuffix(strings.TrimPrefix(path, "/v1/payment_methods/"), "/detach")
		if id == "pm_gone" {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"error":{"type":"invalid_request_error","code":"resource_missing","message":"No such PaymentMethod"}}`)
			return
		}
		fmt.Fprintf(w, `{"id":%q,"object":"payment_method","type":"card"}`, id)
	case r.Method == http.MethodPost && strings.HasPrefix(path, "/v1/customers/"):
		fmt.Fprintf(w, `{"id":%q,"object":"customer"}`, strings.TrimPrefix(path, "/v1/customers/"))
	case r.Method == http.MethodDelete && strings.HasPrefix(path, "/v1/customers/"):
		fmt.Fprintf(w, `{"id":%q,"object":"customer","deleted":true}`, strings.TrimPrefix(path, "/v1/customers/"))
	default:
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"error":{"type":"invalid_request_error","message":"unknown path"}}`)
	}
}

// took returns the requests recorded since the last call.
func (f *fakeStripe) took() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.requests
	f.requests = nil
	return r
}

// cardJSON is a PaymentMethod of type card as Stripe returns it.
func cardJSON(id, brand, last4 string, month, year int) string {
	return fmt.Sprintf(`{"id":%q,"object":"payment_method","type":"card","customer":"cus_123",
		"card":{"brand":%q,"last4":%q,"exp_month":%d,"exp_year":%d,"three_d_secure_usage":{"supported":true}}}`,
		id, brand, last4, month, year)
}

// env is a billing service on Stripe (the fake), with its webhook served.
type env struct {
	db      *store.DB
	stripe  *fakeStripe
	billing *billing.Service
	webhook *httptest.Server
	user    identity.User
	profile billing.Profile
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db := storetest.New(t)
	if err := catalog.Seed(t.Context(), db, catalog.DefaultSeed()); err != nil {
		t.Fatal(err)
	}
	fake := &fakeStripe{cards: map[string]string{
		"pm_visa": cardJSON("pm_visa", "visa", "4242", 12, 2030),
		"pm_amex": cardJSON("pm_amex", "amex", "0005", 1, 2031),
		"pm_sepa": `{"id":"pm_sepa","object":"payment_method","type":"sepa_debit","sepa_debit":{"last4":"3000"}}`,
	}}
	api := httptest.NewServer(fake)
	t.Cleanup(api.Close)
	provider, err := stripepay.New(stripepay.Config{SecretKey: "sk_test_gpcore", APIURL: api.URL, HTTPClient: api.Client()})
	if err != nil {
		t.Fatal(err)
	}
	b, err := billing.New(db, billing.Config{Provider: provider})
	if err != nil {
		t.Fatal(err)
	}
	ids, err := identity.New(db, identity.Config{})
	if err != nil {
		t.Fatal(err)
	}
	u, err := ids.Register(t.Context(), identity.RegisterInput{Email: "ada@example.com", Password: "Correct-Horse-42", FirstName: "Ada", LastName: "Lovelace"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := b.CreateProfile(t.Context(), u.ID, billing.ProfileInput{
		Name: "Ada Lovelace", Company: "Analytical Engines GmbH", VATID: "DE123456789", CountryCode: "DE",
		Street: "Hauptstraße 1", City: "Berlin", Postcode: "10115", BillingEmail: "billing@example.com",
	})
	if err != nil {
		t.Fatal(err)
	}
	hook := httptest.NewServer(provider.WebhookHandler(webhookSecret, b, slog.New(slog.DiscardHandler)))
	t.Cleanup(hook.Close)
	return &env{db: db, stripe: fake, billing: b, webhook: hook, user: u, profile: p}
}

// event is a Stripe event of type typ about object, as JSON.
func event(typ stripe.EventType, object string) []byte {
	return fmt.Appendf(nil, `{"id":"evt_%d","object":"event","api_version":%q,"type":%q,"data":{"object":%s}}`,
		time.Now().UnixNano(), stripe.APIVersion, typ, object)
}

// send posts payload to the webhook with the Stripe-Signature header sig
// and returns the status.
func (e *env) send(t *testing.T, payload []byte, sig string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.webhook.URL, strings.NewReader(string(payload)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if sig != "" {
		req.Header.Set("Stripe-Signature", sig)
	}
	res, err := e.webhook.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	return res.StatusCode
}

// signed signs payload the way Stripe does, with secret at time at.
func signed(payload []byte, secret string, at time.Time) string {
	return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret, Timestamp: at}).Header
}

func (e *env) cards(t *testing.T) []billing.Card {
	t.Helper()
	cards, _, err := e.billing.ListCards(t.Context(), e.user.ID, e.profile.ID, pagination.Page{Number: 1, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return cards
}

// setupSucceeded is the setup_intent.succeeded event for setup id with
// payment method pm.
func setupSucceeded(id, pm string) []byte {
	return event(stripe.EventTypeSetupIntentSucceeded,
		fmt.Sprintf(`{"id":%q,"object":"setup_intent","status":"succeeded","customer":"cus_123","payment_method":%q}`, id, pm))
}

func TestStripeCardFlow(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	// AddCreditCard: a customer the first time, then a SetupIntent.
	setup, err := e.billing.BeginCardSetup(t.Context(), e.user.ID, e.profile.ID)
	if err != nil {
		t.Fatal(err)
	}
	if setup.ID != "seti_2" || setup.ClientSecret != "seti_2_secret_abc" || setup.CustomerRef != "cus_123" {
		t.Fatalf("setup = %+v", setup)
	}
	reqs := e.stripe.took()
	if len(reqs) != 2 {
		t.Fatalf("requests = %q", reqs)
	}
	customer, _ := url.ParseQuery(strings.SplitN(reqs[0], " ", 3)[2])
	intent, _ := url.ParseQuery(strings.SplitN(reqs[1], " ", 3)[2])
	if !strings.HasPrefix(reqs[0], "POST /v1/customers ") || customer.Get("email") != "billing@example.com" ||
		customer.Get("name") != "Analytical Engines GmbH" || customer.Get("metadata[gpcore_billing_profile_id]") != e.profile.ID {
		t.Errorf("customer request = %q", reqs[0])
	}
	if !strings.HasPrefix(reqs[1], "POST /v1/setup_intents ") || intent.Get("customer") != "cus_123" ||
		intent.Get("payment_method_types[0]") != "card" || intent.Get("usage") != "off_session" {
		t.Errorf("setup intent request = %q", reqs[1])
	}
	if len(e.cards(t)) != 0 {
		t.Fatal("a card appeared before Stripe confirmed it")
	}

	// Stripe confirms by webhook; the card appears and is the default.
	payload := setupSucceeded(setup.ID, "pm_visa")
	if status := e.send(t, payload, signed(payload, webhookSecret, time.Now())); status != http.StatusOK {
		t.Fatalf("webhook status %d", status)
	}
	cards := e.cards(t)
	if len(cards) != 1 || cards[0].Brand != billing.CardBrandVisa || cards[0].Last4 != "4242" || !cards[0].Default ||
		!cards[0].ExpiresAt.Equal(time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)) || !cards[0].Supports3DSecure {
		t.Fatalf("cards = %+v", cards)
	}
	reqs = e.stripe.took()
	if len(reqs) != 2 || !strings.HasPrefix(reqs[0], "GET /v1/payment_methods/pm_visa") ||
		!strings.Contains(reqs[1], url.Values{"invoice_settings[default_payment_method]": {"pm_visa"}}.Encode()) {
		t.Errorf("requests = %q, want the payment method read and made the customer's default", reqs)
	}

	// Stripe retries the event: nothing changes, and the answer is 200.
	if status := e.send(t, payload, signed(payload, webhookSecret, time.Now())); status != http.StatusOK {
		t.Fatalf("repeated webhook status %d", status)
	}
	if len(e.cards(t)) != 1 {
		t.Fatal("a repeated event added a card")
	}
	e.stripe.took()

	// A second card: the existing customer, a new SetupIntent.
	second, err := e.billing.BeginCardSetup(t.Context(), e.user.ID, e.profile.ID)
	if err != nil {
		t.Fatal(err)
	}
	if reqs := e.stripe.took(); len(reqs) != 1 || !strings.HasPrefix(reqs[0], "POST /v1/setup_intents ") {
		t.Fatalf("requests = %q, want a setup intent only", reqs)
	}
	payload = setupSucceeded(second.ID, "pm_amex")
	if status := e.send(t, payload, signed(payload, webhookSecret, time.Now())); status != http.StatusOK {
		t.Fatalf("webhook status %d", status)
	}
	cards = e.cards(t)
	if len(cards) != 2 || cards[1].Brand != billing.CardBrandAmex || cards[1].Default {
		t.Fatalf("cards = %+v", cards)
	}
	e.stripe.took()

	// The default moves at Stripe too.
	if _, err := e.billing.ChangeDefaultCard(t.Context(), e.user.ID, e.profile.ID, cards[1].ID); err != nil {
		t.Fatal(err)
	}
	reqs = e.stripe.took()
	if len(reqs) != 1 || !strings.HasPrefix(reqs[0], "POST /v1/customers/cus_123 ") ||
		!strings.Contains(reqs[0], url.Values{"invoice_settings[default_payment_method]": {"pm_amex"}}.Encode()) {
		t.Fatalf("requests = %q, want the customer's default payment method set", reqs)
	}

	// Removing the default card detaches it and moves the default to the
	// remaining card, at Stripe too.
	if err := e.billing.RemoveCard(t.Context(), e.user.ID, e.profile.ID, cards[1].ID); err != nil {
		t.Fatal(err)
	}
	reqs = e.stripe.took()
	if len(reqs) != 2 || !strings.HasPrefix(reqs[0], "POST /v1/payment_methods/pm_amex/detach ") ||
		!strings.Contains(reqs[1], url.Values{"invoice_settings[default_payment_method]": {"pm_visa"}}.Encode()) {
		t.Fatalf("requests = %q", reqs)
	}

	// A card detached in Stripe's dashboard disappears.
	payload = event(stripe.EventTypePaymentMethodDetached, cardJSON("pm_visa", "visa", "4242", 12, 2030))
	if status := e.send(t, payload, signed(payload, webhookSecret, time.Now())); status != http.StatusOK {
		t.Fatalf("webhook status %d", status)
	}
	if cards := e.cards(t); len(cards) != 0 {
		t.Fatalf("cards after detachment = %+v", cards)
	}

	// Deleting the profile deletes the customer.
	e.stripe.took()
	if err := e.billing.DeleteProfile(t.Context(), e.user.ID, e.profile.ID); err != nil {
		t.Fatal(err)
	}
	if reqs := e.stripe.took(); len(reqs) != 1 || !strings.HasPrefix(reqs[0], "DELETE /v1/customers/cus_123") {
		t.Fatalf("requests = %q, want the customer deleted", reqs)
	}
}

// TestSwitchFromTestProvider moves an installation from the test provider
// to Stripe: a profile's test customer is not Stripe's, so the first Stripe
// setup makes a Stripe customer, and the test card stays without Stripe
// being asked about it.
func TestSwitchFromTestProvider(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	before, err := billing.New(e.db, billing.Config{})
	if err != nil {
		t.Fatal(err)
	}
	setup, err := before.BeginCardSetup(t.Context(), e.user.ID, e.profile.ID)
	if err != nil {
		t.Fatal(err)
	}
	testCard, err := before.ConfirmTestCard(t.Context(), setup.ClientSecret, "tok_visa")
	if err != nil {
		t.Fatal(err)
	}
	e.stripe.took()

	stripeSetup, err := e.billing.BeginCardSetup(t.Context(), e.user.ID, e.profile.ID)
	if err != nil {
		t.Fatal(err)
	}
	if reqs := e.stripe.took(); len(reqs) != 2 || !strings.HasPrefix(reqs[0], "POST /v1/customers ") || stripeSetup.CustomerRef != "cus_123" {
		t.Fatalf("requests = %q, setup %+v: want a new Stripe customer", reqs, stripeSetup)
	}
	payload := setupSucceeded(stripeSetup.ID, "pm_amex")
	if status := e.send(t, payload, signed(payload, webhookSecret, time.Now())); status != http.StatusOK {
		t.Fatalf("webhook status %d", status)
	}
	cards := e.cards(t)
	if len(cards) != 2 || !cards[0].Default {
		t.Fatalf("cards = %+v", cards)
	}
	e.stripe.took()
	if err := e.billing.RemoveCard(t.Context(), e.user.ID, e.profile.ID, testCard.ID); err != nil {
		t.Fatal(err)
	}
	reqs := e.stripe.took()
	if len(reqs) != 1 || !strings.Contains(reqs[0], url.Values{"invoice_settings[default_payment_method]": {"pm_amex"}}.Encode()) {
		t.Fatalf("requests = %q: want only the Stripe card made the default", reqs)
	}
}

func TestWebhookSignatures(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	setup, err := e.billing.BeginCardSetup(t.Context(), e.user.ID, e.profile.ID)
	if err != nil {
		t.Fatal(err)
	}
	payload := setupSucceeded(setup.ID, "pm_visa")
	tampered := setupSucceeded(setup.ID, "pm_amex")
	oldVersion := []byte(strings.Replace(string(payload), stripe.APIVersion, "2020-08-27", 1))
	refused := []struct {
		name    string
		payload []byte
		sig     string
	}{
		{"no signature", payload, ""},
		{"garbage header", payload, "nonsense"},
		{"wrong secret", payload, signed(payload, "whsec_other", time.Now())},
		{"tampered body", tampered, signed(payload, webhookSecret, time.Now())},
		{"too old", payload, signed(payload, webhookSecret, time.Now().Add(-10*time.Minute))},
		{"other API version", oldVersion, signed(oldVersion, webhookSecret, time.Now())},
	}
	for _, tt := range refused {
		if status := e.send(t, tt.payload, tt.sig); status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", tt.name, status)
		}
	}
	if len(e.cards(t)) != 0 {
		t.Fatal("a refused event added a card")
	}

	accepted := []struct {
		name    string
		payload []byte
	}{
		{"event type not handled", event("customer.created", `{"id":"cus_123","object":"customer"}`)},
		{"unknown setup intent", setupSucceeded("seti_elsewhere", "pm_visa")},
		{"not a card", setupSucceeded(setup.ID, "pm_sepa")},
	}
	for _, tt := range accepted {
		if status := e.send(t, tt.payload, signed(tt.payload, webhookSecret, time.Now())); status != http.StatusOK {
			t.Errorf("%s: status %d, want 200", tt.name, status)
		}
	}
	if len(e.cards(t)) != 0 {
		t.Fatal("an ignored event added a card")
	}

	// Stripe cannot be read: 500, so that Stripe retries; then it works.
	missing := setupSucceeded(setup.ID, "pm_unknown")
	if status := e.send(t, missing, signed(missing, webhookSecret, time.Now())); status != http.StatusInternalServerError {
		t.Errorf("unreadable payment method: status %d, want 500", status)
	}
	if status := e.send(t, payload, signed(payload, webhookSecret, time.Now())); status != http.StatusOK {
		t.Fatalf("valid event: status %d", status)
	}
	if len(e.cards(t)) != 1 {
		t.Fatal("the valid event added no card")
	}

	res, err := e.webhook.Client().Get(e.webhook.URL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: status %d", res.StatusCode)
	}
}

func TestProviderErrors(t *testing.T) {
	t.Parallel()
	api := httptest.NewServer(&fakeStripe{})
	t.Cleanup(api.Close)
	p, err := stripepay.New(stripepay.Config{SecretKey: "sk_test_gpcore", APIURL: api.URL})
	if err != nil {
		t.Fatal(err)
	}
	// A payment method Stripe no longer has counts as removed.
	if err := p.RemoveCard(t.Context(), "pm_gone"); err != nil {
		t.Errorf("RemoveCard(gone) = %v", err)
	}
	wrongKey, err := stripepay.New(stripepay.Config{SecretKey: "sk_test_wrong", APIURL: api.URL})
	if err != nil {
		t.Fatal(err)
	}
	if err := wrongKey.RemoveCard(t.Context(), "pm_visa"); err == nil {
		t.Error("RemoveCard with a wrong key succeeded")
	}
	if _, err := wrongKey.BeginCardSetup(t.Context(), billing.Payer{ProfileID: "p", Name: "n", Email: "e@example.com"}); err == nil {
		t.Error("BeginCardSetup with a wrong key succeeded")
	}
	if _, err := stripepay.New(stripepay.Config{}); err == nil {
		t.Error("New without a key succeeded")
	}
}
