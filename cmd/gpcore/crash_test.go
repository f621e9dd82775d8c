package main

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"connectrpc.com/connect"

	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	"github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1/cloudv1connect"
	"github.com/gpcore/gpcore/internal/store/storetest"
	"github.com/gpcore/gpcore/internal/testserver"
)

// Seed ids of the embedded default.
const (
	crashFra1   = "cd7dcddb-8833-4d1f-b4ea-b99de893df8f"
	crashS1     = "751a633c-c549-4a5f-abc1-bb0715c9f931"
	crashM1     = "c2d6e0a5-b374-41c8-8480-ed5711687df1"
	crashDebian = "f5328dbe-06fe-4ec3-99a2-e701653bb2ea"
)

// watch streams the notifications of the client's user on the returned
// channel, once the stream is open (its first heartbeat has come).
func watch(t *testing.T, c cloudv1connect.CloudServiceClient) <-chan *cloudv1.Notification {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stream, err := c.SubscribeNotifications(ctx, connect.NewRequest(&cloudv1.SubscribeNotificationsRequest{}))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	notes := make(chan *cloudv1.Notification, 4096)
	go func() {
		defer close(notes)
		for stream.Receive() {
			notes <- stream.Msg().GetNotification()
		}
	}()
	t.Cleanup(cancel)
	select {
	case n, ok := <-notes:
		if !ok || n.GetHeartbeat() == nil {
			t.Fatalf("no first heartbeat: %v", stream.Err())
		}
	case <-time.After(time.Minute):
		t.Fatal("no first heartbeat within a minute")
	}
	return notes
}

// TestInstallsSurviveACrash kills `gpcore serve` (SIGKILL) while nodes are
// being installed, starts it again on the same database, and checks that
// every node becomes ACTIVE, that the driver's request and every step of
// each install were recorded once, and that each install job ran to
// completion once.
func TestInstallsSurviveACrash(t *testing.T) {
	db := storetest.NewConfig(t)
	env := []string{
		"GPCORE_DATA_DIR=" + db.DataDir, "GPCORE_DATABASE=" + db.DSN, "GPCORE_PUBLIC_URL=http://gpcore.test",
		"GPCORE_SIM_STEP_DELAY=400ms", "GPCORE_JOB_TIMEOUT=3s", "GPCORE_JOB_RESCUE_AFTER=4s",
	}
	first := startServe(t, env...)
	s := &testserver.Server{URL: "http://" + first.addr, Addr: first.addr}
	u := s.Register(t)
	p := s.BilledProject(t, u, "Crash")
	c := s.Cloud(u.Token)
	notes := watch(t, c)

	ctx := context.Background()
	var ids []string
	for _, o := range []struct {
		flavour string
		n       int
	}{{crashS1, 5}, {crashM1, 4}} {
		var fqdns []string
		for i := range o.n {
			fqdns = append(fqdns, fmt.Sprintf("crash-%d-%d.example", len(ids), i))
		}
		res, err := c.CreateNode(ctx, connect.NewRequest(&cloudv1.CreateNodeRequest{
			ProjectId: p.GetId(), DatacenterId: crashFra1, FlavourId: o.flavour, ImageId: crashDebian, Fqdns: fqdns,
		}))
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range res.Msg.GetNodes() {
			ids = append(ids, n.GetId())
		}
	}
	// Kill the server in the middle of the installs: once a node has moved
	// on from DEPLOYING.
	deadline := time.After(time.Minute)
	for midway := false; !midway; {
		select {
		case n, ok := <-notes:
			if !ok {
				t.Fatal("the stream ended before any install made progress")
			}
			st := n.GetNode().GetStatus()
			midway = st != cloudv1.ServerProvisioningState_SERVER_PROVISIONING_STATE_UNSPECIFIED &&
				st != cloudv1.ServerProvisioningState_SERVER_PROVISIONING_STATE_DEPLOYING
		case <-deadline:
			t.Fatal("no install made progress within a minute")
		}
	}
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-first.done

	check := storetest.Open(t, db)
	var active int
	if err := check.NewRaw("SELECT COUNT(*) FROM nodes AS n JOIN servers AS s ON s.id = n.server_id WHERE s.provision_state = 'ACTIVE'").
		Scan(ctx, &active); err != nil {
		t.Fatal(err)
	}
	if active == len(ids) {
		t.Fatal("every install finished before the crash; nothing was interrupted")
	}
	t.Logf("killed with %d of %d nodes ACTIVE", active, len(ids))

	second := startServe(t, env...)
	defer second.stop(t)
	s = &testserver.Server{URL: "http://" + second.addr, Addr: second.addr}
	c = s.Cloud(u.Token)
	notes = watch(t, c)
	deadline = time.After(2 * time.Minute)
	for {
		list, err := c.ListNodes(ctx, connect.NewRequest(&cloudv1.ListNodesRequest{Id: p.GetId()}))
		if err != nil {
			t.Fatal(err)
		}
		done := 0
		for _, n := range list.Msg.GetNodes() {
			if n.GetStatus() == cloudv1.ServerProvisioningState_SERVER_PROVISIONING_STATE_ACTIVE {
				done++
			}
		}
		if done == len(ids) {
			break
		}
		select {
		case _, ok := <-notes:
			if !ok {
				t.Fatal("the stream ended before every node was ACTIVE")
			}
		case <-deadline:
			t.Fatalf("%d of %d nodes ACTIVE two minutes after the restart", done, len(ids))
		}
	}

	// Once each: the request to the driver, every step, the end; and each
	// install job completed, once.
	for _, id := range ids {
		var logs []string
		if err := check.NewRaw("SELECT message FROM server_logs WHERE node_id = ? ORDER BY created_at, id", id).Scan(ctx, &logs); err != nil {
			t.Fatal(err)
		}
		seen := map[string]int{}
		for _, l := range logs {
			seen[l]++
		}
		for l, n := range seen {
			if n > 1 {
				t.Errorf("node %s: logged %d times: %q", id, n, l)
			}
		}
		for _, want := range []string{"accepted the installation", "The installation is done"} {
			if !strings.Contains(strings.Join(logs, "\n"), want) {
				t.Errorf("node %s: no %q in\n%s", id, want, strings.Join(logs, "\n"))
			}
		}
	}
	var jobs []struct {
		State string `bun:"state"`
		N     int    `bun:"n"`
	}
	if err := check.NewRaw("SELECT state, COUNT(*) AS n FROM river_job WHERE kind = 'node_install' GROUP BY state").Scan(ctx, &jobs); err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 1 || jobs[0].State != "completed" || jobs[0].N != len(ids) {
		t.Fatalf("install jobs by state: %+v, want %d completed", jobs, len(ids))
	}
}
