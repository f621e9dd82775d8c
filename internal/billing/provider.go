package billing

import (
	"context"
	"fmt"
	"time"

	"github.com/gpcore/gpcore/internal/catalog"
)

// Provider is a payment provider: it holds the customers' cards, and gpcore
// holds only what it reports about them (brand, last four digits, expiry).
//
// Adding a card is two steps. BeginCardSetup starts it and returns a setup
// whose client secret the customer's browser or CLI hands to the provider
// together with the card details, which never pass through gpcore. When the
// provider has checked the card it tells gpcore, and the card appears:
// Stripe by webhook (see internal/billing/stripepay), the test provider
// through ConfirmTestCard. Both end in Service.CompleteCardSetup.
//
// The other methods mirror changes gpcore makes so that the provider charges
// the right card. They are called inside the transaction that makes the
// change, after every check has passed, so a provider refusal leaves gpcore
// unchanged.
type Provider interface {
	// Name identifies the provider in stored rows, e.g. "stripe".
	Name() string
	// BeginCardSetup starts adding a card for payer. payer.CustomerRef is
	// the provider's customer from an earlier setup, empty the first time;
	// the returned setup names the customer to keep.
	BeginCardSetup(ctx context.Context, payer Payer) (CardSetup, error)
	// SetDefaultCard makes cardRef the card the provider charges customerRef.
	SetDefaultCard(ctx context.Context, customerRef, cardRef string) error
	// RemoveCard removes cardRef at the provider.
	RemoveCard(ctx context.Context, cardRef string) error
	// RemoveCustomer removes customerRef and its cards at the provider, once
	// its billing profile is deleted.
	RemoveCustomer(ctx context.Context, customerRef string) error
	// Charge takes a bill's total from a card, off session. An error means
	// the outcome is unknown (the provider could not be reached): the
	// charge is asked for again later with the same Key, which the provider
	// charges at most once. A decline is not an error but an outcome.
	Charge(ctx context.Context, c Charge) (ChargeResult, error)
}

// Charge is a payment gpcore asks a provider for.
type Charge struct {
	// CustomerRef is the provider's customer, CardRef the card to charge.
	CustomerRef, CardRef string
	// Amount is in minor units of Currency.
	Amount   int64
	Currency catalog.Currency
	// Key identifies the payment (the bill): asked twice, the provider
	// charges once and answers the same.
	Key string
	// Description is shown on the payment at the provider.
	Description string
}

// ChargeOutcome is how a charge ended.
type ChargeOutcome string

// The outcomes of a charge.
const (
	// ChargeSucceeded: the money is taken.
	ChargeSucceeded ChargeOutcome = "SUCCEEDED"
	// ChargeDeclined: the card was declined, or needs its holder.
	ChargeDeclined ChargeOutcome = "DECLINED"
	// ChargePending: the provider is still processing it and will tell by
	// webhook (Service.SettlePayment).
	ChargePending ChargeOutcome = "PENDING"
)

// ChargeResult is a provider's answer to a charge.
type ChargeResult struct {
	// Ref identifies the payment at the provider (a Stripe PaymentIntent
	// id); empty when the provider made none.
	Ref     string
	Outcome ChargeOutcome
	// Reason says why a charge was declined.
	Reason string
}

// Payer is the billing profile a card is being added to, as a provider sees
// it.
type Payer struct {
	ProfileID string
	// CustomerRef is the provider's customer for the profile, empty until the
	// first card setup.
	CustomerRef string
	// Name is the company's name, or the person's for a consumer.
	Name  string
	Email string
}

// CardSetup is a card setup a provider has begun.
type CardSetup struct {
	// ID identifies the setup at the provider (a Stripe SetupIntent id); the
	// provider's confirmation names it.
	ID string
	// ClientSecret is what the customer's client confirms the setup with
	// (the API's AddCreditCardResponse.stripe_setup_ident).
	ClientSecret string
	// CustomerRef is the provider's customer the card will belong to.
	CustomerRef string
}

// ProviderCard is a card as a provider reports it once a setup succeeds.
type ProviderCard struct {
	// Ref is the card's id at the provider (a Stripe PaymentMethod id).
	Ref   string
	Brand CardBrand
	// Last4 are the last four digits of the card number.
	Last4 string
	// ExpMonth (1 to 12) and ExpYear are the last month the card is valid in.
	ExpMonth, ExpYear int
	// Supports3DSecure tells whether the card can authenticate payments with
	// 3-D Secure.
	Supports3DSecure bool
}

// expiresAt returns the first instant (UTC) after the card's last valid
// month, or an error when the report is malformed.
func (c ProviderCard) expiresAt() (time.Time, error) {
	if c.Ref == "" {
		return time.Time{}, fmt.Errorf("card without an id")
	}
	if len(c.Last4) != 4 || !allDigits(c.Last4) {
		return time.Time{}, fmt.Errorf("card %s: last four digits %q", c.Ref, c.Last4)
	}
	if c.ExpMonth < 1 || c.ExpMonth > 12 || c.ExpYear < 2000 || c.ExpYear > 9999 {
		return time.Time{}, fmt.Errorf("card %s: expiry %d/%d", c.Ref, c.ExpMonth, c.ExpYear)
	}
	switch c.Brand {
	case CardBrandUnspecified, CardBrandVisa, CardBrandMastercard, CardBrandAmex,
		CardBrandDiscover, CardBrandDinersClub, CardBrandJCB:
	default:
		return time.Time{}, fmt.Errorf("card %s: brand %q", c.Ref, c.Brand)
	}
	return time.Date(c.ExpYear, time.Month(c.ExpMonth)+1, 1, 0, 0, 0, 0, time.UTC), nil
}

// allDigits reports whether s is made of ASCII digits only.
func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
