// Package rpcerr turns domain errors into Connect errors. It is the one place
// where a fault.Kind becomes an RPC status code; handlers return whatever the
// domain returned and the error interceptor calls From.
package rpcerr

import (
	"context"
	"errors"
	"log/slog"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"

	"github.com/gpcore/gpcore/internal/fault"
)

var codes = map[fault.Kind]connect.Code{
	fault.KindInvalidArgument:    connect.CodeInvalidArgument,
	fault.KindNotFound:           connect.CodeNotFound,
	fault.KindAlreadyExists:      connect.CodeAlreadyExists,
	fault.KindFailedPrecondition: connect.CodeFailedPrecondition,
	fault.KindResourceExhausted:  connect.CodeResourceExhausted,
	fault.KindPermissionDenied:   connect.CodePermissionDenied,
	fault.KindUnauthenticated:    connect.CodeUnauthenticated,
}

// From converts err into a *connect.Error. Connect errors pass through;
// context cancellation becomes Canceled or DeadlineExceeded; fault errors get
// their code (and a google.rpc.BadRequest field violation when they name a
// field); anything else is logged with the procedure and hidden behind
// Internal, so no internal detail leaks to callers.
func From(ctx context.Context, log *slog.Logger, procedure string, err error) error {
	if err == nil {
		return nil
	}
	var ce *connect.Error
	if errors.As(err, &ce) {
		return ce
	}
	switch {
	case errors.Is(err, context.Canceled):
		return connect.NewError(connect.CodeCanceled, err)
	case errors.Is(err, context.DeadlineExceeded):
		return connect.NewError(connect.CodeDeadlineExceeded, err)
	}
	var fe *fault.Error
	if errors.As(err, &fe) {
		if code, ok := codes[fe.Kind]; ok {
			out := connect.NewError(code, errors.New(fe.Error()))
			if fe.Field != "" {
				detail, derr := connect.NewErrorDetail(&errdetails.BadRequest{
					FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: fe.Field, Description: fe.Message}},
				})
				if derr == nil {
					out.AddDetail(detail)
				}
			}
			return out
		}
	}
	log.ErrorContext(ctx, "internal error", "procedure", procedure, "err", err)
	return connect.NewError(connect.CodeInternal, errors.New("internal error"))
}
