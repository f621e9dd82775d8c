package metering_test

import (
	"testing"
	"time"

	"github.com/gpcore/gpcore/internal/billing/metering"
	"github.com/gpcore/gpcore/internal/catalog"
)

func load(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// at parses "2006-01-02 15:04" in loc.
func at(t *testing.T, loc *time.Location, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v.UTC()
}

// node is an order of a node billed by period at start in loc, priced like
// the seed's BM-L1 in EUR (0.55 per hour, 319.00 per month).
func node(loc *time.Location, period metering.Period, start time.Time) metering.Node {
	anchor := start
	if period == metering.Hourly {
		anchor = metering.HourAnchor(start, loc)
	}
	return metering.Node{
		ID: "n1", FlavourID: "f1", Currency: catalog.EUR, PricePerHour: 55, PricePerMonth: 31900,
		Start: start, Phases: []metering.Phase{{From: start, Anchor: anchor, Period: period}},
	}
}

// total sums the amounts of lines of a kind.
func total(lines []metering.Line, kind metering.Kind) (units, amount int64) {
	for _, l := range lines {
		if l.Kind == kind {
			units += l.Units
			amount += l.Amount
		}
	}
	return units, amount
}

func TestHourly(t *testing.T) {
	utc, berlin, kolkata := time.UTC, load(t, "Europe/Berlin"), load(t, "Asia/Kolkata")
	for _, tc := range []struct {
		name       string
		loc        *time.Location
		start, end string
		want       int64
	}{
		{"10:59 to 12:01 starts three hours", utc, "2026-11-10 10:59", "2026-11-10 12:01", 3},
		{"the same in Berlin", berlin, "2026-11-10 10:59", "2026-11-10 12:01", 3},
		{"the same on a half-hour clock", kolkata, "2026-11-10 10:59", "2026-11-10 12:01", 3},
		{"an hour to the minute is one hour", utc, "2026-11-10 10:00", "2026-11-10 11:00", 1},
		{"a minute past is a second hour", utc, "2026-11-10 10:00", "2026-11-10 11:01", 2},
		{"a minute is an hour", utc, "2026-11-10 10:30", "2026-11-10 10:31", 1},
		{"across midnight", utc, "2026-11-10 23:30", "2026-11-11 00:30", 2},
		{"ordered and gone at once", utc, "2026-11-10 10:30", "2026-11-10 10:30", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := node(tc.loc, metering.Hourly, at(t, tc.loc, tc.start))
			n.End = at(t, tc.loc, tc.end)
			lines := metering.Lines(n, time.Time{}, n.End.Add(24*time.Hour))
			units, amount := total(lines, metering.KindNode)
			if units != tc.want || amount != tc.want*55 {
				t.Fatalf("%d hours, %d cents; want %d hours: %+v", units, amount, tc.want, lines)
			}
			if tc.want > 0 && (lines[0].UnitType != metering.Hours || lines[0].Period != metering.Hourly ||
				!lines[0].From.Equal(n.Start) || !lines[0].To.Equal(n.End) || lines[0].Currency != catalog.EUR) {
				t.Fatalf("line %+v", lines[0])
			}
		})
	}
}

func TestHourlyAcrossBillingPeriods(t *testing.T) {
	berlin := load(t, "Europe/Berlin")
	n := node(berlin, metering.Hourly, at(t, berlin, "2026-10-31 22:30"))
	n.End = at(t, berlin, "2026-11-01 01:10")
	octFrom, octTo := metering.Month(2026, time.October, berlin)
	novFrom, novTo := metering.Month(2026, time.November, berlin)
	// Hours 22 and 23 start in October, 00 and 01 in November: an hour
	// belongs to the period it starts in, and none is lost or counted twice.
	if u, _ := total(metering.Lines(n, octFrom, octTo), metering.KindNode); u != 2 {
		t.Errorf("October: %d hours, want 2", u)
	}
	nov := metering.Lines(n, novFrom, novTo)
	if u, _ := total(nov, metering.KindNode); u != 2 {
		t.Errorf("November: %d hours, want 2", u)
	}
	if !nov[0].From.Equal(novFrom) || !nov[0].To.Equal(n.End) {
		t.Errorf("November's line spans %s to %s", nov[0].From, nov[0].To)
	}
}

func TestDSTMonths(t *testing.T) {
	berlin := load(t, "Europe/Berlin")
	for _, tc := range []struct {
		month time.Month
		hours int64
	}{
		{time.March, 743}, // clocks go forward: one hour short
		{time.October, 745},
		{time.November, 720},
	} {
		from, to := metering.Month(2026, tc.month, berlin)
		if got := int64(to.Sub(from) / time.Hour); got != tc.hours {
			t.Errorf("%s 2026 in Berlin is %d hours, want %d", tc.month, got, tc.hours)
		}
		// A node running through the whole month costs its hours.
		n := node(berlin, metering.Hourly, from.Add(-24*time.Hour))
		units, amount := total(metering.Lines(n, from, to), metering.KindNode)
		if units != tc.hours || amount != tc.hours*55 {
			t.Errorf("%s: %d hours, %d cents; want %d hours", tc.month, units, amount, tc.hours)
		}
	}
	// Midnight on the 1st is the user's midnight, not UTC's.
	from, to := metering.Month(2026, time.March, berlin)
	if want := time.Date(2026, 2, 28, 23, 0, 0, 0, time.UTC); !from.Equal(want) {
		t.Errorf("March 2026 in Berlin starts %s, want %s", from, want)
	}
	if want := time.Date(2026, 3, 31, 22, 0, 0, 0, time.UTC); !to.Equal(want) {
		t.Errorf("March 2026 in Berlin ends %s, want %s", to, want)
	}
	if y, m := metering.MonthOf(time.Date(2026, 3, 31, 22, 30, 0, 0, time.UTC), berlin); y != 2026 || m != time.April {
		t.Errorf("MonthOf(22:30 UTC on 31 March) = %d-%d in Berlin, want April", y, m)
	}
}

func TestMonthly(t *testing.T) {
	utc := time.UTC
	n := node(utc, metering.Monthly, at(t, utc, "2026-01-31 10:00"))
	jan, janEnd := metering.Month(2026, time.January, utc)
	feb, febEnd := metering.Month(2026, time.February, utc)
	mar, marEnd := metering.Month(2026, time.March, utc)

	// In advance: the first term is due at the order.
	lines := metering.Lines(n, jan, janEnd)
	if len(lines) != 1 || lines[0].Units != 1 || lines[0].Amount != 31900 || lines[0].UnitType != metering.Months ||
		!lines[0].To.Equal(at(t, utc, "2026-02-28 10:00")) {
		t.Fatalf("January: %+v", lines)
	}
	// Over the month boundary: the second term starts on the last day of
	// February, the third on 31 March again.
	if lines := metering.Lines(n, feb, febEnd); len(lines) != 1 || !lines[0].DueAt.Equal(at(t, utc, "2026-02-28 10:00")) {
		t.Fatalf("February: %+v", lines)
	}
	if lines := metering.Lines(n, mar, marEnd); len(lines) != 1 || !lines[0].DueAt.Equal(at(t, utc, "2026-03-31 10:00")) {
		t.Fatalf("March: %+v", lines)
	}
	// Destroyed a day into the third term: that term is paid in full, and
	// nothing follows.
	n.End = at(t, utc, "2026-04-01 10:00")
	apr, aprEnd := metering.Month(2026, time.April, utc)
	if lines := metering.Lines(n, mar, marEnd); len(lines) != 1 {
		t.Fatalf("March, destroyed: %+v", lines)
	}
	if lines := metering.Lines(n, apr, aprEnd); len(lines) != 0 {
		t.Fatalf("April, destroyed: %+v", lines)
	}
	// Every period sees each term exactly once.
	if u, a := total(metering.Lines(n, time.Time{}, n.End), metering.KindNode); u != 3 || a != 3*31900 {
		t.Fatalf("whole life: %d terms, %d cents", u, a)
	}
}

func TestMonthlyInUserTimezone(t *testing.T) {
	// Ordered at 23:30 UTC on 31 August, 01:30 on 1 September in Berlin:
	// the terms start at 23:30 UTC on 30 September and 31 October, which
	// are 1 October and 1 November in Berlin, and are billed there.
	berlin := load(t, "Europe/Berlin")
	n := node(berlin, metering.Monthly, time.Date(2026, 8, 31, 23, 30, 0, 0, time.UTC))
	oct, octEnd := metering.Month(2026, time.October, berlin)
	nov, novEnd := metering.Month(2026, time.November, berlin)
	if lines := metering.Lines(n, oct, octEnd); len(lines) != 1 || !lines[0].DueAt.Equal(time.Date(2026, 9, 30, 23, 30, 0, 0, time.UTC)) {
		t.Fatalf("October: %+v", lines)
	}
	if lines := metering.Lines(n, nov, novEnd); len(lines) != 1 || !lines[0].DueAt.Equal(time.Date(2026, 10, 31, 23, 30, 0, 0, time.UTC)) {
		t.Fatalf("November: %+v", lines)
	}
}

func TestTermEnd(t *testing.T) {
	utc := time.UTC
	for _, tc := range []struct {
		period     metering.Period
		anchor, at string
		want       string
	}{
		{metering.Hourly, "2026-11-10 10:00", "2026-11-10 10:59", "2026-11-10 11:00"},
		{metering.Hourly, "2026-11-10 10:00", "2026-11-10 11:00", "2026-11-10 12:00"},
		{metering.Hourly, "2026-11-10 10:00", "2026-11-10 13:20", "2026-11-10 14:00"},
		{metering.Monthly, "2026-01-31 10:00", "2026-01-31 10:00", "2026-02-28 10:00"},
		{metering.Monthly, "2026-01-31 10:00", "2026-02-15 00:00", "2026-02-28 10:00"},
		{metering.Monthly, "2026-01-31 10:00", "2026-02-28 10:00", "2026-03-31 10:00"},
		{metering.Monthly, "2024-01-31 10:00", "2024-02-01 00:00", "2024-02-29 10:00"},
		{metering.Monthly, "2026-12-15 08:00", "2027-01-01 00:00", "2027-01-15 08:00"},
	} {
		got := metering.TermEnd(tc.period, at(t, utc, tc.anchor), at(t, utc, tc.at))
		if want := at(t, utc, tc.want); !got.Equal(want) {
			t.Errorf("TermEnd(%s, %s, %s) = %s, want %s", tc.period, tc.anchor, tc.at, got, want)
		}
	}
}

func TestPeriodChange(t *testing.T) {
	utc := time.UTC
	nov, novEnd := metering.Month(2026, time.November, utc)

	// Hourly, ordered 09:15, asks for monthly billing at 10:30: the started
	// hour (10:00 to 11:00) ends the hourly phase, the first term starts at
	// 11:00 and is due at once.
	h := node(utc, metering.Hourly, at(t, utc, "2026-11-10 09:15"))
	change := metering.TermEnd(metering.Hourly, h.Phases[0].Anchor, at(t, utc, "2026-11-10 10:30"))
	if !change.Equal(at(t, utc, "2026-11-10 11:00")) {
		t.Fatalf("hourly to monthly takes effect at %s", change)
	}
	h.Phases = append(h.Phases, metering.Phase{From: change, Anchor: change, Period: metering.Monthly})
	lines := metering.Lines(h, nov, novEnd)
	if len(lines) != 2 || lines[0].Units != 2 || lines[0].Amount != 110 || lines[1].UnitType != metering.Months ||
		!lines[1].DueAt.Equal(change) || !lines[1].To.Equal(at(t, utc, "2026-12-10 11:00")) {
		t.Fatalf("hourly then monthly: %+v", lines)
	}

	// Monthly from 3 November, asks for hourly billing on 20 November: the
	// paid term runs to 3 December, hours are counted from then on.
	m := node(utc, metering.Monthly, at(t, utc, "2026-11-03 14:20"))
	change = metering.TermEnd(metering.Monthly, m.Phases[0].Anchor, at(t, utc, "2026-11-20 08:00"))
	if !change.Equal(at(t, utc, "2026-12-03 14:20")) {
		t.Fatalf("monthly to hourly takes effect at %s", change)
	}
	m.Phases = append(m.Phases, metering.Phase{From: change, Anchor: change, Period: metering.Hourly})
	m.End = at(t, utc, "2026-12-03 16:21")
	if lines := metering.Lines(m, nov, novEnd); len(lines) != 1 || lines[0].UnitType != metering.Months {
		t.Fatalf("November: %+v", lines)
	}
	dec, decEnd := metering.Month(2026, time.December, utc)
	lines = metering.Lines(m, dec, decEnd)
	// 14:20 to 16:21 counted from 14:20: three started hours, no second term.
	if len(lines) != 1 || lines[0].UnitType != metering.Hours || lines[0].Units != 3 || !lines[0].From.Equal(change) {
		t.Fatalf("December: %+v", lines)
	}

	// A node destroyed before its change takes effect is billed as before.
	p := node(utc, metering.Monthly, at(t, utc, "2026-11-03 14:20"))
	p.Phases = append(p.Phases, metering.Phase{From: change, Anchor: change, Period: metering.Hourly})
	p.End = at(t, utc, "2026-11-25 00:00")
	if lines := metering.Lines(p, time.Time{}, p.End); len(lines) != 1 || lines[0].UnitType != metering.Months {
		t.Fatalf("destroyed before the change: %+v", lines)
	}
}

func TestSPLALicence(t *testing.T) {
	utc := time.UTC
	// BM-L1: 32 cores. The base price covers 8, the 24 others are 12 pairs.
	spla := catalog.SPLAPrice{Base: catalog.Money{Amount: 5000, Currency: catalog.EUR}, Additional2Cores: catalog.Money{Amount: 1250, Currency: catalog.EUR}}
	for _, tc := range []struct {
		cores int32
		fee   int64
	}{{32, 5000 + 12*1250}, {8, 5000}, {6, 5000}, {9, 5000 + 1250}, {10, 5000 + 1250}, {128, 5000 + 60*1250}} {
		if got := (metering.Licence{Cores: tc.cores, Price: spla}).MonthlyFee(); got != tc.fee {
			t.Errorf("%d cores: fee %d, want %d", tc.cores, got, tc.fee)
		}
	}

	// An hourly Windows node on 32 cores from 20 November to 5 January pays
	// three licence months (20 Nov, 20 Dec, and none after 5 Jan), each in
	// full, in the period it starts in.
	n := node(utc, metering.Hourly, at(t, utc, "2026-11-20 12:00"))
	n.Licences = []metering.LicenceSpan{{Licence: metering.Licence{Cores: 32, Price: spla}, From: n.Start}}
	n.End = at(t, utc, "2027-01-05 12:00")
	nov, novEnd := metering.Month(2026, time.November, utc)
	lines := metering.Lines(n, nov, novEnd)
	units, amount := total(lines, metering.KindLicence)
	if units != 32 || amount != 20000 {
		t.Fatalf("November licence: %d cores, %d cents: %+v", units, amount, lines)
	}
	lic := lines[len(lines)-1]
	if lic.UnitType != metering.Cores || lic.Period != metering.Hourly || lic.UnitPrice != 20000 || !lic.To.Equal(at(t, utc, "2026-12-20 12:00")) {
		t.Fatalf("licence line %+v", lic)
	}
	units, amount = total(metering.Lines(n, time.Time{}, n.End), metering.KindLicence)
	if units != 2*32 || amount != 2*20000 {
		t.Fatalf("whole life: %d cores, %d cents", units, amount)
	}
	jan, janEnd := metering.Month(2027, time.January, utc)
	if units, _ := total(metering.Lines(n, jan, janEnd), metering.KindLicence); units != 0 {
		t.Fatalf("January: %d licence cores, want none", units)
	}
}

func TestLicenceFollowsTheImage(t *testing.T) {
	utc := time.UTC
	spla := catalog.SPLAPrice{Base: catalog.Money{Amount: 5000, Currency: catalog.EUR}, Additional2Cores: catalog.Money{Amount: 1250, Currency: catalog.EUR}}
	lic := metering.Licence{Cores: 12, Price: spla} // BM-M1: 75.00 a month
	// A monthly Debian node ordered on 3 November, reinstalled to Windows on
	// 20 November 15:00 and back to Debian on 5 January: licence months
	// start on 20 November and 20 December, each due in full then, and none
	// on 20 January.
	n := node(utc, metering.Monthly, at(t, utc, "2026-11-03 09:00"))
	installed, removed := at(t, utc, "2026-11-20 15:00"), at(t, utc, "2027-01-05 10:00")
	n.Licences = []metering.LicenceSpan{{Licence: lic, From: installed, To: removed}}
	for _, tc := range []struct {
		year  int
		month time.Month
		due   string
	}{{2026, time.November, "2026-11-20 15:00"}, {2026, time.December, "2026-12-20 15:00"}, {2027, time.January, ""}} {
		from, to := metering.Month(tc.year, tc.month, utc)
		var got []metering.Line
		for _, l := range metering.Lines(n, from, to) {
			if l.Kind == metering.KindLicence {
				got = append(got, l)
			}
		}
		if tc.due == "" {
			if len(got) != 0 {
				t.Errorf("%s: licence lines after the licence was removed: %+v", tc.month, got)
			}
			continue
		}
		due := at(t, utc, tc.due)
		if len(got) != 1 || got[0].Amount != 7500 || got[0].Units != 12 || got[0].Period != metering.Monthly ||
			!got[0].DueAt.Equal(due) || !got[0].To.Equal(due.AddDate(0, 1, 0)) {
			t.Errorf("%s: licence lines %+v, want one of 75.00 due %s", tc.month, got, due)
		}
	}
	// The last licence month that fell due was paid until 20 January.
	if got := n.Licences[0].PaidUntil(); !got.Equal(at(t, utc, "2027-01-20 15:00")) {
		t.Errorf("PaidUntil = %s", got)
	}
	// Removed the moment it was installed, nothing fell due.
	empty := metering.LicenceSpan{Licence: lic, From: installed, To: installed}
	if got := empty.PaidUntil(); !got.Equal(installed) {
		t.Errorf("PaidUntil of an empty span = %s", got)
	}
	// Two spans: each pays its own licence months, from its own start.
	n.Licences = append(n.Licences, metering.LicenceSpan{Licence: lic, From: at(t, utc, "2027-02-10 08:00")})
	if units, amount := total(metering.Lines(n, time.Time{}, at(t, utc, "2027-03-10 08:00")), metering.KindLicence); units != 3*12 || amount != 3*7500 {
		t.Errorf("two spans: %d cores, %d cents; want three licence months", units, amount)
	}
}

func TestCurrencies(t *testing.T) {
	utc := time.UTC
	for _, tc := range []struct {
		currency      catalog.Currency
		perHour, want int64
	}{{catalog.EUR, 55, 3 * 55}, {catalog.USD, 60, 3 * 60}} {
		n := node(utc, metering.Hourly, at(t, utc, "2026-11-10 10:59"))
		n.Currency, n.PricePerHour = tc.currency, tc.perHour
		n.End = at(t, utc, "2026-11-10 12:01")
		lines := metering.Lines(n, time.Time{}, n.End)
		if len(lines) != 1 || lines[0].Currency != tc.currency || lines[0].Amount != tc.want {
			t.Errorf("%s: %+v", tc.currency, lines)
		}
	}
}

func TestHourAnchor(t *testing.T) {
	kolkata := load(t, "Asia/Kolkata")
	got := metering.HourAnchor(time.Date(2026, 11, 10, 5, 29, 0, 0, time.UTC), kolkata) // 10:59 in Kolkata
	if want := time.Date(2026, 11, 10, 4, 30, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("HourAnchor = %s, want %s (10:00 in Kolkata)", got, want)
	}
}
