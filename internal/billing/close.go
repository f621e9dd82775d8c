package billing

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/gpcore/gpcore/internal/billing/metering"
	"github.com/gpcore/gpcore/internal/billing/usage"
	"github.com/gpcore/gpcore/internal/catalog"
	"github.com/gpcore/gpcore/internal/money"
)

// billCounter names the bill_counters row of the bill numbers.
const billCounter = "bills"

// Sweep does the periodic billing work, and is safe to run any number of
// times, on any number of replicas at once: it closes the billing periods
// that have ended (CloseDue) and then charges the bills waiting for their
// payment (ChargePending). The sweep job runs it (see AddWorkers). It goes
// on past a profile or bill that fails and returns every failure.
func (s *Service) Sweep(ctx context.Context) error {
	return errors.Join(s.CloseDue(ctx), s.ChargePending(ctx))
}

// CloseDue issues the bills of every billing profile whose owner's calendar
// month has ended with usage not yet billed (see closeProfile).
func (s *Service) CloseDue(ctx context.Context) error {
	due, err := s.dueProfiles(ctx, s.now())
	if err != nil {
		return wrap("close due periods", err)
	}
	var errs []error
	for _, id := range due {
		if err := s.closeProfile(ctx, id); err != nil {
			s.log.ErrorContext(ctx, "billing: close the billing period", "billing_profile", id, "err", err)
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// dueProfiles returns the billing profiles with usage unbilled since before
// the start of their owner's current month, by id.
func (s *Service) dueProfiles(ctx context.Context, now time.Time) ([]string, error) {
	var rows []struct {
		ProfileID   string    `bun:"billing_profile_id"`
		Timezone    string    `bun:"timezone"`
		StartedAt   time.Time `bun:"started_at"`
		BilledUntil time.Time `bun:"billed_until,nullzero"`
	}
	if err := s.db.NewSelect().TableExpr("node_usage AS nu").
		ColumnExpr("p.billing_profile_id, u.timezone, nu.started_at, nu.billed_until").
		Join("JOIN projects AS p ON p.id = nu.project_id").
		Join("JOIN billing_profiles AS bp ON bp.id = p.billing_profile_id").
		Join("JOIN users AS u ON u.id = bp.user_id").
		Where("nu.ended_at IS NULL OR nu.billed_until IS NULL OR nu.billed_until < nu.ended_at").
		Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("find unbilled usage: %w", err)
	}
	due := map[string]bool{}
	for _, r := range rows {
		from := r.BilledUntil
		if from.IsZero() {
			from = r.StartedAt
		}
		if from.Before(monthStart(now, usage.LoadLocation(r.Timezone))) {
			due[r.ProfileID] = true
		}
	}
	return slices.Sorted(func(yield func(string) bool) {
		for id := range due {
			if !yield(id) {
				return
			}
		}
	}), nil
}

// monthStart is the first instant of the calendar month t falls in, on the
// calendar of loc.
func monthStart(t time.Time, loc *time.Location) time.Time {
	y, m := metering.MonthOf(t, loc)
	from, _ := metering.Month(y, m, loc)
	return from
}

// month is a calendar month counted from year 0 (year*12 + month-1), the
// order bills are labelled in.
type month int

// monthIndex is the month of year.
func monthIndex(year int, m time.Month) month { return month(year*12 + int(m) - 1) }

// year is m's year.
func (m month) year() int { return int(m) / 12 }

// month is m's month of the year.
func (m month) month() time.Month { return time.Month(int(m)%12 + 1) }

// label writes m as YYYY-MM, for logs.
func (m month) label() string { return fmt.Sprintf("%04d-%02d", m.year(), int(m.month())) }

// bounds is m's billing period on the calendar of loc.
func (m month) bounds(loc *time.Location) (from, to time.Time) {
	return metering.Month(m.year(), m.month(), loc)
}

// closeProfile issues the bills of billing profile id for the calendar
// months (on its owner's calendar) that have ended, in one transaction:
//
//   - Everything its projects' nodes owe from their last bill's end (or
//     their order) to the start of the current month is billed, each line in
//     the bill of the month it fell due in, one bill per month and currency
//     that has lines (no empty bills).
//   - A line that fell due in a month already billed (usage of a project
//     that moved in from another profile, or was unlinked) goes on the
//     profile's next bill; when that is the current month's, it waits for
//     it.
//   - Each bill takes as much of the profile's credit in its currency
//     (GrantCredit) as is left, up to its gross amount, oldest month first.
//   - The nodes' usage is then marked billed up to the start of the current
//     month, so nothing is billed twice and nothing is skipped, whichever
//     replica closes and however often.
//
// Numbers are taken from the bill counter in the same transaction: a bill
// that is not committed uses up no number.
func (s *Service) closeProfile(ctx context.Context, id string) error {
	return s.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := lockProfile(ctx, tx, id); err != nil {
			return err
		}
		var prow profileRow
		if err := selectProfiles(tx, &prow).Where("bp.id = ?", id).Scan(ctx); err != nil {
			return fmt.Errorf("load profile %s: %w", id, err)
		}
		profile := s.profile(prow)
		var tz string
		if err := tx.NewSelect().TableExpr("users").Column("timezone").Where("id = ?", profile.UserID).Scan(ctx, &tz); err != nil {
			return fmt.Errorf("load the time zone of %s: %w", profile.UserID, err)
		}
		loc := usage.LoadLocation(tz)
		now := s.now()
		cy, cm := metering.MonthOf(now, loc)
		current := monthIndex(cy, cm)
		cut, _ := current.bounds(loc)

		var projects []billedProject
		if err := tx.NewSelect().TableExpr("projects").ColumnExpr("id, name, COALESCE(plan_code, '') AS plan_code").
			Where("billing_profile_id = ?", id).Scan(ctx, &projects); err != nil {
			return fmt.Errorf("load projects: %w", err)
		}
		ids := make([]string, len(projects))
		byID := make(map[string]billedProject, len(projects))
		for i, p := range projects {
			ids[i], byID[p.ID] = p.ID, p
		}
		records, err := usage.Load(ctx, tx, usage.Filter{ProjectIDs: ids, Unbilled: true, Lock: true})
		if err != nil {
			return err
		}
		last, err := lastBilled(ctx, tx, id)
		if err != nil {
			return err
		}

		type key struct {
			currency catalog.Currency
			month    month
		}
		lines := map[key][]BillLine{}
		billed := map[catalog.Currency][]string{}
		for _, r := range records {
			if prev, ok := last[r.Currency]; ok && prev+1 >= current {
				continue // this currency's last bill is last month's: the rest waits for this month's
			}
			// Month by month, so that each line (the hours of a month
			// among them) lands in the month it fell due in.
			from := r.BilledUntil
			if from.IsZero() {
				from = r.Start
			}
			for m := monthIndex(metering.MonthOf(from, loc)); m < current; m++ {
				start, end := m.bounds(loc)
				label := m
				if prev, ok := last[r.Currency]; ok && label <= prev {
					label = prev + 1
				}
				k := key{r.Currency, label}
				for _, l := range metering.Lines(r.Node, later(start, from), end) {
					lines[k] = append(lines[k], lineOf(r, byID[r.ProjectID], l))
				}
			}
			billed[r.Currency] = append(billed[r.Currency], r.ID)
		}
		keys := make([]key, 0, len(lines))
		for k := range lines {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b key) int {
			return cmp.Or(cmp.Compare(a.currency, b.currency), cmp.Compare(a.month, b.month))
		})
		credit := map[catalog.Currency]int64{}
		for _, k := range keys {
			left, ok := credit[k.currency]
			if !ok {
				if left, err = creditLeft(ctx, tx, id, k.currency); err != nil {
					return err
				}
			}
			used, err := s.issue(ctx, tx, profile, tz, k.currency, k.month, lines[k], left, now)
			if err != nil {
				return err
			}
			credit[k.currency] = left - used
		}
		for _, nodes := range billed {
			if err := usage.MarkBilledTx(ctx, tx, nodes, cut); err != nil {
				return err
			}
		}
		return nil
	})
}

// lastBilled returns, per currency, the last month profile id has a bill
// for.
func lastBilled(ctx context.Context, db bun.IDB, id string) (map[catalog.Currency]month, error) {
	var rows []struct {
		Currency string `bun:"currency"`
		Year     int    `bun:"period_year"`
		Month    int    `bun:"period_month"`
	}
	if err := db.NewSelect().Model((*billRow)(nil)).Column("currency", "period_year", "period_month").
		Where("billing_profile_id = ?", id).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("load the last bills of %s: %w", id, err)
	}
	out := map[catalog.Currency]month{}
	for _, r := range rows {
		m := monthIndex(r.Year, time.Month(r.Month))
		if prev, ok := out[catalog.Currency(r.Currency)]; !ok || m > prev {
			out[catalog.Currency(r.Currency)] = m
		}
	}
	return out, nil
}

// issue inserts the bill of profile for month m in currency with lines, as
// part of tx: the next number of the series, the totals (tax rounded once,
// money.ApplyRate; as much of credit, the profile's credit left in
// currency, as the gross amount takes, recorded in its ledger), the buyer
// and seller as they are now, and status PENDING (SUCCEEDED when there is
// nothing to pay). It returns the credit the bill used.
func (s *Service) issue(ctx context.Context, tx bun.Tx, profile Profile, tz string, currency catalog.Currency, m month, lines []BillLine, credit int64, now time.Time) (int64, error) {
	slices.SortStableFunc(lines, func(a, b BillLine) int {
		return cmp.Or(strings.Compare(a.ProjectName, b.ProjectName), strings.Compare(a.ProjectID, b.ProjectID),
			strings.Compare(a.NodeName, b.NodeName), strings.Compare(a.NodeID, b.NodeID),
			cmp.Compare(kindRank(a.Kind), kindRank(b.Kind)), a.From.Compare(b.From))
	})
	amounts := make([]int64, len(lines))
	for i, l := range lines {
		amounts[i] = l.Amount
	}
	net, err := money.Sum(amounts...)
	if err != nil {
		return 0, err
	}
	tax, err := money.ApplyRate(net, int32(profile.TaxRate))
	if err != nil {
		return 0, err
	}
	gross, err := money.Sum(net, tax)
	if err != nil {
		return 0, err
	}
	used := min(max(credit, 0), gross)
	if _, err := tx.NewUpdate().TableExpr("bill_counters").Set("last_number = last_number + 1").
		Where("name = ?", billCounter).Exec(ctx); err != nil {
		return 0, fmt.Errorf("take a bill number: %w", err)
	}
	var seq int64
	if err := tx.NewSelect().TableExpr("bill_counters").Column("last_number").
		Where("name = ?", billCounter).Scan(ctx, &seq); err != nil {
		return 0, fmt.Errorf("take a bill number: %w", err)
	}
	start, end := m.bounds(usage.LoadLocation(tz))
	row := billRow{
		ID: uuid.NewString(), Seq: seq, Number: fmt.Sprintf("%06d", seq),
		BillingProfileID: profile.ID, UserID: profile.UserID, Currency: string(currency),
		PeriodYear: m.year(), PeriodMonth: int(m.month()), PeriodStart: start, PeriodEnd: end, Timezone: tz,
		TaxRateBP: int32(profile.TaxRate), NetAmount: net, TaxAmount: tax, GrossAmount: gross, CreditAmount: used, TotalAmount: gross - used,
		BuyerName: profile.Name, BuyerCompany: profile.Company, BuyerVATID: profile.VATID,
		BuyerStreet: profile.Street, BuyerPostcode: profile.Postcode, BuyerCity: profile.City, BuyerState: profile.State,
		BuyerCountry: profile.CountryCode, BuyerEmail: profile.BillingEmail,
		SellerName: s.cfg.Seller.Name, SellerAddress: s.cfg.Seller.Address, SellerVATID: s.cfg.Seller.VATID,
		SellerCountry: s.cfg.Seller.Country,
		Status:        string(BillPending), IssuedAt: now, StatusChangedAt: now,
	}
	switch {
	case row.TotalAmount == 0 && used > 0:
		row.Status, row.StatusReason = string(BillSucceeded), "paid with credit"
	case row.TotalAmount == 0:
		row.Status, row.StatusReason = string(BillSucceeded), "nothing to pay"
	}
	if _, err := tx.NewInsert().Model(&row).Exec(ctx); err != nil {
		return 0, fmt.Errorf("insert bill %s for %s: %w", row.Number, m.label(), err)
	}
	if used > 0 {
		if err := useCredit(ctx, tx, profile.ID, currency, row.ID, used, now); err != nil {
			return 0, err
		}
	}
	rows := make([]lineRow, len(lines))
	for i, l := range lines {
		rows[i] = lineRow{
			BillID: row.ID, Position: i + 1, ProjectID: l.ProjectID, ProjectName: l.ProjectName, PlanCode: l.PlanCode,
			NodeID: l.NodeID, NodeName: l.NodeName, FlavourID: l.FlavourID, FlavourName: l.FlavourName,
			Kind: string(l.Kind), Period: string(l.Period), UnitType: string(l.UnitType),
			Units: l.Units, UnitPrice: l.UnitPrice, Amount: l.Amount, StartsAt: l.From, EndsAt: l.To,
		}
	}
	if _, err := tx.NewInsert().Model(&rows).Exec(ctx); err != nil {
		return 0, fmt.Errorf("insert the lines of bill %s: %w", row.Number, err)
	}
	s.log.InfoContext(ctx, "billing: bill issued", "bill", row.ID, "number", row.Number,
		"billing_profile", profile.ID, "month", m.label(), "currency", currency, "credit", used, "total", row.TotalAmount)
	return used, nil
}

// kindRank orders a node's lines: the node before its licence.
func kindRank(k metering.Kind) int {
	if k == metering.KindNode {
		return 0
	}
	return 1
}
