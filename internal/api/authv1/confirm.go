package authv1

import (
	"context"

	"connectrpc.com/connect"

	authv1 "github.com/gpcore/gpcore/gen/gpcore/api/auth/v1"
	"github.com/gpcore/gpcore/internal/api/interceptor"
)

// ResendConfirmEMail sends the caller a new e-mail confirmation link. It is
// FailedPrecondition when the address is confirmed already (or the caller is
// a service account) and ResourceExhausted within
// identity.Config.ResendInterval (a minute by default) of the previous mail.
func (h *Handler) ResendConfirmEMail(ctx context.Context, _ *connect.Request[authv1.ResendConfirmEMailRequest]) (*connect.Response[authv1.ResendConfirmEMailResponse], error) {
	if err := h.users.ResendConfirmEmail(ctx, interceptor.CallerID(ctx)); err != nil {
		return nil, err
	}
	return connect.NewResponse(&authv1.ResendConfirmEMailResponse{}), nil
}
