// Package healthv1 serves grpc.health.v1.Health, the standard gRPC health
// service, over gRPC, gRPC-Web and Connect (proto and JSON).
//
// It answers with the standard messages of grpc/health/v1/health.proto,
// taken from that file's canonical Go package
// (google.golang.org/grpc/health/grpc_health_v1), so that only one copy of
// the file is ever registered and every client built from health.proto
// reads the answers, Connect JSON included: {"status":"SERVING"}. (connectrpc.com/grpchealth, used before, carries a
// renamed copy of the proto whose status values are SERVING_STATUS_*, so its
// Connect JSON answers were {"status":"SERVING_STATUS_SERVING"}, which a
// standard client decodes as UNKNOWN.)
package healthv1

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"connectrpc.com/connect"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// ServiceName is the full name of the health service.
const ServiceName = "grpc.health.v1.Health"

// pingTimeout bounds one look at the database.
const pingTimeout = 2 * time.Second

// Pinger reports whether the database answers.
type Pinger interface {
	PingContext(ctx context.Context) error
}

// Service answers the health service for one server: SERVING while the
// database answers, NOT_SERVING while it does not, for the whole server
// (the empty service name) and for each of its services alike.
type Service struct {
	db       Pinger
	services []string
	log      *slog.Logger
}

// New returns the health service of a server that serves services (full
// names, e.g. "gpcore.api.cloud.v1.CloudService") on db. log receives why
// the database does not answer (nil: slog.Default()).
func New(db Pinger, services []string, log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	return &Service{db: db, services: slices.Clone(services), log: log}
}

// NewHandler returns the path the health service is served under and its
// handler.
func NewHandler(s *Service, options ...connect.HandlerOption) (string, http.Handler) {
	mux := http.NewServeMux()
	mux.Handle(healthpb.Health_Check_FullMethodName, connect.NewUnaryHandler(healthpb.Health_Check_FullMethodName, s.Check, options...))
	mux.Handle(healthpb.Health_List_FullMethodName, connect.NewUnaryHandler(healthpb.Health_List_FullMethodName, s.List, options...))
	mux.Handle(healthpb.Health_Watch_FullMethodName, connect.NewServerStreamHandler(healthpb.Health_Watch_FullMethodName, s.Watch, options...))
	return "/" + ServiceName + "/", mux
}

// Check answers the status of the whole server (service "") or of one of
// its services; NotFound for a service the server does not have.
func (s *Service) Check(ctx context.Context, req *connect.Request[healthpb.HealthCheckRequest]) (*connect.Response[healthpb.HealthCheckResponse], error) {
	name := req.Msg.GetService()
	if name != "" && !slices.Contains(s.services, name) {
		return nil, connect.NewError(connect.CodeNotFound, fmt.Errorf("unknown service %q", name))
	}
	return connect.NewResponse(&healthpb.HealthCheckResponse{Status: s.status(ctx)}), nil
}

// List answers the status of the whole server (under "") and of each of
// its services, from one look at the database.
func (s *Service) List(ctx context.Context, _ *connect.Request[healthpb.HealthListRequest]) (*connect.Response[healthpb.HealthListResponse], error) {
	status := s.status(ctx)
	statuses := make(map[string]*healthpb.HealthCheckResponse, len(s.services)+1)
	for _, name := range append([]string{""}, s.services...) {
		statuses[name] = &healthpb.HealthCheckResponse{Status: status}
	}
	return connect.NewResponse(&healthpb.HealthListResponse{Statuses: statuses}), nil
}

// Watch answers Unimplemented, which health.proto tells clients to take
// for "not supported, do not retry": status changes are not pushed; Check
// reports them.
func (s *Service) Watch(context.Context, *connect.Request[healthpb.HealthCheckRequest], *connect.ServerStream[healthpb.HealthCheckResponse]) error {
	return connect.NewError(connect.CodeUnimplemented, errors.New("watching health is not supported: call Check"))
}

// status is SERVING when the database answers within pingTimeout.
func (s *Service) status(ctx context.Context) healthpb.HealthCheckResponse_ServingStatus {
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	if err := s.db.PingContext(ctx); err != nil {
		s.log.WarnContext(ctx, "health: the database does not answer", "err", err)
		return healthpb.HealthCheckResponse_NOT_SERVING
	}
	return healthpb.HealthCheckResponse_SERVING
}
