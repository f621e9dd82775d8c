package cloudv2

import (
	"context"

	"connectrpc.com/connect"

	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	cloudv2 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v2"
)

// ListNodes is v1's ListNodes: the request has the same fields and the
// response the same v1 nodes, paged with the same default.
func (h *Handler) ListNodes(ctx context.Context, req *connect.Request[cloudv2.ListNodesRequest]) (*connect.Response[cloudv2.ListNodesResponse], error) {
	m := req.Msg
	res, err := h.v1.ListNodes(ctx, connect.NewRequest(&cloudv1.ListNodesRequest{
		Id: m.GetId(), Pagination: m.GetPagination(), Search: m.Search, ExtendedSearch: m.GetExtendedSearch(),
	}))
	if err != nil {
		return nil, err
	}
	r := res.Msg
	return connect.NewResponse(&cloudv2.ListNodesResponse{Nodes: r.GetNodes(), Pagination: r.GetPagination(), Total: r.GetTotal()}), nil
}
