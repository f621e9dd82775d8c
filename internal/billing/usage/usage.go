// Package usage is how node lifecycle reaches metering: the tables
// node_usage and node_usage_phases (migration 00008), written by the node
// domain inside its own transactions and read by billing.
//
// The node domain calls, in the transaction that makes the change:
//
//   - StartTx when it inserts a node (CreateNode), with ForOrder's record of
//     the node's prices, licence and billing period;
//   - ChangePeriodTx when a customer asks for another billing period
//     (ChangeNodeBillingPeriod); it returns how the node is billed then, the
//     change pending until PaidUntil;
//   - ChangeLicenceTx when a customer reinstalls the node (ReinstallNode),
//     with LicenceFor's licence of the image being installed;
//   - EndTx when the customer destroys the node (DestroyNode): billing stops
//     there, whatever the cleaning of the server takes afterwards.
//
// CurrentTx says how a node is billed at an instant (its period, a pending
// change, the end of its paid term: the node's paid_until_at), for the node
// domain's reads and checks; CurrentManyTx says it of a page of nodes in one
// query, and NodesBilledBy selects the nodes billed by a period at an
// instant, for the node domain's searches.
//
// A node's prices are captured by StartTx and never change for it. Its
// licence follows its image (metering.LicenceSpan, the table
// node_usage_licences): it is billed from the moment a reinstall to an image
// with one is accepted, at the flavour's licence price then, and nothing more
// falls due for it from the moment a reinstall to an image without one is
// accepted (the licence month in progress stays paid; an image with the
// licence installed again within it resumes that licence). The moment of
// acceptance, not the end of the installation, is what GetNode shows at once
// (Node.has_spla_license), and a node that fails to install is billed all
// the same. The billing rules are metering's (internal/billing/metering). The timezone whose
// clock hours an hourly node is counted by is its payer's (Location).
package usage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/gpcore/gpcore/internal/billing/metering"
	"github.com/gpcore/gpcore/internal/catalog"
	"github.com/gpcore/gpcore/internal/fault"
)

// NodeUsage is what StartTx records of a new node.
type NodeUsage struct {
	NodeID    string
	ProjectID string
	FlavourID string
	// Currency is the project's; the prices are in it.
	Currency catalog.Currency
	// Period is the billing period the node is ordered with.
	Period metering.Period
	// PricePerHour and PricePerMonth are the flavour's prices in the
	// datacenter, in minor units.
	PricePerHour, PricePerMonth int64
	// Licence is the node's licence (LicenceFor), nil when its image has
	// none.
	Licence *metering.Licence
	// At is the order.
	At time.Time
}

// ForOrder returns the usage of node nodeID of project projectID, ordered at
// at with billing period period, on flavour (priced in the project's
// currency) with image, licensed as LicenceFor says.
func ForOrder(nodeID, projectID string, flavour catalog.DatacenterFlavour, image catalog.Image, period metering.Period, at time.Time) NodeUsage {
	return NodeUsage{
		NodeID: nodeID, ProjectID: projectID, FlavourID: flavour.ID,
		Currency: flavour.PricePerHour.Currency, Period: period,
		PricePerHour: flavour.PricePerHour.Amount, PricePerMonth: flavour.PricePerMonth.Amount,
		Licence: LicenceFor(flavour, image), At: at,
	}
}

// LicenceFor returns the licence a node on flavour (priced in its project's
// currency) pays for while image is installed. A Windows image that contains
// a SPLA licence (catalog.Image.ContainsSPLALicense) is licensed for all the
// flavour's cores: at the flavour's SPLA price when it has one, at its
// Windows monthly fee otherwise; any other image brings no licence to pay
// for (nil; customers with a licence of their own upload their own image).
func LicenceFor(flavour catalog.DatacenterFlavour, image catalog.Image) *metering.Licence {
	if !image.ContainsSPLALicense {
		return nil
	}
	switch {
	case flavour.SPLA.Base.Amount > 0 || flavour.SPLA.Additional2Cores.Amount > 0:
		return &metering.Licence{Cores: flavour.CPUCores, Price: flavour.SPLA}
	case flavour.WindowsMonthlyFee != nil:
		return &metering.Licence{Cores: flavour.CPUCores, Price: catalog.SPLAPrice{Base: *flavour.WindowsMonthlyFee}}
	}
	return nil
}

// usageRow is a node_usage row.
type usageRow struct {
	bun.BaseModel `bun:"table:node_usage,alias:nu"`

	NodeID        string    `bun:"node_id,pk"`
	ProjectID     string    `bun:"project_id"`
	FlavourID     string    `bun:"flavour_id"`
	Currency      string    `bun:"currency"`
	PricePerHour  int64     `bun:"price_per_hour"`
	PricePerMonth int64     `bun:"price_per_month"`
	StartedAt     time.Time `bun:"started_at"`
	EndedAt       time.Time `bun:"ended_at,nullzero"`
	BilledUntil   time.Time `bun:"billed_until,nullzero"`
}

// licenceRow is a node_usage_licences row: a span with a licence.
type licenceRow struct {
	bun.BaseModel `bun:"table:node_usage_licences,alias:nul"`

	NodeID    string    `bun:"node_id,pk"`
	StartsAt  time.Time `bun:"starts_at,pk"`
	EndsAt    time.Time `bun:"ends_at,nullzero"`
	Cores     int32     `bun:"cores"`
	Base      int64     `bun:"base"`
	Per2Cores int64     `bun:"per_2_cores"`
}

// span is the row as metering sees it, priced in currency.
func (r licenceRow) span(currency catalog.Currency) metering.LicenceSpan {
	return metering.LicenceSpan{
		Licence: metering.Licence{Cores: r.Cores, Price: catalog.SPLAPrice{
			Base:             catalog.Money{Amount: r.Base, Currency: currency},
			Additional2Cores: catalog.Money{Amount: r.Per2Cores, Currency: currency},
		}},
		From: r.StartsAt.UTC(), To: utcOrZero(r.EndsAt),
	}
}

// phaseRow is a node_usage_phases row.
type phaseRow struct {
	bun.BaseModel `bun:"table:node_usage_phases,alias:nup"`

	NodeID   string    `bun:"node_id,pk"`
	StartsAt time.Time `bun:"starts_at,pk"`
	Anchor   time.Time `bun:"anchor"`
	Period   string    `bun:"period"`
}

// StartTx records, as part of the node domain's transaction db, that the
// node u.NodeID was ordered, and returns when its first term ends (its
// paid_until_at, metering.TermEnd). An hourly node's hours are counted on
// the clock of its project's payer (Location).
func StartTx(ctx context.Context, db bun.IDB, u NodeUsage) (time.Time, error) {
	if !u.Period.Valid() {
		return time.Time{}, fmt.Errorf("usage: node %s: unknown billing period %q", u.NodeID, u.Period)
	}
	at := u.At.UTC()
	row := usageRow{
		NodeID: u.NodeID, ProjectID: u.ProjectID, FlavourID: u.FlavourID, Currency: string(u.Currency),
		PricePerHour: u.PricePerHour, PricePerMonth: u.PricePerMonth, StartedAt: at,
	}
	anchor := at
	if u.Period == metering.Hourly {
		loc, err := Location(ctx, db, u.ProjectID)
		if err != nil {
			return time.Time{}, err
		}
		anchor = metering.HourAnchor(at, loc)
	}
	if _, err := db.NewInsert().Model(&row).Exec(ctx); err != nil {
		return time.Time{}, fmt.Errorf("usage: start node %s: %w", u.NodeID, err)
	}
	phase := phaseRow{NodeID: u.NodeID, StartsAt: at, Anchor: anchor, Period: string(u.Period)}
	if _, err := db.NewInsert().Model(&phase).Exec(ctx); err != nil {
		return time.Time{}, fmt.Errorf("usage: start node %s: %w", u.NodeID, err)
	}
	if u.Licence != nil {
		if err := insertLicence(ctx, db, u.NodeID, *u.Licence, at); err != nil {
			return time.Time{}, err
		}
	}
	return metering.TermEnd(u.Period, anchor, at), nil
}

// EndTx records, as part of the node domain's transaction db, that node
// nodeID was destroyed at at: nothing more falls due after it, and a change
// of billing period that had not taken effect yet never does. Usage that an
// issued bill already covers stays billed: a destruction recorded for an
// earlier time than the last bill's end counts from that end. Ending a node
// twice keeps the first end.
func EndTx(ctx context.Context, db bun.IDB, nodeID string, at time.Time) error {
	row, err := lock(ctx, db, nodeID)
	if err != nil {
		return err
	}
	if !row.EndedAt.IsZero() {
		return nil
	}
	end := at.UTC()
	if end.Before(row.StartedAt) {
		end = row.StartedAt
	}
	if end.Before(row.BilledUntil) {
		end = row.BilledUntil
	}
	if _, err := db.NewUpdate().Model((*usageRow)(nil)).Set("ended_at = ?", end).Where("node_id = ?", nodeID).Exec(ctx); err != nil {
		return fmt.Errorf("usage: end node %s: %w", nodeID, err)
	}
	if _, err := db.NewDelete().Model((*phaseRow)(nil)).
		Where("node_id = ?", nodeID).Where("starts_at > ?", row.StartedAt).Where("starts_at >= ?", end).
		Exec(ctx); err != nil {
		return fmt.Errorf("usage: end node %s: drop pending changes: %w", nodeID, err)
	}
	return nil
}

// ChangeLicenceTx records, as part of the node domain's transaction db, that
// at at node nodeID was given an image that brings licence l (LicenceFor),
// nil for an image without one:
//
//   - a licence when none was on the node starts a span at at, its first
//     licence month due then, priced as l; or, when the last span's paid
//     licence month (metering.LicenceSpan.PaidUntil) still runs at at,
//     resumes that span as if it had never ended;
//   - a licence when one is on the node keeps it as it is;
//   - no licence ends the span on the node at at (and drops it when it
//     started at at: nothing fell due).
//
// A change recorded for an earlier time than the last bill's end counts from
// that end, so issued bills stay right. A node that has ended is a
// fault.Precondition.
func ChangeLicenceTx(ctx context.Context, db bun.IDB, nodeID string, l *metering.Licence, at time.Time) error {
	row, err := lock(ctx, db, nodeID)
	if err != nil {
		return err
	}
	if !row.EndedAt.IsZero() {
		return fault.Precondition("the usage of node %s ended at %s: its licence cannot change", nodeID, row.EndedAt.UTC().Format(time.RFC3339))
	}
	at = latest(at.UTC(), row.StartedAt.UTC(), row.BilledUntil.UTC())
	var spans []licenceRow
	if err := db.NewSelect().Model(&spans).Where("node_id = ?", nodeID).OrderExpr("starts_at DESC").Limit(1).Scan(ctx); err != nil {
		return fmt.Errorf("usage: licence of node %s: %w", nodeID, err)
	}
	var last *licenceRow
	if len(spans) > 0 {
		last = &spans[0]
	}
	on := last != nil && last.EndsAt.IsZero()
	of := db.NewUpdate().Model((*licenceRow)(nil)).Where("node_id = ?", nodeID)
	switch {
	case l == nil && !on, l != nil && on:
		return nil
	case l == nil && !at.After(last.StartsAt):
		_, err = db.NewDelete().Model((*licenceRow)(nil)).Where("node_id = ?", nodeID).Where("starts_at = ?", last.StartsAt).Exec(ctx)
	case l == nil:
		_, err = of.Set("ends_at = ?", at).Where("starts_at = ?", last.StartsAt).Exec(ctx)
	case last != nil && at.Before(last.span(catalog.Currency(row.Currency)).PaidUntil()):
		_, err = of.Set("ends_at = NULL").Where("starts_at = ?", last.StartsAt).Exec(ctx)
	default:
		return insertLicence(ctx, db, nodeID, *l, at)
	}
	if err != nil {
		return fmt.Errorf("usage: change licence of node %s: %w", nodeID, err)
	}
	return nil
}

// insertLicence starts a span of node nodeID with licence l at at.
func insertLicence(ctx context.Context, db bun.IDB, nodeID string, l metering.Licence, at time.Time) error {
	span := licenceRow{NodeID: nodeID, StartsAt: at, Cores: l.Cores, Base: l.Price.Base.Amount, Per2Cores: l.Price.Additional2Cores.Amount}
	if _, err := db.NewInsert().Model(&span).Exec(ctx); err != nil {
		return fmt.Errorf("usage: start licence of node %s: %w", nodeID, err)
	}
	return nil
}

// latest returns the latest of times.
func latest(times ...time.Time) time.Time {
	out := times[0]
	for _, t := range times[1:] {
		if t.After(out) {
			out = t
		}
	}
	return out
}

// State is how a node is billed at an instant: what its row in nodes shows
// (billing_period, target_billing_period, paid_until_at).
type State struct {
	// Period is the billing period in effect.
	Period metering.Period
	// Target is the billing period a pending change will switch to, empty
	// when none is pending.
	Target metering.Period
	// PaidUntil is when the current term (the started hour, or the paid
	// month) ends, and a pending change takes effect.
	PaidUntil time.Time
}

// CurrentTx returns, as part of the node domain's transaction db, how node
// nodeID is billed at at.
func CurrentTx(ctx context.Context, db bun.IDB, nodeID string, at time.Time) (State, error) {
	phases, err := loadPhases(ctx, db, nodeID)
	if err != nil {
		return State{}, err
	}
	return stateAt(phases, at.UTC()), nil
}

// CurrentManyTx returns, as part of the node domain's transaction db, how
// each of nodes nodeIDs is billed at at, by node id, in one query: what
// CurrentTx says of each. A node without usage is an error.
func CurrentManyTx(ctx context.Context, db bun.IDB, nodeIDs []string, at time.Time) (map[string]State, error) {
	out := make(map[string]State, len(nodeIDs))
	if len(nodeIDs) == 0 {
		return out, nil
	}
	var phases []phaseRow
	if err := db.NewSelect().Model(&phases).Where("node_id IN (?)", bun.In(nodeIDs)).OrderExpr("node_id, starts_at").Scan(ctx); err != nil {
		return nil, fmt.Errorf("usage: phases of %d nodes: %w", len(nodeIDs), err)
	}
	of := make(map[string][]phaseRow, len(nodeIDs))
	for _, p := range phases {
		of[p.NodeID] = append(of[p.NodeID], p)
	}
	at = at.UTC()
	for _, id := range nodeIDs {
		if len(of[id]) == 0 {
			return nil, fmt.Errorf("usage: node %s has no usage recorded", id)
		}
		out[id] = stateAt(of[id], at)
	}
	return out, nil
}

// NodesBilledBy returns a query for the ids of the nodes billed by period
// at at (the phase in effect then, as CurrentTx sees it), for the node
// domain's filters: "n.id IN (?)" with the query as argument.
func NodesBilledBy(db bun.IDB, period metering.Period, at time.Time) *bun.SelectQuery {
	at = at.UTC()
	// The phase in effect is the last one started by at, or the first one
	// (the order's) when none has.
	return db.NewSelect().TableExpr("node_usage_phases AS cur").Column("cur.node_id").
		Where("cur.period = ?", period).
		WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where("cur.starts_at <= ?", at).
				WhereOr("NOT EXISTS (SELECT 1 FROM node_usage_phases AS prv WHERE prv.node_id = cur.node_id AND prv.starts_at < cur.starts_at)")
		}).
		Where("NOT EXISTS (SELECT 1 FROM node_usage_phases AS nxt WHERE nxt.node_id = cur.node_id AND nxt.starts_at > cur.starts_at AND nxt.starts_at <= ?)", at)
}

// ChangePeriodTx records, as part of the node domain's transaction db, that
// node nodeID is to be billed by period from the end of its current term on
// (metering.TermEnd of at), and returns how the node is billed now: with
// the change pending as Target, taking effect at PaidUntil. Asking for the
// period the node is billed by at at cancels a pending change. A node that
// has ended is a fault.Precondition.
func ChangePeriodTx(ctx context.Context, db bun.IDB, nodeID string, period metering.Period, at time.Time) (State, error) {
	if !period.Valid() {
		return State{}, fmt.Errorf("usage: node %s: unknown billing period %q", nodeID, period)
	}
	row, err := lock(ctx, db, nodeID)
	if err != nil {
		return State{}, err
	}
	if !row.EndedAt.IsZero() {
		return State{}, fault.Precondition("the usage of node %s ended at %s: its billing period cannot change", nodeID, row.EndedAt.UTC().Format(time.RFC3339))
	}
	at = at.UTC()
	phases, err := loadPhases(ctx, db, nodeID)
	if err != nil {
		return State{}, err
	}
	st := stateAt(phases, at)
	if _, err := db.NewDelete().Model((*phaseRow)(nil)).
		Where("node_id = ?", nodeID).Where("starts_at > ?", at).
		Exec(ctx); err != nil {
		return State{}, fmt.Errorf("usage: node %s: drop pending change: %w", nodeID, err)
	}
	st.Target = ""
	if st.Period == period {
		return st, nil
	}
	next := phaseRow{NodeID: nodeID, StartsAt: st.PaidUntil, Anchor: st.PaidUntil, Period: string(period)}
	if _, err := db.NewInsert().Model(&next).Exec(ctx); err != nil {
		return State{}, fmt.Errorf("usage: node %s: record change to %s: %w", nodeID, period, err)
	}
	st.Target = period
	return st, nil
}

// loadPhases reads the phases of node nodeID in order; a node without any
// is an error.
func loadPhases(ctx context.Context, db bun.IDB, nodeID string) ([]phaseRow, error) {
	var phases []phaseRow
	if err := db.NewSelect().Model(&phases).Where("node_id = ?", nodeID).OrderExpr("starts_at").Scan(ctx); err != nil {
		return nil, fmt.Errorf("usage: phases of node %s: %w", nodeID, err)
	}
	if len(phases) == 0 {
		return nil, fmt.Errorf("usage: node %s has no usage recorded", nodeID)
	}
	return phases, nil
}

// stateAt is how a node with phases (in order) is billed at at.
func stateAt(phases []phaseRow, at time.Time) State {
	current, i := phases[0], 1
	for ; i < len(phases) && !phases[i].StartsAt.After(at); i++ {
		current = phases[i]
	}
	st := State{Period: metering.Period(current.Period), PaidUntil: metering.TermEnd(metering.Period(current.Period), current.Anchor.UTC(), at)}
	if i < len(phases) {
		st.Target = metering.Period(phases[i].Period)
	}
	return st
}

// lock reads node nodeID's usage row and, on PostgreSQL, locks it until the
// transaction ends, so that a change and a bill closing the node's period
// take turns (on SQLite the transaction holds the database's write lock).
func lock(ctx context.Context, db bun.IDB, nodeID string) (usageRow, error) {
	var row usageRow
	q := db.NewSelect().Model(&row).Where("node_id = ?", nodeID)
	if q.Dialect().Name() == dialect.PG {
		q = q.For("UPDATE")
	}
	err := q.Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return usageRow{}, fmt.Errorf("usage: node %s has no usage recorded", nodeID)
	}
	if err != nil {
		return usageRow{}, fmt.Errorf("usage: lock node %s: %w", nodeID, err)
	}
	return row, nil
}
