package app

import (
	"net/http"
	"strings"

	"github.com/gpcore/gpcore/internal/billing"
	"github.com/gpcore/gpcore/internal/billing/lago"
	"github.com/gpcore/gpcore/internal/billing/stripepay"
)

// buildBilling creates the billing service with the configured payment
// provider, plan catalog and seller (the operator its invoices name), and
// the HTTP routes the provider needs: Stripe's webhook, or the built-in test
// provider's card confirmation.
func (a *App) buildBilling() (*billing.Service, map[string]http.Handler, error) {
	cfg := billing.Config{Logger: a.log, Now: a.cfg.Now, Provider: a.cfg.PaymentProvider, Seller: billing.Seller{
		Name:    a.cfg.SellerName,
		Address: strings.ReplaceAll(a.cfg.SellerAddress, `\n`, "\n"),
		VATID:   a.cfg.SellerVATID,
		Country: a.cfg.SellerCountry,
	}}
	if a.cfg.SellerCountry != "" {
		cfg.TaxRule = billing.VATRule{SellerCountry: a.cfg.SellerCountry}
	}
	var stripe *stripepay.Provider
	if a.cfg.StripeSecretKey != "" {
		var err error
		if stripe, err = stripepay.New(stripepay.Config{SecretKey: a.cfg.StripeSecretKey}); err != nil {
			return nil, nil, err
		}
		cfg.Provider = stripe
	}
	if a.cfg.LagoAPIKey != "" {
		plans, err := lago.New(lago.Config{URL: a.cfg.LagoURL, APIKey: a.cfg.LagoAPIKey})
		if err != nil {
			return nil, nil, err
		}
		cfg.Plans = plans
	}
	bill, err := billing.New(a.db, cfg)
	if err != nil {
		return nil, nil, err
	}
	routes := map[string]http.Handler{}
	if stripe != nil {
		routes["POST /webhooks/stripe"] = stripe.WebhookHandler(a.cfg.StripeWebhookSecret, bill, a.log)
	} else {
		routes["POST /payment/test/confirm"] = billing.TestConfirmHandler(bill)
	}
	return bill, routes, nil
}
