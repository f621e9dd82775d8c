package usage_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/gpcore/gpcore/internal/billing"
	"github.com/gpcore/gpcore/internal/billing/billingtest"
	"github.com/gpcore/gpcore/internal/billing/metering"
	"github.com/gpcore/gpcore/internal/billing/usage"
	"github.com/gpcore/gpcore/internal/catalog"
	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/identity"
	"github.com/gpcore/gpcore/internal/project"
	"github.com/gpcore/gpcore/internal/store"
	"github.com/gpcore/gpcore/internal/store/storetest"
)

// setup returns a database with the seed catalog and a project whose owner
// lives in tz, without a billing profile.
func setup(t *testing.T, tz string) (*store.DB, project.Project) {
	t.Helper()
	ctx := t.Context()
	db := storetest.New(t)
	if err := catalog.Seed(ctx, db, catalog.DefaultSeed()); err != nil {
		t.Fatal(err)
	}
	ids, err := identity.New(db, identity.Config{})
	if err != nil {
		t.Fatal(err)
	}
	u, err := ids.Register(ctx, identity.RegisterInput{Email: "ada@example.com", Password: "Correct-Horse-42", FirstName: "Ada", LastName: "Lovelace"})
	if err != nil {
		t.Fatal(err)
	}
	if u, err = ids.UpdateTimezone(ctx, u.ID, tz); err != nil {
		t.Fatal(err)
	}
	projects, err := project.New(db, project.Config{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := projects.Create(ctx, u.ID, project.CreateInput{Name: "Shop"})
	if err != nil {
		t.Fatal(err)
	}
	return db, p
}

func inTx(t *testing.T, db *store.DB, fn func(ctx context.Context, tx bun.Tx) error) {
	t.Helper()
	if err := db.InTx(t.Context(), fn); err != nil {
		t.Fatal(err)
	}
}

func load(t *testing.T, db *store.DB, projectID string) usage.Record {
	t.Helper()
	rs, err := usage.Load(t.Context(), db.DB, usage.Filter{ProjectIDs: []string{projectID}})
	if err != nil || len(rs) != 1 {
		t.Fatalf("Load: %v, %v", rs, err)
	}
	return rs[0]
}

func TestForOrder(t *testing.T) {
	eur := func(a int64) catalog.Money { return catalog.Money{Amount: a, Currency: catalog.EUR} }
	fee := eur(7500)
	flavour := catalog.DatacenterFlavour{
		Flavour:      catalog.Flavour{ID: "f", CPUCores: 32},
		PricePerHour: eur(55), PricePerMonth: eur(31900), WindowsMonthlyFee: &fee,
		SPLA: catalog.SPLAPrice{Base: eur(5000), Additional2Cores: eur(1250)},
	}
	at := time.Date(2026, 11, 10, 10, 59, 0, 0, time.UTC)
	linux := usage.ForOrder("n", "p", flavour, catalog.Image{}, metering.Hourly, at)
	if linux.Licence != nil || linux.PricePerHour != 55 || linux.PricePerMonth != 31900 || linux.Currency != catalog.EUR || linux.Period != metering.Hourly {
		t.Fatalf("Linux: %+v", linux)
	}
	spla := usage.ForOrder("n", "p", flavour, catalog.Image{ContainsSPLALicense: true}, metering.Hourly, at)
	if spla.Licence == nil || spla.Licence.Cores != 32 || spla.Licence.MonthlyFee() != 20000 {
		t.Fatalf("SPLA: %+v", spla.Licence)
	}
	// Without a SPLA price, the flavour's Windows monthly fee prices the
	// licence of all its cores.
	flavour.SPLA = catalog.SPLAPrice{}
	windows := usage.ForOrder("n", "p", flavour, catalog.Image{ContainsSPLALicense: true}, metering.Hourly, at)
	if windows.Licence == nil || windows.Licence.Cores != 32 || windows.Licence.MonthlyFee() != 7500 {
		t.Fatalf("Windows fee: %+v", windows.Licence)
	}
}

func TestLifecycle(t *testing.T) {
	t.Parallel()
	db, p := setup(t, "Asia/Kolkata")
	// Ordered at 10:59 on Kolkata's clock: hours count from 10:00 there, the
	// first one ends at 11:00 there.
	n := billingtest.OrderNode(t, db, billingtest.Order{ProjectID: p.ID, FlavourID: billingtest.FlavourS1, FQDN: "a.example.com",
		At: time.Date(2026, 11, 10, 5, 29, 0, 0, time.UTC)})
	r := load(t, db, p.ID)
	if r.ID != n || r.NodeName != "a.example.com" || r.FlavourName != "BM-S1" || r.PricePerHour != 10 || r.Licence != nil ||
		len(r.Phases) != 1 || !r.Phases[0].Anchor.Equal(time.Date(2026, 11, 10, 4, 30, 0, 0, time.UTC)) || !r.BilledUntil.IsZero() || !r.End.IsZero() {
		t.Fatalf("record %+v", r)
	}
	inTx(t, db, func(ctx context.Context, tx bun.Tx) error {
		st, err := usage.CurrentTx(ctx, tx, n, time.Date(2026, 11, 10, 5, 45, 0, 0, time.UTC))
		if err != nil {
			return err
		}
		if st.Period != metering.Hourly || st.Target != "" || !st.PaidUntil.Equal(time.Date(2026, 11, 10, 5, 30, 0, 0, time.UTC).Add(time.Hour)) {
			t.Errorf("state %+v", st)
		}
		return nil
	})

	// A pending change, then the end before it takes effect: the change
	// goes, the node is hourly to the end.
	change := time.Date(2026, 11, 10, 6, 0, 0, 0, time.UTC)
	billingtest.ChangePeriod(t, db, n, metering.Monthly, change)
	end := time.Date(2026, 11, 10, 6, 10, 0, 0, time.UTC)
	billingtest.Destroy(t, db, n, end)
	r = load(t, db, p.ID)
	if !r.End.Equal(end) || len(r.Phases) != 1 {
		t.Fatalf("ended: %+v", r)
	}
	// A second end keeps the first; a change of an ended node fails.
	inTx(t, db, func(ctx context.Context, tx bun.Tx) error {
		return usage.EndTx(ctx, tx, n, end.Add(time.Hour))
	})
	if r := load(t, db, p.ID); !r.End.Equal(end) {
		t.Fatalf("ended twice: %s", r.End)
	}
	err := db.InTx(t.Context(), func(ctx context.Context, tx bun.Tx) error {
		_, err := usage.ChangePeriodTx(ctx, tx, n, metering.Monthly, end.Add(time.Minute))
		return err
	})
	if fault.KindOf(err) != fault.KindFailedPrecondition {
		t.Fatalf("a change of an ended node: %v, want a failed precondition", err)
	}
}

func TestEndBeforeBilledUntil(t *testing.T) {
	t.Parallel()
	db, p := setup(t, "UTC")
	n := billingtest.OrderNode(t, db, billingtest.Order{ProjectID: p.ID, FlavourID: billingtest.FlavourS1, FQDN: "a.example.com",
		At: time.Date(2026, 10, 10, 10, 0, 0, 0, time.UTC)})
	billed := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	inTx(t, db, func(ctx context.Context, tx bun.Tx) error { return usage.MarkBilledTx(ctx, tx, []string{n}, billed) })
	// A destruction recorded for before the last bill's end counts from
	// that end: what was billed stays billed.
	billingtest.Destroy(t, db, n, time.Date(2026, 10, 31, 0, 0, 0, 0, time.UTC))
	if r := load(t, db, p.ID); !r.End.Equal(billed) || !r.BilledUntil.Equal(billed) {
		t.Fatalf("record %+v", r)
	}
	rs, err := usage.Load(t.Context(), db.DB, usage.Filter{ProjectIDs: []string{p.ID}, Unbilled: true})
	if err != nil || len(rs) != 0 {
		t.Fatalf("unbilled: %v, %v", rs, err)
	}
}

func TestLocation(t *testing.T) {
	t.Parallel()
	db, p := setup(t, "Asia/Tokyo")
	ctx := t.Context()
	// Without a billing profile: the project owner's zone.
	if loc, err := usage.Location(ctx, db.DB, p.ID); err != nil || loc.String() != "Asia/Tokyo" {
		t.Fatalf("Location = %v, %v", loc, err)
	}
	// With one: its owner's.
	b, err := billing.New(db, billing.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ids, err := identity.New(db, identity.Config{})
	if err != nil {
		t.Fatal(err)
	}
	bob, err := ids.Register(ctx, identity.RegisterInput{Email: "bob@example.com", Password: "Correct-Horse-42", FirstName: "Bob", LastName: "B"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ids.UpdateTimezone(ctx, bob.ID, "America/New_York"); err != nil {
		t.Fatal(err)
	}
	prof, err := b.CreateProfile(ctx, bob.ID, billing.ProfileInput{Name: "Bob", Company: "Bob Inc.", CountryCode: "US",
		Street: "1 Main St", City: "Springfield", Postcode: "12345", BillingEmail: "bob@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "UPDATE projects SET billing_profile_id = ? WHERE id = ?", prof.ID, p.ID); err != nil {
		t.Fatal(err)
	}
	if loc, err := usage.Location(ctx, db.DB, p.ID); err != nil || loc.String() != "America/New_York" {
		t.Fatalf("Location = %v, %v", loc, err)
	}
	if loc, err := usage.Location(ctx, db.DB, "00000000-0000-0000-0000-000000000000"); err != nil || loc != time.UTC {
		t.Fatalf("Location of no project = %v, %v", loc, err)
	}
	if usage.LoadLocation("Mars/Olympus") != time.UTC {
		t.Fatal("an unknown zone is not UTC")
	}
}

// TestCurrentMany: CurrentManyTx says of each node what CurrentTx says, a
// pending change included, and refuses a node without usage.
func TestCurrentMany(t *testing.T) {
	t.Parallel()
	db, p := setup(t, "UTC")
	at := time.Date(2026, 11, 10, 10, 15, 0, 0, time.UTC)
	hourly := billingtest.OrderNode(t, db, billingtest.Order{ProjectID: p.ID, FlavourID: billingtest.FlavourS1, FQDN: "a.example.com", At: at})
	monthly := billingtest.OrderNode(t, db, billingtest.Order{ProjectID: p.ID, FlavourID: billingtest.FlavourS1, FQDN: "b.example.com",
		Period: metering.Monthly, At: at})
	changing := billingtest.OrderNode(t, db, billingtest.Order{ProjectID: p.ID, FlavourID: billingtest.FlavourS1, FQDN: "c.example.com", At: at})
	billingtest.ChangePeriod(t, db, changing, metering.Monthly, at.Add(time.Minute))
	ids := []string{hourly, monthly, changing}
	// Before the order too (a replica whose clock is behind): the order's
	// phase is the one in effect.
	for _, when := range []time.Time{at.Add(-time.Second), at.Add(30 * time.Minute), at.Add(2 * time.Hour)} {
		inTx(t, db, func(ctx context.Context, tx bun.Tx) error {
			got, err := usage.CurrentManyTx(ctx, tx, ids, when)
			if err != nil {
				return err
			}
			if len(got) != len(ids) {
				t.Errorf("at %s: %d states for %d nodes", when, len(got), len(ids))
			}
			for _, id := range ids {
				want, err := usage.CurrentTx(ctx, tx, id, when)
				if err != nil {
					return err
				}
				if g := got[id]; g.Period != want.Period || g.Target != want.Target || !g.PaidUntil.Equal(want.PaidUntil) {
					t.Errorf("at %s: node %s: CurrentManyTx %+v, CurrentTx %+v", when, id, got[id], want)
				}
			}
			if got[changing].Target != metering.Monthly && when.Before(at.Add(time.Hour)) {
				t.Errorf("at %s: the pending change is missing: %+v", when, got[changing])
			}
			// NodesBilledBy selects the nodes by the period CurrentTx gives.
			for _, period := range []metering.Period{metering.Hourly, metering.Monthly} {
				var billed []string
				if err := tx.NewSelect().TableExpr("node_usage").Column("node_id").
					Where("node_id IN (?)", usage.NodesBilledBy(tx, period, when)).OrderExpr("node_id").
					Scan(ctx, &billed); err != nil {
					return err
				}
				var want []string
				for _, id := range ids {
					if got[id].Period == period {
						want = append(want, id)
					}
				}
				slices.Sort(want)
				if !slices.Equal(billed, want) {
					t.Errorf("at %s: NodesBilledBy(%s) = %v, want %v", when, period, billed, want)
				}
			}
			if got, err := usage.CurrentManyTx(ctx, tx, nil, when); err != nil || len(got) != 0 {
				t.Errorf("no nodes: %v, %v", got, err)
			}
			return nil
		})
	}
	err := db.InTx(t.Context(), func(ctx context.Context, tx bun.Tx) error {
		_, err := usage.CurrentManyTx(ctx, tx, []string{hourly, "00000000-0000-0000-0000-000000000000"}, at)
		return err
	})
	if err == nil {
		t.Fatal("a node without usage gave a state")
	}
}
