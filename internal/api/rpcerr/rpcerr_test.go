package rpcerr

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"

	"github.com/gpcore/gpcore/internal/fault"
)

func TestFrom(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	tests := []struct {
		name  string
		err   error
		code  connect.Code
		field string
	}{
		{"invalid names field", fault.Invalid("pagination.page", "must not be negative"), connect.CodeInvalidArgument, "pagination.page"},
		{"wrapped not found", fmt.Errorf("get: %w", fault.NotFound("project", "p")), connect.CodeNotFound, ""},
		{"precondition", fault.Precondition("project has nodes"), connect.CodeFailedPrecondition, ""},
		{"exhausted", fault.Exhausted("node limit reached"), connect.CodeResourceExhausted, ""},
		{"unknown is internal", errors.New("db exploded"), connect.CodeInternal, ""},
		{"canceled", context.Canceled, connect.CodeCanceled, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ce *connect.Error
			if !errors.As(From(context.Background(), log, "/x", tt.err), &ce) {
				t.Fatal("not a connect error")
			}
			if ce.Code() != tt.code {
				t.Fatalf("code = %v, want %v", ce.Code(), tt.code)
			}
			if tt.code == connect.CodeInternal && ce.Message() != "internal error" {
				t.Fatalf("internal message leaked: %q", ce.Message())
			}
			var gotField string
			for _, d := range ce.Details() {
				v, err := d.Value()
				if err != nil {
					t.Fatal(err)
				}
				if br, ok := v.(*errdetails.BadRequest); ok {
					gotField = br.GetFieldViolations()[0].GetField()
				}
			}
			if gotField != tt.field {
				t.Fatalf("field violation = %q, want %q", gotField, tt.field)
			}
		})
	}
}
