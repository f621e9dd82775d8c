package cloudv1

import (
	"context"

	"connectrpc.com/connect"

	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	"github.com/gpcore/gpcore/internal/api/apiconv"
	"github.com/gpcore/gpcore/internal/api/interceptor"
	"github.com/gpcore/gpcore/internal/billing"
)

// GetProjectUsage answers what a project's nodes owe in the current billing
// period so far (billing.Service.ProjectUsage): the total, and with
// detailed the usage per flavour, billing period and unit type with its
// nodes.
func (h *Handler) GetProjectUsage(ctx context.Context, req *connect.Request[cloudv1.GetProjectUsageRequest]) (*connect.Response[cloudv1.GetProjectUsageResponse], error) {
	id, err := apiconv.UUID("id", req.Msg.GetId())
	if err != nil {
		return nil, err
	}
	u, err := h.billing.ProjectUsage(ctx, interceptor.CallerID(ctx), id)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&cloudv1.GetProjectUsageResponse{Usage: projectUsage(u, req.Msg.GetDetailed())}), nil
}

// projectUsage maps a usage report: the total, and the flavour usages when
// detailed.
func projectUsage(u billing.Usage, detailed bool) *cloudv1.ProjectUsage {
	out := &cloudv1.ProjectUsage{Total: apiconv.Price(u.Total, string(u.Currency))}
	if !detailed {
		return out
	}
	for _, f := range u.Flavours {
		fu := &cloudv1.ProjectFlavourUsage{
			Flavour:  &cloudv1.BasicFlavour{Id: f.FlavourID, Name: f.FlavourName},
			Period:   apiconv.Enum[cloudv1.BillingPeriod](cloudv1.BillingPeriod_value, "BILLING_PERIOD_", f.Period),
			Total:    apiconv.Price(f.Total, string(u.Currency)),
			Units:    float64(f.Units),
			UnitType: apiconv.Enum[cloudv1.UsageUnitType](cloudv1.UsageUnitType_value, "USAGE_UNIT_TYPE_", f.UnitType),
		}
		for _, n := range f.Nodes {
			fu.NodeUsages = append(fu.NodeUsages, &cloudv1.ProjectNodeUsage{
				Id: n.NodeID, Name: n.Name, StartedAt: apiconv.Time(n.From), EndedAt: apiconv.Time(n.To),
			})
		}
		out.FlavourUsages = append(out.FlavourUsages, fu)
	}
	return out
}
