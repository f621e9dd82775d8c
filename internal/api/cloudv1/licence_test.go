package cloudv1_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	"github.com/gpcore/gpcore/internal/billing/billingtest"
)

// seedM1 is BM-M1: 12 cores, 4 servers in fra1; 0.19 EUR per hour, 109.00
// per month, a SPLA licence of 50.00 for 8 cores and 12.50 per 2 more.
const seedM1 = "c2d6e0a5-b374-41c8-8480-ed5711687df1"

// licences returns the licence lines of a usage: "name 12 cores 75.00 EUR
// from..to" (Berlin clock) per node, in order.
func licences(t *testing.T, u *cloudv1.ProjectUsage) []string {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range u.GetFlavourUsages() {
		if f.GetUnitType() != cloudv1.UsageUnitType_USAGE_UNIT_TYPE_CORES {
			continue
		}
		for _, n := range f.GetNodeUsages() {
			out = append(out, fmt.Sprintf("%s %s %g cores %d %s %s..%s", n.GetName(), f.GetPeriod(), f.GetUnits(), f.GetTotal().GetAmount(),
				f.GetTotal().GetCurrency(), n.GetStartedAt().AsTime().In(loc).Format("01-02 15:04"), n.GetEndedAt().AsTime().In(loc).Format("01-02 15:04")))
		}
	}
	slices.Sort(out)
	return out
}

// TestLicenceFollowsTheImage: a node's SPLA licence is billed while an image
// with one is installed, whatever the image it was ordered with. An hourly
// Debian node on BM-M1 reinstalled to Windows on 20 November pays the licence
// from then (a licence month of 75.00 due at the reinstall, on November's
// bill and in the PDF, and the next on 20 December); a monthly Windows node
// reinstalled to Debian then pays the licence month it was in, November's,
// and none in December.
func TestLicenceFollowsTheImage(t *testing.T) {
	t.Parallel()
	s := startMonthServer(t, "EUR")
	ctx := context.Background()
	c := s.Cloud(s.user.Token)
	p := s.project(t, "Licensed", false)
	f := subscribe(t, c)
	password := new("Correct-Horse-Battery-42")
	order := func(fqdn, image string, period cloudv1.BillingPeriod) string {
		t.Helper()
		res, err := c.CreateNode(ctx, connect.NewRequest(&cloudv1.CreateNodeRequest{
			ProjectId: p.GetId(), DatacenterId: seedFra1, FlavourId: seedM1, ImageId: image, Fqdns: []string{fqdn},
			BillingPeriod: period, Password: password,
		}))
		if err != nil {
			t.Fatalf("order %s: %v", fqdn, err)
		}
		id := res.Msg.GetNodes()[0].GetId()
		f.awaitStatus(t, id, cloudv1.ServerProvisioningState_SERVER_PROVISIONING_STATE_ACTIVE)
		return id
	}
	usage := func() *cloudv1.ProjectUsage {
		t.Helper()
		res, err := c.GetProjectUsage(ctx, connect.NewRequest(&cloudv1.GetProjectUsageRequest{Id: p.GetId(), Detailed: true}))
		if err != nil {
			t.Fatal(err)
		}
		return res.Msg.GetUsage()
	}
	hourly, monthly := cloudv1.BillingPeriod_BILLING_PERIOD_HOURLY, cloudv1.BillingPeriod_BILLING_PERIOD_MONTHLY
	// Ordered on 2 November at 09:00, Berlin: the Windows node's licence
	// month runs to 2 December.
	toWin := order("to-win.example.com", seedDebian, hourly)
	toDebian := order("to-debian.example.com", seedWindows, monthly)
	if got, want := licences(t, usage()), []string{"to-debian.example.com BILLING_PERIOD_MONTHLY 12 cores 7500 EUR 11-02 09:00..12-02 09:00"}; !slices.Equal(got, want) {
		t.Fatalf("licences before the reinstalls: %q, want %q", got, want)
	}

	s.clock.Set(berlin(t, "2026-11-20 15:00"))
	// One after the other: the feed hands each notification out once.
	for _, r := range []struct {
		id, image string
		spla      bool
	}{{toWin, seedWindows, true}, {toDebian, seedDebian, false}} {
		retryBusy(t, func() error {
			_, err := c.ReinstallNode(ctx, connect.NewRequest(&cloudv1.ReinstallNodeRequest{Id: r.id, ProjectId: p.GetId(), ImageId: r.image, Password: password}))
			return err
		})
		f.awaitEnd(t, r.id, cloudv1.ServerProvisioningState_SERVER_PROVISIONING_STATE_ACTIVE, "The reinstallation is done")
		res, err := c.GetNode(ctx, connect.NewRequest(&cloudv1.GetNodeRequest{Id: r.id, ProjectId: p.GetId()}))
		if err != nil {
			t.Fatal(err)
		}
		if n := res.Msg.GetNode(); n.GetHasSplaLicense() != r.spla {
			t.Fatalf("%s after the reinstall: hasSplaLicense %v, want %v", n.GetFqdn(), n.GetHasSplaLicense(), r.spla)
		}
	}
	november := []string{
		"to-debian.example.com BILLING_PERIOD_MONTHLY 12 cores 7500 EUR 11-02 09:00..12-02 09:00",
		"to-win.example.com BILLING_PERIOD_HOURLY 12 cores 7500 EUR 11-20 15:00..12-20 15:00",
	}
	if got := licences(t, usage()); !slices.Equal(got, november) {
		t.Fatalf("licences after the reinstalls: %q, want %q", got, november)
	}

	// November's bill: to-win's 687 hours (2 November 09:00 to 1 December
	// 00:00) of 0.19, to-debian's month of 109.00, and both licence months.
	charge := s.closeNovember(t)
	const net = 687*19 + 10900 + 2*7500
	if want := net + (net*19+50)/100; charge.Amount != int64(want) {
		t.Fatalf("November's charge %+v, want %d", charge, want)
	}
	b, text := s.onlyBill(t)
	details, err := c.GetBillingProfileBillDetails(ctx, connect.NewRequest(&cloudv1.GetBillingProfileBillDetailsRequest{Id: s.profile.GetId(), BillId: b.GetId()}))
	if err != nil {
		t.Fatal(err)
	}
	if got := licences(t, details.Msg.GetUsage()); !slices.Equal(got, november) || details.Msg.GetBill().GetNetPrice().GetAmount() != net {
		t.Fatalf("November's bill: licences %q, net %v; want %q, %d", got, details.Msg.GetBill().GetNetPrice(), november, net)
	}
	money := billingtest.Formatted(7500, "EUR", "DE")
	for _, l := range []struct{ description, span string }{
		// The description wraps after "12".
		{"to-win.example.com: Windows Server SPLA licence for 12", "20 Nov 2026 15:00 to 20 Dec 2026 15:00"},
		{"to-debian.example.com: Windows Server SPLA licence for 12", "2 Nov 2026 09:00 to 2 Dec 2026 09:00"},
	} {
		if !hasRow(text, l.description, "1 month", money, money) || !strings.Contains(text, "Project Licensed (plan gpcore), "+l.span) {
			t.Errorf("the PDF has no line %q for %s at %s:\n%s", l.description, l.span, money, text)
		}
	}

	// December: to-win's next licence month starts on 20 December;
	// to-debian, on Debian since 20 November, pays none on 2 December.
	s.clock.Set(berlin(t, "2026-12-25 12:00"))
	december := []string{"to-win.example.com BILLING_PERIOD_HOURLY 12 cores 7500 EUR 12-20 15:00..01-20 15:00"}
	if got := licences(t, usage()); !slices.Equal(got, december) {
		t.Fatalf("December's licences: %q, want %q", got, december)
	}
}
