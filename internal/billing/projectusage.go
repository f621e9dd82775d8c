package billing

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/gpcore/gpcore/internal/billing/metering"
	"github.com/gpcore/gpcore/internal/billing/usage"
	"github.com/gpcore/gpcore/internal/catalog"
	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/project"
)

// DeletionGuard is a project.DeletionGuard.
var _ project.DeletionGuard = DeletionGuard{}

// Usage is what a project's nodes owe in a billing period, by flavour (the
// reference's ProjectUsage), or what a bill covers.
type Usage struct {
	Currency catalog.Currency
	// Total is the sum of every line, in minor units.
	Total int64
	// Flavours group the lines by flavour, billing period and unit type:
	// hours, monthly terms and licences (cores) apart.
	Flavours []FlavourUsage
}

// FlavourUsage is the lines of one flavour, billing period and unit type.
type FlavourUsage struct {
	FlavourID, FlavourName string
	Period                 metering.Period
	UnitType               metering.UnitType
	// Units adds the lines' units: hours, months, or licensed cores (one
	// count per licence month).
	Units int64
	Total int64
	// Nodes are the nodes the lines are of, by name.
	Nodes []NodeSpan
}

// NodeSpan is a node in a FlavourUsage.
type NodeSpan struct {
	NodeID, Name string
	// From and To bound what the node's lines in the group pay for: from the
	// start of its first hour or term to the end of its last one (which
	// may lie ahead: a term is paid in advance, a started hour in full).
	From, To time.Time
}

// UsageOf groups lines in currency into a Usage, ordered by flavour name,
// billing period and unit type.
func UsageOf(currency catalog.Currency, lines []BillLine) Usage {
	type key struct {
		flavour  string
		period   metering.Period
		unitType metering.UnitType
	}
	out := Usage{Currency: currency}
	groups := map[key]*FlavourUsage{}
	spans := map[key]map[string]*NodeSpan{}
	for _, l := range lines {
		k := key{l.FlavourID, l.Period, l.UnitType}
		g := groups[k]
		if g == nil {
			g = &FlavourUsage{FlavourID: l.FlavourID, FlavourName: l.FlavourName, Period: l.Period, UnitType: l.UnitType}
			groups[k], spans[k] = g, map[string]*NodeSpan{}
		}
		g.Units += l.Units
		g.Total += l.Amount
		out.Total += l.Amount
		if n := spans[k][l.NodeID]; n == nil {
			spans[k][l.NodeID] = &NodeSpan{NodeID: l.NodeID, Name: l.NodeName, From: l.From, To: l.To}
		} else {
			n.From, n.To = earlier(n.From, l.From), later(n.To, l.To)
		}
	}
	for k, g := range groups {
		for _, n := range spans[k] {
			g.Nodes = append(g.Nodes, *n)
		}
		slices.SortFunc(g.Nodes, func(a, b NodeSpan) int {
			return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.NodeID, b.NodeID))
		})
		out.Flavours = append(out.Flavours, *g)
	}
	slices.SortFunc(out.Flavours, func(a, b FlavourUsage) int {
		return cmp.Or(strings.Compare(a.FlavourName, b.FlavourName), strings.Compare(a.FlavourID, b.FlavourID),
			strings.Compare(string(a.Period), string(b.Period)), cmp.Compare(unitRank(a.UnitType), unitRank(b.UnitType)))
	})
	return out
}

// unitRank orders unit types: hours, months, cores.
func unitRank(u metering.UnitType) int {
	return slices.Index([]metering.UnitType{metering.Hours, metering.Months, metering.Cores}, u)
}

func earlier(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// ProjectUsage returns what project projectID's nodes owe in its current
// billing period so far: from the start of the calendar month, on its
// payer's calendar (usage.Location), to now; the hours started and the
// terms and licence months begun. NotFound unless userID is a confirmed
// member of the project.
func (s *Service) ProjectUsage(ctx context.Context, userID, projectID string) (Usage, error) {
	var project struct {
		billedProject
		Currency string `bun:"currency"`
	}
	err := s.db.NewSelect().TableExpr("projects AS p").ColumnExpr("p.id, p.name, COALESCE(p.plan_code, '') AS plan_code, p.currency").
		Join("JOIN project_members AS m ON m.project_id = p.id").
		Where("p.id = ?", projectID).Where("m.user_id = ?", userID).Where("m.confirmed").
		Scan(ctx, &project)
	if noRows(err) {
		return Usage{}, fault.NotFound("project", projectID)
	}
	if err != nil {
		return Usage{}, wrap("project usage", err)
	}
	loc, err := usage.Location(ctx, s.db.DB, projectID)
	if err != nil {
		return Usage{}, wrap("project usage", err)
	}
	records, err := usage.Load(ctx, s.db.DB, usage.Filter{ProjectIDs: []string{projectID}})
	if err != nil {
		return Usage{}, wrap("project usage", err)
	}
	now := s.now()
	from := monthStart(now, loc)
	var lines []BillLine
	for _, r := range records {
		for _, l := range metering.Lines(r.Node, from, now.Add(time.Nanosecond)) {
			lines = append(lines, lineOf(r, project.billedProject, l))
		}
	}
	return UsageOf(catalog.Currency(project.Currency), lines), nil
}

// billedProject is what a bill line names of its project.
type billedProject struct {
	ID       string `bun:"id"`
	Name     string `bun:"name"`
	PlanCode string `bun:"plan_code"`
}

// lineOf is metering line l of usage record r in project p.
func lineOf(r usage.Record, p billedProject, l metering.Line) BillLine {
	return BillLine{
		ProjectID: r.ProjectID, ProjectName: p.Name, PlanCode: p.PlanCode, NodeID: r.ID, NodeName: r.NodeName,
		FlavourID: r.FlavourID, FlavourName: r.FlavourName, Kind: l.Kind, Period: l.Period, UnitType: l.UnitType,
		Units: l.Units, UnitPrice: l.UnitPrice, Amount: l.Amount, From: l.From, To: l.To,
	}
}

// DeletionGuard keeps a project whose bills are not settled (project.DeletionGuard):
// one with a bill that is not paid, or with usage no bill has covered yet
// (an outstanding balance, billed when the current period closes).
type DeletionGuard struct{}

// DeletionBlocker implements project.DeletionGuard.
func (DeletionGuard) DeletionBlocker(ctx context.Context, db bun.IDB, projectID string) (string, error) {
	unpaid, err := db.NewSelect().Model((*billRow)(nil)).
		Where("status <> ?", BillSucceeded).
		Where("EXISTS (SELECT 1 FROM bill_lines AS bl WHERE bl.bill_id = b.id AND bl.project_id = ?)", projectID).
		Count(ctx)
	if err != nil {
		return "", fmt.Errorf("billing: unpaid bills of project %s: %w", projectID, err)
	}
	if unpaid > 0 {
		return fmt.Sprintf("it has %d unpaid bill(s)", unpaid), nil
	}
	records, err := usage.Load(ctx, db, usage.Filter{ProjectIDs: []string{projectID}, Unbilled: true})
	if err != nil {
		return "", err
	}
	for _, r := range records {
		if r.End.IsZero() {
			return "its nodes are still being billed", nil
		}
		for _, l := range metering.Lines(r.Node, r.BilledUntil, r.End) {
			if l.Amount > 0 {
				return "it has usage not billed yet (billed when the current billing period ends)", nil
			}
		}
	}
	return "", nil
}
