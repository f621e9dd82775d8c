package billing_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gpcore/gpcore/internal/billing"
	"github.com/gpcore/gpcore/internal/billing/billingtest"
	"github.com/gpcore/gpcore/internal/billing/metering"
	"github.com/gpcore/gpcore/internal/catalog"
	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/identity"
	"github.com/gpcore/gpcore/internal/pagination"
	"github.com/gpcore/gpcore/internal/project"
	"github.com/gpcore/gpcore/internal/store"
	"github.com/gpcore/gpcore/internal/store/storetest"
)

// payer is a customer in a time zone with a billing profile, a card of
// token and a project billed to it.
type payer struct {
	user    identity.User
	profile billing.Profile
	project project.Project
	loc     *time.Location
}

func (e *env) payer(t *testing.T, email, tz, token string) payer {
	t.Helper()
	u := e.person(t, email)
	if _, err := e.identity.UpdateTimezone(t.Context(), u.ID, tz); err != nil {
		t.Fatalf("UpdateTimezone(%s): %v", tz, err)
	}
	p := e.profile(t, u.ID, company())
	if token != "" {
		e.card(t, u.ID, p.ID, token)
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		t.Fatal(err)
	}
	return payer{user: u, profile: p, project: e.project(t, u.ID, "Shop "+email, p.ID), loc: loc}
}

// at parses "2006-01-02 15:04" on p's clock.
func (p payer) at(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, p.loc)
	if err != nil {
		t.Fatal(err)
	}
	return v.UTC()
}

// sweepAt moves the clock to t and sweeps.
func (e *env) sweepAt(t *testing.T, at time.Time) {
	t.Helper()
	e.clock.Set(at)
	if err := e.billing.Sweep(t.Context()); err != nil {
		t.Fatalf("Sweep: %v", err)
	}
}

// bills returns p's bills, oldest first, with their lines.
func (e *env) bills(t *testing.T, p payer) ([]billing.Bill, [][]billing.BillLine) {
	t.Helper()
	list, err := e.billing.ListBills(t.Context(), p.user.ID, p.profile.ID, 0, pagination.Page{Number: 1, Limit: billing.BillsPageLimit})
	if err != nil {
		t.Fatalf("ListBills: %v", err)
	}
	slices.Reverse(list.Bills)
	lines := make([][]billing.BillLine, len(list.Bills))
	for i, b := range list.Bills {
		if _, lines[i], err = e.billing.GetBill(t.Context(), p.user.ID, p.profile.ID, b.ID); err != nil {
			t.Fatalf("GetBill: %v", err)
		}
	}
	return list.Bills, lines
}

// units sums the units of lines of a unit type.
func units(lines []billing.BillLine, u metering.UnitType) (n, amount int64) {
	for _, l := range lines {
		if l.UnitType == u {
			n += l.Units
			amount += l.Amount
		}
	}
	return n, amount
}

func TestBillStartedHours(t *testing.T) {
	t.Parallel()
	e := newEnv(t, billing.Config{})
	p := e.payer(t, "ada@example.com", "Europe/Berlin", "tok_visa")
	n := billingtest.OrderNode(t, e.db, billingtest.Order{ProjectID: p.project.ID, FlavourID: billingtest.FlavourL1, FQDN: "web.example.com", At: p.at(t, "2026-11-10 10:59")})
	billingtest.Destroy(t, e.db, n, p.at(t, "2026-11-10 12:01"))

	e.sweepAt(t, p.at(t, "2026-11-30 23:59")) // November has not ended yet
	if bills, _ := e.bills(t, p); len(bills) != 0 {
		t.Fatalf("a bill before the month ended: %+v", bills)
	}
	e.sweepAt(t, p.at(t, "2026-12-01 00:05"))
	e.sweepAt(t, p.at(t, "2026-12-01 00:15")) // a second sweep bills nothing twice
	bills, lines := e.bills(t, p)
	if len(bills) != 1 {
		t.Fatalf("%d bills, want 1", len(bills))
	}
	b := bills[0]
	// 3 hours of 0.55 EUR; 19 % of 1.65 is 0.3135, rounded to 0.31.
	if b.Number != "000001" || b.Currency != catalog.EUR || b.Year != 2026 || b.Month != time.November ||
		b.Net != 165 || b.TaxRate != 1900 || b.Tax != 31 || b.Gross != 196 || b.Credit != 0 || b.Total != 196 {
		t.Fatalf("bill %+v", b)
	}
	if from, to := metering.Month(2026, time.November, p.loc); !b.PeriodStart.Equal(from) || !b.PeriodEnd.Equal(to) || b.Timezone != "Europe/Berlin" {
		t.Fatalf("period %s to %s in %s", b.PeriodStart, b.PeriodEnd, b.Timezone)
	}
	if b.Status != billing.BillSucceeded || b.Buyer.Company != "Analytical Engines GmbH" || b.Buyer.VATID != "DE123456789" || b.Seller.Name != billing.DefaultSellerName {
		t.Fatalf("bill %+v", b)
	}
	if len(lines[0]) != 1 || lines[0][0].Units != 3 || lines[0][0].UnitType != metering.Hours || lines[0][0].NodeName != "web.example.com" ||
		lines[0][0].FlavourName != "BM-L1" || lines[0][0].ProjectName != p.project.Name {
		t.Fatalf("lines %+v", lines[0])
	}
}

func TestBillMonthlyOverMonthBoundary(t *testing.T) {
	t.Parallel()
	e := newEnv(t, billing.Config{})
	p := e.payer(t, "ada@example.com", "UTC", "tok_visa")
	billingtest.OrderNode(t, e.db, billingtest.Order{ProjectID: p.project.ID, FlavourID: billingtest.FlavourS1, FQDN: "db.example.com",
		Period: metering.Monthly, At: p.at(t, "2026-01-31 10:00")})
	for _, m := range []string{"2026-02-01 00:01", "2026-03-01 00:01", "2026-04-01 00:01"} {
		e.sweepAt(t, p.at(t, m))
	}
	bills, lines := e.bills(t, p)
	if len(bills) != 3 {
		t.Fatalf("%d bills, want one per month", len(bills))
	}
	// In advance: January pays the term from 31 January, February the one
	// from 28 February, March the one from 31 March.
	for i, due := range []string{"2026-01-31 10:00", "2026-02-28 10:00", "2026-03-31 10:00"} {
		if len(lines[i]) != 1 || lines[i][0].UnitType != metering.Months || !lines[i][0].From.Equal(p.at(t, due)) || bills[i].Net != 5900 {
			t.Errorf("bill %d: %+v %+v", i, bills[i], lines[i])
		}
		if want := strconv.Itoa(i + 1); bills[i].Number != fmt.Sprintf("%06s", want) {
			t.Errorf("bill %d is numbered %s", i, bills[i].Number)
		}
	}
}

func TestBillDSTMonth(t *testing.T) {
	t.Parallel()
	e := newEnv(t, billing.Config{})
	p := e.payer(t, "ada@example.com", "Europe/Berlin", "tok_visa")
	n := billingtest.OrderNode(t, e.db, billingtest.Order{ProjectID: p.project.ID, FlavourID: billingtest.FlavourS1, FQDN: "a.example.com", At: p.at(t, "2026-02-27 12:00")})
	e.sweepAt(t, p.at(t, "2026-03-01 01:00"))
	e.sweepAt(t, p.at(t, "2026-04-01 01:00"))
	billingtest.Destroy(t, e.db, n, p.at(t, "2026-11-01 00:00"))
	e.sweepAt(t, p.at(t, "2026-11-01 01:00"))
	bills, lines := e.bills(t, p)
	hours := map[time.Month]int64{}
	for i, b := range bills {
		hours[b.Month], _ = units(lines[i], metering.Hours)
	}
	// February from noon on the 27th: 36 hours; March, with the clocks going
	// forward, 743; October, going back, 745; one bill per month.
	if hours[time.February] != 36 || hours[time.March] != 743 || hours[time.October] != 745 || hours[time.April] != 720 || len(bills) != 9 {
		t.Fatalf("hours per month %v in %d bills", hours, len(bills))
	}
}

func TestBillPeriodChange(t *testing.T) {
	t.Parallel()
	e := newEnv(t, billing.Config{})
	p := e.payer(t, "ada@example.com", "UTC", "tok_visa")
	n := billingtest.OrderNode(t, e.db, billingtest.Order{ProjectID: p.project.ID, FlavourID: billingtest.FlavourS1, FQDN: "a.example.com", At: p.at(t, "2026-11-10 09:15")})
	// Monthly from the end of the started hour; a change back cancels it,
	// and asking again sets it once more.
	st := billingtest.ChangePeriod(t, e.db, n, metering.Monthly, p.at(t, "2026-11-10 10:30"))
	if st.Period != metering.Hourly || st.Target != metering.Monthly || !st.PaidUntil.Equal(p.at(t, "2026-11-10 11:00")) {
		t.Fatalf("after the change: %+v", st)
	}
	if st := billingtest.ChangePeriod(t, e.db, n, metering.Hourly, p.at(t, "2026-11-10 10:40")); st.Target != "" || st.Period != metering.Hourly {
		t.Fatalf("after cancelling: %+v", st)
	}
	billingtest.ChangePeriod(t, e.db, n, metering.Monthly, p.at(t, "2026-11-10 10:45"))
	// Back to hourly on 20 November: from the end of the paid term.
	st = billingtest.ChangePeriod(t, e.db, n, metering.Hourly, p.at(t, "2026-11-20 08:00"))
	if st.Period != metering.Monthly || st.Target != metering.Hourly || !st.PaidUntil.Equal(p.at(t, "2026-12-10 11:00")) {
		t.Fatalf("after the change back: %+v", st)
	}
	billingtest.Destroy(t, e.db, n, p.at(t, "2026-12-10 13:30"))
	e.sweepAt(t, p.at(t, "2026-12-01 00:01"))
	e.sweepAt(t, p.at(t, "2027-01-01 00:01"))
	bills, lines := e.bills(t, p)
	if len(bills) != 2 {
		t.Fatalf("%d bills", len(bills))
	}
	if h, _ := units(lines[0], metering.Hours); h != 2 { // 09:15 to 11:00
		t.Errorf("November: %d hours", h)
	}
	if m, a := units(lines[0], metering.Months); m != 1 || a != 5900 {
		t.Errorf("November: %d months, %d cents", m, a)
	}
	if h, a := units(lines[1], metering.Hours); h != 3 || a != 30 || bills[1].Net != 30 { // 11:00 to 13:30
		t.Errorf("December: %d hours, %d cents, bill %+v", h, a, bills[1])
	}
}

func TestBillSPLAOn32Cores(t *testing.T) {
	t.Parallel()
	e := newEnv(t, billing.Config{})
	p := e.payer(t, "ada@example.com", "UTC", "tok_visa")
	n := billingtest.OrderNode(t, e.db, billingtest.Order{ProjectID: p.project.ID, FlavourID: billingtest.FlavourL1, ImageID: billingtest.Windows,
		FQDN: "win.example.com", Period: metering.Monthly, At: p.at(t, "2026-11-05 08:00")})
	billingtest.Destroy(t, e.db, n, p.at(t, "2026-11-20 08:00"))
	e.sweepAt(t, p.at(t, "2026-12-01 00:01"))
	bills, lines := e.bills(t, p)
	if len(bills) != 1 {
		t.Fatalf("%d bills", len(bills))
	}
	// 50.00 for the first 8 cores, 12 × 12.50 for the other 24.
	cores, fee := units(lines[0], metering.Cores)
	if cores != 32 || fee != 20000 || bills[0].Net != 31900+20000 {
		t.Fatalf("licence %d cores, %d cents; bill %+v", cores, fee, bills[0])
	}
	lic := lines[0][1]
	if lic.Kind != metering.KindLicence || lic.Period != metering.Monthly || lic.UnitPrice != 20000 {
		t.Fatalf("licence line %+v", lic)
	}
}

func TestBillCurrencies(t *testing.T) {
	t.Parallel()
	e := newEnv(t, billing.Config{})
	p := e.payer(t, "ada@example.com", "UTC", "tok_visa")
	// The operator restarted gpcore with --currency USD: projects made from
	// then on are in dollars, the older ones stay in euros.
	dollars, err := project.New(e.db, project.Config{Currency: project.CurrencyUSD, Billing: e.billing, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	usd, err := dollars.Create(t.Context(), p.user.ID, project.CreateInput{Name: "Dollar shop", BillingProfileID: p.profile.ID})
	if err != nil || usd.Currency != project.CurrencyUSD {
		t.Fatalf("a project of a USD installation: %+v, %v", usd, err)
	}
	for _, pr := range []string{p.project.ID, usd.ID} {
		n := billingtest.OrderNode(t, e.db, billingtest.Order{ProjectID: pr, FlavourID: billingtest.FlavourL1, FQDN: "n-" + pr[:8] + ".example.com", At: p.at(t, "2026-11-10 10:59")})
		billingtest.Destroy(t, e.db, n, p.at(t, "2026-11-10 12:01"))
	}
	e.sweepAt(t, p.at(t, "2026-12-01 00:01"))
	bills, _ := e.bills(t, p)
	if len(bills) != 2 {
		t.Fatalf("%d bills, want one per currency", len(bills))
	}
	got := map[catalog.Currency]int64{}
	for _, b := range bills {
		got[b.Currency] = b.Net
	}
	if got[catalog.EUR] != 3*55 || got[catalog.USD] != 3*60 {
		t.Fatalf("net per currency %v", got)
	}
}

func TestBillDeclinedThenRetried(t *testing.T) {
	t.Parallel()
	e := newEnv(t, billing.Config{})
	p := e.payer(t, "ada@example.com", "UTC", "tok_chargeCustomerFail")
	e.projects = newProjects(t, e)
	other := e.project(t, p.user.ID, "Other", p.profile.ID)
	n := billingtest.OrderNode(t, e.db, billingtest.Order{ProjectID: other.ID, FlavourID: billingtest.FlavourS1, FQDN: "a.example.com", At: p.at(t, "2026-11-10 10:00")})
	billingtest.Destroy(t, e.db, n, p.at(t, "2026-11-10 11:00"))
	e.sweepAt(t, p.at(t, "2026-12-01 00:01"))
	bills, _ := e.bills(t, p)
	if len(bills) != 1 || bills[0].Status != billing.BillFailed || bills[0].StatusReason == "" {
		t.Fatalf("bills %+v", bills)
	}
	locks, err := e.projects.Locks(t.Context(), p.user.ID, p.project.ID)
	if err != nil || !slices.Equal(locks, []project.LockReason{project.LockSubscriptionNotActive}) {
		t.Fatalf("locks %v, %v", locks, err)
	}
	err = e.projects.Delete(t.Context(), p.user.ID, other.ID)
	wantFault(t, err, fault.KindFailedPrecondition, "", "unpaid bill")

	// A new default card retries the bill at the next sweep.
	c := e.card(t, p.user.ID, p.profile.ID, "tok_mastercard")
	if _, err := e.billing.ChangeDefaultCard(t.Context(), p.user.ID, p.profile.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	e.sweepAt(t, p.at(t, "2026-12-01 01:00"))
	bills, _ = e.bills(t, p)
	if bills[0].Status != billing.BillSucceeded {
		t.Fatalf("after the retry: %+v", bills[0])
	}
	if locks, err := e.projects.Locks(t.Context(), p.user.ID, p.project.ID); err != nil || len(locks) != 0 {
		t.Fatalf("locks %v, %v", locks, err)
	}
}

// TestBillRetriedOnlyWithAnotherCard: a failed bill is not charged again
// while its profile's default card is the card that failed, and is once the
// default is another card, also when the failure was recorded after the
// change (an attempt with the old card was under way when the customer made
// the new one the default).
func TestBillRetriedOnlyWithAnotherCard(t *testing.T) {
	t.Parallel()
	e := newEnv(t, billing.Config{})
	p := e.payer(t, "ada@example.com", "UTC", "tok_chargeCustomerFail")
	n := billingtest.OrderNode(t, e.db, billingtest.Order{ProjectID: p.project.ID, FlavourID: billingtest.FlavourS1, FQDN: "a.example.com", At: p.at(t, "2026-11-10 10:00")})
	billingtest.Destroy(t, e.db, n, p.at(t, "2026-11-10 11:00"))
	e.sweepAt(t, p.at(t, "2026-12-01 00:01"))
	attempts := func() int {
		t.Helper()
		var n int
		if err := e.db.NewRaw("SELECT charge_attempts FROM bills").Scan(t.Context(), &n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	e.sweepAt(t, p.at(t, "2026-12-01 00:30"))
	if bills, _ := e.bills(t, p); len(bills) != 1 || bills[0].Status != billing.BillFailed || attempts() != 1 {
		t.Fatalf("with the failed card still the default: %+v, %d attempts; want FAILED after 1", bills, attempts())
	}

	c := e.card(t, p.user.ID, p.profile.ID, "tok_visa")
	e.clock.Set(p.at(t, "2026-12-01 00:40"))
	if _, err := e.billing.ChangeDefaultCard(t.Context(), p.user.ID, p.profile.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	// The old card's decline recorded after the change, as a slow attempt
	// would.
	if _, err := e.db.NewRaw("UPDATE bills SET status_changed_at = ?", p.at(t, "2026-12-01 00:45")).Exec(t.Context()); err != nil {
		t.Fatal(err)
	}
	e.sweepAt(t, p.at(t, "2026-12-01 01:00"))
	if bills, _ := e.bills(t, p); bills[0].Status != billing.BillSucceeded || attempts() != 2 {
		t.Fatalf("with another default card: %+v, %d attempts; want SUCCEEDED after 2", bills[0], attempts())
	}
}

func TestBillByTransfer(t *testing.T) {
	t.Parallel()
	e := newEnv(t, billing.Config{})
	p := e.payer(t, "ada@example.com", "UTC", "")
	e.tag(t, p.user.ID, identity.TagNoCreditCard)
	n := billingtest.OrderNode(t, e.db, billingtest.Order{ProjectID: p.project.ID, FlavourID: billingtest.FlavourS1, FQDN: "a.example.com", At: p.at(t, "2026-11-10 10:00")})
	billingtest.Destroy(t, e.db, n, p.at(t, "2026-11-10 11:00"))
	e.sweepAt(t, p.at(t, "2026-12-01 00:01"))
	e.sweepAt(t, p.at(t, "2026-12-01 01:00"))
	bills, _ := e.bills(t, p)
	if len(bills) != 1 || bills[0].Status != billing.BillPending || bills[0].StatusReason == "" {
		t.Fatalf("bills %+v", bills)
	}
	// Its project moves to another profile; the unpaid bill keeps the
	// profile.
	other := e.profile(t, p.user.ID, company())
	if _, err := e.projects.Update(t.Context(), p.user.ID, p.project.ID, project.UpdateInput{BillingProfileID: &other.ID}); err != nil {
		t.Fatal(err)
	}
	err := e.billing.DeleteProfile(t.Context(), p.user.ID, p.profile.ID)
	wantFault(t, err, fault.KindFailedPrecondition, "", "1 unpaid bill")
}

func TestDeletionGuard(t *testing.T) {
	t.Parallel()
	e := newEnv(t, billing.Config{})
	p := e.payer(t, "ada@example.com", "UTC", "tok_visa")
	e.projects = newProjects(t, e)
	other := e.project(t, p.user.ID, "Other", p.profile.ID)
	n := billingtest.OrderNode(t, e.db, billingtest.Order{ProjectID: other.ID, FlavourID: billingtest.FlavourS1, FQDN: "a.example.com", At: p.at(t, "2026-11-10 10:00")})
	err := e.projects.Delete(t.Context(), p.user.ID, other.ID)
	wantFault(t, err, fault.KindFailedPrecondition, "", "still being billed")
	billingtest.Destroy(t, e.db, n, p.at(t, "2026-11-10 11:00"))
	err = e.projects.Delete(t.Context(), p.user.ID, other.ID)
	wantFault(t, err, fault.KindFailedPrecondition, "", "not billed yet")
	e.sweepAt(t, p.at(t, "2026-12-01 00:01"))
	if err := e.projects.Delete(t.Context(), p.user.ID, other.ID); err != nil {
		t.Fatalf("delete once billed and paid: %v", err)
	}
	// The bill stays, with its copy of the lines.
	bills, lines := e.bills(t, p)
	if len(bills) != 1 || len(lines[0]) != 1 || lines[0][0].ProjectName != "Other" {
		t.Fatalf("bills %+v %+v", bills, lines)
	}
}

// newProjects is e's project service with billing's deletion guard.
func newProjects(t *testing.T, e *env) *project.Service {
	t.Helper()
	ps, err := project.New(e.db, project.Config{Billing: e.billing, Now: e.clock.Now, DeletionGuards: []project.DeletionGuard{billing.DeletionGuard{}}})
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func TestBillTimezoneChangeAndMovedProject(t *testing.T) {
	t.Parallel()
	e := newEnv(t, billing.Config{})
	ada := e.payer(t, "ada@example.com", "Europe/Berlin", "tok_visa")
	bob := e.payer(t, "bob@example.com", "America/New_York", "tok_visa")
	n := billingtest.OrderNode(t, e.db, billingtest.Order{ProjectID: ada.project.ID, FlavourID: billingtest.FlavourS1, FQDN: "a.example.com", At: ada.at(t, "2026-10-20 00:00")})
	e.sweepAt(t, ada.at(t, "2026-11-01 00:30"))
	// Ada changes her time zone, and her project moves to Bob's profile.
	if _, err := e.identity.UpdateTimezone(t.Context(), ada.user.ID, "Asia/Tokyo"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.ExecContext(t.Context(), "UPDATE projects SET billing_profile_id = ? WHERE id = ?", bob.profile.ID, ada.project.ID); err != nil {
		t.Fatal(err)
	}
	billingtest.Destroy(t, e.db, n, ada.at(t, "2026-11-15 00:00"))
	e.sweepAt(t, bob.at(t, "2026-12-01 00:30"))
	adaBills, adaLines := e.bills(t, ada)
	bobBills, bobLines := e.bills(t, bob)
	if len(adaBills) != 1 || len(bobBills) != 2 {
		t.Fatalf("%d and %d bills", len(adaBills), len(bobBills))
	}
	// Every hour from 20 October to 15 November is billed once: to 1
	// November in Berlin on Ada's (12 days and the hour the clocks went
	// back); the 5 hours to midnight in New York on Bob's October, the rest
	// on Bob's November.
	a, _ := units(adaLines[0], metering.Hours)
	bOct, _ := units(bobLines[0], metering.Hours)
	bNov, _ := units(bobLines[1], metering.Hours)
	want := int64(ada.at(t, "2026-11-15 00:00").Sub(ada.at(t, "2026-10-20 00:00")) / time.Hour)
	if a != 12*24+1 || bOct != 5 || bobBills[0].Month != time.October || a+bOct+bNov != want {
		t.Fatalf("hours billed %d + %d + %d, want %d in all", a, bOct, bNov, want)
	}
}

func TestBillNumbersWithoutGapsAcrossInstancesAndRestarts(t *testing.T) {
	t.Parallel()
	cfg := storetest.NewConfig(t)
	first := storetest.Open(t, cfg)
	if err := first.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := catalog.Seed(t.Context(), first, catalog.DefaultSeed()); err != nil {
		t.Fatal(err)
	}
	clk := &clock{now: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
	e := onDB(t, first, clk)
	const payers = 6
	var ps []payer
	for i := range payers {
		p := e.payer(t, fmt.Sprintf("p%d@example.com", i), "UTC", "tok_visa")
		for _, m := range []string{"2026-11-10 10:00", "2026-12-10 10:00"} {
			n := billingtest.OrderNode(t, e.db, billingtest.Order{ProjectID: p.project.ID, FlavourID: billingtest.FlavourS1, FQDN: fmt.Sprintf("n%d-%s.example.com", i, m[5:7]), At: p.at(t, m)})
			billingtest.Destroy(t, e.db, n, p.at(t, m).Add(time.Hour))
		}
		ps = append(ps, p)
	}

	// Two service instances, each on a database handle of its own, sweep
	// at once, several times over.
	clk.Set(time.Date(2026, 12, 1, 0, 1, 0, 0, time.UTC))
	sweepTogether(t, onDB(t, storetest.Open(t, cfg), clk).billing, onDB(t, storetest.Open(t, cfg), clk).billing)

	// A restart: new handles, new services; December closes.
	clk.Set(time.Date(2027, 1, 1, 0, 1, 0, 0, time.UTC))
	sweepTogether(t, onDB(t, storetest.Open(t, cfg), clk).billing, onDB(t, storetest.Open(t, cfg), clk).billing)

	var numbers []string
	for _, p := range ps {
		bills, _ := e.bills(t, p)
		if len(bills) != 2 {
			t.Fatalf("%s has %d bills, want 2", p.user.Email, len(bills))
		}
		for _, b := range bills {
			numbers = append(numbers, b.Number)
		}
	}
	slices.Sort(numbers)
	for i, n := range numbers {
		if want := fmt.Sprintf("%06d", i+1); n != want {
			t.Fatalf("numbers %v: want 000001 to %06d without gaps", numbers, len(numbers))
		}
	}
}

// onDB is an env on an open, migrated and seeded database.
func onDB(t *testing.T, db *store.DB, clk *clock) *env {
	t.Helper()
	ids, err := identity.New(db, identity.Config{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	b, err := billing.New(db, billing.Config{Now: clk.Now, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	projects, err := project.New(db, project.Config{Billing: b, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return &env{db: db, clock: clk, billing: b, identity: ids, projects: projects}
}

// sweepTogether runs Sweep on every service from goroutines at once, three
// times each.
func sweepTogether(t *testing.T, services ...*billing.Service) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, 3*len(services))
	for _, s := range services {
		for range 3 {
			wg.Go(func() { errs <- s.Sweep(context.Background()) })
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("Sweep: %v", err)
		}
	}
}

func TestProjectUsage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, billing.Config{})
	p := e.payer(t, "ada@example.com", "UTC", "tok_visa")
	web := billingtest.OrderNode(t, e.db, billingtest.Order{ProjectID: p.project.ID, FlavourID: billingtest.FlavourL1, ImageID: billingtest.Windows, FQDN: "web.example.com", At: p.at(t, "2026-10-30 10:00")})
	billingtest.OrderNode(t, e.db, billingtest.Order{ProjectID: p.project.ID, FlavourID: billingtest.FlavourS1, FQDN: "db.example.com", Period: metering.Monthly, At: p.at(t, "2026-11-02 00:00")})
	billingtest.Destroy(t, e.db, web, p.at(t, "2026-11-03 10:00"))

	e.clock.Set(p.at(t, "2026-11-05 12:30"))
	u, err := e.billing.ProjectUsage(t.Context(), p.user.ID, p.project.ID)
	if err != nil {
		t.Fatal(err)
	}
	// November so far: web's 58 hours (1 November to 3 November 10:00) and
	// no licence month (its month began on 30 October); db's first term.
	if u.Currency != catalog.EUR || u.Total != 58*55+5900 || len(u.Flavours) != 2 {
		t.Fatalf("usage %+v", u)
	}
	l1, s1 := u.Flavours[0], u.Flavours[1]
	if l1.FlavourName != "BM-L1" || l1.UnitType != metering.Hours || l1.Units != 58 || len(l1.Nodes) != 1 || l1.Nodes[0].Name != "web.example.com" {
		t.Fatalf("BM-L1 %+v", l1)
	}
	if s1.FlavourName != "BM-S1" || s1.Period != metering.Monthly || s1.UnitType != metering.Months || s1.Units != 1 || s1.Total != 5900 {
		t.Fatalf("BM-S1 %+v", s1)
	}
	stranger := e.person(t, "eve@example.com")
	_, err = e.billing.ProjectUsage(t.Context(), stranger.ID, p.project.ID)
	wantFault(t, err, fault.KindNotFound, "", "not found")
}

func TestBillPDF(t *testing.T) {
	t.Parallel()
	e := newEnv(t, billing.Config{Seller: billing.Seller{Name: "Bare Metal GmbH", Address: "Hauptstraße 1\n60311 Frankfurt", VATID: "DE111111111"}})
	p := e.payer(t, "ada@example.com", "Europe/Berlin", "tok_visa")
	n := billingtest.OrderNode(t, e.db, billingtest.Order{ProjectID: p.project.ID, FlavourID: billingtest.FlavourL1, ImageID: billingtest.Windows, FQDN: "win.example.com", At: p.at(t, "2026-11-10 10:59")})
	billingtest.Destroy(t, e.db, n, p.at(t, "2026-11-12 12:01"))
	e.sweepAt(t, p.at(t, "2026-12-01 00:01"))
	bills, _ := e.bills(t, p)
	pdf, err := e.billing.BillPDF(t.Context(), p.user.ID, p.profile.ID, bills[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	text := billingtest.PDFText(t, pdf)
	for _, want := range []string{
		"Invoice number: " + bills[0].Number, "Bare Metal GmbH", "VAT ID: DE111111111", "Analytical Engines GmbH", "VAT ID: DE123456789",
		"win.example.com: BM-L1, hourly", "51 hours", "win.example.com: Windows Server SPLA licence for 32 cores", "VAT 19 %",
		billingtest.Formatted(bills[0].Net, "EUR", "DE"), billingtest.Formatted(bills[0].Tax, "EUR", "DE"), billingtest.Formatted(bills[0].Total, "EUR", "DE"),
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the PDF lacks %q:\n%s", want, text)
		}
	}
	if _, err := e.billing.BillPDF(t.Context(), e.person(t, "eve@example.com").ID, p.profile.ID, bills[0].ID); fault.KindOf(err) != fault.KindNotFound {
		t.Fatalf("another's PDF: %v", err)
	}
}
