package project

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/gpcore/gpcore/internal/fault"
)

// DeletionGuard is asked, before a project is deleted, whether something in
// it has to go first. The node domain (nodes still in the project) and the
// billing domain (unpaid bills, an outstanding balance) implement it and are
// added to Config.DeletionGuards when their tables exist. Until then a
// project holds nothing that could stand in the way, so the default is no
// guard at all.
//
// A domain whose rows reference projects should do so with a FOREIGN KEY
// without ON DELETE CASCADE: an insert racing a deletion then waits for the
// locked project row and fails once it is gone, and a row a guard overlooked
// makes the deletion fail instead of vanishing with the project.
type DeletionGuard interface {
	// DeletionBlocker returns why the project cannot be deleted now, for
	// example "it still has 2 nodes", or "" when nothing of this guard's
	// domain stands in the way. It runs inside the deleting transaction, with
	// the project row locked; db is that transaction.
	DeletionBlocker(ctx context.Context, db bun.IDB, projectID string) (string, error)
}

// BillingState answers the billing questions projects depend on: which
// billing profiles a user may link, and which billing locks hold. The billing
// domain implements it; until that exists, NoBilling answers.
type BillingState interface {
	// CheckProfile returns nil when userID may link the billing profile
	// profileID to a project, and otherwise a fault error naming the field
	// "billing_address_id" (the API's name for it): NotFound when the profile
	// does not exist or is not the user's to use.
	CheckProfile(ctx context.Context, db bun.IDB, userID, profileID string) error
	// UseCard makes the credit card cardID of the billing profile profileID
	// the card the project's bills are charged to, on behalf of userID, and
	// returns how the card is called (e.g. "VISA ending 4242") and whether
	// anything changed. It runs in the project's transaction (tx). Refusals
	// are fault errors: NotFound naming "billing_address_id" when userID may
	// not use the profile (as CheckProfile), NotFound naming
	// "credit_card_id" when the profile has no such card.
	UseCard(ctx context.Context, tx bun.Tx, userID, profileID, cardID string) (card string, changed bool, err error)
	// PlanCode returns the plan a project subscribes to when it is first
	// linked to the billing profile profileID, which CheckProfile has
	// allowed in the same transaction db: the profile's default plan code.
	PlanCode(ctx context.Context, db bun.IDB, profileID string) (string, error)
	// Locks returns the billing lock reasons that hold for the project right
	// now (LockMissingPaymentProfile, LockMissingSubscription,
	// LockSubscriptionNotActive), none when billing is in order.
	// billingProfileID is empty when the project has no billing profile;
	// LockMissingBillingProfile is this package's to report, not billing's.
	Locks(ctx context.Context, db bun.IDB, projectID, billingProfileID string) ([]LockReason, error)
}

// NoBilling is the BillingState of an installation without the billing
// domain, answering from what exists: there are no billing profiles, payment
// methods or subscriptions. So no billing profile can be linked nor card used
// (NotFound), and every project lacks a payment method and a subscription.
type NoBilling struct{}

// CheckProfile refuses every profile: none exists.
func (NoBilling) CheckProfile(_ context.Context, _ bun.IDB, _, profileID string) error {
	return &fault.Error{Kind: fault.KindNotFound, Field: "billing_address_id",
		Message: fmt.Sprintf("billing profile %q not found", profileID)}
}

// UseCard refuses every profile: none exists.
func (n NoBilling) UseCard(ctx context.Context, tx bun.Tx, userID, profileID, _ string) (string, bool, error) {
	return "", false, n.CheckProfile(ctx, tx, userID, profileID)
}

// PlanCode has no plan to give: no billing profile exists.
func (NoBilling) PlanCode(_ context.Context, _ bun.IDB, profileID string) (string, error) {
	return "", fault.NotFound("billing profile", profileID)
}

// Locks reports the missing payment method and subscription.
func (NoBilling) Locks(context.Context, bun.IDB, string, string) ([]LockReason, error) {
	return []LockReason{LockMissingPaymentProfile, LockMissingSubscription}, nil
}
