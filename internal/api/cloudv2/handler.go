// Package cloudv2 serves gpcore.api.cloud.v2.CloudService, the newer
// versions of a few CloudService calls; it answers from cloud v1 where the
// calls agree.
package cloudv2

import (
	"context"
	"errors"
	"log/slog"

	"connectrpc.com/connect"

	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	"github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1/cloudv1connect"
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
	db  Pinger
	v1  cloudv1connect.CloudServiceHandler
	log *slog.Logger
}

// New returns the v2 CloudService handler. v1 is the v1 CloudService: v2
// reuses v1's messages, and where a v2 method asks what its v1 namesake asks,
// v1 answers it. log receives what callers are not told (nil:
// slog.Default()).
func New(db Pinger, v1 cloudv1connect.CloudServiceHandler, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.Default()
	}
	return &Handler{db: db, v1: v1, log: log}
}

// errDatabaseUnavailable is what ReadinessCheck tells its (unauthenticated)
// callers when the database does not answer; the cause goes to the log only,
// since a driver's error names hosts, users and databases.
var errDatabaseUnavailable = errors.New("database unavailable")

// ReadinessCheck answers with the build version when the database answers,
// and Unavailable when it does not, so a load balancer can route around a
// replica that lost its database. The method is PUBLIC: the answer never
// carries the database's error, which is logged instead.
func (h *Handler) ReadinessCheck(ctx context.Context, _ *connect.Request[cloudv2.ReadinessCheckRequest]) (*connect.Response[cloudv2.ReadinessCheckResponse], error) {
	if err := h.db.PingContext(ctx); err != nil {
		h.log.WarnContext(ctx, "readiness check: the database does not answer", "err", err)
		return nil, connect.NewError(connect.CodeUnavailable, errDatabaseUnavailable)
	}
	return connect.NewResponse(&cloudv2.ReadinessCheckResponse{Version: version.String()}), nil
}

// ListProjectLogs is v1's ListProjectLogs: the request has the same fields
// and the response the same v1 log entries and users.
func (h *Handler) ListProjectLogs(ctx context.Context, req *connect.Request[cloudv2.ListProjectLogsRequest]) (*connect.Response[cloudv2.ListProjectLogsResponse], error) {
	m := req.Msg
	res, err := h.v1.ListProjectLogs(ctx, connect.NewRequest(&cloudv1.ListProjectLogsRequest{
		Id: m.GetId(), Pagination: m.GetPagination(), Search: m.GetSearch(), UserId: m.GetUserId(),
	}))
	if err != nil {
		return nil, err
	}
	r := res.Msg
	return connect.NewResponse(&cloudv2.ListProjectLogsResponse{
		Logs: r.GetLogs(), Pagination: r.GetPagination(), Total: r.GetTotal(), Users: r.GetUsers(),
	}), nil
}
