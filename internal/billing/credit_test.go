package billing_test

import (
	"strings"
	"testing"

	"github.com/gpcore/gpcore/internal/billing"
	"github.com/gpcore/gpcore/internal/billing/billingtest"
	"github.com/gpcore/gpcore/internal/catalog"
	"github.com/gpcore/gpcore/internal/fault"
)

// TestCreditIsTakenOffTheNextBills: credit granted to a profile pays its
// next bills in that currency, oldest first, as far as it goes; a bill it
// pays whole is not charged, the rest of a bill it pays in part is. The
// ledger shows every grant and use, and credit in another currency stays.
func TestCreditIsTakenOffTheNextBills(t *testing.T) {
	t.Parallel()
	charged := make(chan billing.Charge, 10)
	e := newEnv(t, billing.Config{Provider: signallingProvider{charged: charged}})
	p := e.payer(t, "ada@example.com", "UTC", "tok_visa")
	grant := func(cur catalog.Currency, amount int64, reason string) int64 {
		t.Helper()
		entry, balance, err := e.billing.GrantCredit(t.Context(), billing.CreditGrant{ProfileID: p.profile.ID, Currency: cur, Amount: amount, Reason: reason})
		if err != nil || entry.Amount != amount || entry.Reason != strings.TrimSpace(reason) || entry.BillID != "" {
			t.Fatalf("GrantCredit: %+v, %v", entry, err)
		}
		return balance
	}
	grant(catalog.EUR, 1000, "outage of 3 November")
	if balance := grant(catalog.EUR, 500, "  goodwill  "); balance != 1500 {
		t.Fatalf("balance after two grants: %d", balance)
	}
	grant(catalog.USD, 700, "dollars for later")

	// November and December: 20 hours of BM-L1 each, 11.00 net, 13.09 gross.
	for _, month := range []string{"2026-11", "2026-12"} {
		n := billingtest.OrderNode(t, e.db, billingtest.Order{ProjectID: p.project.ID, FlavourID: billingtest.FlavourL1,
			FQDN: "n" + month + ".example.com", At: p.at(t, month+"-10 10:00")})
		billingtest.Destroy(t, e.db, n, p.at(t, month+"-11 06:00"))
	}
	e.sweepAt(t, p.at(t, "2026-12-01 00:05"))
	e.sweepAt(t, p.at(t, "2027-01-01 00:05"))
	bills, _ := e.bills(t, p)
	if len(bills) != 2 {
		t.Fatalf("%d bills", len(bills))
	}
	nov, dec := bills[0], bills[1]
	if nov.Gross != 1309 || nov.Credit != 1309 || nov.Total != 0 || nov.Status != billing.BillSucceeded || nov.StatusReason != "paid with credit" {
		t.Fatalf("November, paid whole by the credit: %+v", nov)
	}
	if dec.Gross != 1309 || dec.Credit != 191 || dec.Total != 1118 || dec.Status != billing.BillSucceeded {
		t.Fatalf("December, paid in part by what was left: %+v", dec)
	}
	select {
	case c := <-charged:
		if c.Amount != 1118 || c.Description != "Bill "+dec.Number {
			t.Fatalf("charge %+v", c)
		}
	default:
		t.Fatal("December's rest was not charged")
	}
	select {
	case c := <-charged:
		t.Fatalf("a second charge %+v: the bill the credit paid was charged", c)
	default:
	}

	st, err := e.billing.Credit(t.Context(), p.profile.ID)
	if err != nil {
		t.Fatal(err)
	}
	if st.Balances[catalog.EUR] != 0 || st.Balances[catalog.USD] != 700 || len(st.Entries) != 5 {
		t.Fatalf("statement %+v", st)
	}
	var used []int64
	for _, entry := range st.Entries {
		if entry.BillID != "" {
			used = append(used, entry.Amount)
			if entry.BillNumber != nov.Number && entry.BillNumber != dec.Number {
				t.Errorf("entry %+v names no bill of the profile", entry)
			}
		}
	}
	if len(used) != 2 || used[0] != -1309 || used[1] != -191 {
		t.Fatalf("the bills' entries %v", used)
	}
	if st.Entries[1].Reason != "goodwill" {
		t.Fatalf("the reason is kept trimmed: %+v", st.Entries[1])
	}
}

func TestGrantCreditRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t, billing.Config{})
	p := e.payer(t, "ada@example.com", "UTC", "")
	for _, tc := range []struct {
		name  string
		g     billing.CreditGrant
		kind  fault.Kind
		field string
	}{
		{"no currency", billing.CreditGrant{ProfileID: p.profile.ID, Amount: 1, Reason: "x"}, fault.KindInvalidArgument, "currency"},
		{"pounds", billing.CreditGrant{ProfileID: p.profile.ID, Currency: "GBP", Amount: 1, Reason: "x"}, fault.KindInvalidArgument, "currency"},
		{"nothing", billing.CreditGrant{ProfileID: p.profile.ID, Currency: catalog.EUR, Reason: "x"}, fault.KindInvalidArgument, "amount"},
		{"a debit", billing.CreditGrant{ProfileID: p.profile.ID, Currency: catalog.EUR, Amount: -5, Reason: "x"}, fault.KindInvalidArgument, "amount"},
		{"no reason", billing.CreditGrant{ProfileID: p.profile.ID, Currency: catalog.EUR, Amount: 5, Reason: " "}, fault.KindInvalidArgument, "reason"},
		{"a control character", billing.CreditGrant{ProfileID: p.profile.ID, Currency: catalog.EUR, Amount: 5, Reason: "a\x00b"}, fault.KindInvalidArgument, "reason"},
		{"no such profile", billing.CreditGrant{ProfileID: "6f0b0c8e-7c1e-4b8e-9d55-2b8c1f0e9a11", Currency: catalog.EUR, Amount: 5, Reason: "x"}, fault.KindNotFound, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := e.billing.GrantCredit(t.Context(), tc.g)
			wantFault(t, err, tc.kind, tc.field, "")
		})
	}
	if _, _, err := e.billing.GrantCredit(t.Context(), billing.CreditGrant{ProfileID: p.profile.ID, Currency: catalog.EUR, Amount: 1<<63 - 1, Reason: "all"}); err != nil {
		t.Fatal(err)
	}
	_, _, err := e.billing.GrantCredit(t.Context(), billing.CreditGrant{ProfileID: p.profile.ID, Currency: catalog.EUR, Amount: 1, Reason: "one more"})
	wantFault(t, err, fault.KindInvalidArgument, "amount", "too large")
	// Refusals wrote nothing: one grant.
	st, err := e.billing.Credit(t.Context(), p.profile.ID)
	if err != nil || len(st.Entries) != 1 {
		t.Fatalf("statement %+v, %v", st, err)
	}
	_, err = e.billing.Credit(t.Context(), "6f0b0c8e-7c1e-4b8e-9d55-2b8c1f0e9a11")
	wantFault(t, err, fault.KindNotFound, "", "billing profile")
}
