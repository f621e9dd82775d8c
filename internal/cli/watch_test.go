package cli

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	"github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1/cloudv1connect"
)

// The tests below script the server's side of a wait: what each
// subscription sends and what each GetNode answers. The real server's side
// is in TestNodeJourney; these make the rare cases happen.

// fakeCloud is a CloudService whose GetNode and SubscribeNotifications the
// test scripts; calls are counted from 1.
type fakeCloud struct {
	cloudv1connect.UnimplementedCloudServiceHandler
	getNode   func(call int32) (*cloudv1.Node, error)
	subscribe func(ctx context.Context, call int32, send func(*cloudv1.Notification)) error
	gets      atomic.Int32
	subs      atomic.Int32
}

// GetNode answers as the script says.
func (f *fakeCloud) GetNode(_ context.Context, _ *connect.Request[cloudv1.GetNodeRequest]) (*connect.Response[cloudv1.GetNodeResponse], error) {
	n, err := f.getNode(f.gets.Add(1))
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&cloudv1.GetNodeResponse{Node: n}), nil
}

// SubscribeNotifications streams what the script sends.
func (f *fakeCloud) SubscribeNotifications(ctx context.Context, _ *connect.Request[cloudv1.SubscribeNotificationsRequest], stream *connect.ServerStream[cloudv1.SubscribeNotificationsResponse]) error {
	return f.subscribe(ctx, f.subs.Add(1), func(n *cloudv1.Notification) {
		_ = stream.Send(&cloudv1.SubscribeNotificationsResponse{Notification: n})
	})
}

// fakeWatch is a wait for goal g on the node web1 against the scripted
// server f: the node as the answer to the operation showed it, in state.
func fakeWatch(t *testing.T, ctx context.Context, f *fakeCloud, g goal, state cloudv1.ServerProvisioningState) (*watch, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	return fakeWatchOf(t, ctx, f, g, true, web1(state))
}

// fakeWatchOf is a wait for goal g on node n against the scripted server
// f; show says n is as the answer to the operation showed it, else as it
// was before.
func fakeWatchOf(t *testing.T, ctx context.Context, f *fakeCloud, g goal, show bool, n *cloudv1.Node) (*watch, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle(cloudv1connect.NewCloudServiceHandler(f))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	var out, errOut bytes.Buffer
	c := &call{out: &out, errOut: &errOut, format: formatTable, cloud: cloudv1connect.NewCloudServiceClient(srv.Client(), srv.URL)}
	w, err := c.startWatch(ctx, "project", g)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.stop)
	w.follow(show, n)
	return w, &out, &errOut
}

// web1 is the node web1.example.net in state.
func web1(state cloudv1.ServerProvisioningState) *cloudv1.Node {
	return &cloudv1.Node{Id: "node-1", Fqdn: "web1.example.net", Status: state}
}

// heartbeat is a heartbeat notification.
func heartbeat() *cloudv1.Notification {
	return &cloudv1.Notification{Message: &cloudv1.Notification_Heartbeat{Heartbeat: timestamppb.Now()}}
}

// changed is a notification of a change of n.
func changed(n *cloudv1.Node) *cloudv1.Notification {
	return &cloudv1.Notification{Message: &cloudv1.Notification_Node{Node: n}}
}

const (
	deploying  = cloudv1.ServerProvisioningState_SERVER_PROVISIONING_STATE_DEPLOYING
	deployWait = cloudv1.ServerProvisioningState_SERVER_PROVISIONING_STATE_DEPLOY_WAIT
	deployFail = cloudv1.ServerProvisioningState_SERVER_PROVISIONING_STATE_DEPLOY_FAIL
	rebuild    = cloudv1.ServerProvisioningState_SERVER_PROVISIONING_STATE_REBUILD
	active     = cloudv1.ServerProvisioningState_SERVER_PROVISIONING_STATE_ACTIVE
)

// TestWaitResubscribesAndReportsFailure: a stream that ends is replaced;
// GetNode then tells what happened meanwhile, here DEPLOY_FAIL, which fails
// the wait with the errors the server log carried.
func TestWaitResubscribesAndReportsFailure(t *testing.T) {
	caughtUp := make(chan struct{})
	f := &fakeCloud{
		getNode: func(call int32) (*cloudv1.Node, error) {
			if call == 1 { // the first catch-up, before the stream went on
				defer close(caughtUp)
				return web1(deploying), nil
			}
			return web1(deployFail), nil
		},
		subscribe: func(ctx context.Context, call int32, send func(*cloudv1.Notification)) error {
			send(heartbeat())
			if call > 1 {
				<-ctx.Done()
				return nil
			}
			<-caughtUp
			send(changed(web1(deployWait)))
			send(&cloudv1.Notification{Message: &cloudv1.Notification_ServerLog{ServerLog: &cloudv1.ServerLog{
				Message: "Failed in DEPLOY_WAIT: disk on fire", Level: cloudv1.ServerLogLevelType_SERVER_LOG_LEVEL_TYPE_ERROR,
				Server: &cloudv1.BasicServer{Name: "fra1-s1-01"},
			}}})
			return nil // the stream ends, DEPLOY_FAIL unsent
		},
	}
	w, out, errOut := fakeWatch(t, t.Context(), f, provisioned, deploying)
	_, err := w.wait(t.Context())
	if err == nil || !strings.Contains(err.Error(), "web1.example.net is DEPLOY_FAIL") ||
		!strings.Contains(err.Error(), "fra1-s1-01: Failed in DEPLOY_WAIT: disk on fire") {
		t.Fatalf("wait = %v, want DEPLOY_FAIL with the server's error", err)
	}
	if got := states(out.String(), "web1.example.net"); strings.Join(got, " ") != "DEPLOYING DEPLOY_WAIT DEPLOY_FAIL" {
		t.Fatalf("states shown %q:\n%s", got, out)
	}
	if !strings.Contains(errOut.String(), "The notification stream stopped (it ended): subscribing again.") || f.subs.Load() != 2 {
		t.Fatalf("%d subscriptions; error output %q", f.subs.Load(), errOut)
	}
}

// TestWaitReplacesASilentStream: a stream without heartbeats is taken for
// dead and replaced.
func TestWaitReplacesASilentStream(t *testing.T) {
	f := &fakeCloud{
		getNode: func(call int32) (*cloudv1.Node, error) {
			if call == 1 {
				return web1(deploying), nil
			}
			return web1(active), nil
		},
		subscribe: func(ctx context.Context, call int32, send func(*cloudv1.Notification)) error {
			send(heartbeat())
			if call > 1 {
				send(changed(web1(active)))
			}
			<-ctx.Done() // then silence
			return nil
		},
	}
	w, out, errOut := fakeWatch(t, t.Context(), f, provisioned, deploying)
	w.silence = 100 * time.Millisecond
	nodes, err := w.wait(t.Context())
	if err != nil || len(nodes) != 1 || nodes[0].GetStatus() != active {
		t.Fatalf("wait = %v, %v", nodes, err)
	}
	wantStates(t, out.String(), "web1.example.net", "DEPLOYING", "ACTIVE")
	if !strings.Contains(errOut.String(), "(no heartbeat): subscribing again") {
		t.Fatalf("error output %q", errOut)
	}
}

// TestWaitConfirmsTheGoal: a notification that shows the goal reached is
// checked with GetNode, so one sent before the operation (a node ACTIVE
// before its reinstall) does not end the wait.
func TestWaitConfirmsTheGoal(t *testing.T) {
	gets := make(chan int32, 3)
	f := &fakeCloud{
		getNode: func(call int32) (*cloudv1.Node, error) {
			gets <- call
			if call < 3 {
				return web1(rebuild), nil
			}
			return web1(active), nil
		},
		subscribe: func(ctx context.Context, _ int32, send func(*cloudv1.Notification)) error {
			send(heartbeat())
			<-gets                      // the first catch-up
			send(changed(web1(active))) // stale
			<-gets                      // its confirmation: still REBUILD
			send(changed(web1(active)))
			<-ctx.Done()
			return nil
		},
	}
	w, out, _ := fakeWatch(t, t.Context(), f, provisioned, rebuild)
	if _, err := w.wait(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := states(out.String(), "web1.example.net"); strings.Join(got, " ") != "REBUILD ACTIVE" || f.gets.Load() != 3 {
		t.Fatalf("states %q after %d GetNode calls:\n%s", got, f.gets.Load(), out)
	}
}

// TestWaitInterrupted: Ctrl-C (the command's context ending) stops the
// wait and says the operation goes on.
func TestWaitInterrupted(t *testing.T) {
	ctx, interrupt := context.WithCancel(t.Context())
	f := &fakeCloud{
		getNode: func(int32) (*cloudv1.Node, error) {
			interrupt()
			return web1(deploying), nil
		},
		subscribe: func(ctx context.Context, _ int32, send func(*cloudv1.Notification)) error {
			send(heartbeat())
			<-ctx.Done()
			return nil
		},
	}
	w, _, _ := fakeWatch(t, ctx, f, provisioned, deploying)
	_, err := w.wait(ctx)
	if err == nil || !strings.Contains(err.Error(), "stopped waiting (interrupted) for web1.example.net; nothing was cancelled") {
		t.Fatalf("wait = %v", err)
	}
}

// TestWaitTimeoutShowsServerErrors: a wait that runs out of time says
// what the server log reported meanwhile, such as a power change the
// backend refused (the node stays as it was, so the wait cannot tell).
func TestWaitTimeoutShowsServerErrors(t *testing.T) {
	ctx, timeout := context.WithTimeout(t.Context(), time.Hour)
	defer timeout()
	off := web1(active)
	off.PowerState = cloudv1.ServerPowerState_SERVER_POWER_STATE_OFF
	f := &fakeCloud{
		getNode: func(call int32) (*cloudv1.Node, error) {
			if call == 2 { // the confirmation of the stale notification: time is up
				timeout()
			}
			return web1(active), nil
		},
		subscribe: func(ctx context.Context, _ int32, send func(*cloudv1.Notification)) error {
			send(heartbeat())
			send(&cloudv1.Notification{Message: &cloudv1.Notification_ServerLog{ServerLog: &cloudv1.ServerLog{
				Message: "Power OFF refused: the BMC is locked",
				Level:   cloudv1.ServerLogLevelType_SERVER_LOG_LEVEL_TYPE_ERROR, Server: &cloudv1.BasicServer{Name: "fra1-s1-01"},
			}}})
			send(changed(off)) // stale: GetNode says the node is as it was
			<-ctx.Done()
			return nil
		},
	}
	w, _, _ := fakeWatch(t, ctx, f, powered(cloudv1.ServerPowerState_SERVER_POWER_STATE_OFF), active)
	_, err := w.wait(ctx)
	if err == nil || !strings.Contains(err.Error(), "stopped waiting (") ||
		!strings.HasSuffix(err.Error(), "\nerrors in the server log while waiting:\n  fra1-s1-01: Power OFF refused: the BMC is locked") {
		t.Fatalf("wait = %v", err)
	}
}

// TestWaitForDestructionEndsWhenTheNodeIsGone: GetNode's NotFound is the
// end of a destruction.
func TestWaitForDestructionEndsWhenTheNodeIsGone(t *testing.T) {
	f := &fakeCloud{
		getNode: func(int32) (*cloudv1.Node, error) {
			return nil, connect.NewError(connect.CodeNotFound, nil)
		},
		subscribe: func(ctx context.Context, _ int32, send func(*cloudv1.Notification)) error {
			send(heartbeat())
			<-ctx.Done()
			return nil
		},
	}
	w, out, _ := fakeWatch(t, t.Context(), f, destroyed, active)
	if _, err := w.wait(t.Context()); err != nil {
		t.Fatal(err)
	}
	wantStates(t, out.String(), "web1.example.net", "ACTIVE", "DESTROYED")
}

// TestWaitForDestructionFailsWhenTheTeardownFails: a node left in ERROR
// (its teardown failed; it can be destroyed again) ends the wait for its
// destruction as a failure, with the server log's errors.
func TestWaitForDestructionFailsWhenTheTeardownFails(t *testing.T) {
	failed := web1(cloudv1.ServerProvisioningState_SERVER_PROVISIONING_STATE_ERROR)
	f := &fakeCloud{
		getNode: func(call int32) (*cloudv1.Node, error) {
			if call == 1 {
				return web1(cloudv1.ServerProvisioningState_SERVER_PROVISIONING_STATE_DELETING), nil
			}
			return failed, nil
		},
		subscribe: func(ctx context.Context, _ int32, send func(*cloudv1.Notification)) error {
			send(heartbeat())
			send(&cloudv1.Notification{Message: &cloudv1.Notification_ServerLog{ServerLog: &cloudv1.ServerLog{
				Message: "The teardown of node web1.example.net failed (ERROR): destroy it again to retry",
				Level:   cloudv1.ServerLogLevelType_SERVER_LOG_LEVEL_TYPE_ERROR, Server: &cloudv1.BasicServer{Name: "fra1-s1-01"},
			}}})
			send(changed(failed))
			<-ctx.Done()
			return nil
		},
	}
	w, out, _ := fakeWatch(t, t.Context(), f, destroyed, active)
	_, err := w.wait(t.Context())
	if err == nil || !strings.Contains(err.Error(), "web1.example.net is ERROR") || !strings.Contains(err.Error(), "destroy it again to retry") {
		t.Fatalf("wait for a destruction whose teardown failed: %v", err)
	}
	wantStates(t, out.String(), "web1.example.net", "ACTIVE", "ERROR")
}

// TestWaitForResetEndsWithIt: a node shows power RESET while its reset is
// under way; the wait ends when GetNode confirms it has ended.
func TestWaitForResetEndsWithIt(t *testing.T) {
	power := func(p cloudv1.ServerPowerState) *cloudv1.Node {
		n := web1(active)
		n.PowerState = p
		return n
	}
	resetting, on := power(cloudv1.ServerPowerState_SERVER_POWER_STATE_RESET), power(cloudv1.ServerPowerState_SERVER_POWER_STATE_ON)
	caughtUp := make(chan struct{})
	f := &fakeCloud{
		getNode: func(call int32) (*cloudv1.Node, error) {
			if call == 1 { // the catch-up: the reset under way
				defer close(caughtUp)
				return resetting, nil
			}
			return on, nil
		},
		subscribe: func(ctx context.Context, _ int32, send func(*cloudv1.Notification)) error {
			send(heartbeat())
			<-caughtUp
			send(changed(on))
			<-ctx.Done()
			return nil
		},
	}
	w, out, _ := fakeWatchOf(t, t.Context(), f, resetEnded, false, on) // as it was before the request
	nodes, err := w.wait(t.Context())
	if err != nil || len(nodes) != 1 || nodes[0].GetPowerState() != cloudv1.ServerPowerState_SERVER_POWER_STATE_ON {
		t.Fatalf("wait = %v, %v", nodes, err)
	}
	if got := states(out.String(), "web1.example.net"); strings.Join(got, "; ") != "ACTIVE, power RESET; ACTIVE, power ON" || f.gets.Load() != 2 {
		t.Fatalf("states %q after %d GetNode calls:\n%s", got, f.gets.Load(), out)
	}
}
