package billing

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/gpcore/gpcore/internal/catalog"
	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/money"
)

// MaxCreditReasonLength bounds the reason of a credit grant, in characters.
const MaxCreditReasonLength = 500

// CreditEntry is an entry of a billing profile's credit ledger: a grant,
// or what a bill used.
type CreditEntry struct {
	ID        string
	ProfileID string
	Currency  catalog.Currency
	// Amount is in minor units: positive for a grant, negative for what a
	// bill took off its total.
	Amount int64
	// BillID and BillNumber name the bill that used the credit; empty for a
	// grant.
	BillID, BillNumber string
	// Reason says why the credit was granted; empty for a bill's entry.
	Reason    string
	CreatedAt time.Time
}

// CreditGrant is credit the operator gives a billing profile.
type CreditGrant struct {
	ProfileID string
	// Currency is EUR or USD: the credit reduces the profile's bills in
	// that currency.
	Currency catalog.Currency
	// Amount is in minor units of Currency, more than zero.
	Amount int64
	// Reason is required: why the customer is owed the money (an outage, a
	// goodwill gesture), for whoever reads the ledger later.
	Reason string
}

// CreditStatement is a billing profile's credit: what is left in each
// currency and the ledger it follows from.
type CreditStatement struct {
	// Balances is the credit left per currency, for the currencies the
	// profile ever had credit in.
	Balances map[catalog.Currency]int64
	// Entries are the ledger's entries, oldest first.
	Entries []CreditEntry
}

// creditRow is a billing_credits row.
type creditRow struct {
	bun.BaseModel `bun:"table:billing_credits,alias:bc"`

	ID               string    `bun:"id,pk"`
	BillingProfileID string    `bun:"billing_profile_id"`
	Currency         string    `bun:"currency"`
	Amount           int64     `bun:"amount"`
	BillID           string    `bun:"bill_id,nullzero"`
	Reason           string    `bun:"reason"`
	CreatedAt        time.Time `bun:"created_at"`

	BillNumber string `bun:"bill_number,scanonly"`
}

// GrantCredit adds credit to a billing profile's ledger, whoever owns the
// profile, and returns the entry and the profile's credit in that currency
// after it. The credit is taken off the profile's next bills in that
// currency (see closeProfile), as much of each bill's gross amount as is
// left. It is for the operator (gpcore admin credit grant); the API has no
// call for it. Refusals: NotFound for a profile that does not exist,
// InvalidArgument naming "currency", "amount" or "reason".
func (s *Service) GrantCredit(ctx context.Context, g CreditGrant) (CreditEntry, int64, error) {
	if !g.Currency.Valid() {
		return CreditEntry{}, 0, fault.Invalid("currency", "%q is not a currency gpcore bills in (EUR, USD)", g.Currency)
	}
	if g.Amount <= 0 {
		return CreditEntry{}, 0, fault.Invalid("amount", "must be more than zero")
	}
	reason := strings.TrimSpace(g.Reason)
	switch {
	case reason == "":
		return CreditEntry{}, 0, fault.Invalid("reason", "is required: say why the customer is owed the credit")
	case !utf8.ValidString(reason) || utf8.RuneCountInString(reason) > MaxCreditReasonLength:
		return CreditEntry{}, 0, fault.Invalid("reason", "must be valid UTF-8 of at most %d characters", MaxCreditReasonLength)
	case strings.ContainsFunc(reason, unicode.IsControl):
		return CreditEntry{}, 0, fault.Invalid("reason", "must not contain control characters")
	}
	row := creditRow{
		ID: uuid.NewString(), BillingProfileID: g.ProfileID, Currency: string(g.Currency),
		Amount: g.Amount, Reason: reason, CreatedAt: s.now(),
	}
	var balance int64
	err := s.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := lockProfile(ctx, tx, g.ProfileID); err != nil {
			return err
		}
		left, err := creditLeft(ctx, tx, g.ProfileID, g.Currency)
		if err != nil {
			return err
		}
		if balance, err = money.Sum(left, g.Amount); err != nil {
			return fault.Invalid("amount", "is too large: the profile's credit would not fit")
		}
		if _, err := tx.NewInsert().Model(&row).Exec(ctx); err != nil {
			return fmt.Errorf("insert credit: %w", err)
		}
		return nil
	})
	if err != nil {
		return CreditEntry{}, 0, wrap("grant credit", err)
	}
	s.log.InfoContext(ctx, "billing: credit granted", "billing_profile", g.ProfileID, "currency", g.Currency,
		"amount", g.Amount, "balance", balance, "reason", reason)
	return creditEntry(row), balance, nil
}

// Credit returns the credit statement of billing profile profileID, whoever
// owns it, for the operator (gpcore admin credit list). The ledger of a
// deleted profile is still there; NotFound for a profile that neither
// exists nor has a ledger.
func (s *Service) Credit(ctx context.Context, profileID string) (CreditStatement, error) {
	var rows []creditRow
	if err := s.db.NewSelect().Model(&rows).
		ColumnExpr("bc.*").ColumnExpr("b.number AS bill_number").
		Join("LEFT JOIN bills AS b ON b.id = bc.bill_id").
		Where("bc.billing_profile_id = ?", profileID).
		OrderExpr("bc.created_at, bc.amount DESC, bc.id").
		Scan(ctx); err != nil {
		return CreditStatement{}, wrap("credit statement", err)
	}
	if len(rows) == 0 {
		if _, err := profileOwner(ctx, s.db.DB, profileID); err != nil {
			return CreditStatement{}, wrap("credit statement", err)
		}
	}
	out := CreditStatement{Balances: map[catalog.Currency]int64{}}
	for _, r := range rows {
		out.Entries = append(out.Entries, creditEntry(r))
		out.Balances[catalog.Currency(r.Currency)] += r.Amount
	}
	return out, nil
}

// creditEntry converts a row.
func creditEntry(r creditRow) CreditEntry {
	return CreditEntry{
		ID: r.ID, ProfileID: r.BillingProfileID, Currency: catalog.Currency(r.Currency), Amount: r.Amount,
		BillID: r.BillID, BillNumber: r.BillNumber, Reason: r.Reason, CreatedAt: r.CreatedAt.UTC(),
	}
}

// creditLeft is the credit billing profile id has left in currency: the sum
// of its ledger there. The caller holds the profile's lock when it writes
// to the ledger after reading this.
func creditLeft(ctx context.Context, db bun.IDB, id string, currency catalog.Currency) (int64, error) {
	var left int64
	if err := db.NewSelect().Model((*creditRow)(nil)).ColumnExpr("COALESCE(SUM(amount), 0)").
		Where("billing_profile_id = ?", id).Where("currency = ?", string(currency)).
		Scan(ctx, &left); err != nil {
		return 0, fmt.Errorf("credit of profile %s in %s: %w", id, currency, err)
	}
	return left, nil
}

// useCredit records, as part of tx, that bill billID of profile id took
// amount (more than zero) of its credit in currency.
func useCredit(ctx context.Context, tx bun.Tx, id string, currency catalog.Currency, billID string, amount int64, at time.Time) error {
	row := creditRow{ID: uuid.NewString(), BillingProfileID: id, Currency: string(currency), Amount: -amount, BillID: billID, CreatedAt: at}
	if _, err := tx.NewInsert().Model(&row).Exec(ctx); err != nil {
		return fmt.Errorf("record the credit bill %s used: %w", billID, err)
	}
	return nil
}
