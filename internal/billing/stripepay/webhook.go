package stripepay

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"

	"github.com/stripe/stripe-go/v85"
	"github.com/stripe/stripe-go/v85/webhook"

	"github.com/gpcore/gpcore/internal/billing"
	"github.com/gpcore/gpcore/internal/fault"
)

// maxEventBytes bounds a webhook request body; Stripe's events are far
// smaller.
const maxEventBytes = 1 << 20

// Cards is what the webhook tells about cards and payments:
// *billing.Service.
type Cards interface {
	// CompleteCardSetup stores the card of a setup the provider confirmed.
	CompleteCardSetup(ctx context.Context, provider, setupID string, card billing.ProviderCard) (billing.Card, error)
	// CardRemovedAtProvider forgets a card the provider removed.
	CardRemovedAtProvider(ctx context.Context, provider, cardRef string) error
	// SettlePayment records the end of a payment the provider was
	// processing.
	SettlePayment(ctx context.Context, provider, paymentRef string, paid bool, reason string) error
}

// WebhookHandler serves Stripe's webhook (mounted at POST /webhooks/stripe):
// events signed with secret, the endpoint's signing secret (whsec_...), are
// passed to cards; see the package documentation for what it answers.
func (p *Provider) WebhookHandler(secret string, cards Cards, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "use POST", http.StatusMethodNotAllowed)
			return
		}
		payload, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxEventBytes))
		if err != nil {
			http.Error(w, "cannot read the body", http.StatusBadRequest)
			return
		}
		event, err := webhook.ConstructEvent(payload, r.Header.Get("Stripe-Signature"), secret)
		if err != nil {
			log.WarnContext(r.Context(), "stripe webhook: refused", "err", err)
			http.Error(w, "bad signature", http.StatusBadRequest)
			return
		}
		if err := p.handle(r.Context(), event, cards, log); err != nil {
			log.ErrorContext(r.Context(), "stripe webhook: handling failed, Stripe will retry",
				"event", event.ID, "type", event.Type, "err", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"received":true}`+"\n")
	})
}

// handle acts on one verified event; an error means Stripe should send it
// again.
func (p *Provider) handle(ctx context.Context, event stripe.Event, cards Cards, log *slog.Logger) error {
	if event.Data == nil {
		log.WarnContext(ctx, "stripe webhook: event without data", "event", event.ID, "type", event.Type)
		return nil
	}
	switch event.Type {
	case stripe.EventTypeSetupIntentSucceeded:
		var si stripe.SetupIntent
		if err := json.Unmarshal(event.Data.Raw, &si); err != nil || si.PaymentMethod == nil || si.PaymentMethod.ID == "" {
			log.WarnContext(ctx, "stripe webhook: setup intent without a payment method", "event", event.ID, "err", err)
			return nil
		}
		card, err := p.card(ctx, si.PaymentMethod.ID)
		if errors.Is(err, errNotACard) {
			log.WarnContext(ctx, "stripe webhook: setup intent ignored", "event", event.ID, "setup_intent", si.ID, "err", err)
			return nil
		}
		if err != nil {
			return err
		}
		stored, err := cards.CompleteCardSetup(ctx, Name, si.ID, card)
		switch fault.KindOf(err) {
		case fault.KindNotFound, fault.KindAlreadyExists:
			log.InfoContext(ctx, "stripe webhook: setup intent ignored", "event", event.ID, "setup_intent", si.ID, "reason", err)
			return nil
		}
		if err != nil {
			return err
		}
		log.InfoContext(ctx, "stripe webhook: card added", "setup_intent", si.ID, "billing_profile", stored.ProfileID, "credit_card", stored.ID)
		return nil
	case stripe.EventTypePaymentMethodDetached:
		var pm stripe.PaymentMethod
		if err := json.Unmarshal(event.Data.Raw, &pm); err != nil || pm.ID == "" {
			log.WarnContext(ctx, "stripe webhook: detached payment method without an id", "event", event.ID, "err", err)
			return nil
		}
		return cards.CardRemovedAtProvider(ctx, Name, pm.ID)
	case stripe.EventTypePaymentIntentSucceeded, stripe.EventTypePaymentIntentPaymentFailed:
		var pi stripe.PaymentIntent
		if err := json.Unmarshal(event.Data.Raw, &pi); err != nil || pi.ID == "" {
			log.WarnContext(ctx, "stripe webhook: payment intent without an id", "event", event.ID, "err", err)
			return nil
		}
		paid := event.Type == stripe.EventTypePaymentIntentSucceeded
		reason := ""
		if pi.LastPaymentError != nil {
			reason = declineReason(pi.LastPaymentError)
		}
		return cards.SettlePayment(ctx, Name, pi.ID, paid, reason)
	}
	return nil
}
