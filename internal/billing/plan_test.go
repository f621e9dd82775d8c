package billing_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/gpcore/gpcore/internal/billing"
	"github.com/gpcore/gpcore/internal/fault"
)

// failingPlans is a plan catalog that cannot be reached.
type failingPlans struct{}

func (failingPlans) PlanCodes(context.Context) ([]string, error) {
	return nil, errors.New("connection refused")
}

func TestPlanCodes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, billing.Config{Plans: billing.BuiltinPlans{"pro", "gpcore", "enterprise", "pro"}})
	ada := e.person(t, "ada@example.com")
	p := e.profile(t, ada.ID, company())

	codes, total, err := e.billing.ListPlanCodes(t.Context(), page(1, 100))
	want := []string{"free", "gpcore", "enterprise", "pro"}
	if err != nil || total != 4 || !slices.Equal(codes, want) {
		t.Fatalf("ListPlanCodes = %v, %d, %v; want %v", codes, total, err, want)
	}
	if codes, _, _ := e.billing.ListPlanCodes(t.Context(), page(2, 3)); !slices.Equal(codes, []string{"pro"}) {
		t.Errorf("page 2 of 3 = %v", codes)
	}

	if code, err := e.billing.DefaultPlanCode(t.Context(), p.ID); err != nil || code != billing.PlanGPCore {
		t.Fatalf("DefaultPlanCode = %q, %v", code, err)
	}
	if code, err := e.billing.ChangeDefaultPlanCode(t.Context(), p.ID, " enterprise "); err != nil || code != "enterprise" {
		t.Fatalf("ChangeDefaultPlanCode = %q, %v", code, err)
	}
	if code, _ := e.billing.DefaultPlanCode(t.Context(), p.ID); code != "enterprise" {
		t.Errorf("DefaultPlanCode after the change = %q", code)
	}
	for _, code := range []string{billing.PlanFree, billing.PlanGPCore} {
		if _, err := e.billing.ChangeDefaultPlanCode(t.Context(), p.ID, code); err != nil {
			t.Errorf("ChangeDefaultPlanCode(%q): %v", code, err)
		}
	}

	refusals := []struct {
		code, text string
	}{
		{"", "required"},
		{"premium", "not a plan"},
		{"two words", "spaces"},
	}
	for _, tt := range refusals {
		_, err := e.billing.ChangeDefaultPlanCode(t.Context(), p.ID, tt.code)
		wantFault(t, err, fault.KindInvalidArgument, "plan_code", tt.text)
	}
	missing := "7d0b5d6e-1d2a-4a61-9d59-2f1c2a0c0a11"
	_, err = e.billing.ChangeDefaultPlanCode(t.Context(), missing, "pro")
	wantFault(t, err, fault.KindNotFound, "", "not found")
	_, err = e.billing.DefaultPlanCode(t.Context(), missing)
	wantFault(t, err, fault.KindNotFound, "", "not found")
}

func TestPlanCatalogDown(t *testing.T) {
	t.Parallel()
	e := newEnv(t, billing.Config{Plans: failingPlans{}})
	ada := e.person(t, "ada@example.com")
	p := e.profile(t, ada.ID, company())
	if _, _, err := e.billing.ListPlanCodes(t.Context(), page(1, 10)); err == nil || fault.KindOf(err) != fault.KindInternal {
		t.Errorf("ListPlanCodes = %v, want an internal error", err)
	}
	if _, err := e.billing.ChangeDefaultPlanCode(t.Context(), p.ID, "free"); err == nil {
		t.Error("ChangeDefaultPlanCode without a catalog succeeded")
	}
	if code, _ := e.billing.DefaultPlanCode(t.Context(), p.ID); code != billing.PlanGPCore {
		t.Errorf("DefaultPlanCode = %q", code)
	}
}
