package billing

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/pagination"
)

// The plan codes that always exist, whatever the plan catalog holds.
const (
	PlanFree   = "free"
	PlanGPCore = "gpcore"
)

// maxPlanCodeLength bounds a plan code, in characters.
const maxPlanCodeLength = 100

// PlanCatalog lists the plans customers can subscribe to, by code: Lago's
// plans (internal/billing/lago) or BuiltinPlans.
type PlanCatalog interface {
	// PlanCodes returns the codes of the catalog's plans, in any order.
	PlanCodes(ctx context.Context) ([]string, error)
}

// BuiltinPlans is the embedded plan catalog: the plan codes it lists, on top
// of PlanFree and PlanGPCore which every catalog has.
type BuiltinPlans []string

// PlanCodes implements PlanCatalog.
func (b BuiltinPlans) PlanCodes(context.Context) ([]string, error) { return slices.Clone(b), nil }

// planCodes returns PlanFree, PlanGPCore and then the catalog's other codes,
// sorted.
func (s *Service) planCodes(ctx context.Context) ([]string, error) {
	codes, err := s.cfg.Plans.PlanCodes(ctx)
	if err != nil {
		return nil, fmt.Errorf("plan catalog: %w", err)
	}
	codes = slices.DeleteFunc(slices.Clone(codes), func(c string) bool { return c == PlanFree || c == PlanGPCore })
	slices.Sort(codes)
	return append([]string{PlanFree, PlanGPCore}, slices.Compact(codes)...), nil
}

// ListPlanCodes returns page p of the plan codes (PlanFree, PlanGPCore, then
// the catalog's other codes in order) and how many there are. It is for
// staff: the API requires the role view-payment.
func (s *Service) ListPlanCodes(ctx context.Context, p pagination.Page) ([]string, int64, error) {
	codes, err := s.planCodes(ctx)
	if err != nil {
		return nil, 0, wrap("list plan codes", err)
	}
	return pagination.Slice(codes, p), int64(len(codes)), nil
}

// DefaultPlanCode returns the default plan code of billing profile
// profileID, whoever owns it: the plan projects billed to it subscribe to.
// It is for staff (the API requires the role view-payment). NotFound for a
// profile that does not exist.
func (s *Service) DefaultPlanCode(ctx context.Context, profileID string) (string, error) {
	var code string
	err := s.db.NewSelect().Model((*profileRow)(nil)).Column("default_plan_code").Where("id = ?", profileID).Scan(ctx, &code)
	if noRows(err) {
		return "", fault.NotFound("billing profile", profileID)
	}
	if err != nil {
		return "", wrap("get default plan code", err)
	}
	return code, nil
}

// ChangeDefaultPlanCode sets the default plan code of billing profile
// profileID, whoever owns it, and returns it. The code must be in the plan
// catalog (or be PlanFree or PlanGPCore). It is for staff (the API requires
// the role manage-payment). Refusals: NotFound for a profile that does not
// exist, InvalidArgument naming "plan_code" for a code the catalog lacks.
func (s *Service) ChangeDefaultPlanCode(ctx context.Context, profileID, code string) (string, error) {
	code = strings.TrimSpace(code)
	if err := checkPlanCodeSyntax(code); err != nil {
		return "", err
	}
	codes, err := s.planCodes(ctx)
	if err != nil {
		return "", wrap("change default plan code", err)
	}
	if !slices.Contains(codes, code) {
		return "", fault.Invalid("plan_code", "%q is not a plan of the plan catalog (ListPlanCodes lists them)", code)
	}
	err = s.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewUpdate().Model((*profileRow)(nil)).
			Set("default_plan_code = ?", code).Set("updated_at = ?", s.now()).
			Where("id = ?", profileID).
			Exec(ctx)
		if err != nil {
			return fmt.Errorf("update plan code: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("update plan code: %w", err)
		}
		if n == 0 {
			return fault.NotFound("billing profile", profileID)
		}
		return nil
	})
	if err != nil {
		return "", wrap("change default plan code", err)
	}
	return code, nil
}

// checkPlanCodeSyntax refuses, as InvalidArgument naming "plan_code", an
// empty code, one longer than maxPlanCodeLength characters, or one with
// spaces or control characters.
func checkPlanCodeSyntax(code string) error {
	switch {
	case code == "":
		return fault.Invalid("plan_code", "is required")
	case !utf8.ValidString(code) || utf8.RuneCountInString(code) > maxPlanCodeLength:
		return fault.Invalid("plan_code", "must be valid UTF-8 of at most %d characters", maxPlanCodeLength)
	case strings.ContainsFunc(code, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		return fault.Invalid("plan_code", "must not contain spaces or control characters")
	}
	return nil
}
