package billing

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/gpcore/gpcore/internal/fault"
)

// TestProviderName is the built-in test provider's Name.
const TestProviderName = "test"

// TestProvider is the embedded default payment provider: nothing is charged
// and no network is needed, so an installation can be tried out and tested
// end to end. It keeps no state of its own; gpcore's tables are the whole
// truth, so SetDefaultCard, RemoveCard and RemoveCustomer have nothing to do.
//
// A setup's identifier, returned by AddCreditCard, is also its client
// secret: 130 random bits that only the caller of AddCreditCard learns.
// ConfirmTestCard (over HTTP, TestConfirmHandler) completes it with one of
// the test card tokens, named after Stripe's test tokens:
//
//	token                                  result
//	tok_visa                               VISA ending 4242
//	tok_visa_debit                         VISA ending 5556
//	tok_mastercard                         MASTERCARD ending 4444
//	tok_mastercard_debit                   MASTERCARD ending 8210
//	tok_amex                               AMEX ending 8431
//	tok_discover                           DISCOVER ending 1117
//	tok_diners                             DINERS_CLUB ending 0004
//	tok_jcb                                JCB ending 0505
//	tok_chargeCustomerFail                 VISA ending 0341: added, but every
//	                                       charge is declined (card_declined)
//	tok_chargeDeclined                     declined: card_declined
//	tok_chargeDeclinedInsufficientFunds    declined: insufficient_funds
//	tok_chargeDeclinedExpiredCard          declined: expired_card
//
// Accepted cards support 3-D Secure and expire at the end of December three
// years after the year they are added in. A declined token is
// FailedPrecondition naming the field "payment_method", any other token
// InvalidArgument.
//
// Charge succeeds on every accepted card but tok_chargeCustomerFail's,
// which it declines: bills charged to it fail, as with Stripe's test card
// of that name. The payment's reference is derived from the charge's key,
// so a repeated charge answers the same.
type TestProvider struct{}

// Name implements Provider.
func (TestProvider) Name() string { return TestProviderName }

// BeginCardSetup implements Provider with a random setup id that is its own
// client secret, and a random customer the first time.
func (TestProvider) BeginCardSetup(_ context.Context, payer Payer) (CardSetup, error) {
	id := "seti_test_" + rand.Text()
	customer := payer.CustomerRef
	if customer == "" {
		customer = "cus_test_" + rand.Text()
	}
	return CardSetup{ID: id, ClientSecret: id, CustomerRef: customer}, nil
}

// SetDefaultCard implements Provider; the test provider charges nothing.
func (TestProvider) SetDefaultCard(context.Context, string, string) error { return nil }

// RemoveCard implements Provider; the test provider holds no cards.
func (TestProvider) RemoveCard(context.Context, string) error { return nil }

// RemoveCustomer implements Provider; the test provider holds no customers.
func (TestProvider) RemoveCustomer(context.Context, string) error { return nil }

// Charge implements Provider: succeeded, or declined for a card of the token
// tok_chargeCustomerFail.
func (TestProvider) Charge(_ context.Context, c Charge) (ChargeResult, error) {
	ref := "pay_test_" + c.Key
	if strings.HasPrefix(c.CardRef, testFailingCardPrefix) {
		return ChargeResult{Ref: ref, Outcome: ChargeDeclined, Reason: "card_declined (test card tok_chargeCustomerFail)"}, nil
	}
	return ChargeResult{Ref: ref, Outcome: ChargeSucceeded}, nil
}

// testFailingCardPrefix starts the references of the cards whose charges
// the test provider declines.
const testFailingCardPrefix = "card_test_chargefail_"

// testCard is an accepted test token's card.
type testCard struct {
	brand CardBrand
	last4 string
	// failsCharges makes the card's charges be declined.
	failsCharges bool
}

// testCards are the accepted test tokens (see TestProvider).
var testCards = map[string]testCard{
	"tok_visa":               {CardBrandVisa, "4242", false},
	"tok_visa_debit":         {CardBrandVisa, "5556", false},
	"tok_mastercard":         {CardBrandMastercard, "4444", false},
	"tok_mastercard_debit":   {CardBrandMastercard, "8210", false},
	"tok_amex":               {CardBrandAmex, "8431", false},
	"tok_discover":           {CardBrandDiscover, "1117", false},
	"tok_diners":             {CardBrandDinersClub, "0004", false},
	"tok_jcb":                {CardBrandJCB, "0505", false},
	"tok_chargeCustomerFail": {CardBrandVisa, "0341", true},
}

// testDeclines are the declining test tokens and their decline codes.
var testDeclines = map[string]string{
	"tok_chargeDeclined":                  "card_declined",
	"tok_chargeDeclinedInsufficientFunds": "insufficient_funds",
	"tok_chargeDeclinedExpiredCard":       "expired_card",
}

// testCardsValidYears is how many years after the year it is added in an
// accepted test card expires (at the end of December).
const testCardsValidYears = 3

// ConfirmTestCard completes the test provider's card setup setupID with the
// test card token (see TestProvider) and returns the new card. Refusals:
// NotFound for an unknown setup or one of another provider, FailedPrecondition
// for a declining token, InvalidArgument for an unknown token.
func (s *Service) ConfirmTestCard(ctx context.Context, setupID, token string) (Card, error) {
	exists, err := s.db.NewSelect().Model((*setupRow)(nil)).
		Where("id = ?", setupID).Where("provider = ?", TestProviderName).
		Exists(ctx)
	if err != nil {
		return Card{}, wrap("confirm test card", err)
	}
	if !exists {
		return Card{}, fault.NotFound("card setup", setupID)
	}
	if code, declined := testDeclines[token]; declined {
		return Card{}, &fault.Error{Kind: fault.KindFailedPrecondition, Field: "payment_method",
			Message: "the card was declined (" + code + ", test token " + token + ")"}
	}
	c, ok := testCards[token]
	if !ok {
		return Card{}, fault.Invalid("payment_method", "%q is not a test card token (tok_visa, tok_mastercard, ... see the billing package documentation)", token)
	}
	ref := "card_test_" + rand.Text()
	if c.failsCharges {
		ref = testFailingCardPrefix + rand.Text()
	}
	return s.CompleteCardSetup(ctx, TestProviderName, setupID, ProviderCard{
		Ref:              ref,
		Brand:            c.brand,
		Last4:            c.last4,
		ExpMonth:         12,
		ExpYear:          s.now().Year() + testCardsValidYears,
		Supports3DSecure: true,
	})
}

// TestConfirmHandler serves the test provider's stand-in for the step where
// Stripe.js confirms a card setup (confirmCardSetup): a POST with the form
// fields setup_intent (the identifier AddCreditCard returned) and
// payment_method (a test card token). No bearer token is needed: the setup
// identifier is the secret, as a Stripe client secret is.
//
// It answers 200 with {"setup_intent": id, "status": "succeeded",
// "credit_card_id": id}, or {"error": {"code": ..., "message": ...}} with 400
// (bad request or unknown token), 404 (unknown setup), 402 (declined, as
// Stripe does) or 500.
func TestConfirmHandler(s *Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeTestError(w, http.StatusMethodNotAllowed, "method_not_allowed", "use POST")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, 1<<16)
		if err := r.ParseForm(); err != nil {
			writeTestError(w, http.StatusBadRequest, "invalid_request", "the body is not a form")
			return
		}
		setupID := strings.TrimSpace(r.PostForm.Get("setup_intent"))
		token := strings.TrimSpace(r.PostForm.Get("payment_method"))
		if setupID == "" || token == "" {
			writeTestError(w, http.StatusBadRequest, "invalid_request", "setup_intent and payment_method are required")
			return
		}
		card, err := s.ConfirmTestCard(r.Context(), setupID, token)
		if err != nil {
			var fe *fault.Error
			switch {
			case errors.As(err, &fe) && fe.Kind == fault.KindNotFound:
				writeTestError(w, http.StatusNotFound, "resource_missing", fe.Error())
			case errors.As(err, &fe) && fe.Kind == fault.KindFailedPrecondition:
				writeTestError(w, http.StatusPaymentRequired, "card_declined", fe.Message)
			case errors.As(err, &fe) && fe.Kind == fault.KindInvalidArgument:
				writeTestError(w, http.StatusBadRequest, "invalid_request", fe.Message)
			default:
				s.log.ErrorContext(r.Context(), "billing: confirm test card", "setup", setupID, "err", err)
				writeTestError(w, http.StatusInternalServerError, "api_error", "internal error")
			}
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{
			"setup_intent": setupID, "status": "succeeded", "credit_card_id": card.ID,
		})
	})
}

// writeTestError writes a Stripe-style error body.
func writeTestError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]map[string]string{"error": {"code": code, "message": message}})
}

// writeJSON writes v as the JSON body of a response with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client is gone if this fails
}
