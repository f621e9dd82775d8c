package billing_test

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gpcore/gpcore/internal/billing"
	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/identity"
	"github.com/gpcore/gpcore/internal/project"
)

func TestCheckProfile(t *testing.T) {
	t.Parallel()
	e := newEnv(t, billing.Config{})
	ada := e.person(t, "ada@example.com")
	bob := e.person(t, "bob@example.com")
	p := e.profile(t, ada.ID, company())
	if err := e.billing.CheckProfile(t.Context(), e.db.DB, ada.ID, p.ID); err != nil {
		t.Fatalf("CheckProfile(own) = %v", err)
	}
	for name, id := range map[string]string{"another's": p.ID, "missing": "7d0b5d6e-1d2a-4a61-9d59-2f1c2a0c0a11"} {
		err := e.billing.CheckProfile(t.Context(), e.db.DB, bob.ID, id)
		wantFault(t, err, fault.KindNotFound, "billing_address_id", "not found")
		_, err = e.projects.Create(t.Context(), bob.ID, project.CreateInput{Name: "Bob's", BillingProfileID: id})
		wantFault(t, err, fault.KindNotFound, "billing_address_id", "not found")
		t.Logf("%s profile refused", name)
	}
}

func TestLocks(t *testing.T) {
	t.Parallel()
	var (
		missingAll     = []project.LockReason{project.LockMissingBillingProfile, project.LockMissingPaymentProfile, project.LockMissingSubscription}
		missingPayment = []project.LockReason{project.LockMissingPaymentProfile, project.LockMissingSubscription}
		notActive      = []project.LockReason{project.LockSubscriptionNotActive}
	)
	tests := []struct {
		name  string
		setup func(t *testing.T, e *env, user identity.User) (profileID string)
		later time.Duration // how far the clock moves before asking
		want  []project.LockReason
	}{
		{"no billing profile", func(*testing.T, *env, identity.User) string { return "" }, 0, missingAll},
		{"profile without a card", func(t *testing.T, e *env, u identity.User) string {
			return e.profile(t, u.ID, company()).ID
		}, 0, missingPayment},
		{"profile without a card, owner needs none", func(t *testing.T, e *env, u identity.User) string {
			e.tag(t, u.ID, identity.TagNoCreditCard)
			return e.profile(t, u.ID, company()).ID
		}, 0, nil},
		{"profile with a card", func(t *testing.T, e *env, u identity.User) string {
			p := e.profile(t, u.ID, company())
			e.card(t, u.ID, p.ID, "tok_visa")
			return p.ID
		}, 0, nil},
		{"default card expired", func(t *testing.T, e *env, u identity.User) string {
			p := e.profile(t, u.ID, company())
			e.card(t, u.ID, p.ID, "tok_visa")
			return p.ID
		}, 5 * 365 * 24 * time.Hour, notActive},
		{"default card expired, owner needs none", func(t *testing.T, e *env, u identity.User) string {
			e.tag(t, u.ID, identity.TagNoCreditCard)
			p := e.profile(t, u.ID, company())
			e.card(t, u.ID, p.ID, "tok_visa")
			return p.ID
		}, 5 * 365 * 24 * time.Hour, nil},
		{"card removed", func(t *testing.T, e *env, u identity.User) string {
			p := e.profile(t, u.ID, company())
			c := e.card(t, u.ID, p.ID, "tok_visa")
			if err := e.billing.RemoveCard(t.Context(), u.ID, p.ID, c.ID); err != nil {
				t.Fatal(err)
			}
			return p.ID
		}, 0, missingPayment},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, billing.Config{})
			ada := e.person(t, "ada@example.com")
			profileID := tt.setup(t, e, ada)
			pr := e.project(t, ada.ID, "Shop", profileID)
			e.clock.Add(tt.later)
			locks, err := e.projects.Locks(t.Context(), ada.ID, pr.ID)
			if err != nil || !slices.Equal(locks, tt.want) {
				t.Fatalf("Locks = %v, %v; want %v", locks, err, tt.want)
			}
		})
	}
}

func TestExpiredCardReplaced(t *testing.T) {
	t.Parallel()
	e := newEnv(t, billing.Config{})
	ada := e.person(t, "ada@example.com")
	p := e.profile(t, ada.ID, company())
	e.card(t, ada.ID, p.ID, "tok_visa")
	pr := e.project(t, ada.ID, "Shop", p.ID)
	e.clock.Add(5 * 365 * 24 * time.Hour)
	cards, _, _ := e.billing.ListCards(t.Context(), ada.ID, p.ID, page(1, 10))
	if len(cards) != 1 || cards[0].Valid {
		t.Fatalf("cards = %+v, want one expired", cards)
	}
	fresh := e.card(t, ada.ID, p.ID, "tok_mastercard")
	if locks, _ := e.projects.Locks(t.Context(), ada.ID, pr.ID); !slices.Equal(locks, []project.LockReason{project.LockSubscriptionNotActive}) {
		t.Fatalf("Locks with a new card that is not the default = %v", locks)
	}
	if _, err := e.billing.ChangeDefaultCard(t.Context(), ada.ID, p.ID, fresh.ID); err != nil {
		t.Fatal(err)
	}
	if locks, err := e.projects.Locks(t.Context(), ada.ID, pr.ID); err != nil || len(locks) != 0 {
		t.Fatalf("Locks with a valid default card = %v, %v", locks, err)
	}
}

// TestDeleteRacesLink deletes a profile while projects are being linked to
// it: either the deletion wins and the links find no profile, or a link
// wins and the deletion finds the project; never a project billed to a
// deleted profile.
func TestDeleteRacesLink(t *testing.T) {
	t.Parallel()
	e := newEnv(t, billing.Config{})
	ada := e.person(t, "ada@example.com")
	for round := range 5 {
		p := e.profile(t, ada.ID, company())
		var wg sync.WaitGroup
		var deleteErr error
		linkErrs := make([]error, 4)
		wg.Go(func() { deleteErr = e.billing.DeleteProfile(t.Context(), ada.ID, p.ID) })
		for i := range linkErrs {
			wg.Go(func() {
				_, linkErrs[i] = e.projects.Create(t.Context(), ada.ID, project.CreateInput{Name: "Shop", BillingProfileID: p.ID})
			})
		}
		wg.Wait()
		linked := 0
		for _, err := range linkErrs {
			switch {
			case err == nil:
				linked++
			case fault.KindOf(err) != fault.KindNotFound:
				t.Fatalf("round %d: link: %v", round, err)
			}
		}
		switch {
		case deleteErr == nil && linked > 0:
			t.Fatalf("round %d: profile deleted and %d projects linked to it", round, linked)
		case deleteErr != nil && fault.KindOf(deleteErr) != fault.KindFailedPrecondition:
			t.Fatalf("round %d: delete: %v", round, deleteErr)
		case deleteErr != nil && linked == 0:
			t.Fatalf("round %d: delete refused but no project linked: %v", round, deleteErr)
		}
		n, err := e.db.NewSelect().TableExpr("projects AS p").
			Join("LEFT JOIN billing_profiles AS bp ON bp.id = p.billing_profile_id").
			Where("p.billing_profile_id IS NOT NULL").Where("bp.id IS NULL").Count(t.Context())
		if err != nil || n != 0 {
			t.Fatalf("round %d: %d projects billed to a missing profile, %v", round, n, err)
		}
	}
}
