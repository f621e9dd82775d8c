package cloudv1

import (
	"context"

	"connectrpc.com/connect"

	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	"github.com/gpcore/gpcore/internal/api/interceptor"
)

// UpdateTimezone sets the caller's time zone, one of the IANA names
// ListTimezones lists; it sets their billing periods from now on. Anything
// else is InvalidArgument naming "timezone".
func (h *Handler) UpdateTimezone(ctx context.Context, req *connect.Request[cloudv1.UpdateTimezoneRequest]) (*connect.Response[cloudv1.UpdateTimezoneResponse], error) {
	if _, err := h.users.UpdateTimezone(ctx, interceptor.CallerID(ctx), req.Msg.GetTimezone()); err != nil {
		return nil, err
	}
	return connect.NewResponse(&cloudv1.UpdateTimezoneResponse{}), nil
}
