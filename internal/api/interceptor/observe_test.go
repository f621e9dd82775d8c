package interceptor_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"connectrpc.com/connect"

	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	"github.com/gpcore/gpcore/internal/api/interceptor"
)

// TestLoggingLevels: server errors are logged at error level, except a call
// the shutdown ends; client errors at info, successes at debug.
func TestLoggingLevels(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"success", nil, "level=DEBUG"},
		{"client error", connect.NewError(connect.CodeInvalidArgument, errors.New("bad")), "level=INFO"},
		{"server error", connect.NewError(connect.CodeInternal, errors.New("internal error")), "level=ERROR"},
		{"unavailable", connect.NewError(connect.CodeUnavailable, errors.New("database unavailable")), "level=ERROR"},
		{"shutdown", connect.NewError(connect.CodeUnavailable, fmt.Errorf("%w: subscribe again", interceptor.ErrShuttingDown)), "level=INFO"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out strings.Builder
			l := interceptor.Logging{Log: slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug}))}
			call := l.WrapUnary(func(context.Context, connect.AnyRequest) (connect.AnyResponse, error) {
				if tc.err != nil {
					return nil, tc.err
				}
				return connect.NewResponse(&cloudv1.ListDatacentersResponse{}), nil
			})
			_, _ = call(t.Context(), connect.NewRequest(&cloudv1.ListDatacentersRequest{}))
			if got := out.String(); strings.Count(got, "\n") != 1 || !strings.Contains(got, tc.want+" msg=rpc") {
				t.Fatalf("logged %q, want one rpc line at %s", got, tc.want)
			}
		})
	}
}
