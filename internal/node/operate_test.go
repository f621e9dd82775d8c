package node_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gpcore/gpcore/internal/catalog"
	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/node"
	"github.com/gpcore/gpcore/internal/pagination"
	"github.com/gpcore/gpcore/internal/provision"
	"github.com/gpcore/gpcore/internal/provision/sim"
)

// failAll makes the next operation of every server of a flavour in fra1
// fail in state in.
func (e *env) failAll(t *testing.T, flavourID string, in catalog.ProvisionState, lastError string) {
	t.Helper()
	var ids []string
	if err := e.db.NewRaw("SELECT id FROM servers WHERE flavour_id = ? AND datacenter_id = ?", flavourID, fra1).Scan(t.Context(), &ids); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if err := e.sim.Fail(id, in, lastError); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFailedInstallThenReinstall: a deploy that fails leaves the node in
// DEPLOY_FAIL with the hardware's error; a reinstall recovers it.
func TestFailedInstallThenReinstall(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	c := e.customer(t)
	e.failAll(t, flavourL1, catalog.StateDeployWait, "PXE boot timed out")
	o := order(c, "flaky.example")
	o.FlavourID = flavourL1
	n := e.create(t, c, o)[0]
	n = e.awaitRest(t, c, n.ID, catalog.StateDeployFail)
	if n.LastError != "PXE boot timed out" {
		t.Fatalf("last error %q", n.LastError)
	}
	logs := e.logs(t, n.ID)
	if !containsLine(logs, ": PXE boot timed out") || !containsLine(logs, "ERROR The installation failed") {
		t.Fatalf("logs:\n%s", strings.Join(logs, "\n"))
	}
	// Power makes no sense on a failed install; a reinstall does.
	wantFault(t, e.nodes.Power(t.Context(), c.user.ID, c.project.ID, n.ID, catalog.PowerOff), fault.KindFailedPrecondition, "")
	if _, err := e.nodes.Reinstall(t.Context(), c.user.ID, c.project.ID, n.ID, node.Reinstall{}); err != nil {
		t.Fatal(err)
	}
	n = e.awaitRest(t, c, n.ID, catalog.StateActive)
	if n.LastError != "" {
		t.Fatalf("last error %q after a successful reinstall", n.LastError)
	}
}

// TestFailedCleaning: a node whose server fails to clean is deleted all
// the same, and the server stays out of the pool for an operator.
func TestFailedCleaning(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	c := e.customer(t)
	n := e.create(t, c, order(c, "dirty.example"))[0]
	e.awaitRest(t, c, n.ID, catalog.StateActive)
	serverID := e.serverOf(t, n.ID)
	if err := e.sim.Fail(serverID, catalog.StateCleanWait, "disk erase failed"); err != nil {
		t.Fatal(err)
	}
	if err := e.nodes.Destroy(t.Context(), c.user.ID, c.project.ID, n.ID); err != nil {
		t.Fatal(err)
	}
	e.await(t, c, n.ID, "deletion", func(n node.Node) bool { return !n.DeletedAt.IsZero() })
	if got := e.count(t, "SELECT COUNT(*) FROM servers WHERE id = ? AND provision_state = 'CLEAN_FAIL' AND NOT in_pool AND NOT in_use", serverID); got != 1 {
		t.Fatal("the server that failed to clean is not CLEAN_FAIL and out of the pool")
	}
	if got := e.count(t, "SELECT COUNT(*) FROM ip_addresses WHERE interface_id IS NOT NULL"); got != 0 {
		t.Fatalf("%d addresses still assigned", got)
	}
	if !containsLine(e.logs(t, n.ID), "ERROR Node dirty.example deleted, but cleaning failed") {
		t.Fatalf("logs:\n%s", strings.Join(e.logs(t, n.ID), "\n"))
	}
}

// TestPowerFailureIsRetried: an unreachable BMC fails the power job's
// attempt, and the retry succeeds.
func TestPowerFailureIsRetried(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	c := e.customer(t)
	n := e.create(t, c, order(c, "bmc.example"))[0]
	e.awaitRest(t, c, n.ID, catalog.StateActive)
	e.sim.FailPower(e.serverOf(t, n.ID), "BMC unreachable")
	if err := e.nodes.Power(t.Context(), c.user.ID, c.project.ID, n.ID, catalog.PowerOff); err != nil {
		t.Fatal(err)
	}
	e.await(t, c, n.ID, "power off", func(n node.Node) bool { return !n.Busy && n.PowerState == catalog.PowerOff })
}

// gatedPower is a provisioning driver whose SetPower waits until release
// is closed.
type gatedPower struct {
	provision.Driver
	release chan struct{}
}

func (d *gatedPower) SetPower(ctx context.Context, s provision.Server, target catalog.PowerState) error {
	select {
	case <-d.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	return d.Driver.SetPower(ctx, s, target)
}

// TestResetShowsWhileUnderWay: a reset leaves the power on, so the node
// shows power RESET from the request until the reset has ended, and ON
// again after.
func TestResetShowsWhileUnderWay(t *testing.T) {
	t.Parallel()
	hw := &gatedPower{release: make(chan struct{})}
	e := newEnv(t, envOptions{driver: func(s *sim.Driver) provision.Driver { hw.Driver = s; return hw }})
	release := sync.OnceFunc(func() { close(hw.release) })
	t.Cleanup(release) // before the queue stops
	c := e.customer(t)
	n := e.create(t, c, order(c, "reset.example"))[0]
	e.awaitRest(t, c, n.ID, catalog.StateActive)
	if err := e.nodes.Power(t.Context(), c.user.ID, c.project.ID, n.ID, catalog.PowerReset); err != nil {
		t.Fatal(err)
	}
	got, err := e.nodes.Get(t.Context(), c.user.ID, c.project.ID, n.ID)
	if err != nil || got.PowerState != catalog.PowerReset || !got.Busy || got.Status != catalog.StateActive {
		t.Fatalf("node being reset: power %s, busy %v, %s (%v); want RESET, busy, ACTIVE", got.PowerState, got.Busy, got.Status, err)
	}
	release()
	e.await(t, c, n.ID, "the end of the reset", func(n node.Node) bool { return !n.Busy && n.PowerState == catalog.PowerOn })
}

// TestBusyAndSenselessRequestsAreRefused: a node takes one request at a
// time, and only those its state allows.
func TestBusyAndSenselessRequestsAreRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{stopped: true})
	c := e.customer(t)
	ctx := t.Context()
	n := e.create(t, c, order(c, "busy.example"))[0]
	user, proj := c.user.ID, c.project.ID

	// While the install is pending, nothing else is accepted.
	wantFault(t, e.nodes.Power(ctx, user, proj, n.ID, catalog.PowerOff), fault.KindFailedPrecondition, "")
	_, err := e.nodes.Rescue(ctx, user, proj, n.ID, true)
	wantFault(t, err, fault.KindFailedPrecondition, "")
	_, err = e.nodes.Reinstall(ctx, user, proj, n.ID, node.Reinstall{})
	wantFault(t, err, fault.KindFailedPrecondition, "")
	wantFault(t, e.nodes.Destroy(ctx, user, proj, n.ID), fault.KindFailedPrecondition, "")
	// Renaming is fine meanwhile.
	if _, err := e.nodes.Update(ctx, user, proj, n.ID, node.Update{FQDN: "renamed.example"}); err != nil {
		t.Fatal(err)
	}

	e.startQueue(t, e.queue)
	e.awaitRest(t, c, n.ID, catalog.StateActive)
	wantFault(t, e.nodes.Power(ctx, user, proj, n.ID, catalog.PowerOn), fault.KindFailedPrecondition, "")
	wantFault(t, e.nodes.Power(ctx, user, proj, n.ID, "SIDEWAYS"), fault.KindInvalidArgument, "power_state")
	_, err = e.nodes.Rescue(ctx, user, proj, n.ID, false)
	wantFault(t, err, fault.KindFailedPrecondition, "")
	if err := e.nodes.Power(ctx, user, proj, n.ID, catalog.PowerOff); err != nil {
		t.Fatal(err)
	}
	e.await(t, c, n.ID, "power off", func(n node.Node) bool { return !n.Busy && n.PowerState == catalog.PowerOff })
	wantFault(t, e.nodes.Power(ctx, user, proj, n.ID, catalog.PowerOff), fault.KindFailedPrecondition, "")
	wantFault(t, e.nodes.Power(ctx, user, proj, n.ID, catalog.PowerReset), fault.KindFailedPrecondition, "")

	// Another project's member sees nothing of the node.
	other := e.customer(t)
	wantFault(t, e.nodes.Power(ctx, other.user.ID, proj, n.ID, catalog.PowerOn), fault.KindNotFound, "")
	wantFault(t, e.nodes.Destroy(ctx, other.user.ID, other.project.ID, n.ID), fault.KindNotFound, "")
	_, err = e.nodes.Get(ctx, other.user.ID, proj, n.ID)
	wantFault(t, err, fault.KindNotFound, "")
	_, err = e.nodes.Console(ctx, other.user.ID, n.ID)
	wantFault(t, err, fault.KindNotFound, "")
}

func TestUpdate(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{stopped: true})
	c := e.customer(t)
	ctx := t.Context()
	nodes := e.create(t, c, order(c, "a.example", "b.example"))
	a, b := nodes[0], nodes[1]

	got, err := e.nodes.Update(ctx, c.user.ID, c.project.ID, a.ID, node.Update{
		FQDN: "A1.Example.", Tags: map[string]string{"env": "prod", "team": "web"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.FQDN != "a1.example" || got.Tags["env"] != "prod" || got.Tags["team"] != "web" {
		t.Fatalf("updated node: %s %v", got.FQDN, got.Tags)
	}
	got, err = e.nodes.Update(ctx, c.user.ID, c.project.ID, a.ID, node.Update{Tags: map[string]string{"env": "", "tier": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Tags) != 2 || got.Tags["team"] != "web" || got.Tags["tier"] != "1" {
		t.Fatalf("tags after a merge that removes env: %v", got.Tags)
	}
	_, err = e.nodes.Update(ctx, c.user.ID, c.project.ID, b.ID, node.Update{FQDN: "a1.example"})
	wantFault(t, err, fault.KindAlreadyExists, "fqdn")
	_, err = e.nodes.Update(ctx, c.user.ID, c.project.ID, b.ID, node.Update{FQDN: "-bad"})
	wantFault(t, err, fault.KindInvalidArgument, "fqdn")
	_, err = e.nodes.Update(ctx, c.user.ID, c.project.ID, b.ID, node.Update{Tags: map[string]string{"bad key": "x"}})
	wantFault(t, err, fault.KindInvalidArgument, "tags")
	_, err = e.nodes.Update(ctx, c.user.ID, c.project.ID, b.ID, node.Update{Tags: map[string]string{"k": "line\nbreak"}})
	wantFault(t, err, fault.KindInvalidArgument, "tags")
}

func TestChangeBillingPeriod(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{stopped: true})
	c := e.customer(t)
	ctx := t.Context()
	n := e.create(t, c, order(c, "billed.example"))[0]
	if n.BillingPeriod != node.Hourly || n.TargetBillingPeriod != "" || !n.PaidUntil.Equal(n.CreatedAt.Truncate(time.Hour).Add(time.Hour)) {
		t.Fatalf("new node billed %s (pending %q) until %s", n.BillingPeriod, n.TargetBillingPeriod, n.PaidUntil)
	}
	_, err := e.nodes.ChangeBillingPeriod(ctx, c.user.ID, c.project.ID, n.ID, node.Hourly)
	wantFault(t, err, fault.KindFailedPrecondition, "")
	n, err = e.nodes.ChangeBillingPeriod(ctx, c.user.ID, c.project.ID, n.ID, node.Monthly)
	if err != nil || n.BillingPeriod != node.Hourly || n.TargetBillingPeriod != node.Monthly {
		t.Fatalf("after asking for monthly: %s pending %q, %v", n.BillingPeriod, n.TargetBillingPeriod, err)
	}
	_, err = e.nodes.ChangeBillingPeriod(ctx, c.user.ID, c.project.ID, n.ID, node.Monthly)
	wantFault(t, err, fault.KindFailedPrecondition, "")
	n, err = e.nodes.ChangeBillingPeriod(ctx, c.user.ID, c.project.ID, n.ID, node.Hourly)
	if err != nil || n.TargetBillingPeriod != "" {
		t.Fatalf("after cancelling: pending %q, %v", n.TargetBillingPeriod, err)
	}
	_, err = e.nodes.ChangeBillingPeriod(ctx, c.user.ID, c.project.ID, n.ID, "YEARLY")
	wantFault(t, err, fault.KindInvalidArgument, "billing_period")
}

func TestListAndSearch(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	c := e.customer(t)
	ctx := t.Context()
	nodes := e.create(t, c, order(c, "web1.example", "web2.example", "db1.example"))
	for _, n := range nodes {
		e.awaitRest(t, c, n.ID, catalog.StateActive)
	}
	web1, web2, db1 := nodes[0], nodes[1], nodes[2]
	if _, err := e.nodes.Update(ctx, c.user.ID, c.project.ID, web1.ID, node.Update{Tags: map[string]string{"env": "prod"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.nodes.Update(ctx, c.user.ID, c.project.ID, db1.ID, node.Update{Tags: map[string]string{"env": "staging", "Role": "DB"}}); err != nil {
		t.Fatal(err)
	}
	if err := e.nodes.Power(ctx, c.user.ID, c.project.ID, web2.ID, catalog.PowerOff); err != nil {
		t.Fatal(err)
	}
	e.await(t, c, web2.ID, "power off", func(n node.Node) bool { return !n.Busy && n.PowerState == catalog.PowerOff })
	other := e.customer(t)
	e.create(t, other, order(other, "web9.example"))

	all := pagination.Page{Number: 1, Limit: node.NodesPageLimit}
	list := func(q node.Query, page pagination.Page) ([]string, int64) {
		t.Helper()
		got, total, err := e.nodes.List(ctx, c.user.ID, c.project.ID, q, page)
		if err != nil {
			t.Fatalf("List(%+v): %v", q, err)
		}
		names := make([]string, len(got))
		for i, n := range got {
			names[i] = n.FQDN
		}
		return names, total
	}
	ip := strings.ToUpper(db1.Interfaces[0].IPs[1]) // IPv6, searched without case
	for _, tc := range []struct {
		name string
		q    node.Query
		want string
	}{
		{"everything", node.Query{}, "db1.example web1.example web2.example"},
		{"fqdn", node.Query{Search: "WEB"}, "web1.example web2.example"},
		{"two terms", node.Query{Search: "web prod"}, "web1.example"},
		{"ip", node.Query{Search: ip}, "db1.example"},
		{"tag", node.Query{Search: "env=prod"}, "web1.example"},
		{"tag value", node.Query{Search: "staging"}, "db1.example"},
		{"status", node.Query{Search: "active"}, "db1.example web1.example web2.example"},
		{"wildcards are literal", node.Query{Search: "w_b%"}, ""},
		{"filter fqdn", node.Query{Filters: []node.Filter{{Name: "fqdn", Value: "DB"}}}, "db1.example"},
		{"filter tag key", node.Query{Filters: []node.Filter{{Name: "tag", Value: "env"}}}, "db1.example web1.example"},
		{"filter tag", node.Query{Filters: []node.Filter{{Name: "tag", Value: "role=db"}}}, "db1.example"},
		{"filter power", node.Query{Filters: []node.Filter{{Name: "power_state", Value: "OFF"}}}, "web2.example"},
		{"filter status", node.Query{Filters: []node.Filter{{Name: "status", Value: "ACTIVE"}}}, "db1.example web1.example web2.example"},
		{"filter datacenter", node.Query{Filters: []node.Filter{{Name: "datacenter_id", Value: fra1}}}, "db1.example web1.example web2.example"},
		{"filter datacenter in upper case", node.Query{Filters: []node.Filter{{Name: "datacenter_id", Value: strings.ToUpper(fra1)}}}, "db1.example web1.example web2.example"},
		{"filter flavour", node.Query{Filters: []node.Filter{{Name: "flavour_id", Value: flavourS1}}}, "db1.example web1.example web2.example"},
		{"filter other flavour", node.Query{Filters: []node.Filter{{Name: "flavour_id", Value: flavourM1}}}, ""},
		{"filters and term", node.Query{Search: "web", Filters: []node.Filter{{Name: "power_state", Value: "ON"}}}, "web1.example"},
	} {
		names, total := list(tc.q, all)
		if got := strings.Join(names, " "); got != tc.want || total != int64(len(names)) {
			t.Errorf("%s: %q (total %d), want %q", tc.name, got, total, tc.want)
		}
	}
	names, total := list(node.Query{}, pagination.Page{Number: 2, Limit: 2})
	if strings.Join(names, " ") != "web2.example" || total != 3 {
		t.Fatalf("page 2 of 2: %v, total %d", names, total)
	}
	_, _, err := e.nodes.List(ctx, c.user.ID, c.project.ID, node.Query{Filters: []node.Filter{{Name: "colour", Value: "red"}}}, all)
	wantFault(t, err, fault.KindInvalidArgument, "extended_search.filters[0]")
	_, _, err = e.nodes.List(ctx, c.user.ID, c.project.ID, node.Query{Filters: []node.Filter{{Name: "status", Value: "NAPPING"}}}, all)
	wantFault(t, err, fault.KindInvalidArgument, "extended_search.filters[0]")
	for _, name := range []string{"datacenter_id", "flavour_id", "image_id"} {
		_, _, err = e.nodes.List(ctx, c.user.ID, c.project.ID, node.Query{Filters: []node.Filter{
			{Name: "fqdn", Value: "web"}, {Name: name, Value: "not-a-uuid"},
		}}, all)
		wantFault(t, err, fault.KindInvalidArgument, "extended_search.filters[1]")
	}
	_, _, err = e.nodes.List(ctx, other.user.ID, c.project.ID, node.Query{}, all)
	wantFault(t, err, fault.KindNotFound, "")

	opts, err := e.nodes.SearchOptions(ctx, c.user.ID, c.project.ID)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]node.SearchOption{}
	for _, o := range opts {
		byName[o.Name] = o
	}
	for _, name := range []string{"fqdn", "ip", "tag", "status", "power_state", "datacenter_id", "flavour_id", "image_id", "billing_period"} {
		if _, ok := byName[name]; !ok {
			t.Errorf("no search option %q", name)
		}
	}
	if byName["datacenter_id"].Values[fra1] != "Frankfurt" || byName["flavour_id"].Values[flavourS1] != "BM-S1" || len(byName["image_id"].Values) != 1 {
		t.Errorf("dropdowns: %v %v %v", byName["datacenter_id"].Values, byName["flavour_id"].Values, byName["image_id"].Values)
	}
}

// faultyDriver is a provisioning driver that refuses the requests named in
// refuse, and stops answering altogether once down is set.
type faultyDriver struct {
	provision.Driver
	down   atomic.Bool
	refuse map[string]error
}

func (d *faultyDriver) Rebuild(ctx context.Context, s provision.Server, dep provision.Deployment) error {
	if err := d.refuse["Rebuild"]; err != nil {
		return err
	}
	return d.Driver.Rebuild(ctx, s, dep)
}

func (d *faultyDriver) GetState(ctx context.Context, s provision.Server) (provision.State, error) {
	if d.down.Load() {
		return provision.State{}, errors.New("connection refused")
	}
	return d.Driver.GetState(ctx, s)
}

// TestRefusalFailsTheOperation: a request the driver refuses ends in the
// operation's failure state with the refusal as the last error, and the
// node takes a destroy.
func TestRefusalFailsTheOperation(t *testing.T) {
	t.Parallel()
	hw := &faultyDriver{refuse: map[string]error{"Rebuild": fault.Precondition("no such image on the mirror")}}
	e := newEnv(t, envOptions{driver: func(s *sim.Driver) provision.Driver { hw.Driver = s; return hw }})
	c := e.customer(t)
	n := e.create(t, c, order(c, "refused.example"))[0]
	e.awaitRest(t, c, n.ID, catalog.StateActive)
	if _, err := e.nodes.Reinstall(t.Context(), c.user.ID, c.project.ID, n.ID, node.Reinstall{}); err != nil {
		t.Fatal(err)
	}
	n = e.awaitRest(t, c, n.ID, catalog.StateDeployFail)
	if want := "The provisioning backend refused the reinstallation: no such image on the mirror"; n.LastError != want {
		t.Fatalf("last error %q, want %q", n.LastError, want)
	}
	logs := e.logs(t, n.ID)
	if !containsLine(logs, "ERROR The provisioning backend refused the reinstallation: no such image on the mirror (REBUILD → DEPLOY_FAIL)") ||
		!containsLine(logs, "ERROR The reinstallation failed: the server is DEPLOY_FAIL") {
		t.Fatalf("logs:\n%s", strings.Join(logs, "\n"))
	}
	if err := e.nodes.Destroy(t.Context(), c.user.ID, c.project.ID, n.ID); err != nil {
		t.Fatal(err)
	}
	e.await(t, c, n.ID, "deletion", func(n node.Node) bool { return !n.DeletedAt.IsZero() })
}

// TestGiveUpWhileCleaning: a destroy whose job runs out of attempts while
// the server cleans ends as a failed cleaning does: the node is deleted,
// its addresses released, and the server, CLEAN_FAIL with the reason, stays
// out of the pool for an operator.
func TestGiveUpWhileCleaning(t *testing.T) {
	t.Parallel()
	clock := &manualClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	hw := &faultyDriver{}
	e := newEnv(t, envOptions{
		sim:         &sim.Config{Clock: clock, Durations: sim.DefaultDurations()},
		driver:      func(s *sim.Driver) provision.Driver { hw.Driver = s; return hw },
		maxAttempts: 1,
	})
	c := e.customer(t)
	n := e.create(t, c, order(c, "unreachable.example"))[0]
	e.await(t, c, n.ID, "the install request", func(node.Node) bool {
		return e.count(t, "SELECT COUNT(*) FROM nodes WHERE id = ? AND operation_requested_at IS NOT NULL", n.ID) == 1
	})
	clock.Advance(time.Hour)
	e.awaitRest(t, c, n.ID, catalog.StateActive)
	serverID := e.serverOf(t, n.ID)
	if err := e.nodes.Destroy(t.Context(), c.user.ID, c.project.ID, n.ID); err != nil {
		t.Fatal(err)
	}
	e.await(t, c, n.ID, "the destroy request", func(node.Node) bool {
		return e.count(t, "SELECT COUNT(*) FROM nodes WHERE id = ? AND operation_requested_at IS NOT NULL", n.ID) == 1
	})
	clock.Advance(7 * time.Second) // DELETING 2 s, DELETED 1 s, CLEANING 3 s: waiting for the cleaning agent
	e.await(t, c, n.ID, "cleaning", func(n node.Node) bool { return n.Status == catalog.StateCleanWait })
	hw.down.Store(true)
	e.await(t, c, n.ID, "deletion", func(n node.Node) bool { return !n.DeletedAt.IsZero() })
	if got := e.count(t, "SELECT COUNT(*) FROM servers WHERE id = ? AND provision_state = 'CLEAN_FAIL' AND NOT in_pool AND NOT in_use AND last_error LIKE ?",
		serverID, "%could not be reached; the teardown and cleaning was given up%"); got != 1 {
		t.Fatal("the server whose cleaning was given up is not CLEAN_FAIL, with the reason, out of the pool")
	}
	if got := e.count(t, "SELECT COUNT(*) FROM ip_addresses WHERE interface_id IS NOT NULL"); got != 0 {
		t.Fatalf("%d addresses still assigned", got)
	}
	if logs := e.logs(t, n.ID); !containsLine(logs, "(CLEAN_WAIT → CLEAN_FAIL)") || !containsLine(logs, "deleted, but cleaning failed (CLEAN_FAIL)") {
		t.Fatalf("logs:\n%s", strings.Join(logs, "\n"))
	}
}
