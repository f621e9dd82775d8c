package node_test

import (
	"context"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/uptrace/bun"

	"github.com/gpcore/gpcore/internal/catalog"
	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/node"
	"github.com/gpcore/gpcore/internal/pagination"
	"github.com/gpcore/gpcore/internal/project"
	"github.com/gpcore/gpcore/internal/store"
)

// TestLifeCycle orders a node and takes it through every operation to its
// destruction, checking what the node, its server and the pools show.
func TestLifeCycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	c := e.customer(t)
	ctx := t.Context()
	keyID := e.key(t, c)

	o := order(c, "Web1.Example.NET.")
	o.SSHKeyIDs = []string{keyID}
	o.BillingPeriod = node.Monthly
	nodes := e.create(t, c, o)
	if len(nodes) != 1 {
		t.Fatalf("Create returned %d nodes, want 1", len(nodes))
	}
	n := nodes[0]
	if n.FQDN != "web1.example.net" || n.Status != catalog.StateDeploying && n.Status != catalog.StateActive {
		t.Fatalf("new node: %q %s, want web1.example.net DEPLOYING", n.FQDN, n.Status)
	}
	if n.Login != (node.LoginHint{Username: "debian"}) || n.BillingPeriod != node.Monthly || !n.PaidUntil.After(n.CreatedAt.AddDate(0, 0, 27)) {
		t.Fatalf("new node: login %+v, billing %s until %s", n.Login, n.BillingPeriod, n.PaidUntil)
	}
	if n.Datacenter.ID != fra1 || n.Flavour.ID != flavourS1 || n.Image.ID != debian12 || !n.HasConsoleAccess {
		t.Fatalf("new node: datacenter %s, flavour %s, image %s, console %v", n.Datacenter.ID, n.Flavour.ID, n.Image.ID, n.HasConsoleAccess)
	}
	if len(n.Interfaces) != 1 || len(n.Interfaces[0].IPs) != 2 {
		t.Fatalf("new node: interfaces %+v, want one with an IPv4 and an IPv6 address", n.Interfaces)
	}
	if a := netip.MustParseAddr(n.Interfaces[0].IPs[0]); !a.Is4() || !netip.MustParseAddr(n.Interfaces[0].IPs[1]).Is6() {
		t.Fatalf("addresses %v, want IPv4 first", n.Interfaces[0].IPs)
	}
	if limit, current, err := e.nodes.NodeLimit(ctx, c.user.ID); err != nil || limit != 10 || current != 1 {
		t.Fatalf("NodeLimit = %d, %d, %v; want 10, 1", limit, current, err)
	}

	n = e.awaitRest(t, c, n.ID, catalog.StateActive)
	if n.PowerState != catalog.PowerOn {
		t.Fatalf("active node is %s, want ON", n.PowerState)
	}
	logs := e.logs(t, n.ID)
	for _, want := range []string{"INFO Node web1.example.net ordered", "accepted the installation",
		"DEPLOYING → DEPLOY_DONE", "DEPLOY_DONE → ACTIVE", "The installation is done"} {
		if !containsLine(logs, want) {
			t.Errorf("server logs lack %q:\n%s", want, strings.Join(logs, "\n"))
		}
	}

	// Power off and on again.
	if err := e.nodes.Power(ctx, c.user.ID, c.project.ID, n.ID, catalog.PowerOff); err != nil {
		t.Fatal(err)
	}
	e.await(t, c, n.ID, "power off", func(n node.Node) bool { return !n.Busy && n.PowerState == catalog.PowerOff })
	if err := e.nodes.Power(ctx, c.user.ID, c.project.ID, n.ID, catalog.PowerOn); err != nil {
		t.Fatal(err)
	}
	e.await(t, c, n.ID, "power on", func(n node.Node) bool { return !n.Busy && n.PowerState == catalog.PowerOn })
	if err := e.nodes.Power(ctx, c.user.ID, c.project.ID, n.ID, catalog.PowerReset); err != nil {
		t.Fatal(err)
	}
	e.await(t, c, n.ID, "reset", func(n node.Node) bool { return !n.Busy && n.PowerState == catalog.PowerOn })

	// Rescue and back.
	password, err := e.nodes.Rescue(ctx, c.user.ID, c.project.ID, n.ID, true)
	if err != nil || len(password) < 20 {
		t.Fatalf("Rescue on = %q, %v; want a random password", password, err)
	}
	n = e.awaitRest(t, c, n.ID, catalog.StateRescue)
	if n.Login != (node.LoginHint{Username: "root", HasPassword: true}) {
		t.Fatalf("rescue login hint %+v, want root with a password", n.Login)
	}
	if got := e.count(t, "SELECT COUNT(*) FROM node_secrets WHERE node_id = ?", n.ID); got != 0 {
		t.Fatalf("%d secrets kept after the rescue boot, want 0", got)
	}
	if _, err := e.nodes.Rescue(ctx, c.user.ID, c.project.ID, n.ID, false); err != nil {
		t.Fatal(err)
	}
	n = e.awaitRest(t, c, n.ID, catalog.StateActive)

	// Reinstall with another image, name and a password.
	n, err = e.nodes.Reinstall(ctx, c.user.ID, c.project.ID, n.ID, node.Reinstall{
		ImageID: ubuntu24, FQDN: "web2.example.net", Password: "hunter2hunter2",
	})
	if err != nil {
		t.Fatal(err)
	}
	if n.FQDN != "web2.example.net" || n.Image.ID != ubuntu24 || !n.Login.HasPassword {
		t.Fatalf("reinstalled node: %s %s %+v", n.FQDN, n.Image.ID, n.Login)
	}
	n = e.awaitRest(t, c, n.ID, catalog.StateActive)
	if !containsLine(e.logs(t, n.ID), "REBUILD → DEPLOYING") {
		t.Fatalf("reinstall logged no rebuild:\n%s", strings.Join(e.logs(t, n.ID), "\n"))
	}

	// Destroy: the node goes, its server and addresses go back to the pools.
	serverID := e.serverOf(t, n.ID)
	if err := e.nodes.Destroy(ctx, c.user.ID, c.project.ID, n.ID); err != nil {
		t.Fatal(err)
	}
	gone := e.await(t, c, n.ID, "deletion", func(n node.Node) bool { return !n.DeletedAt.IsZero() })
	if gone.Status != catalog.StateDeleted || len(gone.Interfaces) != 0 {
		t.Fatalf("deleted node: %s, interfaces %v", gone.Status, gone.Interfaces)
	}
	if _, err := e.nodes.Get(ctx, c.user.ID, c.project.ID, n.ID); fault.KindOf(err) != fault.KindNotFound {
		t.Fatalf("Get of a deleted node: %v, want NotFound", err)
	}
	if got := e.count(t, "SELECT COUNT(*) FROM servers WHERE id = ? AND provision_state = 'AVAILABLE' AND NOT in_use AND in_pool", serverID); got != 1 {
		t.Fatal("the server is not AVAILABLE and free in the pool")
	}
	if got := e.count(t, "SELECT COUNT(*) FROM ip_addresses WHERE interface_id IS NOT NULL"); got != 0 {
		t.Fatalf("%d addresses still assigned", got)
	}
	if got := e.count(t, "SELECT COUNT(*) FROM nodes WHERE id = ? AND usage_ended_at IS NOT NULL AND usage_ended_at <= deleted_at", n.ID); got != 1 {
		t.Fatal("no final usage recorded")
	}
	if _, current, _ := e.nodes.NodeLimit(ctx, c.user.ID); current != 0 {
		t.Fatalf("node limit counts %d nodes after the destroy", current)
	}
	// The project can be deleted now that its node is gone (it is not the
	// owner's default once another project exists).
	if _, err := e.projects.Create(ctx, c.user.ID, project.CreateInput{Name: "Other"}); err != nil {
		t.Fatal(err)
	}
	if err := e.projects.ChangeDefault(ctx, c.user.ID, e.otherProject(t, c)); err != nil {
		t.Fatal(err)
	}
	if err := e.projects.Delete(ctx, c.user.ID, c.project.ID); err != nil {
		t.Fatalf("Delete project after its node is gone: %v", err)
	}
}

// serverOf returns the id of a node's server.
func (e *env) serverOf(t *testing.T, nodeID string) string {
	t.Helper()
	var id string
	if err := e.db.NewRaw("SELECT server_id FROM nodes WHERE id = ?", nodeID).Scan(t.Context(), &id); err != nil {
		t.Fatal(err)
	}
	return id
}

// otherProject returns the id of a project of the customer's other than
// their first.
func (e *env) otherProject(t *testing.T, c customer) string {
	t.Helper()
	page, _ := pagination.Request{}.Resolve(project.ProjectsPageLimit)
	l, err := e.projects.List(t.Context(), c.user.ID, "", page)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range l.Projects {
		if p.ID != c.project.ID {
			return p.ID
		}
	}
	t.Fatal("no other project")
	return ""
}

// TestOrderRefusals checks every refusal of an order, and that a refused
// order writes nothing.
func TestOrderRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{stopped: true})
	c := e.customer(t)
	ctx := t.Context()
	stranger := e.customer(t)
	strangerKey := e.key(t, stranger)
	e.create(t, c, order(c, "taken.example.net"))

	locked, err := e.projects.Create(ctx, c.user.ID, project.CreateInput{Name: "No billing"})
	if err != nil {
		t.Fatal(err)
	}
	snapshot := func() [5]int {
		return [5]int{
			e.count(t, "SELECT COUNT(*) FROM nodes"),
			e.count(t, "SELECT COUNT(*) FROM servers WHERE in_use"),
			e.count(t, "SELECT COUNT(*) FROM ip_addresses WHERE interface_id IS NOT NULL"),
			e.count(t, "SELECT COUNT(*) FROM river_job"),
			e.count(t, "SELECT COUNT(*) FROM project_logs"),
		}
	}
	before := snapshot()

	with := func(f func(*node.Order)) node.Order {
		o := order(c, "new.example.net")
		f(&o)
		return o
	}
	for _, tc := range []struct {
		name  string
		order node.Order
		kind  fault.Kind
		field string
	}{
		{"no fqdn", with(func(o *node.Order) { o.FQDNs = nil }), fault.KindInvalidArgument, "fqdns"},
		{"bad fqdn", with(func(o *node.Order) { o.FQDNs = []string{"bad_name.example"} }), fault.KindInvalidArgument, "fqdns"},
		{"fqdn twice", with(func(o *node.Order) { o.FQDNs = []string{"a.example", "A.EXAMPLE."} }), fault.KindInvalidArgument, "fqdns"},
		{"short password", with(func(o *node.Order) { o.Password = "short" }), fault.KindInvalidArgument, "password"},
		{"password of one kind", with(func(o *node.Order) { o.Password = "aaaaaaaaaa" }), fault.KindInvalidArgument, "password"},
		{"9-character password", with(func(o *node.Order) { o.Password = "Aaaaaaaa1" }), fault.KindInvalidArgument, "password"},
		{"huge user data", with(func(o *node.Order) { o.UserData = strings.Repeat("x", node.MaxUserDataBytes+1) }), fault.KindInvalidArgument, "user_data"},
		{"billing period", with(func(o *node.Order) { o.BillingPeriod = "WEEKLY" }), fault.KindInvalidArgument, "billing_period"},
		{"not a member", with(func(o *node.Order) { o.ProjectID = stranger.project.ID }), fault.KindNotFound, ""},
		{"locked project", with(func(o *node.Order) { o.ProjectID = locked.ID }), fault.KindFailedPrecondition, ""},
		{"node limit", with(func(o *node.Order) {
			o.FQDNs = []string{"n1.example", "n2.example", "n3.example", "n4.example", "n5.example", "n6.example",
				"n7.example", "n8.example", "n9.example", "n10.example"}
		}), fault.KindResourceExhausted, ""},
		{"unknown datacenter", with(func(o *node.Order) { o.DatacenterID = "00000000-0000-4000-8000-000000000000" }), fault.KindNotFound, ""},
		{"coming soon", with(func(o *node.Order) { o.DatacenterID = ber1 }), fault.KindFailedPrecondition, "datacenter_id"},
		{"flavour not offered", with(func(o *node.Order) { o.FlavourID = "00000000-0000-4000-8000-000000000000" }), fault.KindNotFound, ""},
		{"out of stock", with(func(o *node.Order) { o.FlavourID = flavourXL }), fault.KindResourceExhausted, "flavour_id"},
		{"too few servers", with(func(o *node.Order) {
			o.FlavourID = flavourL1
			o.FQDNs = []string{"l1.example", "l2.example", "l3.example"}
		}), fault.KindResourceExhausted, "flavour_id"},
		{"unknown image", with(func(o *node.Order) { o.ImageID = "00000000-0000-4000-8000-000000000000" }), fault.KindNotFound, ""},
		{"unavailable image", with(func(o *node.Order) { o.ImageID = ubuntu20 }), fault.KindFailedPrecondition, "image_id"},
		{"image not for flavour", with(func(o *node.Order) { o.ImageID = windows }), fault.KindFailedPrecondition, "image_id"},
		{"keys on a password-only image", with(func(o *node.Order) {
			o.FlavourID, o.ImageID, o.SSHKeyIDs = flavourM1, windows, []string{e.key(t, c)}
		}), fault.KindFailedPrecondition, "ssh_key_ids"},
		{"key of a stranger", with(func(o *node.Order) { o.SSHKeyIDs = []string{strangerKey} }), fault.KindInvalidArgument, "ssh_key_ids"},
		{"name taken", with(func(o *node.Order) { o.FQDNs = []string{"Taken.Example.Net."} }), fault.KindAlreadyExists, "fqdns"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.nodes.Create(ctx, c.user.ID, tc.order)
			wantFault(t, err, tc.kind, tc.field)
			if after := snapshot(); after != before {
				t.Fatalf("a refused order wrote something: %v -> %v", before, after)
			}
		})
	}

	// Password-only and key-only images.
	e.exec(t, "UPDATE images SET auth_password = FALSE WHERE id = ?", debian12)
	_, err = e.nodes.Create(ctx, c.user.ID, order(c, "keys-only.example"))
	wantFault(t, err, fault.KindFailedPrecondition, "ssh_key_ids")
	o := order(c, "keys-only.example")
	o.Password = "hunter2hunter2"
	o.SSHKeyIDs = []string{e.key(t, c)}
	_, err = e.nodes.Create(ctx, c.user.ID, o)
	wantFault(t, err, fault.KindFailedPrecondition, "password")
}

// TestSecretsLiveUntilHandedOver checks that a root password is stored only
// until the driver has it, and never for a keys-only node.
func TestSecretsLiveUntilHandedOver(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{stopped: true})
	c := e.customer(t)
	withPassword := e.create(t, c, order(c, "generated.example"))[0]
	o := order(c, "keys.example")
	o.SSHKeyIDs = []string{e.key(t, c)}
	keysOnly := e.create(t, c, o)[0]
	if !withPassword.Login.HasPassword || keysOnly.Login.HasPassword {
		t.Fatalf("login hints: generated %+v, keys only %+v", withPassword.Login, keysOnly.Login)
	}
	if got := e.count(t, "SELECT COUNT(*) FROM node_secrets WHERE kind = 'ROOT_PASSWORD'"); got != 1 {
		t.Fatalf("%d root passwords stored before the install, want 1 (the generated one)", got)
	}
	e.startQueue(t, e.queue)
	e.awaitRest(t, c, withPassword.ID, catalog.StateActive)
	e.awaitRest(t, c, keysOnly.ID, catalog.StateActive)
	if got := e.count(t, "SELECT COUNT(*) FROM node_secrets"); got != 0 {
		t.Fatalf("%d secrets left after the installs, want 0", got)
	}
}

// usageQueries counts the queries that read the usage phases.
type usageQueries struct{ n atomic.Int64 }

func (*usageQueries) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

func (q *usageQueries) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	if strings.Contains(e.Query, "node_usage_phases") {
		q.n.Add(1)
	}
}

// TestListReadsUsageOnce: a page of nodes reads the billing of all its
// nodes in one query, not one per node.
func TestListReadsUsageOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{stopped: true})
	c := e.customer(t)
	e.create(t, c, order(c, "u1.example", "u2.example", "u3.example", "u4.example"))
	counter := &usageQueries{}
	nodes, err := node.New(&store.DB{DB: e.db.DB.WithQueryHook(counter), Dialect: e.db.Dialect}, node.Config{
		Catalog: catalog.New(e.db), Projects: e.projects, Keys: e.keys, Hub: e.hub, Queue: e.queue,
		Driver: e.sim, ConsoleTokens: e.issuer,
	})
	if err != nil {
		t.Fatal(err)
	}
	got, total, err := nodes.List(t.Context(), c.user.ID, c.project.ID, node.Query{}, pagination.Page{Number: 1, Limit: node.NodesPageLimit})
	if err != nil || total != 4 || len(got) != 4 {
		t.Fatalf("List: %d of %d, %v", len(got), total, err)
	}
	for _, n := range got {
		if n.BillingPeriod != node.Hourly || n.PaidUntil.IsZero() {
			t.Fatalf("node %s billed %s until %s", n.FQDN, n.BillingPeriod, n.PaidUntil)
		}
	}
	if q := counter.n.Load(); q != 1 {
		t.Fatalf("a page of 4 nodes read the usage with %d queries, want 1", q)
	}
}
