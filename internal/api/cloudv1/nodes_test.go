package cloudv1_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"

	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	"github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1/cloudv1connect"
	cloudv2 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v2"
	"github.com/gpcore/gpcore/gen/gpcore/api/cloud/v2/cloudv2connect"
	typev1 "github.com/gpcore/gpcore/gen/gpcore/type/v1"
	"github.com/gpcore/gpcore/internal/provision/sim"
	"github.com/gpcore/gpcore/internal/sshkey/sshkeytest"
	"github.com/gpcore/gpcore/internal/testserver"
)

// Ids from the embedded default seed.
const (
	seedFra1    = "cd7dcddb-8833-4d1f-b4ea-b99de893df8f" // AVAILABLE
	seedBer1    = "64c0a687-e29f-4070-9e85-581311e0c478" // COMING_SOON
	seedS1      = "751a633c-c549-4a5f-abc1-bb0715c9f931" // 6 servers in fra1
	seedL1      = "caac5100-a496-4a3c-ac4d-66cf44cd1d6e" // 2 servers in fra1
	seedXL1     = "1ff6ebc0-6b8d-4b1b-a71d-8a5237b841d9" // no servers
	seedDebian  = "f5328dbe-06fe-4ec3-99a2-e701653bb2ea"
	seedUbuntu  = "ed7ec3ab-4a45-49e6-a596-f2198d83de34"
	seedUbuntu0 = "4142ee50-6fb8-45b5-ad69-374a62070cf3" // unavailable
	seedWindows = "8d4c7b71-fdd0-4800-bc70-7e7341f258be" // not on BM-S1
)

// nodeWait bounds every wait for the server; a safety net, not a timing.
const nodeWait = time.Minute

// orderS1 is an order of BM-S1 nodes in fra1 with Debian.
func orderS1(projectID string, fqdns ...string) *cloudv1.CreateNodeRequest {
	return &cloudv1.CreateNodeRequest{
		ProjectId: projectID, DatacenterId: seedFra1, FlavourId: seedS1, ImageId: seedDebian, Fqdns: fqdns,
		BillingPeriod: cloudv1.BillingPeriod_BILLING_PERIOD_HOURLY,
	}
}

// feed is an open SubscribeNotifications stream, its notifications
// arriving on a channel.
type feed struct {
	notes chan *cloudv1.Notification
	err   chan error
}

// subscribe opens a notification stream for token and returns once the
// server has confirmed it with its first heartbeat.
func subscribe(t *testing.T, c cloudv1connect.CloudServiceClient) *feed {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stream, err := c.SubscribeNotifications(ctx, connect.NewRequest(&cloudv1.SubscribeNotificationsRequest{}))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	f := &feed{notes: make(chan *cloudv1.Notification, 4096), err: make(chan error, 1)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for stream.Receive() {
			f.notes <- stream.Msg().GetNotification()
		}
		f.err <- stream.Err()
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		_ = stream.Close()
	})
	select {
	case n := <-f.notes:
		if n.GetHeartbeat() == nil {
			t.Fatalf("first notification %v, want a heartbeat", n)
		}
	case err := <-f.err:
		t.Fatalf("stream ended before its first heartbeat: %v", err)
	case <-time.After(nodeWait):
		t.Fatal("no first heartbeat")
	}
	return f
}

// await reads notifications until a node notification for id satisfies
// ok, and returns that node; seen collects every notification read.
func (f *feed) await(t *testing.T, id, what string, ok func(*cloudv1.Node) bool) *cloudv1.Node {
	t.Helper()
	timeout := time.NewTimer(nodeWait)
	defer timeout.Stop()
	var last *cloudv1.Node
	for {
		select {
		case n := <-f.notes:
			if node := n.GetNode(); node != nil && node.GetId() == id {
				last = node
				if ok(node) {
					return node
				}
			}
		case err := <-f.err:
			t.Fatalf("stream ended (%v) while waiting for %s", err, what)
		case <-timeout.C:
			t.Fatalf("no %s; last seen %v", what, last)
		}
	}
}

// awaitRest waits for the node to be at rest in state: the notification
// after which the node takes requests again.
func (f *feed) awaitStatus(t *testing.T, id string, state cloudv1.ServerProvisioningState) *cloudv1.Node {
	t.Helper()
	return f.await(t, id, state.String(), func(n *cloudv1.Node) bool { return n.GetStatus() == state })
}

// retryBusy repeats call while the node is still finishing its last
// operation (FailedPrecondition "busy"): a notification of the settled
// state can come just before the transaction that ends the operation.
func retryBusy(t *testing.T, call func() error) {
	t.Helper()
	deadline := time.Now().Add(nodeWait)
	for {
		err := call()
		if err == nil {
			return
		}
		if connect.CodeOf(err) != connect.CodeFailedPrecondition || !strings.Contains(err.Error(), "busy") || time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestNodeLifeCycle orders a node through the API and takes it through
// every operation to its destruction, watching the notification stream.
func TestNodeLifeCycle(t *testing.T) {
	t.Parallel()
	s, hw := startWithHardware(t, &hwClock{})
	ctx := context.Background()
	u := s.Register(t)
	c := s.Cloud(u.Token)
	p := s.BilledProject(t, u, "Production")
	f := subscribe(t, c)
	key, err := createKey(c, "laptop", sshkeytest.Ed25519(t, "me@laptop"))
	if err != nil {
		t.Fatal(err)
	}

	req := orderS1(p.GetId(), "Web1.Example.NET.")
	req.SshKeyIds = []string{key.GetId()}
	created, err := c.CreateNode(ctx, connect.NewRequest(req))
	if err != nil {
		t.Fatal(err)
	}
	n := created.Msg.GetNodes()[0]
	if n.GetFqdn() != "web1.example.net" || n.GetLoginHint().GetUsername() != "debian" || n.GetLoginHint().GetHasPassword() ||
		n.GetDatacenter().GetId() != seedFra1 || n.GetFlavour().GetId() != seedS1 || n.GetImage().GetId() != seedDebian ||
		len(n.GetNetworkInterfaces()) != 1 || len(n.GetNetworkInterfaces()[0].GetIpAddresses()) != 2 || !n.GetHasConsoleAccess() ||
		n.GetBillingPeriod() != cloudv1.BillingPeriod_BILLING_PERIOD_HOURLY || n.GetPaidUntilAt() == nil {
		t.Fatalf("created node: %v", n)
	}
	id, mac := n.GetId(), n.GetNetworkInterfaces()[0].GetMac()

	f.awaitStatus(t, id, cloudv1.ServerProvisioningState_SERVER_PROVISIONING_STATE_ACTIVE)
	got, err := c.GetNode(ctx, connect.NewRequest(&cloudv1.GetNodeRequest{Id: id, ProjectId: p.GetId()}))
	if err != nil {
		t.Fatal(err)
	}
	if got.Msg.GetNode().GetPowerState() != cloudv1.ServerPowerState_SERVER_POWER_STATE_ON {
		t.Fatalf("active node: %v", got.Msg.GetNode())
	}

	// Power off and on.
	for _, power := range []cloudv1.ServerPowerState{cloudv1.ServerPowerState_SERVER_POWER_STATE_OFF, cloudv1.ServerPowerState_SERVER_POWER_STATE_ON} {
		retryBusy(t, func() error {
			_, err := c.PowerActionNode(ctx, connect.NewRequest(&cloudv1.PowerActionNodeRequest{Id: id, ProjectId: p.GetId(), PowerState: power}))
			return err
		})
		f.await(t, id, power.String(), func(n *cloudv1.Node) bool { return n.GetPowerState() == power })
	}

	// Rescue mode on and off.
	var password string
	retryBusy(t, func() error {
		res, err := c.ChangeNodeRescueMode(ctx, connect.NewRequest(&cloudv1.ChangeNodeRescueModeRequest{
			Id: id, ProjectId: p.GetId(), RescueMode: &cloudv1.RescueMode{Enabled: true},
		}))
		password = res.Msg.GetRescueMode().GetPassword()
		return err
	})
	if len(password) < 20 {
		t.Fatalf("rescue password %q, want a random one", password)
	}
	rescued := f.awaitStatus(t, id, cloudv1.ServerProvisioningState_SERVER_PROVISIONING_STATE_RESCUE)
	if rescued.GetLoginHint().GetUsername() != "root" || !rescued.GetLoginHint().GetHasPassword() {
		t.Fatalf("login hint in rescue: %v", rescued.GetLoginHint())
	}
	retryBusy(t, func() error {
		_, err := c.ChangeNodeRescueMode(ctx, connect.NewRequest(&cloudv1.ChangeNodeRescueModeRequest{
			Id: id, ProjectId: p.GetId(), RescueMode: &cloudv1.RescueMode{Enabled: false},
		}))
		return err
	})
	f.await(t, id, "back from rescue", func(n *cloudv1.Node) bool {
		return n.GetStatus() == cloudv1.ServerProvisioningState_SERVER_PROVISIONING_STATE_ACTIVE
	})

	// Reinstall with another image and name, as gRPC.
	g := s.Cloud(u.Token, connect.WithGRPC())
	retryBusy(t, func() error {
		res, err := g.ReinstallNode(ctx, connect.NewRequest(&cloudv1.ReinstallNodeRequest{
			Id: id, ProjectId: p.GetId(), ImageId: seedUbuntu, Fqdn: "web2.example.net", SshKeyIds: []string{key.GetId()},
		}))
		if err == nil && (res.Msg.GetNode().GetFqdn() != "web2.example.net" || res.Msg.GetNode().GetImage().GetId() != seedUbuntu) {
			t.Fatalf("reinstalled node: %v", res.Msg.GetNode())
		}
		return err
	})
	f.await(t, id, "reinstalled", func(n *cloudv1.Node) bool {
		return n.GetStatus() == cloudv1.ServerProvisioningState_SERVER_PROVISIONING_STATE_ACTIVE && n.GetFqdn() == "web2.example.net"
	})

	// Rename and tag; search; change the billing period; open the console.
	updated, err := c.UpdateNode(ctx, connect.NewRequest(&cloudv1.UpdateNodeRequest{
		Id: id, ProjectId: p.GetId(), Tags: map[string]string{"env": "prod"},
	}))
	if err != nil || updated.Msg.GetNode().GetTags()["env"] != "prod" {
		t.Fatalf("UpdateNode: %v, %v", updated, err)
	}
	search := "env=prod"
	list, err := c.ListNodes(ctx, connect.NewRequest(&cloudv1.ListNodesRequest{Id: p.GetId(), Search: &search}))
	if err != nil || list.Msg.GetTotal() != 1 || list.Msg.GetPagination().GetLimit() != 50 || list.Msg.GetNodes()[0].GetId() != id {
		t.Fatalf("ListNodes: %v, %v", list, err)
	}
	v2 := cloudv2connect.NewCloudServiceClient(testserver.H2CClient(), s.URL, testserver.ClientOptions(u.Token)...)
	list2, err := v2.ListNodes(ctx, connect.NewRequest(&cloudv2.ListNodesRequest{Id: p.GetId(), ExtendedSearch: &typev1.SearchRequest{
		Filters: []*typev1.Filter{{Name: "power_state", Value: &typev1.Filter_StringValue{StringValue: "ON"}}},
	}}))
	if err != nil || list2.Msg.GetTotal() != 1 || list2.Msg.GetNodes()[0].GetId() != id {
		t.Fatalf("v2 ListNodes: %v, %v", list2, err)
	}
	billed, err := c.ChangeNodeBillingPeriod(ctx, connect.NewRequest(&cloudv1.ChangeNodeBillingPeriodRequest{
		Id: id, ProjectId: p.GetId(), BillingPeriod: cloudv1.BillingPeriod_BILLING_PERIOD_MONTHLY,
	}))
	if err != nil || billed.Msg.GetNode().GetTargetBillingPeriod() != cloudv1.BillingPeriod_BILLING_PERIOD_MONTHLY ||
		billed.Msg.GetNode().GetBillingPeriod() != cloudv1.BillingPeriod_BILLING_PERIOD_HOURLY {
		t.Fatalf("ChangeNodeBillingPeriod: %v, %v", billed, err)
	}
	console, err := c.GetRemoteConsoleAccess(ctx, connect.NewRequest(&cloudv1.GetRemoteConsoleAccessRequest{Id: id}))
	if err != nil {
		t.Fatalf("GetRemoteConsoleAccess: %v", err)
	}
	serverID := checkConsole(t, s, hw, console.Msg, u.ID, id)
	limit, err := c.GetUserNodeLimit(ctx, connect.NewRequest(&cloudv1.GetUserNodeLimitRequest{}))
	if err != nil || limit.Msg.GetUserLimit().GetCurrent() != 1 || limit.Msg.GetUserLimit().GetLimit() != 10 {
		t.Fatalf("GetUserNodeLimit: %v, %v", limit, err)
	}

	// Destroy: the node goes, its server comes back.
	retryBusy(t, func() error {
		_, err := c.DestroyNode(ctx, connect.NewRequest(&cloudv1.DestroyNodeRequest{Id: id, ProjectId: p.GetId()}))
		return err
	})
	f.await(t, id, "deletion", func(n *cloudv1.Node) bool {
		return n.GetBillingPeriod() == cloudv1.BillingPeriod_BILLING_PERIOD_DELETED
	})
	_, err = c.GetNode(ctx, connect.NewRequest(&cloudv1.GetNodeRequest{Id: id, ProjectId: p.GetId()}))
	testserver.WantCode(t, err, connect.CodeNotFound, "")
	// The teardown closed the console session on the server's BMC.
	if err := hw.ConsoleLogin(serverID, console.Msg.GetUsername(), console.Msg.GetPassword()); !errors.Is(err, sim.ErrLoginRefused) {
		t.Fatalf("the BMC of the destroyed node still takes its console credentials: %v", err)
	}
	// The server is back in the pool: an order of all six BM-S1 servers
	// gets it.
	all, err := c.CreateNode(ctx, connect.NewRequest(orderS1(p.GetId(), "s1.example", "s2.example", "s3.example",
		"s4.example", "s5.example", "s6.example")))
	if err != nil {
		t.Fatalf("order of every BM-S1 server after the destroy: %v", err)
	}
	if !slices.ContainsFunc(all.Msg.GetNodes(), func(n *cloudv1.Node) bool { return n.GetNetworkInterfaces()[0].GetMac() == mac }) {
		t.Fatalf("the destroyed node's server (%s) is not among the six", mac)
	}
	limit, err = c.GetUserNodeLimit(ctx, connect.NewRequest(&cloudv1.GetUserNodeLimitRequest{}))
	if err != nil || limit.Msg.GetUserLimit().GetCurrent() != 6 {
		t.Fatalf("GetUserNodeLimit after the destroy and the new order: %v, %v", limit, err)
	}

	// The stream carried server logs along the way, and the project's log
	// has every action.
	logs := projectLogs(t, c, &cloudv1.ListProjectLogsRequest{Id: p.GetId()})
	for _, want := range []string{"ordered the node web1.example.net", "enabled rescue mode", "reinstalled the node web2.example.net",
		"opened a remote console on the node web2.example.net", "destroyed the node web2.example.net"} {
		if !slices.ContainsFunc(messages(logs.GetLogs()), func(m string) bool { return strings.Contains(m, want) }) {
			t.Errorf("project log lacks %q: %v", want, messages(logs.GetLogs()))
		}
	}
}

// TestNodeNotificationsCarryServerLogs: the stream sends the server log of
// each step, with its server.
func TestNodeNotificationsCarryServerLogs(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	u := s.Register(t)
	c := s.Cloud(u.Token, connect.WithGRPC())
	p := s.BilledProject(t, u, "Logs")
	f := subscribe(t, c)
	created, err := c.CreateNode(context.Background(), connect.NewRequest(orderS1(p.GetId(), "logs.example")))
	if err != nil {
		t.Fatal(err)
	}
	id := created.Msg.GetNodes()[0].GetId()
	var logs []string
	timeout := time.After(nodeWait)
	for !slices.ContainsFunc(logs, func(m string) bool { return strings.Contains(m, "The installation is done") }) {
		select {
		case n := <-f.notes:
			if l := n.GetServerLog(); l != nil {
				if l.GetServer().GetId() == "" || l.GetServer().GetDatacenter().GetId() != seedFra1 || l.GetCreatedAt() == nil {
					t.Fatalf("server log %v", l)
				}
				logs = append(logs, l.GetMessage())
			}
		case err := <-f.err:
			t.Fatalf("stream ended: %v", err)
		case <-timeout:
			t.Fatalf("no log of the end of the installation of %s; got %v", id, logs)
		}
	}
	if !slices.ContainsFunc(logs, func(m string) bool { return strings.Contains(m, "ordered") }) {
		t.Fatalf("logs %v lack the order", logs)
	}
}

// TestCreateNodeRefusals checks the refusals of CreateNode through the API:
// their codes and fields, and that a refused order leaves nothing behind.
func TestCreateNodeRefusals(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	ctx := context.Background()
	u := s.Register(t)
	c := s.Cloud(u.Token)
	p := s.BilledProject(t, u, "Refusals")
	unbilled := s.CreateProject(t, u.Token, "Unbilled")
	stranger := s.Register(t)
	strangerProject := s.BilledProject(t, stranger, "Stranger")
	strangerKey, err := createKey(s.Cloud(stranger.Token), "theirs", sshkeytest.Ed25519(t, "them@there"))
	if err != nil {
		t.Fatal(err)
	}
	f := subscribe(t, c)
	if _, err := c.CreateNode(ctx, connect.NewRequest(orderS1(p.GetId(), "taken.example"))); err != nil {
		t.Fatal(err)
	}
	logsBefore := len(projectLogs(t, c, &cloudv1.ListProjectLogsRequest{Id: p.GetId()}).GetLogs())

	with := func(change func(*cloudv1.CreateNodeRequest)) *cloudv1.CreateNodeRequest {
		r := orderS1(p.GetId(), "new.example")
		change(r)
		return r
	}
	str := func(s string) *string { return &s }
	for _, tc := range []struct {
		name  string
		req   *cloudv1.CreateNodeRequest
		code  connect.Code
		field string
	}{
		{"bad project id", with(func(r *cloudv1.CreateNodeRequest) { r.ProjectId = "nope" }), connect.CodeInvalidArgument, "project_id"},
		{"bad key id", with(func(r *cloudv1.CreateNodeRequest) { r.SshKeyIds = []string{"nope"} }), connect.CodeInvalidArgument, "ssh_key_ids"},
		{"no fqdn", with(func(r *cloudv1.CreateNodeRequest) { r.Fqdns = nil }), connect.CodeInvalidArgument, "fqdns"},
		{"long label", with(func(r *cloudv1.CreateNodeRequest) { r.Fqdns = []string{strings.Repeat("a", 64) + ".example"} }), connect.CodeInvalidArgument, "fqdns"},
		{"dotted decimal", with(func(r *cloudv1.CreateNodeRequest) { r.Fqdns = []string{"192.0.2.10"} }), connect.CodeInvalidArgument, "fqdns"},
		{"single label", with(func(r *cloudv1.CreateNodeRequest) { r.Fqdns = []string{"web"} }), connect.CodeInvalidArgument, "fqdns"},
		{"billing period", with(func(r *cloudv1.CreateNodeRequest) { r.BillingPeriod = cloudv1.BillingPeriod_BILLING_PERIOD_DELETED }), connect.CodeInvalidArgument, "billing_period"},
		{"short password", with(func(r *cloudv1.CreateNodeRequest) { r.Password = str("123") }), connect.CodeInvalidArgument, "password"},
		{"not a member", with(func(r *cloudv1.CreateNodeRequest) { r.ProjectId = strangerProject.GetId() }), connect.CodeNotFound, ""},
		{"locked project", with(func(r *cloudv1.CreateNodeRequest) { r.ProjectId = unbilled.GetId() }), connect.CodeFailedPrecondition, ""},
		{"node limit", with(func(r *cloudv1.CreateNodeRequest) {
			r.Fqdns = nil
			for i := range 10 {
				r.Fqdns = append(r.Fqdns, fmt.Sprintf("n%d.example", i))
			}
		}), connect.CodeResourceExhausted, ""},
		{"coming soon", with(func(r *cloudv1.CreateNodeRequest) { r.DatacenterId = seedBer1 }), connect.CodeFailedPrecondition, "datacenter_id"},
		{"out of stock", with(func(r *cloudv1.CreateNodeRequest) { r.FlavourId = seedXL1 }), connect.CodeResourceExhausted, "flavour_id"},
		{"unavailable image", with(func(r *cloudv1.CreateNodeRequest) { r.ImageId = seedUbuntu0 }), connect.CodeFailedPrecondition, "image_id"},
		{"image not for flavour", with(func(r *cloudv1.CreateNodeRequest) { r.ImageId = seedWindows }), connect.CodeFailedPrecondition, "image_id"},
		{"someone else's key", with(func(r *cloudv1.CreateNodeRequest) { r.SshKeyIds = []string{strangerKey.GetId()} }), connect.CodeInvalidArgument, "ssh_key_ids"},
		{"name taken", with(func(r *cloudv1.CreateNodeRequest) { r.Fqdns = []string{"TAKEN.example."} }), connect.CodeAlreadyExists, "fqdns"},
	} {
		_, err := c.CreateNode(ctx, connect.NewRequest(tc.req))
		if connect.CodeOf(err) != tc.code {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.code)
			continue
		}
		if tc.field != "" {
			testserver.WantCode(t, err, tc.code, tc.field)
		}
	}
	list, err := c.ListNodes(ctx, connect.NewRequest(&cloudv1.ListNodesRequest{Id: p.GetId()}))
	if err != nil || list.Msg.GetTotal() != 1 {
		t.Fatalf("after the refusals the project has %d nodes (%v), want 1", list.Msg.GetTotal(), err)
	}
	if after := len(projectLogs(t, c, &cloudv1.ListProjectLogsRequest{Id: p.GetId()}).GetLogs()); after != logsBefore {
		t.Fatalf("refused orders wrote %d project log entries", after-logsBefore)
	}
	limit, err := c.GetUserNodeLimit(ctx, connect.NewRequest(&cloudv1.GetUserNodeLimitRequest{}))
	if err != nil || limit.Msg.GetUserLimit().GetCurrent() != 1 {
		t.Fatalf("GetUserNodeLimit after the refusals: %v, %v", limit, err)
	}
	// The limit's refusal says what it counted: nodes in use and ordered.
	many := func(projectID string, n int) *cloudv1.CreateNodeRequest {
		var fqdns []string
		for i := range n {
			fqdns = append(fqdns, fmt.Sprintf("many%d.example", i))
		}
		return orderS1(projectID, fqdns...)
	}
	for _, tc := range []struct {
		c    cloudv1connect.CloudServiceClient
		req  *cloudv1.CreateNodeRequest
		want string
	}{
		{c, many(p.GetId(), 10), "node limit of 10 exceeded: 1 node in use, 10 ordered"},
		{s.Cloud(stranger.Token), many(strangerProject.GetId(), 11), "node limit of 10 exceeded: 0 nodes in use, 11 ordered"},
	} {
		_, err := tc.c.CreateNode(ctx, connect.NewRequest(tc.req))
		if want := "resource_exhausted: " + tc.want; connect.CodeOf(err) != connect.CodeResourceExhausted || err.Error() != want {
			t.Errorf("order over the limit: %v, want %q", err, want)
		}
	}

	// Requests that make no sense for the node's state.
	id := list.Msg.GetNodes()[0].GetId()
	f.awaitStatus(t, id, cloudv1.ServerProvisioningState_SERVER_PROVISIONING_STATE_ACTIVE)
	_, err = c.PowerActionNode(ctx, connect.NewRequest(&cloudv1.PowerActionNodeRequest{
		Id: id, ProjectId: p.GetId(), PowerState: cloudv1.ServerPowerState_SERVER_POWER_STATE_UNSPECIFIED,
	}))
	testserver.WantCode(t, err, connect.CodeInvalidArgument, "power_state")
	if want := "power_state: missing or not one of ON, OFF, RESET"; connect.CodeOf(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), want) {
		t.Fatalf("power action without a state: %v, want %q", err, want)
	}
	// Connect JSON with an enum name the enum does not have is refused as
	// it is read, naming the field and the names there are (connect-go's
	// own codec would read it as unset: an order for MONTLY would be
	// hourly). A number outside the enum is named as such.
	for _, tc := range []struct{ procedure, body, want string }{
		{cloudv1connect.CloudServicePowerActionNodeProcedure, `{"id":"` + id + `","projectId":"` + p.GetId() + `","powerState":"FOO"}`,
			`unmarshal message: power_state: "FOO" is not one of SERVER_POWER_STATE_ON, SERVER_POWER_STATE_OFF, SERVER_POWER_STATE_RESET`},
		{cloudv1connect.CloudServicePowerActionNodeProcedure, `{"id":"` + id + `","projectId":"` + p.GetId() + `","powerState":7}`,
			"power_state: unknown ServerPowerState value 7"},
		{cloudv1connect.CloudServiceCreateNodeProcedure, `{"projectId":"` + p.GetId() + `","billingPeriod":"BILLING_PERIOD_MONTLY"}`,
			`unmarshal message: billing_period: "BILLING_PERIOD_MONTLY" is not one of BILLING_PERIOD_HOURLY, BILLING_PERIOD_MONTHLY, BILLING_PERIOD_DELETED`},
	} {
		if code, msg := postConnectJSON(t, s, u.Token, tc.procedure, tc.body); code != "invalid_argument" || msg != tc.want {
			t.Errorf("%s: %s %q, want invalid_argument %q", tc.body, code, msg, tc.want)
		}
	}
	_, err = c.ChangeNodeBillingPeriod(ctx, connect.NewRequest(&cloudv1.ChangeNodeBillingPeriodRequest{Id: id, ProjectId: p.GetId()}))
	if want := "billing_period: missing or not one of HOURLY, MONTHLY"; connect.CodeOf(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), want) {
		t.Fatalf("billing period change without a period: %v, want %q", err, want)
	}
	var precondition error
	for deadline := time.Now().Add(nodeWait); ; {
		_, precondition = c.PowerActionNode(ctx, connect.NewRequest(&cloudv1.PowerActionNodeRequest{
			Id: id, ProjectId: p.GetId(), PowerState: cloudv1.ServerPowerState_SERVER_POWER_STATE_ON,
		}))
		if !strings.Contains(fmt.Sprint(precondition), "busy") || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if connect.CodeOf(precondition) != connect.CodeFailedPrecondition || !strings.Contains(precondition.Error(), "on already") {
		t.Fatalf("power on of a node that is on: %v", precondition)
	}
	_, err = c.ChangeNodeRescueMode(ctx, connect.NewRequest(&cloudv1.ChangeNodeRescueModeRequest{Id: id, ProjectId: p.GetId(), RescueMode: &cloudv1.RescueMode{}}))
	testserver.WantCode(t, err, connect.CodeFailedPrecondition, "")

	// A new name is fully qualified too.
	_, err = c.UpdateNode(ctx, connect.NewRequest(&cloudv1.UpdateNodeRequest{Id: id, ProjectId: p.GetId(), Fqdn: str("web")}))
	testserver.WantCode(t, err, connect.CodeInvalidArgument, "fqdn")
	_, err = c.ReinstallNode(ctx, connect.NewRequest(&cloudv1.ReinstallNodeRequest{Id: id, ProjectId: p.GetId(), Fqdn: "web"}))
	testserver.WantCode(t, err, connect.CodeInvalidArgument, "fqdn")
	got, err := c.GetNode(ctx, connect.NewRequest(&cloudv1.GetNodeRequest{Id: id, ProjectId: p.GetId()}))
	if err != nil || got.Msg.GetNode().GetFqdn() != "taken.example" || got.Msg.GetNode().GetStatus() != cloudv1.ServerProvisioningState_SERVER_PROVISIONING_STATE_ACTIVE {
		t.Fatalf("the node after refused renames: %v, %v", got, err)
	}

	// A name another node has is refused naming the field and the name, in
	// an order, a rename and a reinstall alike.
	if _, err := c.CreateNode(ctx, connect.NewRequest(orderS1(p.GetId(), "other.example"))); err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateNode(ctx, connect.NewRequest(orderS1(p.GetId(), "new.example", "OTHER.example.")))
	wantTaken(t, err, "fqdns", "other.example")
	_, err = c.UpdateNode(ctx, connect.NewRequest(&cloudv1.UpdateNodeRequest{Id: id, ProjectId: p.GetId(), Fqdn: str("Other.Example")}))
	wantTaken(t, err, "fqdn", "other.example")
	_, err = c.ReinstallNode(ctx, connect.NewRequest(&cloudv1.ReinstallNodeRequest{Id: id, ProjectId: p.GetId(), Fqdn: "other.example"}))
	wantTaken(t, err, "fqdn", "other.example")
}

// wantTaken fails the test unless err is AlreadyExists naming field and
// saying that a node named fqdn exists.
func wantTaken(t *testing.T, err error, field, fqdn string) {
	t.Helper()
	testserver.WantCode(t, err, connect.CodeAlreadyExists, field)
	if want := fmt.Sprintf("already_exists: %s: a node named %s exists already", field, fqdn); err.Error() != want {
		t.Fatalf("err = %q, want %q", err, want)
	}
}

// postConnectJSON posts body to procedure as Connect JSON, the way curl
// does, and returns the error's code and message (empty on success).
func postConnectJSON(t *testing.T, s *testserver.Server, token, procedure, body string) (code, message string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+procedure, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode == http.StatusOK {
		return "", ""
	}
	var out struct{ Code, Message string }
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s answered %d with %q", procedure, res.StatusCode, raw)
	}
	return out.Code, out.Message
}

// TestNodeRaceForTheLastServers: many clients order the last servers of a
// flavour at once; as many nodes as servers, each on its own server, and
// every other order refused.
func TestNodeRaceForTheLastServers(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	const orders = 16
	type customer struct {
		c       cloudv1connect.CloudServiceClient
		project string
	}
	customers := make([]customer, 4)
	for i := range customers {
		u := s.Register(t)
		customers[i] = customer{s.Cloud(u.Token, connect.WithGRPC()), s.BilledProject(t, u, "Race").GetId()}
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var won []*cloudv1.Node
	codes := map[connect.Code]int{}
	for i := range orders {
		wg.Go(func() {
			cu := customers[i%len(customers)]
			req := orderS1(cu.project, fmt.Sprintf("race%d.example", i))
			req.FlavourId = seedL1
			<-start
			res, err := cu.c.CreateNode(context.Background(), connect.NewRequest(req))
			mu.Lock()
			defer mu.Unlock()
			codes[connect.CodeOf(err)]++
			if err == nil {
				won = append(won, res.Msg.GetNodes()...)
			} else if connect.CodeOf(err) != connect.CodeResourceExhausted {
				t.Errorf("order %d: %v", i, err)
			}
		})
	}
	close(start)
	wg.Wait()
	if len(won) != 2 || codes[connect.CodeResourceExhausted] != orders-2 {
		t.Fatalf("%d orders for 2 servers: %d won, outcomes %v", orders, len(won), codes)
	}
	macs := map[string]bool{}
	for _, n := range won {
		macs[n.GetNetworkInterfaces()[0].GetMac()] = true
	}
	if len(macs) != 2 {
		t.Fatalf("the 2 nodes are on %d servers", len(macs))
	}
	var total int64
	for _, cu := range customers {
		l, err := cu.c.ListNodes(context.Background(), connect.NewRequest(&cloudv1.ListNodesRequest{Id: cu.project}))
		if err != nil {
			t.Fatal(err)
		}
		total += l.Msg.GetTotal()
	}
	if total != 2 {
		t.Fatalf("the projects list %d nodes, want 2", total)
	}
}

// nodeIsolationProcedures are the procedures TestNodeIsolation calls;
// TestIsolation's guard counts them as covered.
var nodeIsolationProcedures = map[string]bool{
	cloudv1connect.CloudServiceCreateNodeProcedure:              true,
	cloudv1connect.CloudServiceGetNodeProcedure:                 true,
	cloudv1connect.CloudServiceListNodesProcedure:               true,
	cloudv2connect.CloudServiceListNodesProcedure:               true,
	cloudv1connect.CloudServiceGetNodeSearchOptionsProcedure:    true,
	cloudv1connect.CloudServiceUpdateNodeProcedure:              true,
	cloudv1connect.CloudServicePowerActionNodeProcedure:         true,
	cloudv1connect.CloudServiceChangeNodeRescueModeProcedure:    true,
	cloudv1connect.CloudServiceReinstallNodeProcedure:           true,
	cloudv1connect.CloudServiceGetRemoteConsoleAccessProcedure:  true,
	cloudv1connect.CloudServiceChangeNodeBillingPeriodProcedure: true,
	cloudv1connect.CloudServiceDestroyNodeProcedure:             true,
}

// TestNodeIsolation: user B calls every node method with A's project and
// node ids. Every method that takes a project and a node is called with A's
// project and A's node, and with B's own project and A's node; the others
// with A's project or A's node. Each answer is NotFound, word for word the
// answer for ids that do not exist. B's orders and reinstalls with A's SSH
// key are refused exactly as with a key that does not exist. Afterwards A's
// node and B's are unchanged, and B has ordered nothing.
func TestNodeIsolation(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	ctx := context.Background()
	alice, bob := s.Register(t), s.Register(t)
	ac, bc := s.Cloud(alice.Token), s.Cloud(bob.Token)
	project := s.BilledProject(t, alice, "Alice's nodes")
	bobsProject := s.BilledProject(t, bob, "Bob's nodes")
	aliceKey, err := createKey(ac, "alice's laptop", sshkeytest.Ed25519(t, "alice@laptop"))
	if err != nil {
		t.Fatal(err)
	}
	bobsKey, err := createKey(bc, "bob's laptop", sshkeytest.Ed25519(t, "bob@laptop"))
	if err != nil {
		t.Fatal(err)
	}
	nodeOf := func(c cloudv1connect.CloudServiceClient, projectID, fqdn string) string {
		t.Helper()
		f := subscribe(t, c)
		created, err := c.CreateNode(ctx, connect.NewRequest(orderS1(projectID, fqdn)))
		if err != nil {
			t.Fatal(err)
		}
		id := created.Msg.GetNodes()[0].GetId()
		f.awaitStatus(t, id, cloudv1.ServerProvisioningState_SERVER_PROVISIONING_STATE_ACTIVE)
		return id
	}
	nodeID := nodeOf(ac, project.GetId(), "secret.alice.example")
	bobsNode := nodeOf(bc, bobsProject.GetId(), "bob.example")
	snapshot := func(c cloudv1connect.CloudServiceClient, projectID, id string) *cloudv1.Node {
		var n *connect.Response[cloudv1.GetNodeResponse]
		retryBusy(t, func() error { // the install's last transaction may still be under way
			n, err = c.GetNode(ctx, connect.NewRequest(&cloudv1.GetNodeRequest{Id: id, ProjectId: projectID}))
			return err
		})
		return n.Msg.GetNode()
	}
	const unknown, unknownProject, unknownKey = "6a0c1a3e-39a4-4d16-9d4e-2d0f0b7c2f11",
		"0e7b3c55-1d2a-4f8e-9b6c-5a4d3c2b1a09", "3f9d8c7b-6a5e-4d3c-8b2a-1f0e9d8c7b6a"
	// Words of A's that no answer to B may contain.
	secrets := []string{"secret.alice", "alice's laptop", "alice@laptop", alice.Email}
	leaks := func(t *testing.T, procedure string, err error) {
		t.Helper()
		for _, secret := range secrets {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("%s: the answer %q gives away %q", procedure, err, secret)
			}
		}
	}

	for _, p := range cloudProtocols {
		t.Run(p.name, func(t *testing.T) {
			b := s.Cloud(bob.Token, p.opts...)
			b2 := cloudv2connect.NewCloudServiceClient(testserver.H2CClient(), s.URL, testserver.ClientOptions(bob.Token, p.opts...)...)
			pid, mine := project.GetId(), bobsProject.GetId()
			// The methods that take one id: A's project or A's node.
			calls := []struct {
				procedure string
				id        string
				call      func(id string) error
			}{
				{cloudv1connect.CloudServiceCreateNodeProcedure, pid, func(id string) error {
					_, err := b.CreateNode(ctx, connect.NewRequest(orderS1(id, "bob2.example")))
					return err
				}},
				{cloudv1connect.CloudServiceListNodesProcedure, pid, func(id string) error {
					_, err := b.ListNodes(ctx, connect.NewRequest(&cloudv1.ListNodesRequest{Id: id}))
					return err
				}},
				{cloudv2connect.CloudServiceListNodesProcedure, pid, func(id string) error {
					_, err := b2.ListNodes(ctx, connect.NewRequest(&cloudv2.ListNodesRequest{Id: id}))
					return err
				}},
				{cloudv1connect.CloudServiceGetNodeSearchOptionsProcedure, pid, func(id string) error {
					_, err := b.GetNodeSearchOptions(ctx, connect.NewRequest(&cloudv1.GetNodeSearchOptionsRequest{Id: id}))
					return err
				}},
				{cloudv1connect.CloudServiceGetRemoteConsoleAccessProcedure, nodeID, func(id string) error {
					_, err := b.GetRemoteConsoleAccess(ctx, connect.NewRequest(&cloudv1.GetRemoteConsoleAccessRequest{Id: id}))
					return err
				}},
			}
			// The methods that take a project and a node.
			nodeCalls := []struct {
				procedure string
				call      func(projectID, id string) error
			}{
				{cloudv1connect.CloudServiceGetNodeProcedure, func(projectID, id string) error {
					_, err := b.GetNode(ctx, connect.NewRequest(&cloudv1.GetNodeRequest{Id: id, ProjectId: projectID}))
					return err
				}},
				{cloudv1connect.CloudServiceUpdateNodeProcedure, func(projectID, id string) error {
					_, err := b.UpdateNode(ctx, connect.NewRequest(&cloudv1.UpdateNodeRequest{Id: id, ProjectId: projectID, Tags: map[string]string{"owner": "bob"}}))
					return err
				}},
				{cloudv1connect.CloudServicePowerActionNodeProcedure, func(projectID, id string) error {
					_, err := b.PowerActionNode(ctx, connect.NewRequest(&cloudv1.PowerActionNodeRequest{
						Id: id, ProjectId: projectID, PowerState: cloudv1.ServerPowerState_SERVER_POWER_STATE_OFF,
					}))
					return err
				}},
				{cloudv1connect.CloudServiceChangeNodeRescueModeProcedure, func(projectID, id string) error {
					_, err := b.ChangeNodeRescueMode(ctx, connect.NewRequest(&cloudv1.ChangeNodeRescueModeRequest{
						Id: id, ProjectId: projectID, RescueMode: &cloudv1.RescueMode{Enabled: true},
					}))
					return err
				}},
				{cloudv1connect.CloudServiceReinstallNodeProcedure, func(projectID, id string) error {
					_, err := b.ReinstallNode(ctx, connect.NewRequest(&cloudv1.ReinstallNodeRequest{
						Id: id, ProjectId: projectID, ImageId: seedUbuntu, Fqdn: "taken.bob.example", SshKeyIds: []string{bobsKey.GetId()},
					}))
					return err
				}},
				{cloudv1connect.CloudServiceChangeNodeBillingPeriodProcedure, func(projectID, id string) error {
					_, err := b.ChangeNodeBillingPeriod(ctx, connect.NewRequest(&cloudv1.ChangeNodeBillingPeriodRequest{
						Id: id, ProjectId: projectID, BillingPeriod: cloudv1.BillingPeriod_BILLING_PERIOD_MONTHLY,
					}))
					return err
				}},
				{cloudv1connect.CloudServiceDestroyNodeProcedure, func(projectID, id string) error {
					_, err := b.DestroyNode(ctx, connect.NewRequest(&cloudv1.DestroyNodeRequest{Id: id, ProjectId: projectID}))
					return err
				}},
			}
			before, bobsBefore := snapshot(ac, pid, nodeID), snapshot(b, mine, bobsNode)
			covered := map[string]bool{}
			for _, c := range calls {
				covered[c.procedure] = true
				errA, errX := c.call(c.id), c.call(unknown)
				testserver.WantCode(t, errA, connect.CodeNotFound, "")
				if got, want := strings.ReplaceAll(errA.Error(), c.id, unknown), errX.Error(); got != want {
					t.Errorf("%s: B is told %q for A's id and %q for an unknown one", c.procedure, errA, errX)
				}
				leaks(t, c.procedure, errA)
			}
			for _, c := range nodeCalls {
				covered[c.procedure] = true
				// A's project and A's node, told as for an unknown project.
				errA, errX := c.call(pid, nodeID), c.call(unknownProject, unknown)
				testserver.WantCode(t, errA, connect.CodeNotFound, "")
				if got, want := strings.NewReplacer(pid, unknownProject, nodeID, unknown).Replace(errA.Error()), errX.Error(); got != want {
					t.Errorf("%s: B is told %q for A's project and node, %q for unknown ones", c.procedure, errA, errX)
				}
				leaks(t, c.procedure, errA)
				// B's own project and A's node, told as for an unknown node.
				errB, errY := c.call(mine, nodeID), c.call(mine, unknown)
				testserver.WantCode(t, errB, connect.CodeNotFound, "")
				if got, want := strings.ReplaceAll(errB.Error(), nodeID, unknown), errY.Error(); got != want {
					t.Errorf("%s: B is told %q for A's node in B's project, %q for an unknown one", c.procedure, errB, errY)
				}
				leaks(t, c.procedure, errB)
			}

			// A's SSH key, in B's own project: refused as a key that does
			// not exist.
			keyCalls := []struct {
				procedure string
				call      func(keyID string) error
			}{
				{cloudv1connect.CloudServiceCreateNodeProcedure, func(keyID string) error {
					req := orderS1(mine, "bob3.example")
					req.SshKeyIds = []string{bobsKey.GetId(), keyID}
					_, err := b.CreateNode(ctx, connect.NewRequest(req))
					return err
				}},
				{cloudv1connect.CloudServiceReinstallNodeProcedure, func(keyID string) error {
					_, err := b.ReinstallNode(ctx, connect.NewRequest(&cloudv1.ReinstallNodeRequest{
						Id: bobsNode, ProjectId: mine, ImageId: seedUbuntu, Fqdn: "bob.example", SshKeyIds: []string{keyID},
					}))
					return err
				}},
			}
			for _, c := range keyCalls {
				errA, errX := c.call(aliceKey.GetId()), c.call(unknownKey)
				testserver.WantCode(t, errX, connect.CodeInvalidArgument, "ssh_key_ids")
				testserver.WantCode(t, errA, connect.CodeInvalidArgument, "ssh_key_ids")
				if got, want := strings.ReplaceAll(errA.Error(), aliceKey.GetId(), unknownKey), errX.Error(); got != want {
					t.Errorf("%s: B is told %q for A's key and %q for an unknown one", c.procedure, errA, errX)
				}
				leaks(t, c.procedure, errA)
			}

			for procedure := range nodeIsolationProcedures {
				if !covered[procedure] {
					t.Errorf("%s is not called", procedure)
				}
			}
			if after := snapshot(ac, pid, nodeID); !equalNodes(before, after) {
				t.Fatalf("B's calls changed A's node:\nbefore %v\nafter  %v", before, after)
			}
			if after := snapshot(b, mine, bobsNode); !equalNodes(bobsBefore, after) || after.GetImage().GetId() != seedDebian {
				t.Fatalf("B's refused calls changed B's node:\nbefore %v\nafter  %v", bobsBefore, after)
			}
			for _, c := range []struct {
				client    cloudv1connect.CloudServiceClient
				projectID string
			}{{ac, pid}, {b, mine}} {
				l, err := c.client.ListNodes(ctx, connect.NewRequest(&cloudv1.ListNodesRequest{Id: c.projectID}))
				if err != nil || l.Msg.GetTotal() != 1 {
					t.Fatalf("project %s lists %v, %v; want its one node", c.projectID, l, err)
				}
			}
		})
	}
}

// equalNodes compares what a node shows, but its updated_at.
func equalNodes(a, b *cloudv1.Node) bool {
	return a.GetFqdn() == b.GetFqdn() && a.GetStatus() == b.GetStatus() && a.GetPowerState() == b.GetPowerState() &&
		fmt.Sprint(a.GetTags()) == fmt.Sprint(b.GetTags()) && a.GetBillingPeriod() == b.GetBillingPeriod() &&
		a.TargetBillingPeriod == nil && b.TargetBillingPeriod == nil && a.GetUpdatedAt().AsTime().Equal(b.GetUpdatedAt().AsTime())
}

// TestNotificationStreamEndsWithTheClient: a subscriber that goes away
// ends its stream cleanly, and subscribing again works.
func TestNotificationStreamEndsWithTheClient(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	u := s.Register(t)
	for _, p := range cloudProtocols {
		c := s.Cloud(u.Token, p.opts...)
		ctx, cancel := context.WithCancel(context.Background())
		stream, err := c.SubscribeNotifications(ctx, connect.NewRequest(&cloudv1.SubscribeNotificationsRequest{}))
		if err != nil {
			t.Fatal(err)
		}
		if !stream.Receive() || stream.Msg().GetNotification().GetHeartbeat() == nil {
			t.Fatalf("%s: no first heartbeat: %v", p.name, stream.Err())
		}
		cancel()
		for stream.Receive() {
		}
		if err := stream.Err(); err != nil && !errors.Is(err, context.Canceled) && connect.CodeOf(err) != connect.CodeCanceled {
			t.Fatalf("%s: stream ended with %v", p.name, err)
		}
		_ = stream.Close()
	}
	subscribe(t, s.Cloud(u.Token)) // still works

	stream, err := s.Cloud("").SubscribeNotifications(context.Background(), connect.NewRequest(&cloudv1.SubscribeNotificationsRequest{}))
	if err == nil {
		if stream.Receive() {
			t.Fatalf("an anonymous subscriber got %v", stream.Msg())
		}
		err = stream.Err()
		_ = stream.Close()
	}
	testserver.WantCode(t, err, connect.CodeUnauthenticated, "")
}
