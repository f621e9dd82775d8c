package usage

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/gpcore/gpcore/internal/billing/metering"
	"github.com/gpcore/gpcore/internal/catalog"
)

// Record is a node's usage as billing reads it.
type Record struct {
	metering.Node
	ProjectID string
	// NodeName is the node's FQDN now; FlavourName its flavour's name now.
	NodeName    string
	FlavourName string
	// BilledUntil is the end of the last bill period that covered the node,
	// zero before its first bill: what falls due before it is billed.
	BilledUntil time.Time
}

// Filter selects the records Load returns.
type Filter struct {
	// ProjectIDs are the projects whose nodes are read (required).
	ProjectIDs []string
	// Unbilled keeps the nodes that may still owe something: live ones, and
	// ended ones whose end an issued bill has not reached.
	Unbilled bool
	// Lock locks the usage rows read until the transaction db ends, on
	// PostgreSQL (in node id order), so that no node changes while its
	// usage is being billed. Use it inside a transaction only.
	Lock bool
}

// recordRow is a node_usage row with its node's and flavour's names.
type recordRow struct {
	usageRow `bun:",extend"`

	NodeName    string `bun:"node_name,scanonly"`
	FlavourName string `bun:"flavour_name,scanonly"`
}

// Load returns the usage of the nodes f selects, in node id order, each with
// its phases and licence spans.
func Load(ctx context.Context, db bun.IDB, f Filter) ([]Record, error) {
	if len(f.ProjectIDs) == 0 {
		return nil, nil
	}
	var rows []recordRow
	q := db.NewSelect().Model(&rows).
		ColumnExpr("nu.node_id, nu.project_id, nu.flavour_id, nu.currency, nu.price_per_hour, nu.price_per_month, nu.started_at, nu.ended_at, nu.billed_until").ColumnExpr("n.fqdn AS node_name").ColumnExpr("f.name AS flavour_name").
		Join("JOIN nodes AS n ON n.id = nu.node_id").
		Join("JOIN flavours AS f ON f.id = nu.flavour_id").
		Where("nu.project_id IN (?)", bun.In(f.ProjectIDs)).
		OrderExpr("nu.node_id")
	if f.Unbilled {
		q = q.Where("nu.ended_at IS NULL OR nu.billed_until IS NULL OR nu.billed_until < nu.ended_at")
	}
	if f.Lock && q.Dialect().Name() == dialect.PG {
		q = q.For("UPDATE OF nu")
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("usage: load: %w", err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.NodeID
	}
	var phases []phaseRow
	if err := db.NewSelect().Model(&phases).Where("node_id IN (?)", bun.In(ids)).OrderExpr("node_id, starts_at").Scan(ctx); err != nil {
		return nil, fmt.Errorf("usage: load phases: %w", err)
	}
	of := make(map[string][]metering.Phase, len(rows))
	for _, p := range phases {
		of[p.NodeID] = append(of[p.NodeID], metering.Phase{From: p.StartsAt.UTC(), Anchor: p.Anchor.UTC(), Period: metering.Period(p.Period)})
	}
	var spans []licenceRow
	if err := db.NewSelect().Model(&spans).Where("node_id IN (?)", bun.In(ids)).OrderExpr("node_id, starts_at").Scan(ctx); err != nil {
		return nil, fmt.Errorf("usage: load licences: %w", err)
	}
	licences := make(map[string][]licenceRow, len(rows))
	for _, l := range spans {
		licences[l.NodeID] = append(licences[l.NodeID], l)
	}
	out := make([]Record, len(rows))
	for i, r := range rows {
		out[i] = Record{
			Node: metering.Node{
				ID: r.NodeID, FlavourID: r.FlavourID, Currency: catalog.Currency(r.Currency),
				PricePerHour: r.PricePerHour, PricePerMonth: r.PricePerMonth,
				Start: r.StartedAt.UTC(), End: utcOrZero(r.EndedAt), Phases: of[r.NodeID],
			},
			ProjectID: r.ProjectID, NodeName: r.NodeName, FlavourName: r.FlavourName,
			BilledUntil: utcOrZero(r.BilledUntil),
		}
		for _, l := range licences[r.NodeID] {
			out[i].Licences = append(out[i].Licences, l.span(catalog.Currency(r.Currency)))
		}
	}
	return out, nil
}

// MarkBilledTx records, as part of billing's transaction db, that an issued
// bill covers everything nodeIDs owed before until.
func MarkBilledTx(ctx context.Context, db bun.IDB, nodeIDs []string, until time.Time) error {
	if len(nodeIDs) == 0 {
		return nil
	}
	if _, err := db.NewUpdate().Model((*usageRow)(nil)).
		Set("billed_until = ?", until.UTC()).
		Where("node_id IN (?)", bun.In(nodeIDs)).
		Exec(ctx); err != nil {
		return fmt.Errorf("usage: mark billed until %s: %w", until, err)
	}
	return nil
}

// Location returns the time zone a project's usage is billed in: that of
// its payer, the owner of its billing profile, or of the project's OWNER
// while it has no billing profile; UTC when neither is known.
func Location(ctx context.Context, db bun.IDB, projectID string) (*time.Location, error) {
	var names []string
	if err := db.NewSelect().TableExpr("projects AS p").ColumnExpr("u.timezone").
		Join("JOIN billing_profiles AS bp ON bp.id = p.billing_profile_id").
		Join("JOIN users AS u ON u.id = bp.user_id").
		Where("p.id = ?", projectID).
		Scan(ctx, &names); err != nil {
		return nil, fmt.Errorf("usage: time zone of the payer of project %s: %w", projectID, err)
	}
	if len(names) == 0 {
		if err := db.NewSelect().TableExpr("project_members AS m").ColumnExpr("u.timezone").
			Join("JOIN users AS u ON u.id = m.user_id").
			Where("m.project_id = ?", projectID).Where("m.role = 'OWNER'").Where("m.confirmed").
			OrderExpr("m.created_at").Limit(1).
			Scan(ctx, &names); err != nil {
			return nil, fmt.Errorf("usage: time zone of the owner of project %s: %w", projectID, err)
		}
	}
	if len(names) == 0 {
		return time.UTC, nil
	}
	return LoadLocation(names[0]), nil
}

// LoadLocation returns the IANA time zone name (a user's timezone, one of
// the catalog's list, which the binary embeds), or UTC for a name that does
// not load.
func LoadLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC
	}
	return loc
}

// utcOrZero returns t in UTC, keeping the zero time zero.
func utcOrZero(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC()
}
