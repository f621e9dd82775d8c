package cloudv2

import (
	"context"

	"connectrpc.com/connect"

	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	cloudv2 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v2"
)

// ListBillingProfileBills is v1's ListBillingProfileBills: the request has
// the same fields (the year filter among them), the response the same v1
// bills and years.
func (h *Handler) ListBillingProfileBills(ctx context.Context, req *connect.Request[cloudv2.ListBillingProfileBillsRequest]) (*connect.Response[cloudv2.ListBillingProfileBillsResponse], error) {
	m := req.Msg
	res, err := h.v1.ListBillingProfileBills(ctx, connect.NewRequest(&cloudv1.ListBillingProfileBillsRequest{
		Id: m.GetId(), Pagination: m.GetPagination(), Year: m.Year,
	}))
	if err != nil {
		return nil, err
	}
	r := res.Msg
	return connect.NewResponse(&cloudv2.ListBillingProfileBillsResponse{
		Bills: r.GetBills(), Pagination: r.GetPagination(), Years: r.GetYears(), Total: r.GetTotal(),
	}), nil
}

// ListBillingProfileProjects is v1's ListBillingProfileProjects: the same
// request fields, the same v1 projects.
func (h *Handler) ListBillingProfileProjects(ctx context.Context, req *connect.Request[cloudv2.ListBillingProfileProjectsRequest]) (*connect.Response[cloudv2.ListBillingProfileProjectsResponse], error) {
	m := req.Msg
	res, err := h.v1.ListBillingProfileProjects(ctx, connect.NewRequest(&cloudv1.ListBillingProfileProjectsRequest{
		Id: m.GetId(), Pagination: m.GetPagination(),
	}))
	if err != nil {
		return nil, err
	}
	r := res.Msg
	return connect.NewResponse(&cloudv2.ListBillingProfileProjectsResponse{
		Projects: r.GetProjects(), Pagination: r.GetPagination(), Total: r.GetTotal(),
	}), nil
}
