package stripepay

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/stripe/stripe-go/v85"

	"github.com/gpcore/gpcore/internal/billing"
)

// paymentMetadataKey names the charge's key (the bill) in the metadata of
// the PaymentIntents gpcore makes.
const paymentMetadataKey = "gpcore_payment"

// Charge implements billing.Provider with a PaymentIntent confirmed at once
// and off session, on the customer's card, under the charge's key as
// Stripe's idempotency key (Stripe answers a repeated request within 24
// hours with the first one's result). succeeded is ChargeSucceeded,
// processing ChargePending (the webhook settles it), a card error or any
// other status (the card needs its holder: requires_action) ChargeDeclined.
func (p *Provider) Charge(ctx context.Context, c billing.Charge) (billing.ChargeResult, error) {
	params := &stripe.PaymentIntentCreateParams{
		Amount:             stripe.Int64(c.Amount),
		Currency:           stripe.String(strings.ToLower(string(c.Currency))),
		Customer:           stripe.String(c.CustomerRef),
		PaymentMethod:      stripe.String(c.CardRef),
		PaymentMethodTypes: stripe.StringSlice([]string{"card"}),
		Confirm:            stripe.Bool(true),
		OffSession:         stripe.Bool(true),
		Description:        stripe.String(c.Description),
		Metadata:           map[string]string{paymentMetadataKey: c.Key},
	}
	params.SetIdempotencyKey(c.Key)
	pi, err := p.client.V1PaymentIntents.Create(ctx, params)
	if err != nil {
		var se *stripe.Error
		if errors.As(err, &se) && se.Type == stripe.ErrorTypeCard {
			res := billing.ChargeResult{Outcome: billing.ChargeDeclined, Reason: declineReason(se)}
			if se.PaymentIntent != nil {
				res.Ref = se.PaymentIntent.ID
			}
			return res, nil
		}
		return billing.ChargeResult{}, fmt.Errorf("stripe: create payment intent: %w", err)
	}
	res := billing.ChargeResult{Ref: pi.ID}
	switch pi.Status {
	case stripe.PaymentIntentStatusSucceeded:
		res.Outcome = billing.ChargeSucceeded
	case stripe.PaymentIntentStatusProcessing:
		res.Outcome = billing.ChargePending
	default:
		res.Outcome, res.Reason = billing.ChargeDeclined, "the payment needs the card holder ("+string(pi.Status)+")"
	}
	return res, nil
}

// declineReason says why Stripe declined a card: its decline code, or its
// error code, and its message.
func declineReason(se *stripe.Error) string {
	code := string(se.DeclineCode)
	if code == "" {
		code = string(se.Code)
	}
	if se.Msg == "" {
		return code
	}
	return code + ": " + se.Msg
}
