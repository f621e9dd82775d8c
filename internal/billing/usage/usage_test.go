package usage_test

import (
	"context"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
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
	if r.ID != n || r.NodeName != "a.example.com" || r.FlavourName != "BM-S1" || r.PricePerHour != 10 || r.Licences != nil ||
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

// TestChangeLicence: the licence follows the image given at each reinstall.
// A Windows node on BM-L1 (32 cores, 200.00 a month) ordered on 10
// November: another Windows image keeps its licence; Debian on 15 November
// ends it; Windows again on 25 November, within the licence month paid until
// 10 December, resumes it without a second fee; Debian on 1 December and
// Windows on 20 December, after that month, starts a new licence month then.
func TestChangeLicence(t *testing.T) {
	t.Parallel()
	db, p := setup(t, "UTC")
	day := func(d int, m time.Month) time.Time { return time.Date(2026, m, d, 10, 0, 0, 0, time.UTC) }
	n := billingtest.OrderNode(t, db, billingtest.Order{ProjectID: p.ID, FlavourID: billingtest.FlavourL1, ImageID: billingtest.Windows,
		FQDN: "a.example.com", At: day(10, time.November)})
	lic := &metering.Licence{Cores: 32, Price: catalog.SPLAPrice{
		Base: catalog.Money{Amount: 5000, Currency: catalog.EUR}, Additional2Cores: catalog.Money{Amount: 1250, Currency: catalog.EUR}}}
	change := func(l *metering.Licence, at time.Time) {
		t.Helper()
		inTx(t, db, func(ctx context.Context, tx bun.Tx) error { return usage.ChangeLicenceTx(ctx, tx, n, l, at) })
	}
	spans := func() []string {
		t.Helper()
		var out []string
		for _, s := range load(t, db, p.ID).Licences {
			to := "on"
			if !s.To.IsZero() {
				to = s.To.Format("01-02")
			}
			out = append(out, s.From.Format("01-02")+".."+to+" "+strconv.FormatInt(s.MonthlyFee(), 10))
		}
		return out
	}
	fees := func() int64 {
		t.Helper()
		var sum int64
		for _, l := range metering.Lines(load(t, db, p.ID).Node, time.Time{}, time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)) {
			if l.Kind == metering.KindLicence {
				sum += l.Amount
			}
		}
		return sum
	}
	for _, step := range []struct {
		what  string
		l     *metering.Licence
		at    time.Time
		spans []string
		fees  int64 // until 1 March, the node living
	}{
		{"ordered", lic, day(10, time.November), []string{"11-10..on 20000"}, 4 * 20000},
		{"another Windows image", lic, day(12, time.November), []string{"11-10..on 20000"}, 4 * 20000},
		{"Debian", nil, day(15, time.November), []string{"11-10..11-15 20000"}, 20000},
		{"Debian again", nil, day(16, time.November), []string{"11-10..11-15 20000"}, 20000},
		{"Windows within the paid month", lic, day(25, time.November), []string{"11-10..on 20000"}, 4 * 20000},
		{"Debian", nil, day(1, time.December), []string{"11-10..12-01 20000"}, 20000},
		{"Windows after the paid month", lic, day(20, time.December), []string{"11-10..12-01 20000", "12-20..on 20000"}, 20000 + 3*20000},
	} {
		change(step.l, step.at)
		if got := spans(); !slices.Equal(got, step.spans) {
			t.Fatalf("%s: spans %q, want %q", step.what, got, step.spans)
		}
		if got := fees(); got != step.fees {
			t.Fatalf("%s: licence fees %d, want %d", step.what, got, step.fees)
		}
	}

	// Removed the moment it was installed, nothing fell due: the span goes.
	// A change recorded before the last bill's end counts from that end.
	change(nil, day(20, time.December))
	if got := spans(); !slices.Equal(got, []string{"11-10..12-01 20000"}) {
		t.Fatalf("removed at once: %q", got)
	}
	billed := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	inTx(t, db, func(ctx context.Context, tx bun.Tx) error { return usage.MarkBilledTx(ctx, tx, []string{n}, billed) })
	change(lic, day(30, time.December))
	if got := spans(); !slices.Equal(got, []string{"11-10..12-01 20000", "01-01..on 20000"}) {
		t.Fatalf("after the bill: %q", got)
	}

	// The licence of a destroyed node cannot change.
	billingtest.Destroy(t, db, n, billed.Add(time.Hour))
	err := db.InTx(t.Context(), func(ctx context.Context, tx bun.Tx) error {
		return usage.ChangeLicenceTx(ctx, tx, n, nil, billed.Add(2*time.Hour))
	})
	if fault.KindOf(err) != fault.KindFailedPrecondition {
		t.Fatalf("a change of an ended node: %v, want a failed precondition", err)
	}
}

// TestMigrationKeepsLicences: the migration that makes licences follow the
// image (00012) gives a node licensed at its order before it its licence
// from the order on.
func TestMigrationKeepsLicences(t *testing.T) {
	t.Parallel()
	db, p := setup(t, "UTC")
	at := time.Date(2026, 11, 10, 10, 0, 0, 0, time.UTC)
	billingtest.OrderNode(t, db, billingtest.Order{ProjectID: p.ID, FlavourID: billingtest.FlavourL1, ImageID: billingtest.Windows,
		FQDN: "a.example.com", At: at})
	dialect := database.DialectSQLite3
	if db.Dialect == store.Postgres {
		dialect = database.DialectPostgres
	}
	provider, err := goose.NewProvider(dialect, db.DB.DB, os.DirFS("../../store/migrations"), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	// Back to before the migration, the licence where it was recorded then.
	if _, err := provider.DownTo(t.Context(), 11); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(t.Context(), "UPDATE node_usage SET licence_cores = 32, licence_base = 5000, licence_per_2_cores = 1250"); err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	l := load(t, db, p.ID).Licences
	if len(l) != 1 || !l[0].From.Equal(at) || !l[0].To.IsZero() || l[0].Cores != 32 || l[0].MonthlyFee() != 20000 {
		t.Fatalf("licences after the migration: %+v", l)
	}
}
