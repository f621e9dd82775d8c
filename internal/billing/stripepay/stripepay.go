// Package stripepay is the production payment provider: Stripe, through its
// official Go library (github.com/stripe/stripe-go). It implements
// billing.Provider and serves the webhook by which Stripe confirms cards.
//
// # The flow
//
//  1. AddCreditCard (billing.Service.BeginCardSetup) makes a Stripe customer
//     for the billing profile the first time (name, billing e-mail, the
//     profile id in its metadata) and a SetupIntent for a card
//     (payment_method_types card, usage off_session, so bills can be charged
//     later without the customer). The API returns the SetupIntent's client
//     secret as stripe_setup_ident; its part before "_secret_" is the
//     SetupIntent id.
//  2. The customer's browser confirms it with Stripe.js (confirmCardSetup
//     with the client secret and the card form); the card details never
//     reach gpcore.
//  3. Stripe sends setup_intent.succeeded to the webhook. The handler checks
//     the Stripe-Signature header (webhook.ConstructEvent: the endpoint's
//     signing secret, a timestamp at most five minutes old, and the event's
//     API version equal to the library's, stripe.APIVersion: create the
//     webhook endpoint with that version), reads the card (brand, last four
//     digits, expiry, 3-D Secure support) from the PaymentMethod and stores
//     it (billing.Service.CompleteCardSetup). The profile's first card becomes
//     its default, and the customer's invoice_settings.default_payment_method.
//  4. ChangeDefaultCreditCard sets the customer's
//     invoice_settings.default_payment_method; RemoveCreditCard detaches the
//     PaymentMethod; deleting a billing profile deletes the customer. A card
//     detached in Stripe's dashboard (payment_method.detached) disappears from
//     gpcore too.
//  5. Bills are charged to the default card with a PaymentIntent confirmed
//     off session (Charge); one Stripe still processes is settled by the
//     webhook's payment_intent.succeeded or payment_intent.payment_failed.
//
// The webhook answers 400 to anything unsigned or badly signed, 200 to
// events it has handled or does not handle (and to setups gpcore does not
// know, e.g. another installation's on a shared account), and 500 when
// storing failed, so that Stripe retries.
package stripepay

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/stripe/stripe-go/v85"

	"github.com/gpcore/gpcore/internal/billing"
)

// Name is the provider's Name, stored with its cards.
const Name = "stripe"

// requestTimeout bounds one call to Stripe's API.
const requestTimeout = 30 * time.Second

// Config says how to reach Stripe.
type Config struct {
	// SecretKey is the account's secret API key (sk_live_... or sk_test_...).
	SecretKey string
	// APIURL replaces Stripe's API address, for a local stand-in in tests
	// (Stripe's own if empty).
	APIURL string
	// HTTPClient makes the API calls (one with a 30 s timeout if nil).
	HTTPClient *http.Client
}

// Provider is billing.Provider on Stripe.
type Provider struct {
	client *stripe.Client
}

var _ billing.Provider = (*Provider)(nil)

// New returns the Stripe provider configured by cfg. It calls nothing yet.
func New(cfg Config) (*Provider, error) {
	if cfg.SecretKey == "" {
		return nil, errors.New("stripepay: a secret API key is required")
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: requestTimeout}
	}
	backend := &stripe.BackendConfig{
		HTTPClient: cfg.HTTPClient,
		// Errors are returned to gpcore, which logs them where it handles them.
		LeveledLogger: &stripe.LeveledLogger{Level: stripe.LevelNull},
	}
	if cfg.APIURL != "" {
		backend.URL = stripe.String(cfg.APIURL)
	}
	return &Provider{client: stripe.NewClient(cfg.SecretKey, stripe.WithBackends(stripe.NewBackendsWithConfig(backend)))}, nil
}

// Name implements billing.Provider.
func (*Provider) Name() string { return Name }

// profileMetadataKey names the billing profile id in the metadata of the
// customers and SetupIntents gpcore makes, for people reading Stripe's
// dashboard.
const profileMetadataKey = "gpcore_billing_profile_id"

// BeginCardSetup implements billing.Provider: a customer the first time,
// then a SetupIntent for an off-session card.
func (p *Provider) BeginCardSetup(ctx context.Context, payer billing.Payer) (billing.CardSetup, error) {
	customer := payer.CustomerRef
	if customer == "" {
		c, err := p.client.V1Customers.Create(ctx, &stripe.CustomerCreateParams{
			Name:     stripe.String(payer.Name),
			Email:    stripe.String(payer.Email),
			Metadata: map[string]string{profileMetadataKey: payer.ProfileID},
		})
		if err != nil {
			return billing.CardSetup{}, fmt.Errorf("stripe: create customer: %w", err)
		}
		customer = c.ID
	}
	si, err := p.client.V1SetupIntents.Create(ctx, &stripe.SetupIntentCreateParams{
		Customer:           stripe.String(customer),
		PaymentMethodTypes: stripe.StringSlice([]string{"card"}),
		Usage:              stripe.String(string(stripe.SetupIntentUsageOffSession)),
		Metadata:           map[string]string{profileMetadataKey: payer.ProfileID},
	})
	if err != nil {
		return billing.CardSetup{}, fmt.Errorf("stripe: create setup intent: %w", err)
	}
	return billing.CardSetup{ID: si.ID, ClientSecret: si.ClientSecret, CustomerRef: customer}, nil
}

// SetDefaultCard implements billing.Provider: the customer's invoices are
// charged to cardRef.
func (p *Provider) SetDefaultCard(ctx context.Context, customerRef, cardRef string) error {
	_, err := p.client.V1Customers.Update(ctx, customerRef, &stripe.CustomerUpdateParams{
		InvoiceSettings: &stripe.CustomerUpdateInvoiceSettingsParams{DefaultPaymentMethod: stripe.String(cardRef)},
	})
	if err != nil {
		return fmt.Errorf("stripe: set default payment method: %w", err)
	}
	return nil
}

// RemoveCard implements billing.Provider by detaching the PaymentMethod; one
// Stripe no longer has counts as removed.
func (p *Provider) RemoveCard(ctx context.Context, cardRef string) error {
	if _, err := p.client.V1PaymentMethods.Detach(ctx, cardRef, &stripe.PaymentMethodDetachParams{}); err != nil && !missing(err) {
		return fmt.Errorf("stripe: detach payment method: %w", err)
	}
	return nil
}

// RemoveCustomer implements billing.Provider by deleting the customer; one
// Stripe no longer has counts as removed.
func (p *Provider) RemoveCustomer(ctx context.Context, customerRef string) error {
	if _, err := p.client.V1Customers.Delete(ctx, customerRef, &stripe.CustomerDeleteParams{}); err != nil && !missing(err) {
		return fmt.Errorf("stripe: delete customer: %w", err)
	}
	return nil
}

// card reads PaymentMethod id as the card billing stores; errNotACard when
// it is another kind of payment method.
func (p *Provider) card(ctx context.Context, id string) (billing.ProviderCard, error) {
	pm, err := p.client.V1PaymentMethods.Retrieve(ctx, id, &stripe.PaymentMethodRetrieveParams{})
	if err != nil {
		return billing.ProviderCard{}, fmt.Errorf("stripe: retrieve payment method %s: %w", id, err)
	}
	if pm.Card == nil {
		return billing.ProviderCard{}, fmt.Errorf("%w: payment method %s is of type %q", errNotACard, id, pm.Type)
	}
	brand, ok := brands[pm.Card.Brand]
	if !ok {
		brand = billing.CardBrandUnspecified
	}
	return billing.ProviderCard{
		Ref:              pm.ID,
		Brand:            brand,
		Last4:            pm.Card.Last4,
		ExpMonth:         int(pm.Card.ExpMonth),
		ExpYear:          int(pm.Card.ExpYear),
		Supports3DSecure: pm.Card.ThreeDSecureUsage != nil && pm.Card.ThreeDSecureUsage.Supported,
	}, nil
}

// errNotACard says a payment method is not a card.
var errNotACard = errors.New("not a card")

// brands maps Stripe's card brands to billing's; any other brand
// (unionpay, unknown) is CardBrandUnspecified.
var brands = map[stripe.PaymentMethodCardBrand]billing.CardBrand{
	stripe.PaymentMethodCardBrandVisa:       billing.CardBrandVisa,
	stripe.PaymentMethodCardBrandMastercard: billing.CardBrandMastercard,
	stripe.PaymentMethodCardBrandAmex:       billing.CardBrandAmex,
	stripe.PaymentMethodCardBrandDiscover:   billing.CardBrandDiscover,
	stripe.PaymentMethodCardBrandDiners:     billing.CardBrandDinersClub,
	stripe.PaymentMethodCardBrandJCB:        billing.CardBrandJCB,
}

// missing reports whether err is Stripe saying the object does not exist.
func missing(err error) bool {
	var se *stripe.Error
	return errors.As(err, &se) && se.Code == stripe.ErrorCodeResourceMissing
}
