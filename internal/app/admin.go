package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/gpcore/gpcore/internal/billing"
	"github.com/gpcore/gpcore/internal/catalog"
	"github.com/gpcore/gpcore/internal/money"
	"github.com/gpcore/gpcore/internal/store"
)

// withBilling opens cfg's database for an operator's command that works on
// it directly (gpcore admin ...), with or without servers running on it,
// and runs do with the billing service. It neither creates a SQLite database
// (a data directory without one is refused) nor migrates: the schema must be
// the one this binary's servers use (store.CheckSchema), so that an
// operator's command never changes the schema under running replicas. Only
// the storage and log settings of cfg count: what the operator's commands
// do (credit) needs no payment provider, plan catalog or seller.
func withBilling(ctx context.Context, cfg Config, do func(*billing.Service) error) error {
	cfg.Listen = "127.0.0.1:0" // not used, but validate wants one
	if err := cfg.validate(); err != nil {
		return err
	}
	log, err := cfg.NewLogger()
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, store.Config{DSN: cfg.Database, DataDir: cfg.DataDir, Existing: true})
	if errors.Is(err, store.ErrNoDatabase) {
		return fmt.Errorf("no gpcore database in %s (start gpcore serve or run gpcore migrate with this --data-dir first)", cfg.DataDir)
	}
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	if err := db.CheckSchema(ctx); err != nil {
		return errors.Join(err, closeDB(db))
	}
	bill, err := billing.New(db, billing.Config{Logger: log})
	if err != nil {
		return errors.Join(err, closeDB(db))
	}
	return errors.Join(do(bill), closeDB(db))
}

// closeDB closes db, saying what failed.
func closeDB(db *store.DB) error {
	if err := db.Close(); err != nil {
		return fmt.Errorf("close database: %w", err)
	}
	return nil
}

// GrantCredit gives billing profile profileID credit of amount (a decimal
// number of major units, "25.00") in currency (EUR or USD), for reason, and
// tells out what the profile has now: `gpcore admin credit grant`. The next
// bills of the profile in that currency take it off their totals.
func GrantCredit(ctx context.Context, cfg Config, profileID, amount, currency, reason string, out io.Writer) error {
	cur := catalog.Currency(strings.ToUpper(strings.TrimSpace(currency)))
	if !cur.Valid() {
		return fmt.Errorf("CURRENCY %q: want EUR or USD, the currencies gpcore bills in", currency)
	}
	minor, err := money.ParseAmount(strings.TrimSpace(amount), string(cur))
	if err != nil {
		return fmt.Errorf("AMOUNT %q: want a number of %s like 25.00: %w", amount, cur, err)
	}
	if strings.TrimSpace(reason) == "" {
		return errors.New("--reason: required: say why the customer is owed the credit")
	}
	return withBilling(ctx, cfg, func(bill *billing.Service) error {
		entry, balance, err := bill.GrantCredit(ctx, billing.CreditGrant{ProfileID: profileID, Currency: cur, Amount: minor, Reason: reason})
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "Granted %s of credit to billing profile %s (%s).\n", format(entry.Amount, cur), profileID, entry.Reason)
		fmt.Fprintf(out, "Its credit in %s is now %s: its next bills in %s take it off their totals.\n", cur, format(balance, cur), cur)
		return nil
	})
}

// ListCredit tells out the credit of billing profile profileID, what is
// left in each currency and every grant and use: `gpcore admin credit
// list`.
func ListCredit(ctx context.Context, cfg Config, profileID string, out io.Writer) error {
	return withBilling(ctx, cfg, func(bill *billing.Service) error {
		st, err := bill.Credit(ctx, profileID)
		if err != nil {
			return err
		}
		if len(st.Entries) == 0 {
			fmt.Fprintf(out, "Billing profile %s has never had credit.\n", profileID)
			return nil
		}
		fmt.Fprintf(out, "Credit of billing profile %s:\n", profileID)
		for _, cur := range catalog.Currencies() {
			if left, ok := st.Balances[cur]; ok {
				fmt.Fprintf(out, "  %s left\n", format(left, cur))
			}
		}
		fmt.Fprintln(out)
		w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
		fmt.Fprintln(w, "WHEN (UTC)\tAMOUNT\tWHAT")
		for _, e := range st.Entries {
			what := "granted: " + e.Reason
			if e.BillID != "" {
				what = "taken off bill " + e.BillNumber
			}
			fmt.Fprintf(w, "%s\t%s\t%s\n", e.CreatedAt.Format("2006-01-02 15:04"), format(e.Amount, e.Currency), what)
		}
		return w.Flush()
	})
}

// format writes an amount as the API's prices do.
func format(amount int64, cur catalog.Currency) string {
	return money.Format(amount, string(cur), money.DefaultLocale)
}
