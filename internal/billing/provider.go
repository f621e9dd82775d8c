package billing

import (
	"context"
	"fmt"
	"time"
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
