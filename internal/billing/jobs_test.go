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

	workers := river.NewWorkers()
	if err := billing.AddWorkers(workers, e.billing); err != nil {
		t.Fatal(err)
	}
	q, err := jobs.New(e.db, jobs.Config{Workers: workers, PeriodicJobs: billing.PeriodicJobs(0), PollInterval: 100 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = q.Stop(ctx)
	})
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
