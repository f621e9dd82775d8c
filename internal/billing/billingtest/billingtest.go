// Package billingtest gives billing tests nodes to meter without the node
// domain's machinery (servers being installed, jobs, notifications): Order
// writes a node's row and starts its usage in one transaction, the way
// CreateNode does, and Destroy and ChangePeriod call the usage API the way
// DestroyNode and ChangeNodeBillingPeriod do. Times are the test's, so a
// test can order at 10:59 and destroy at 12:01 without waiting, and move a
// Clock past the end of the month. PDFText reads an invoice back with
// pdftotext.
package billingtest

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/gpcore/gpcore/internal/billing/metering"
	"github.com/gpcore/gpcore/internal/billing/usage"
	"github.com/gpcore/gpcore/internal/catalog"
	"github.com/gpcore/gpcore/internal/money"
	"github.com/gpcore/gpcore/internal/store"
)

// Ids from the embedded default seed (catalog.DefaultSeed).
const (
	// Frankfurt, AVAILABLE, where every seed flavour is offered.
	Fra1 = "cd7dcddb-8833-4d1f-b4ea-b99de893df8f"
	// BM-S1: 6 cores, 0.10 EUR (0.11 USD) per hour, 59.00 EUR (65.00 USD) per month.
	FlavourS1 = "751a633c-c549-4a5f-abc1-bb0715c9f931"
	// BM-M1: 12 cores, 0.19 EUR per hour, 109.00 EUR per month.
	FlavourM1 = "c2d6e0a5-b374-41c8-8480-ed5711687df1"
	// BM-L1: 32 cores, 0.55 EUR (0.60 USD) per hour, 319.00 EUR per month,
	// SPLA 50.00 EUR for 8 cores and 12.50 EUR per 2 more.
	FlavourL1 = "caac5100-a496-4a3c-ac4d-66cf44cd1d6e"
	// Debian 12, no licence.
	Debian12 = "f5328dbe-06fe-4ec3-99a2-e701653bb2ea"
	// Windows Server 2022 with a SPLA licence (not on BM-S1).
	Windows = "8d4c7b71-fdd0-4800-bc70-7e7341f258be"
)

// Order is a node to order.
type Order struct {
	ProjectID string
	FlavourID string
	// ImageID is Debian12 when empty.
	ImageID string
	FQDN    string
	// Period is metering.Hourly when empty.
	Period metering.Period
	At     time.Time
}

// OrderNode writes a live node of o on a free server of its flavour in
// Fra1, priced in its project's currency, and starts its usage, in one
// transaction; it returns the node's id.
func OrderNode(t testing.TB, db *store.DB, o Order) string {
	t.Helper()
	ctx := context.Background()
	if o.ImageID == "" {
		o.ImageID = Debian12
	}
	if o.Period == "" {
		o.Period = metering.Hourly
	}
	var currency string
	if err := db.NewSelect().TableExpr("projects").Column("currency").Where("id = ?", o.ProjectID).Scan(ctx, &currency); err != nil {
		t.Fatalf("billingtest: project %s: %v", o.ProjectID, err)
	}
	cat := catalog.New(db)
	flavour, err := cat.GetFlavour(ctx, Fra1, o.FlavourID, catalog.Currency(currency))
	if err != nil {
		t.Fatalf("billingtest: flavour: %v", err)
	}
	image, err := cat.GetImage(ctx, o.ImageID)
	if err != nil {
		t.Fatalf("billingtest: image: %v", err)
	}
	id := uuid.NewString()
	err = db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var server string
		if err := tx.NewSelect().TableExpr("servers AS s").Column("s.id").
			Where("s.datacenter_id = ?", Fra1).Where("s.flavour_id = ?", o.FlavourID).
			Where("NOT EXISTS (SELECT 1 FROM nodes AS n WHERE n.server_id = s.id AND n.deleted_at IS NULL)").
			OrderExpr("s.name").Limit(1).Scan(ctx, &server); err != nil {
			return fmt.Errorf("a free server: %w", err)
		}
		at := o.At.UTC()
		if _, err := tx.NewInsert().TableExpr("nodes").Model(&map[string]any{
			"id": id, "project_id": o.ProjectID, "server_id": server, "datacenter_id": Fra1,
			"flavour_id": o.FlavourID, "image_id": o.ImageID, "fqdn": o.FQDN, "tags": "{}", "tags_search": "",
			"billing_period": string(o.Period), "paid_until_at": metering.TermEnd(o.Period, at, at),
			"ssh_keys": "[]", "has_password": true, "user_data": "", "created_at": at, "updated_at": at,
		}).Exec(ctx); err != nil {
			return fmt.Errorf("insert node: %w", err)
		}
		_, err := usage.StartTx(ctx, tx, usage.ForOrder(id, o.ProjectID, flavour, image, o.Period, at))
		return err
	})
	if err != nil {
		t.Fatalf("billingtest: order %s: %v", o.FQDN, err)
	}
	return id
}

// Destroy ends node nodeID's usage at at and deletes it, as DestroyNode and
// the cleaning after it do.
func Destroy(t testing.TB, db *store.DB, nodeID string, at time.Time) {
	t.Helper()
	err := db.InTx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewUpdate().TableExpr("nodes").
			Set("usage_ended_at = ?", at.UTC()).Set("deleted_at = ?", at.UTC()).
			Where("id = ?", nodeID).Exec(ctx); err != nil {
			return err
		}
		return usage.EndTx(ctx, tx, nodeID, at)
	})
	if err != nil {
		t.Fatalf("billingtest: destroy %s: %v", nodeID, err)
	}
}

// ChangePeriod asks at at for node nodeID to be billed by period, as
// ChangeNodeBillingPeriod does, and returns how the node is billed then.
func ChangePeriod(t testing.TB, db *store.DB, nodeID string, period metering.Period, at time.Time) usage.State {
	t.Helper()
	var st usage.State
	err := db.InTx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
		var err error
		st, err = usage.ChangePeriodTx(ctx, tx, nodeID, period, at)
		return err
	})
	if err != nil {
		t.Fatalf("billingtest: change %s to %s: %v", nodeID, period, err)
	}
	return st
}

// PDFText returns the text of a PDF document as pdftotext (Debian's
// poppler-utils) reads it, in layout mode, with the no-break spaces of
// formatted amounts made plain spaces (Plain).
func PDFText(t testing.TB, pdf []byte) string {
	t.Helper()
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("billingtest: not a PDF: %q", pdf[:min(len(pdf), 20)])
	}
	cmd := exec.Command("pdftotext", "-layout", "-enc", "UTF-8", "-", "-")
	cmd.Stdin = bytes.NewReader(pdf)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("billingtest: pdftotext (install poppler-utils): %v", err)
	}
	return Plain(string(out))
}

// Plain replaces the no-break spaces CLDR puts in formatted amounts with
// spaces.
func Plain(s string) string { return strings.NewReplacer("\u00a0", " ", "\u202f", " ").Replace(s) }

// Formatted is amount of currency as an invoice to a buyer in country
// writes it, with plain spaces (Plain).
func Formatted(amount int64, currency, country string) string {
	return Plain(money.Format(amount, currency, money.LocaleFor(country)))
}

// Clock is a clock a test moves; its zero value reads the zero time.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// Now returns the time the clock was last set to.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t, forward or back.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}
