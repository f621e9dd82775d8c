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
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"connectrpc.com/connect"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// ServiceName is the full name of the health service.
const ServiceName = "grpc.health.v1.Health"

// pingTimeout bounds one look at the database.
const pingTimeout = 2 * time.Second

// DefaultWatchInterval is how often Watch looks at the database, to push
// a change of status, unless New is given another interval.
const DefaultWatchInterval = 5 * time.Second

// Pinger reports whether the database answers.
type Pinger interface {
	PingContext(ctx context.Context) error
}

// Service answers the health service for one server: SERVING while the
// database answers, NOT_SERVING while it does not, for the whole server
// (the empty service name) and for each of its services alike.
type Service struct {
	db            Pinger
	services      []string
	log           *slog.Logger
	watchInterval time.Duration
	// stopping is closed by Shutdown.
	stopping chan struct{}
	stop     sync.Once
}

// New returns the health service of a server that serves services (full
// names, e.g. "gpcore.api.cloud.v1.CloudService") on db. log receives why
// the database does not answer (nil: slog.Default()); Watch looks at the
// database every watchInterval (DefaultWatchInterval if 0).
func New(db Pinger, services []string, log *slog.Logger, watchInterval time.Duration) *Service {
	if log == nil {
		log = slog.Default()
	}
	if watchInterval <= 0 {
		watchInterval = DefaultWatchInterval
	}
	return &Service{db: db, services: slices.Clone(services), log: log, watchInterval: watchInterval, stopping: make(chan struct{})}
}

// Shutdown tells that the server is stopping: from now on every status is
// NOT_SERVING, and each Watch sends that and ends, so that clients move
// to another replica and the server's shutdown need not wait for them.
func (s *Service) Shutdown() { s.stop.Do(func() { close(s.stopping) }) }

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

// Watch sends the status Check would answer at once, then again each time
// it changes (the database is looked at every watch interval), until the
// client goes away or Shutdown. A service the server does not have gets one
// SERVICE_UNKNOWN and the call stays open, as health.proto asks: gRPC
// clients that check the health of their backends (healthCheckConfig)
// watch it that way.
func (s *Service) Watch(ctx context.Context, req *connect.Request[healthpb.HealthCheckRequest], stream *connect.ServerStream[healthpb.HealthCheckResponse]) error {
	if name := req.Msg.GetService(); name != "" && !slices.Contains(s.services, name) {
		if err := stream.Send(&healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_SERVICE_UNKNOWN}); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
		case <-s.stopping:
		}
		return nil
	}
	tick := time.NewTicker(s.watchInterval)
	defer tick.Stop()
	sent := healthpb.HealthCheckResponse_UNKNOWN
	for {
		status := s.status(ctx)
		if ctx.Err() != nil {
			return nil // the client went away, or the server is stopping
		}
		if status != sent {
			if err := stream.Send(&healthpb.HealthCheckResponse{Status: status}); err != nil {
				return err
			}
			sent = status
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.stopping:
			if sent == healthpb.HealthCheckResponse_NOT_SERVING {
				return nil
			}
			return stream.Send(&healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_NOT_SERVING})
		case <-tick.C:
		}
	}
}

// status is SERVING when the database answers within pingTimeout, until
// Shutdown.
func (s *Service) status(ctx context.Context) healthpb.HealthCheckResponse_ServingStatus {
	select {
	case <-s.stopping:
		return healthpb.HealthCheckResponse_NOT_SERVING
	default:
	}
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	if err := s.db.PingContext(ctx); err != nil {
		s.log.WarnContext(ctx, "health: the database does not answer", "err", err)
		return healthpb.HealthCheckResponse_NOT_SERVING
	}
	return healthpb.HealthCheckResponse_SERVING
}
