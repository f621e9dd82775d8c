// Package cloudv2 serves gpcore.api.cloud.v2.CloudService.
package cloudv2

import (
	"context"
	"fmt"

	"connectrpc.com/connect"

	cloudv2 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v2"
	"github.com/gpcore/gpcore/gen/gpcore/api/cloud/v2/cloudv2connect"
	"github.com/gpcore/gpcore/internal/version"
)

// Pinger reports whether the service's dependencies (the database) answer.
type Pinger interface {
	PingContext(ctx context.Context) error
}

// Handler implements CloudService v2. Methods not built yet answer Unimplemented.
type Handler struct {
	cloudv2connect.UnimplementedCloudServiceHandler
	db Pinger
}

// New returns the v2 CloudService handler.
func New(db Pinger) *Handler { return &Handler{db: db} }

// ReadinessCheck answers with the build version when the database answers,
// and Unavailable when it does not, so a load balancer can route around a
// replica that lost its database.
func (h *Handler) ReadinessCheck(ctx context.Context, _ *connect.Request[cloudv2.ReadinessCheckRequest]) (*connect.Response[cloudv2.ReadinessCheckResponse], error) {
	if err := h.db.PingContext(ctx); err != nil {
		return nil, connect.NewError(connect.CodeUnavailable, fmt.Errorf("database unavailable: %w", err))
	}
	return connect.NewResponse(&cloudv2.ReadinessCheckResponse{Version: version.String()}), nil
}
