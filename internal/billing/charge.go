package billing

import (
	"context"
	"errors"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/gpcore/gpcore/internal/catalog"
	"github.com/gpcore/gpcore/internal/identity"
)

// Reasons a bill stays pending or fails without reaching the provider.
const (
	reasonTransfer = "payable by bank transfer (the owner has no credit card: NO_CREDIT_CARD)"
	reasonNoCard   = "no credit card to charge: add one to the billing profile"
	reasonExpired  = "the default credit card has expired: add another one"
)

// ChargePending asks for the payment of the bills that need one, oldest
// first: the pending bills no payment was asked for yet, and the failed
// bills of profiles that got another default card since they failed (a
// retry, which the reference foresees: "a previously failed bill is retried
// and succeeded on the second try").
//
// A bill is charged to its profile's default card at the payment provider;
// the bill id and the attempt's number are the provider's idempotency key,
// so an attempt repeated after a crash takes the money once. The bill then
// follows the provider: SUCCEEDED, FAILED when declined, or PENDING while
// the provider processes it (SettlePayment ends that). Without a valid card
// the bill FAILS; an owner with the tag NO_CREDIT_CARD pays by bank
// transfer and the bill stays PENDING. A provider that cannot be reached
// leaves the bill for the next sweep.
func (s *Service) ChargePending(ctx context.Context) error {
	return s.chargeWhere(ctx, "charge pending bills", func(q *bun.SelectQuery) *bun.SelectQuery {
		return q.WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.
				WhereGroup(" OR ", func(q *bun.SelectQuery) *bun.SelectQuery {
					return q.Where("b.status = ?", BillPending).Where("b.charge_attempts = 0")
				}).
				WhereGroup(" OR ", retryable)
		})
	})
}

// retryFailed charges the failed bills of billing profile profileID again
// if it got another default card since they failed, as ChargePending does;
// the job a change of default card enqueues runs it (see makeDefault), so
// the retry does not wait for the sweep. A bill the sweep charges
// meanwhile is charged once: both ask with the same idempotency key (the
// bill and the attempt's number), and only one records the attempt (see
// recordCharge); a bill paid already is no longer FAILED.
func (s *Service) retryFailed(ctx context.Context, profileID string) error {
	return s.chargeWhere(ctx, "retry failed bills", func(q *bun.SelectQuery) *bun.SelectQuery {
		return q.Where("b.billing_profile_id = ?", profileID).WhereGroup(" AND ", retryable)
	})
}

// retryable selects the failed bills whose profile's default card is not
// the card their last attempt charged (charged_card_id; none when it had no
// card to charge).
func retryable(q *bun.SelectQuery) *bun.SelectQuery {
	return q.Where("b.status = ?", BillFailed).
		Where("EXISTS (SELECT 1 FROM credit_cards AS cc WHERE cc.billing_profile_id = b.billing_profile_id AND cc.is_default" +
			" AND (b.charged_card_id IS NULL OR cc.id <> b.charged_card_id))")
}

// chargeWhere charges the bills where selects, oldest first; op names the
// work in errors.
func (s *Service) chargeWhere(ctx context.Context, op string, where func(*bun.SelectQuery) *bun.SelectQuery) error {
	var rows []billRow
	if err := where(s.db.NewSelect().Model(&rows)).OrderExpr("b.seq").Scan(ctx); err != nil {
		return wrap(op, err)
	}
	var errs []error
	for _, r := range rows {
		if err := s.charge(ctx, r); err != nil {
			s.log.ErrorContext(ctx, "billing: charge a bill", "bill", r.ID, "number", r.Number, "err", err)
			errs = append(errs, fmt.Errorf("billing: charge bill %s: %w", r.Number, err))
		}
	}
	return errors.Join(errs...)
}

// charge asks for the payment of bill b and records the outcome.
func (s *Service) charge(ctx context.Context, b billRow) error {
	noCard, err := hasTag(ctx, s.db.DB, b.UserID, identity.TagNoCreditCard)
	if err != nil {
		return err
	}
	if noCard {
		return s.recordCharge(ctx, b, BillPending, reasonTransfer, "", ChargeResult{})
	}
	var prow profileRow
	err = s.db.NewSelect().Model(&prow).Where("id = ?", b.BillingProfileID).Scan(ctx)
	if noRows(err) {
		return s.recordCharge(ctx, b, BillFailed, reasonNoCard, "", ChargeResult{})
	}
	if err != nil {
		return fmt.Errorf("load profile %s: %w", b.BillingProfileID, err)
	}
	var cards []cardRow
	if err := s.db.NewSelect().Model(&cards).
		Where("billing_profile_id = ?", b.BillingProfileID).Where("is_default").
		Where("provider = ?", s.cfg.Provider.Name()).
		Scan(ctx); err != nil {
		return fmt.Errorf("load the default card of %s: %w", b.BillingProfileID, err)
	}
	customer := prow.customerAt(s.cfg.Provider)
	switch {
	case len(cards) == 0 || customer == "":
		return s.recordCharge(ctx, b, BillFailed, reasonNoCard, "", ChargeResult{})
	case !s.now().Before(cards[0].ExpiresAt):
		return s.recordCharge(ctx, b, BillFailed, reasonExpired, cards[0].ID, ChargeResult{})
	}
	res, err := s.cfg.Provider.Charge(ctx, Charge{
		CustomerRef: customer, CardRef: cards[0].ProviderRef,
		Amount: b.TotalAmount, Currency: catalog.Currency(b.Currency),
		Key: fmt.Sprintf("gpcore-bill-%s-%d", b.ID, b.ChargeAttempts+1), Description: "Bill " + b.Number,
	})
	if err != nil {
		return err
	}
	switch res.Outcome {
	case ChargeSucceeded:
		return s.recordCharge(ctx, b, BillSucceeded, "", cards[0].ID, res)
	case ChargePending:
		return s.recordCharge(ctx, b, BillPending, "", cards[0].ID, res)
	case ChargeDeclined:
		return s.recordCharge(ctx, b, BillFailed, "declined: "+res.Reason, cards[0].ID, res)
	}
	return fmt.Errorf("the provider answered the unknown outcome %q", res.Outcome)
}

// recordCharge records the outcome of a payment attempt for bill b, which
// charged the card cardID ("" for none), unless
// another replica recorded this attempt first (the attempt count is the
// bill's version). Only the payment columns of a bill are ever updated.
func (s *Service) recordCharge(ctx context.Context, b billRow, status BillStatus, reason, cardID string, charged ChargeResult) error {
	q := s.db.NewUpdate().Model((*billRow)(nil)).
		Set("status = ?", status).Set("status_reason = ?", reason).Set("status_changed_at = ?", s.now()).
		Set("charge_attempts = ?", b.ChargeAttempts+1).Set("charged_card_id = ?", bun.NullZero(cardID)).
		Where("id = ?", b.ID).Where("charge_attempts = ?", b.ChargeAttempts)
	if charged.Ref != "" {
		q = q.Set("payment_provider = ?", s.cfg.Provider.Name()).Set("payment_ref = ?", charged.Ref)
	} else {
		q = q.Set("payment_provider = NULL").Set("payment_ref = NULL")
	}
	res, err := q.Exec(ctx)
	if err != nil {
		return fmt.Errorf("record the payment of bill %s: %w", b.ID, err)
	}
	if n, err := res.RowsAffected(); err == nil && n > 0 {
		s.log.InfoContext(ctx, "billing: payment recorded", "bill", b.ID, "number", b.Number, "status", status, "reason", reason)
	}
	return nil
}

// SettlePayment records what the payment provider reports, later, of a
// payment it was processing (a Stripe webhook): the pending bill it pays
// becomes SUCCEEDED, or FAILED with reason. A payment gpcore does not know
// or has settled already changes nothing.
func (s *Service) SettlePayment(ctx context.Context, provider, paymentRef string, paid bool, reason string) error {
	status := BillSucceeded
	if !paid {
		status, reason = BillFailed, "declined: "+reason
	}
	if _, err := s.db.NewUpdate().Model((*billRow)(nil)).
		Set("status = ?", status).Set("status_reason = ?", reason).Set("status_changed_at = ?", s.now()).
		Where("payment_provider = ?", provider).Where("payment_ref = ?", paymentRef).Where("status = ?", BillPending).
		Exec(ctx); err != nil {
		return wrap("settle payment", err)
	}
	return nil
}
