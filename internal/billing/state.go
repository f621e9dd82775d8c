package billing

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/identity"
	"github.com/gpcore/gpcore/internal/project"
)

// Service is the project domain's BillingState (project.Config.Billing).
var _ project.BillingState = (*Service)(nil)

// CheckProfile implements project.BillingState: userID may link the billing
// profiles they own, nothing else (NotFound naming "billing_address_id", as
// for a profile that does not exist). It runs in the project's transaction
// and locks the profile (FOR SHARE) until that ends, so DeleteProfile cannot
// delete it between this check and the link.
func (s *Service) CheckProfile(ctx context.Context, db bun.IDB, userID, profileID string) error {
	var owner string
	err := lockRow(db.NewSelect().Model((*profileRow)(nil)).Column("user_id").Where("id = ?", profileID), "SHARE").
		Scan(ctx, &owner)
	if noRows(err) || (err == nil && owner != userID) {
		return &fault.Error{Kind: fault.KindNotFound, Field: "billing_address_id",
			Message: fmt.Sprintf("billing profile %q not found", profileID)}
	}
	if err != nil {
		return fmt.Errorf("billing: check profile %s: %w", profileID, err)
	}
	return nil
}

// PlanCode implements project.BillingState: a project linked to billing
// profile profileID for the first time subscribes to the profile's default
// plan code (ChangeDefaultPlanCode), read in the linking transaction db
// after CheckProfile share-locked the profile.
func (s *Service) PlanCode(ctx context.Context, db bun.IDB, profileID string) (string, error) {
	var code string
	err := db.NewSelect().Model((*profileRow)(nil)).Column("default_plan_code").Where("id = ?", profileID).Scan(ctx, &code)
	if noRows(err) {
		return "", &fault.Error{Kind: fault.KindNotFound, Field: "billing_address_id",
			Message: fmt.Sprintf("billing profile %q not found", profileID)}
	}
	if err != nil {
		return "", fmt.Errorf("billing: plan code of profile %s: %w", profileID, err)
	}
	return code, nil
}

// Locks implements project.BillingState. A project's subscription, in
// gpcore, is its plan (the plan code it took from its first billing profile,
// project.Project.PlanCode) paid the way its billing profile pays:
//
//   - It exists once the profile has a way to pay: a default credit card, or
//     an owner with the tag NO_CREDIT_CARD (invoiced, no card needed).
//     Without one, the project lacks both a payment method and a
//     subscription: LockMissingPaymentProfile and LockMissingSubscription. A
//     project without a billing profile lacks them too.
//   - It is active while that way to pay works: a default card that has
//     expired, or a bill whose payment failed, makes it
//     LockSubscriptionNotActive (for an owner without NO_CREDIT_CARD) until
//     another card becomes the default (which retries the failed bills,
//     see ChargePending) and no bill is failed.
//
// A project whose profile has a valid default card, or whose owner needs
// none, has no billing lock.
func (s *Service) Locks(ctx context.Context, db bun.IDB, _, profileID string) ([]project.LockReason, error) {
	missing := []project.LockReason{project.LockMissingPaymentProfile, project.LockMissingSubscription}
	if profileID == "" {
		return missing, nil
	}
	owner, err := profileOwner(ctx, db, profileID)
	if fault.KindOf(err) == fault.KindNotFound {
		return missing, nil
	}
	if err != nil {
		return nil, fmt.Errorf("billing: locks: %w", err)
	}
	noCard, err := hasTag(ctx, db, owner, identity.TagNoCreditCard)
	if err != nil {
		return nil, fmt.Errorf("billing: locks: %w", err)
	}
	if noCard {
		return nil, nil
	}
	var defaults []cardRow
	if err := db.NewSelect().Model(&defaults).
		Where("billing_profile_id = ?", profileID).Where("is_default").
		Scan(ctx); err != nil {
		return nil, fmt.Errorf("billing: locks: default card of %s: %w", profileID, err)
	}
	switch {
	case len(defaults) == 0:
		return missing, nil
	case !s.now().Before(defaults[0].ExpiresAt):
		return []project.LockReason{project.LockSubscriptionNotActive}, nil
	}
	failed, err := db.NewSelect().Model((*billRow)(nil)).
		Where("billing_profile_id = ?", profileID).Where("status = ?", BillFailed).
		Exists(ctx)
	if err != nil {
		return nil, fmt.Errorf("billing: locks: failed bills of %s: %w", profileID, err)
	}
	if failed {
		return []project.LockReason{project.LockSubscriptionNotActive}, nil
	}
	return nil, nil
}

// UseCard implements project.BillingState. A project's bills are its billing
// profile's (one bill per profile, month and currency, see closeProfile),
// and they are charged to the profile's default card; so the card a project
// is charged to is its profile's default card, and using cardID for a
// project makes it that default, for every project billed to the profile,
// exactly as ChangeDefaultCard does (at the provider too, and a bill that
// failed is charged again). userID must own the profile: NotFound naming
// "billing_address_id" otherwise, as for a profile that does not exist;
// NotFound naming "credit_card_id" for a card that is not the profile's.
func (s *Service) UseCard(ctx context.Context, tx bun.Tx, userID, profileID, cardID string) (string, bool, error) {
	profile, err := lockOwnProfile(ctx, tx, userID, profileID, "NO KEY UPDATE")
	if fault.KindOf(err) == fault.KindNotFound {
		return "", false, &fault.Error{Kind: fault.KindNotFound, Field: "billing_address_id",
			Message: fmt.Sprintf("billing profile %q not found", profileID)}
	}
	if err != nil {
		return "", false, wrap("use card", err)
	}
	row, err := loadCard(ctx, tx, profileID, cardID)
	if fault.KindOf(err) == fault.KindNotFound {
		return "", false, &fault.Error{Kind: fault.KindNotFound, Field: "credit_card_id",
			Message: fmt.Sprintf("credit card %q not found", cardID)}
	}
	if err != nil {
		return "", false, wrap("use card", err)
	}
	label := fmt.Sprintf("%s ending %s", row.Brand, row.Last4)
	if row.IsDefault {
		return label, false, nil
	}
	if err := s.makeDefault(ctx, tx, profile, &row); err != nil {
		return "", false, wrap("use card", err)
	}
	return label, true, nil
}
