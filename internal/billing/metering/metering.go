// Package metering turns the life of a node into what it costs: a pure
// engine, with no database and no clock of its own. Its input is a node's
// usage (when it was ordered and destroyed, how it was billed over time, the
// prices captured when it was ordered, the licences its images brought) and a window of time; its output is
// the lines due in that window. Callers choose the window: a billing period
// (Month, a calendar month in the payer's time zone) for bills and
// GetProjectUsage, the unbilled rest of a node's life for the deletion guard.
//
// # When something is due
//
// Every charge falls due at one instant, and belongs to the window that
// instant lies in (windows are half-open, [from, to)):
//
//   - Hourly: per started hour, from the order to the destruction. Hours are
//     counted on the clock of the payer's time zone from the clock hour the
//     order falls in: a node ordered at 10:59 and destroyed at 12:01 has
//     started the hours 10, 11 and 12 and costs 3 hours. An hour is due when
//     it starts (the first one at the order itself). After a change from
//     monthly billing, hours are counted from the end of the last paid
//     term instead.
//   - Monthly: per term, in advance. A term starts at the order (or when an
//     hourly node changes to monthly billing) and ends on the same day of the
//     next month at the same time (UTC), or on the last day of a shorter
//     month (an order on 31 January runs to 28 or 29 February, then to 31
//     March). The whole term is due when it starts, however early the node is
//     destroyed in it; TermEnd is the node's paid_until_at.
//   - A change of billing period takes effect when the current term ends
//     (the started hour, or the paid month): TermEnd of the request. Until
//     then the node is billed as before.
//   - Licences: a Windows image with a SPLA licence costs the licence's
//     monthly fee (catalog.SPLAPrice: the base price covers 8 cores, every
//     started pair of cores beyond costs the 2-core price) per licence month,
//     whatever the node's billing period. A licence follows the installed
//     image: it is on the node from the order or the reinstall that
//     installed such an image to the reinstall that replaced it with one
//     without (LicenceSpan). Its licence months run from when it was
//     installed, like monthly terms, and are due, in full, when they start;
//     none falls due after it is removed, and the month in progress then
//     stays paid.
//
// Billing periods follow the payer's time zone, daylight saving time
// included: Month(2026, time.March, Europe/Berlin) is 743 hours long, its
// October 745, and an hourly node running through either costs that many
// hours.
//
// # Rounding
//
// None. Every amount is a whole number of units times a price in minor
// units (or a licence's fee, a sum of such prices), so metering never
// rounds; the only rounding of money in gpcore is a bill's tax (see
// internal/money).
package metering

import (
	"time"

	"github.com/gpcore/gpcore/internal/catalog"
)

// Period is how a node is billed: per hour or per month.
type Period string

// The billing periods, as stored (the reference's BillingPeriod without its
// prefix).
const (
	Hourly  Period = "HOURLY"
	Monthly Period = "MONTHLY"
)

// Valid reports whether p is one of the billing periods.
func (p Period) Valid() bool { return p == Hourly || p == Monthly }

// UnitType is what a line counts (the reference's UsageUnitType without its
// prefix).
type UnitType string

// The unit types.
const (
	Hours  UnitType = "HOURS"
	Months UnitType = "MONTHS"
	Cores  UnitType = "CORES"
)

// Kind says what a line pays for.
type Kind string

// The kinds of lines.
const (
	// KindNode is the server itself: hours or monthly terms.
	KindNode Kind = "NODE"
	// KindLicence is a software licence on the node, per licence month.
	KindLicence Kind = "LICENCE"
)

// Node is what metering knows of a node's life.
type Node struct {
	ID string
	// FlavourID is the node's flavour, which its lines carry.
	FlavourID string
	// Currency is the currency of the prices, the project's.
	Currency catalog.Currency
	// PricePerHour and PricePerMonth are the flavour's prices in minor
	// units, captured when the node was ordered.
	PricePerHour, PricePerMonth int64
	// Licences are the spans of its life a licence was on the node, in
	// order; none when its images never had one.
	Licences []LicenceSpan
	// Start is the order; End the destruction, zero while the node lives.
	Start, End time.Time
	// Phases say how the node is billed over time, in order; the first
	// starts at Start. A phase lasts until the next one starts, or until End.
	Phases []Phase
}

// Phase is a stretch of a node's life billed by one period.
type Phase struct {
	// From is when the phase starts: the order, or the end of the term
	// in progress when a change of billing period was asked for.
	From time.Time
	// Anchor is where the phase's hours are counted from, or its monthly
	// terms begin: HourAnchor of the order for the first phase of an hourly
	// node, From otherwise. It is never after From.
	Anchor time.Time
	Period Period
}

// Licence is a SPLA licence priced for a number of cores.
type Licence struct {
	// Cores is the number of cores licensed, the flavour's.
	Cores int32
	// Price is the licence's price list, captured when the licence was
	// installed (at the order, or the reinstall).
	Price catalog.SPLAPrice
}

// MonthlyFee is the licence's fee per licence month, in minor units.
func (l Licence) MonthlyFee() int64 { return l.Price.MonthlyFee(l.Cores).Amount }

// LicenceSpan is a stretch of a node's life with a licence on it: from the
// order or the reinstall that installed an image with the licence, to the
// reinstall that replaced it with an image without one.
type LicenceSpan struct {
	Licence
	// From is when the licence was installed; its licence months run from
	// it. To is when it was removed, zero while it is installed; the node's
	// End ends it too.
	From, To time.Time
}

// PaidUntil returns the end of the last licence month of s that fell due
// before To (From when none did): an image with the licence installed again
// before then resumes s rather than paying for that time twice.
func (s LicenceSpan) PaidUntil() time.Time {
	return termStart(s.From, firstTermFrom(s.From, s.To))
}

// Line is something due in a window.
type Line struct {
	NodeID    string
	FlavourID string
	Kind      Kind
	// Period is the node's billing period when the line fell due.
	Period   Period
	UnitType UnitType
	// Units counts hours, months or (for a licence month) cores.
	Units int64
	// UnitPrice is the price of one hour or month, or the monthly fee of
	// the licence for all its cores.
	UnitPrice int64
	// Amount is Units times UnitPrice, or the licence's monthly fee.
	Amount   int64
	Currency catalog.Currency
	// DueAt is when the line fell due: the start of its first hour, of its
	// term, or of its licence month.
	DueAt time.Time
	// From and To are the span the line pays for: its hours (the last one
	// cut at the end of the phase), its term or its licence month.
	From, To time.Time
}

// Lines returns what n owes for the window [from, to): its hours, monthly
// terms and licence months that fall due in it, in that order, each kind by
// time. A zero from means since the order.
func Lines(n Node, from, to time.Time) []Line {
	var out []Line
	for i, ph := range n.Phases {
		end := n.End
		if i+1 < len(n.Phases) {
			end = n.Phases[i+1].From
			if !n.End.IsZero() && n.End.Before(end) {
				end = n.End
			}
		}
		lo, hi := latest(from, ph.From), earliest(to, end)
		if !lo.Before(hi) {
			continue
		}
		switch ph.Period {
		case Hourly:
			if l, ok := hourLine(n, ph, end, lo, hi); ok {
				out = append(out, l)
			}
		case Monthly:
			for k := firstTermFrom(ph.Anchor, lo); termStart(ph.Anchor, k).Before(hi); k++ {
				start := termStart(ph.Anchor, k)
				out = append(out, Line{
					NodeID: n.ID, FlavourID: n.FlavourID, Kind: KindNode, Period: Monthly,
					UnitType: Months, Units: 1, UnitPrice: n.PricePerMonth, Amount: n.PricePerMonth,
					Currency: n.Currency, DueAt: start, From: start, To: termStart(ph.Anchor, k+1),
				})
			}
		}
	}
	for _, s := range n.Licences {
		lo, hi := latest(from, s.From), earliest(earliest(to, s.To), n.End)
		fee := s.MonthlyFee()
		for k := firstTermFrom(s.From, lo); lo.Before(hi) && termStart(s.From, k).Before(hi); k++ {
			start := termStart(s.From, k)
			out = append(out, Line{
				NodeID: n.ID, FlavourID: n.FlavourID, Kind: KindLicence, Period: n.periodAt(start),
				UnitType: Cores, Units: int64(s.Cores), UnitPrice: fee, Amount: fee,
				Currency: n.Currency, DueAt: start, From: start, To: termStart(s.From, k+1),
			})
		}
	}
	return out
}

// hourLine is the line of an hourly phase ph (ending at end, zero when
// open) for the hours that start in [lo, hi); ok is false when none does.
func hourLine(n Node, ph Phase, end, lo, hi time.Time) (Line, bool) {
	first, last := hoursStartedBefore(ph, lo), hoursStartedBefore(ph, hi)
	if last <= first {
		return Line{}, false
	}
	due := hourStart(ph, first)
	to := ph.Anchor.Add(time.Duration(last) * time.Hour)
	if !end.IsZero() && end.Before(to) {
		to = end
	}
	units := last - first
	return Line{
		NodeID: n.ID, FlavourID: n.FlavourID, Kind: KindNode, Period: Hourly,
		UnitType: Hours, Units: units, UnitPrice: n.PricePerHour, Amount: units * n.PricePerHour,
		Currency: n.Currency, DueAt: due, From: due, To: to,
	}, true
}

// hoursStartedBefore counts the hours of ph that start before t: none up
// to ph.From, then one per started clock hour counted from ph.Anchor.
func hoursStartedBefore(ph Phase, t time.Time) int64 {
	if !t.After(ph.From) {
		return 0
	}
	d := t.Sub(ph.Anchor)
	return int64((d + time.Hour - 1) / time.Hour)
}

// hourStart is when hour k (from 0) of ph starts: ph.From for the first,
// a full clock hour after the anchor for the others.
func hourStart(ph Phase, k int64) time.Time {
	return latest(ph.From, ph.Anchor.Add(time.Duration(k)*time.Hour))
}

// periodAt returns the billing period of n at t.
func (n Node) periodAt(t time.Time) Period {
	p := n.Phases[0].Period
	for _, ph := range n.Phases[1:] {
		if ph.From.After(t) {
			break
		}
		p = ph.Period
	}
	return p
}

// TermEnd returns when the term of a phase billed by p from anchor that is
// in progress at t ends: the next full clock hour counted from anchor, or
// the end of the monthly term. A change of billing period asked for at t
// takes effect then, and a node's paid_until_at is the TermEnd of now.
func TermEnd(p Period, anchor, t time.Time) time.Time {
	if p == Hourly {
		if t.Before(anchor) {
			return anchor.Add(time.Hour)
		}
		return anchor.Add((t.Sub(anchor)/time.Hour + 1) * time.Hour)
	}
	k := firstTermFrom(anchor, t)
	if start := termStart(anchor, k); !start.After(t) {
		k++
	}
	return termStart(anchor, k)
}

// HourAnchor returns where the hours of a node ordered at t are counted
// from: the start of the clock hour t falls in, on the clock of loc (which
// differs from UTC's in zones whose offset is not a whole number of hours).
func HourAnchor(t time.Time, loc *time.Location) time.Time {
	local := t.In(loc)
	into := time.Duration(local.Minute())*time.Minute + time.Duration(local.Second())*time.Second +
		time.Duration(local.Nanosecond())
	return t.Add(-into).UTC()
}

// termStart returns the start of monthly term k (from 0) counted from
// anchor: k months later on the same day and time of day (UTC), or on the
// last day of a month that is too short.
func termStart(anchor time.Time, k int) time.Time {
	a := anchor.UTC()
	y, m, d := a.Date()
	first := time.Date(y, m+time.Month(k), 1, a.Hour(), a.Minute(), a.Second(), a.Nanosecond(), time.UTC)
	if days := daysIn(first.Year(), first.Month()); d > days {
		d = days
	}
	return first.AddDate(0, 0, d-1)
}

// firstTermFrom returns the first k whose term (counted from anchor) starts
// at or after t; 0 when t is not after anchor.
func firstTermFrom(anchor, t time.Time) int {
	if !t.After(anchor) {
		return 0
	}
	a, u := anchor.UTC(), t.UTC()
	k := max((u.Year()-a.Year())*12+int(u.Month())-int(a.Month())-1, 0)
	for termStart(anchor, k).Before(t) {
		k++
	}
	return k
}

// daysIn returns the number of days of a month.
func daysIn(year int, month time.Month) int {
	return time.Date(year, month+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// Month returns the billing period of a calendar month in loc: from its
// first midnight to the next month's, in UTC.
func Month(year int, month time.Month, loc *time.Location) (from, to time.Time) {
	return time.Date(year, month, 1, 0, 0, 0, 0, loc).UTC(), time.Date(year, month+1, 1, 0, 0, 0, 0, loc).UTC()
}

// MonthOf returns the calendar month t falls in, on the calendar of loc.
func MonthOf(t time.Time, loc *time.Location) (year int, month time.Month) {
	y, m, _ := t.In(loc).Date()
	return y, m
}

// latest returns the later of a and b.
func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// earliest returns the earlier of a and b, a zero time counting as the end
// of time.
func earliest(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero():
		return a
	case a.Before(b):
		return a
	}
	return b
}
