package billing_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/gpcore/gpcore/internal/billing"
	"github.com/gpcore/gpcore/internal/billing/billingtest"
	"github.com/gpcore/gpcore/internal/jobs"
)

// signallingProvider is the test provider, telling each charge on a
// channel.
type signallingProvider struct {
	billing.TestProvider
	charged chan billing.Charge
}

func (p signallingProvider) Charge(ctx context.Context, c billing.Charge) (billing.ChargeResult, error) {
	p.charged <- c
	return p.TestProvider.Charge(ctx, c)
}

// TestSweepJob runs the billing sweep as River's periodic job (it runs when
// the queue starts): the month that ended is closed and its bill charged,
// with no call from the test.
func TestSweepJob(t *testing.T) {
	t.Parallel()
	charged := make(chan billing.Charge, 10)
	e := newEnv(t, billing.Config{Provider: signallingProvider{charged: charged}})
	if err := jobs.Migrate(t.Context(), e.db); err != nil {
		t.Fatal(err)
	}
	p := e.payer(t, "ada@example.com", "UTC", "tok_visa")
	n := billingtest.OrderNode(t, e.db, billingtest.Order{ProjectID: p.project.ID, FlavourID: billingtest.FlavourS1, FQDN: "a.example.com", At: p.at(t, "2026-11-10 10:00")})
	billingtest.Destroy(t, e.db, n, p.at(t, "2026-11-10 11:00"))
	e.clock.Set(p.at(t, "2026-12-01 00:05"))

	startQueue(t, e, billing.PeriodicJobs(0))
	var c billing.Charge
	select {
	case c = <-charged:
	case <-time.After(time.Minute): // a safety net against a hung test, not a timing assumption
		t.Fatal("the sweep job charged nothing")
	}
	bills, _ := e.bills(t, p)
	if len(bills) != 1 || c.Amount != bills[0].Total || c.Amount != 12 || c.Description != "Bill "+bills[0].Number {
		t.Fatalf("charge %+v for bills %+v", c, bills)
	}
}

// startQueue runs a job queue with the billing workers and periodic, and
// makes e's billing service enqueue in it, until the test ends.
func startQueue(t *testing.T, e *env, periodic []*river.PeriodicJob) {
	t.Helper()
	if err := jobs.Migrate(t.Context(), e.db); err != nil {
		t.Fatal(err)
	}
	workers := river.NewWorkers()
	if err := billing.AddWorkers(workers, e.billing); err != nil {
		t.Fatal(err)
	}
	q, err := jobs.New(e.db, jobs.Config{Workers: workers, PeriodicJobs: periodic, PollInterval: 100 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	e.billing.UseQueue(q)
	if err := q.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = q.Stop(ctx)
	})
}

// nextCharge returns the next charge the provider is asked for.
func nextCharge(t *testing.T, charged <-chan billing.Charge) billing.Charge {
	t.Helper()
	select {
	case c := <-charged:
		return c
	case <-time.After(time.Minute): // a safety net against a hung test, not a timing assumption
		t.Fatal("nothing was charged")
	}
	return billing.Charge{}
}

// waitBill polls p's only bill until it has status, for up to a minute.
func (e *env) waitBill(t *testing.T, p payer, status billing.BillStatus) billing.Bill {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		bills, _ := e.bills(t, p)
		if len(bills) != 1 {
			t.Fatalf("bills %+v, want one", bills)
		}
		if bills[0].Status == status {
			return bills[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("bill %+v, want it %s", bills[0], status)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRetryJob: when a profile with a failed bill gets another default
// card, by ChangeDefaultCard or as its first card, the bill is charged to it
// at once, by a job enqueued with the change, with no sweep (the queue runs
// none); the sweep after that charges nothing more.
func TestRetryJob(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, token string // the profile's card when its bill fails, if any
	}{
		{"ChangeDefaultCard", "tok_chargeCustomerFail"},
		{"first card", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			charged := make(chan billing.Charge, 10)
			e := newEnv(t, billing.Config{Provider: signallingProvider{charged: charged}})
			startQueue(t, e, nil)
			p := e.payer(t, "ada@example.com", "UTC", tc.token)
			n := billingtest.OrderNode(t, e.db, billingtest.Order{ProjectID: p.project.ID, FlavourID: billingtest.FlavourS1, FQDN: "a.example.com", At: p.at(t, "2026-11-10 10:00")})
			billingtest.Destroy(t, e.db, n, p.at(t, "2026-11-10 11:00"))
			e.sweepAt(t, p.at(t, "2026-12-01 00:05"))
			if tc.token != "" {
				nextCharge(t, charged)
			}
			failed := e.waitBill(t, p, billing.BillFailed)

			c := e.card(t, p.user.ID, p.profile.ID, "tok_visa")
			if tc.token != "" {
				if _, err := e.billing.ChangeDefaultCard(t.Context(), p.user.ID, p.profile.ID, c.ID); err != nil {
					t.Fatal(err)
				}
			}
			ch := nextCharge(t, charged)
			if ch.Amount != 12 || ch.Description != "Bill "+failed.Number {
				t.Fatalf("retry charge %+v for bill %+v", ch, failed)
			}
			e.waitBill(t, p, billing.BillSucceeded)
			if locks, err := e.projects.Locks(t.Context(), p.user.ID, p.project.ID); err != nil || len(locks) != 0 {
				t.Fatalf("locks %v, %v", locks, err)
			}
			e.sweepAt(t, p.at(t, "2026-12-01 01:00"))
			select {
			case ch := <-charged:
				t.Fatalf("the sweep charged the paid bill again: %+v", ch)
			default:
			}
		})
	}
}
