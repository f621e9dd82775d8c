package healthv1_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/gpcore/gpcore/internal/api/healthv1"
	"github.com/gpcore/gpcore/internal/testserver"
)

// database is a Pinger whose answer the test sets.
type database struct {
	mu  sync.Mutex
	err error
}

func (d *database) PingContext(context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.err
}

func (d *database) set(err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.err = err
}

// TestStatusFollowsTheDatabase: Check and List answer SERVING while the
// database answers and NOT_SERVING while it does not, for the server and
// each service, over Connect JSON and gRPC; the log says why.
func TestStatusFollowsTheDatabase(t *testing.T) {
	db := &database{}
	var logs testserver.Output
	const cloud = "gpcore.api.cloud.v1.CloudService"
	mux := http.NewServeMux()
	mux.Handle(healthv1.NewHandler(healthv1.New(db, []string{cloud}, slog.New(slog.NewTextHandler(&logs, nil)), 0)))
	srv := testserver.Serve(t, mux)

	for _, down := range []bool{false, true, false} {
		want := healthpb.HealthCheckResponse_SERVING
		db.set(nil)
		if down {
			want = healthpb.HealthCheckResponse_NOT_SERVING
			db.set(errors.New("dial tcp 10.1.2.3:5432: connect: connection refused"))
		}
		for name, opts := range map[string][]connect.ClientOption{
			"connect-json": {connect.WithProtoJSON()},
			"grpc":         {connect.WithGRPC()},
		} {
			check := connect.NewClient[healthpb.HealthCheckRequest, healthpb.HealthCheckResponse](testserver.H2CClient(), srv.URL+healthpb.Health_Check_FullMethodName, opts...)
			for _, service := range []string{"", cloud} {
				res, err := check.CallUnary(t.Context(), connect.NewRequest(&healthpb.HealthCheckRequest{Service: service}))
				if err != nil || res.Msg.GetStatus() != want {
					t.Errorf("database down %v, %s: Check(%q) = %v, %v; want %v", down, name, service, res, err, want)
				}
			}
			list := connect.NewClient[healthpb.HealthListRequest, healthpb.HealthListResponse](testserver.H2CClient(), srv.URL+healthpb.Health_List_FullMethodName, opts...)
			res, err := list.CallUnary(t.Context(), connect.NewRequest(&healthpb.HealthListRequest{}))
			if err != nil {
				t.Fatalf("%s: List: %v", name, err)
			}
			if got := res.Msg.GetStatuses(); len(got) != 2 || got[""].GetStatus() != want || got[cloud].GetStatus() != want {
				t.Errorf("database down %v, %s: List = %v, want %v for \"\" and %s", down, name, got, want, cloud)
			}
		}
	}
	if !strings.Contains(logs.String(), "connection refused") {
		t.Errorf("the log lacks why the database did not answer:\n%s", logs.String())
	}
}

// TestWatchPushesChanges: a gRPC client watching the server's health (as
// clients with healthCheckConfig do) gets the status at once and every
// change after it; a Connect JSON client gets the same first answer; an
// unknown service gets SERVICE_UNKNOWN on a call that stays open until the
// client leaves.
func TestWatchPushesChanges(t *testing.T) {
	db := &database{}
	const cloud = "gpcore.api.cloud.v1.CloudService"
	mux := http.NewServeMux()
	mux.Handle(healthv1.NewHandler(healthv1.New(db, []string{cloud}, slog.New(slog.DiscardHandler), 10*time.Millisecond)))
	srv := testserver.Serve(t, mux)
	conn, err := grpc.NewClient(strings.TrimPrefix(srv.URL, "http://"), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	health := healthpb.NewHealthClient(conn)

	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	watch, err := health.Watch(ctx, &healthpb.HealthCheckRequest{Service: cloud})
	if err != nil {
		t.Fatal(err)
	}
	for i, step := range []struct {
		dbErr error
		want  healthpb.HealthCheckResponse_ServingStatus
	}{
		{nil, healthpb.HealthCheckResponse_SERVING},
		{errors.New("connection refused"), healthpb.HealthCheckResponse_NOT_SERVING},
		{nil, healthpb.HealthCheckResponse_SERVING},
	} {
		db.set(step.dbErr)
		res, err := watch.Recv()
		if err != nil || res.GetStatus() != step.want {
			t.Fatalf("message %d: %v, %v; want %v", i+1, res, err, step.want)
		}
	}

	json := connect.NewClient[healthpb.HealthCheckRequest, healthpb.HealthCheckResponse](testserver.HTTPClient(), srv.URL+healthpb.Health_Watch_FullMethodName, connect.WithProtoJSON())
	stream, err := json.CallServerStream(ctx, connect.NewRequest(&healthpb.HealthCheckRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	if !stream.Receive() || stream.Msg().GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("Connect JSON Watch: %v, %v; want SERVING", stream.Msg(), stream.Err())
	}
	_ = stream.Close()

	unknownCtx, leave := context.WithCancel(ctx)
	unknown, err := health.Watch(unknownCtx, &healthpb.HealthCheckRequest{Service: "no.such.Service"})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := unknown.Recv(); err != nil || res.GetStatus() != healthpb.HealthCheckResponse_SERVICE_UNKNOWN {
		t.Fatalf("unknown service: %v, %v; want SERVICE_UNKNOWN", res, err)
	}
	leave()
	if _, err := unknown.Recv(); status.Code(err) != codes.Canceled {
		t.Fatalf("the watch of an unknown service ended with %v before the client left", err)
	}
}
