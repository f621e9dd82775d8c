package node_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/gpcore/gpcore/internal/auth"
	"github.com/gpcore/gpcore/internal/billing"
	"github.com/gpcore/gpcore/internal/catalog"
	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/identity"
	"github.com/gpcore/gpcore/internal/jobs"
	"github.com/gpcore/gpcore/internal/keyring"
	"github.com/gpcore/gpcore/internal/node"
	"github.com/gpcore/gpcore/internal/notify"
	"github.com/gpcore/gpcore/internal/project"
	"github.com/gpcore/gpcore/internal/provision"
	"github.com/gpcore/gpcore/internal/provision/sim"
	"github.com/gpcore/gpcore/internal/sshkey/sshkeytest"
	"github.com/gpcore/gpcore/internal/store"
	"github.com/gpcore/gpcore/internal/store/storetest"
)

// Ids from the embedded default seed.
const (
	fra1      = "cd7dcddb-8833-4d1f-b4ea-b99de893df8f" // AVAILABLE
	ber1      = "64c0a687-e29f-4070-9e85-581311e0c478" // COMING_SOON
	flavourS1 = "751a633c-c549-4a5f-abc1-bb0715c9f931" // 6 servers in fra1
	flavourM1 = "c2d6e0a5-b374-41c8-8480-ed5711687df1" // 4 servers in fra1
	flavourL1 = "caac5100-a496-4a3c-ac4d-66cf44cd1d6e" // 2 servers in fra1
	flavourXL = "1ff6ebc0-6b8d-4b1b-a71d-8a5237b841d9" // no servers, pre-orders
	debian12  = "f5328dbe-06fe-4ec3-99a2-e701653bb2ea"
	ubuntu24  = "ed7ec3ab-4a45-49e6-a596-f2198d83de34"
	ubuntu20  = "4142ee50-6fb8-45b5-ad69-374a62070cf3" // not available
	windows   = "8d4c7b71-fdd0-4800-bc70-7e7341f258be" // PASSWORD only, not on BM-S1
)

// waitTimeout bounds every wait for something asynchronous; it is a
// safety net against a hung test, not a timing assumption.
const waitTimeout = 60 * time.Second

// env is a node service on a fresh database with the embedded catalog, real
// identity, billing, projects and keys, a notification hub, the simulated
// hardware and a job queue working the node jobs.
type env struct {
	db       *store.DB
	identity *identity.Service
	billing  *billing.Service
	projects *project.Service
	keys     *keyring.Service
	hub      *notify.Hub
	issuer   *auth.Issuer
	nodes    *node.Service
	sim      *sim.Driver
	workers  *river.Workers
	queue    *jobs.Queue
	// now is the clock of the node service, its workers and the issuer.
	now func() time.Time
	// maxAttempts is the jobs' number of attempts (0: the default).
	maxAttempts int
}

// envOptions tune newEnv.
type envOptions struct {
	// stopped leaves the queue stopped: orders are written, nothing is
	// installed until the test calls startQueue.
	stopped bool
	// sim configures the simulated hardware (zero durations if nil).
	sim *sim.Config
	// clock, if set, is the clock of everything: the node service, its
	// workers, the issuer and the simulated hardware (unless sim names
	// another).
	clock *manualClock
	// driver, when set, is the provisioning driver of the queue, given
	// the simulated hardware to wrap.
	driver func(*sim.Driver) provision.Driver
	// maxAttempts is how many attempts each job gets (the queue's default
	// if 0).
	maxAttempts int
}

func newEnv(t *testing.T, opts envOptions) *env {
	t.Helper()
	ctx := t.Context()
	db := storetest.New(t)
	if err := jobs.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	if err := catalog.Seed(ctx, db, catalog.DefaultSeed()); err != nil {
		t.Fatal(err)
	}
	ids, err := identity.New(db, identity.Config{})
	if err != nil {
		t.Fatal(err)
	}
	bill, err := billing.New(db, billing.Config{})
	if err != nil {
		t.Fatal(err)
	}
	projects, err := project.New(db, project.Config{Billing: bill, DeletionGuards: []project.DeletionGuard{node.DeletionGuard{}}})
	if err != nil {
		t.Fatal(err)
	}
	hub, err := notify.New(ctx, db, notify.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := hub.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = hub.Stop(context.Background()) })
	simCfg := sim.Config{}
	if opts.sim != nil {
		simCfg = *opts.sim
	}
	now := time.Now
	if opts.clock != nil {
		now = opts.clock.Now
		if simCfg.Clock == nil {
			simCfg.Clock = opts.clock
		}
	}
	issuer, err := auth.NewIssuer(ctx, db, ids, auth.Config{PublicURL: "http://gpcore.test", Now: now})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{db: db, identity: ids, billing: bill, projects: projects, keys: keyring.New(db, projects), hub: hub,
		issuer: issuer, sim: sim.New(simCfg), now: now, maxAttempts: opts.maxAttempts}
	var driver provision.Driver = e.sim
	if opts.driver != nil {
		driver = opts.driver(e.sim)
	}
	e.queue = e.newQueue(t, driver)
	e.nodes, err = node.New(db, node.Config{
		Catalog: catalog.New(db), Projects: projects, Keys: e.keys, Hub: hub, Queue: e.queue,
		Driver: driver, ConsoleTokens: issuer, Now: now,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !opts.stopped {
		e.startQueue(t, e.queue)
	}
	return e
}

// newQueue builds a queue that works the node jobs with driver, on the
// env's clock.
func (e *env) newQueue(t *testing.T, driver provision.Driver) *jobs.Queue {
	t.Helper()
	return e.newQueueWith(t, driver, jobs.Config{Logger: slog.New(slog.DiscardHandler)})
}

// newQueueWith builds a queue that works the node jobs with driver, with
// cfg's logger and periodic jobs.
func (e *env) newQueueWith(t *testing.T, driver provision.Driver, cfg jobs.Config) *jobs.Queue {
	t.Helper()
	workers := river.NewWorkers()
	if err := node.AddWorkers(workers, e.db, node.WorkerConfig{
		Projects: e.projects, Hub: e.hub, Driver: driver, PollInterval: 20 * time.Millisecond, Now: e.now,
	}); err != nil {
		t.Fatal(err)
	}
	q, err := jobs.New(e.db, jobs.Config{
		Workers: workers, PollInterval: 100 * time.Millisecond, MaxAttempts: e.maxAttempts, Logger: cfg.Logger, PeriodicJobs: cfg.PeriodicJobs,
	})
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// startQueue starts q until the test ends.
func (e *env) startQueue(t *testing.T, q *jobs.Queue) {
	t.Helper()
	if err := q.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = q.Stop(ctx)
	})
}

// customer is a person with a project that may order (a billing profile
// with a card) and a subscription to their notifications.
type customer struct {
	user    identity.User
	project project.Project
	sub     *notify.Subscription
}

var people atomic.Int64

// customer registers a person, gives them a project billed to a profile
// with a test card, and subscribes to their notifications.
func (e *env) customer(t *testing.T) customer {
	t.Helper()
	ctx := t.Context()
	n := people.Add(1)
	u, err := e.identity.Register(ctx, identity.RegisterInput{
		Email: fmt.Sprintf("customer%d@example.com", n), Password: "Correct-Horse-42", FirstName: "Test", LastName: "Customer",
	})
	if err != nil {
		t.Fatal(err)
	}
	profile, err := e.billing.CreateProfile(ctx, u.ID, billing.ProfileInput{
		Name: "Ops", Company: "Example Inc.", CountryCode: "US", Street: "1 Main St", City: "Springfield",
		Postcode: "12345", BillingEmail: "billing@example.com",
	})
	if err != nil {
		t.Fatal(err)
	}
	setup, err := e.billing.BeginCardSetup(ctx, u.ID, profile.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.billing.ConfirmTestCard(ctx, setup.ID, "tok_visa"); err != nil {
		t.Fatal(err)
	}
	p, err := e.projects.Create(ctx, u.ID, project.CreateInput{Name: "Production", BillingProfileID: profile.ID})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := e.hub.Subscribe(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sub.Close)
	return customer{user: u, project: p, sub: sub}
}

// key stores a fresh SSH key for the customer and returns its id.
func (e *env) key(t *testing.T, c customer) string {
	t.Helper()
	k, err := e.keys.Create(t.Context(), c.user.ID, "laptop", sshkeytest.Ed25519(t, "me@laptop"))
	if err != nil {
		t.Fatal(err)
	}
	return k.ID
}

// order is a one-node order of a BM-S1 in fra1 with Debian.
func order(c customer, fqdns ...string) node.Order {
	return node.Order{ProjectID: c.project.ID, DatacenterID: fra1, FlavourID: flavourS1, ImageID: debian12, FQDNs: fqdns}
}

// create orders and fails the test on a refusal.
func (e *env) create(t *testing.T, c customer, o node.Order) []node.Node {
	t.Helper()
	nodes, err := e.nodes.Create(t.Context(), c.user.ID, o)
	if err != nil {
		t.Fatalf("Create(%v): %v", o.FQDNs, err)
	}
	return nodes
}

// await waits, reading the customer's notifications, until the node (as
// Changed shows it) satisfies ok, and returns it.
func (e *env) await(t *testing.T, c customer, nodeID, what string, ok func(node.Node) bool) node.Node {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	for {
		ch, err := e.nodes.Changed(ctx, c.project.ID, nodeID)
		if err != nil {
			t.Fatalf("Changed(%s): %v", nodeID, err)
		}
		if !ch.VisibleTo(c.user.ID) {
			t.Fatalf("Changed(%s): not visible to the project's member", nodeID)
		}
		n := ch.Node
		if ok(n) {
			return n
		}
		select {
		case _, open := <-c.sub.Events():
			if !open {
				t.Fatalf("subscription ended (%v) while waiting for %s", c.sub.Err(), what)
			}
		case <-ctx.Done():
			t.Fatalf("no %s: node %s is %s (busy %v, power %s)", what, n.FQDN, n.Status, n.Busy, n.PowerState)
		}
	}
}

// awaitRest waits until the node is at rest in state.
func (e *env) awaitRest(t *testing.T, c customer, nodeID string, state catalog.ProvisionState) node.Node {
	t.Helper()
	return e.await(t, c, nodeID, "rest in "+string(state), func(n node.Node) bool { return !n.Busy && n.Status == state })
}

// wantFault fails the test unless err is a fault of kind naming field
// (when field is not empty).
func wantFault(t *testing.T, err error, kind fault.Kind, field string) {
	t.Helper()
	if err == nil || fault.KindOf(err) != kind {
		t.Fatalf("err = %v, want a fault of kind %d", err, kind)
	}
	var fe *fault.Error
	if field != "" && (!errors.As(err, &fe) || fe.Field != field) {
		t.Fatalf("err = %v, want field %q", err, field)
	}
}

// count runs a COUNT(*) query.
func (e *env) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := e.db.NewRaw(query, args...).Scan(t.Context(), &n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// exec runs a statement.
func (e *env) exec(t *testing.T, query string, args ...any) {
	t.Helper()
	if _, err := e.db.NewRaw(query, args...).Exec(t.Context()); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// logs returns the messages of a node's server logs, oldest first.
func (e *env) logs(t *testing.T, nodeID string) []string {
	t.Helper()
	var msgs []string
	if err := e.db.NewRaw("SELECT level || ' ' || message FROM server_logs WHERE node_id = ? ORDER BY created_at, id", nodeID).
		Scan(t.Context(), &msgs); err != nil {
		t.Fatal(err)
	}
	return msgs
}

// containsLine reports whether some line contains s.
func containsLine(lines []string, s string) bool {
	for _, l := range lines {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}
