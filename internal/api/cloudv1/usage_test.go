package cloudv1_test

import (
	"context"
	"testing"

	"connectrpc.com/connect"

	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	"github.com/gpcore/gpcore/internal/testserver"
)

// TestGetProjectUsage orders a node through CreateNode on a whole server and
// finds its started hour in the project's usage: the node domain starts the
// metering in its order's transaction.
func TestGetProjectUsage(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	u := s.Register(t)
	p := s.BilledProject(t, u, "Metered")
	ctx := context.Background()
	for _, proto := range cloudProtocols {
		t.Run(proto.name, func(t *testing.T) {
			c := s.Cloud(u.Token, proto.opts...)
			fqdn := "usage-" + proto.name + ".example"
			created, err := c.CreateNode(ctx, connect.NewRequest(orderS1(p.GetId(), fqdn)))
			if err != nil {
				t.Fatal(err)
			}
			node := created.Msg.GetNodes()[0]

			res, err := c.GetProjectUsage(ctx, connect.NewRequest(&cloudv1.GetProjectUsageRequest{Id: p.GetId(), Detailed: true}))
			if err != nil {
				t.Fatal(err)
			}
			usage := res.Msg.GetUsage()
			var hours *cloudv1.ProjectFlavourUsage
			for _, f := range usage.GetFlavourUsages() {
				for _, n := range f.GetNodeUsages() {
					if n.GetId() == node.GetId() {
						hours = f
					}
				}
			}
			// BM-S1 in EUR: 0.10 per started hour; the order started one.
			if hours == nil || hours.GetFlavour().GetName() != "BM-S1" || hours.GetPeriod() != cloudv1.BillingPeriod_BILLING_PERIOD_HOURLY ||
				hours.GetUnitType() != cloudv1.UsageUnitType_USAGE_UNIT_TYPE_HOURS || hours.GetUnits() < 1 ||
				hours.GetTotal().GetCurrency() != "EUR" || hours.GetTotal().GetFormatted() == "" {
				t.Fatalf("usage %v has no started hour of %s", usage, fqdn)
			}
			if usage.GetTotal().GetAmount() < 10 || usage.GetTotal().GetCurrency() != "EUR" {
				t.Fatalf("total %v", usage.GetTotal())
			}
			brief, err := c.GetProjectUsage(ctx, connect.NewRequest(&cloudv1.GetProjectUsageRequest{Id: p.GetId()}))
			if err != nil {
				t.Fatal(err)
			}
			if brief.Msg.GetUsage().GetFlavourUsages() != nil || brief.Msg.GetUsage().GetTotal().GetAmount() != usage.GetTotal().GetAmount() {
				t.Fatalf("usage without details %v", brief.Msg.GetUsage())
			}
		})
	}
	stranger := s.Register(t)
	_, err := s.Cloud(stranger.Token).GetProjectUsage(ctx, connect.NewRequest(&cloudv1.GetProjectUsageRequest{Id: p.GetId()}))
	testserver.WantCode(t, err, connect.CodeNotFound, "")
	_, err = s.Cloud(u.Token).GetProjectUsage(ctx, connect.NewRequest(&cloudv1.GetProjectUsageRequest{Id: "not-a-uuid"}))
	testserver.WantCode(t, err, connect.CodeInvalidArgument, "id")
}
