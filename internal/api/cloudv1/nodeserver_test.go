package cloudv1_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/riverqueue/river"

	"github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1/cloudv1connect"
	apicloudv1 "github.com/gpcore/gpcore/internal/api/cloudv1"
	"github.com/gpcore/gpcore/internal/api/interceptor"
	"github.com/gpcore/gpcore/internal/auth"
	"github.com/gpcore/gpcore/internal/billing"
	"github.com/gpcore/gpcore/internal/billing/billingtest"
	"github.com/gpcore/gpcore/internal/catalog"
	"github.com/gpcore/gpcore/internal/identity"
	"github.com/gpcore/gpcore/internal/jobs"
	"github.com/gpcore/gpcore/internal/keyring"
	"github.com/gpcore/gpcore/internal/node"
	"github.com/gpcore/gpcore/internal/notify"
	"github.com/gpcore/gpcore/internal/project"
	"github.com/gpcore/gpcore/internal/provision"
	"github.com/gpcore/gpcore/internal/provision/sim"
	"github.com/gpcore/gpcore/internal/store"
	"github.com/gpcore/gpcore/internal/store/storetest"
	"github.com/gpcore/gpcore/internal/testserver"
)

// nodeServer is CloudService v1 on an in-process server, with the
// interceptors gpcore puts in front of it (errors, authorization), over a
// node domain whose hardware and job queue the test controls: the
// simulated datacenter behind a driver (hardware) that refuses requests,
// cannot be reached or stalls when the test says so, jobs with as many
// attempts as the test gives them, a queue the test can crash and start
// again, and a clock the test can move.
type nodeServer struct {
	url      string
	db       *store.DB
	identity *identity.Service
	issuer   *auth.Issuer
	billing  *billing.Service
	projects *project.Service
	hub      *notify.Hub
	nodes    *node.Service
	// hw is the provisioning driver: sim behind the test's faults.
	hw  *hardware
	sim *sim.Driver
	// maxAttempts is each job's number of attempts.
	maxAttempts int
	// queue is the queue working the jobs now.
	queue *jobs.Queue
	// now is the node domain's clock.
	now func() time.Time
}

// nodeServerOptions tune startNodeServer.
type nodeServerOptions struct {
	// maxAttempts is how many attempts a job gets (jobs.DefaultMaxAttempts
	// if 0); 1 makes the first failure the last.
	maxAttempts int
	// clock is the node domain's clock (the system's if nil), which the
	// test moves past the end of a billing term.
	clock *billingtest.Clock
}

// billingChangeInterval is how often the node_billing_changes job runs in
// tests: soon after the test moves the clock.
const billingChangeInterval = 100 * time.Millisecond

func startNodeServer(t *testing.T, opts nodeServerOptions) *nodeServer {
	t.Helper()
	ctx := t.Context()
	db := storetest.New(t)
	if err := jobs.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	if err := catalog.Seed(ctx, db, catalog.DefaultSeed()); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	ids, err := identity.New(db, identity.Config{})
	if err != nil {
		t.Fatal(err)
	}
	issuer, err := auth.NewIssuer(ctx, db, ids, auth.Config{PublicURL: "http://127.0.0.1", AccessTokenTTL: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	b, err := billing.New(db, billing.Config{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	projects, err := project.New(db, project.Config{Billing: b, DeletionGuards: []project.DeletionGuard{node.DeletionGuard{}}})
	if err != nil {
		t.Fatal(err)
	}
	hub, err := notify.New(ctx, db, notify.Config{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	if err := hub.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = hub.Stop(context.Background()) })
	s := &nodeServer{db: db, identity: ids, issuer: issuer, billing: b, projects: projects, hub: hub,
		sim: sim.New(sim.Config{}), maxAttempts: opts.maxAttempts, now: time.Now}
	if opts.clock != nil {
		s.now = opts.clock.Now
	}
	s.hw = &hardware{Driver: s.sim, refusals: map[string]error{}, accepted: map[string]int{}, stalls: map[string]chan struct{}{}}
	keys := keyring.New(db, projects)
	s.queue = s.startQueue(t)
	s.nodes, err = node.New(db, node.Config{Catalog: catalog.New(db), Projects: projects, Keys: keys, Hub: hub, Queue: s.queue,
		Driver: s.hw, ConsoleTokens: issuer, Now: s.now})
	if err != nil {
		t.Fatal(err)
	}
	cloud := apicloudv1.New(catalog.New(db), projects, keys, ids, s.nodes, hub, b)
	mux := http.NewServeMux()
	mux.Handle(cloudv1connect.NewCloudServiceHandler(cloud, connect.WithInterceptors(interceptor.Errors{Log: log}, interceptor.NewPolicy(issuer))))
	srv := testserver.Serve(t, mux)
	s.url = srv.URL
	return s
}

// startQueue starts a job queue that works the node jobs with s.hw until
// the test ends, and returns it.
func (s *nodeServer) startQueue(t *testing.T) *jobs.Queue {
	t.Helper()
	workers := river.NewWorkers()
	if err := node.AddWorkers(workers, s.db, node.WorkerConfig{
		Projects: s.projects, Hub: s.hub, Driver: s.hw, PollInterval: 20 * time.Millisecond, Now: s.now,
	}); err != nil {
		t.Fatal(err)
	}
	q, err := jobs.New(s.db, jobs.Config{
		Workers: workers, PollInterval: 100 * time.Millisecond, MaxAttempts: s.maxAttempts, Logger: slog.New(slog.DiscardHandler),
		PeriodicJobs: node.PeriodicJobs(billingChangeInterval),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = q.Stop(ctx)
	})
	return q
}

// crash stops the job queue at once, as a crash would: the running jobs
// are cut off and go back to the queue; then a new queue takes them up, as
// the restarted process would.
func (s *nodeServer) crash(t *testing.T) {
	t.Helper()
	s.cutOff(t)
	s.queue = s.startQueue(t)
}

// crashLosingJobs is crash, but the cut-off jobs of kind are gone when the
// new queue starts, as when a job's last attempt could record neither the
// end of its operation nor its own failure.
func (s *nodeServer) crashLosingJobs(t *testing.T, kind string) {
	t.Helper()
	s.cutOff(t)
	if _, err := s.db.NewRaw("DELETE FROM river_job WHERE kind = ?", kind).Exec(t.Context()); err != nil {
		t.Fatal(err)
	}
	s.queue = s.startQueue(t)
}

// cutOff stops the job queue at once, cutting its running jobs off, and
// fails the test if there were none.
func (s *nodeServer) cutOff(t *testing.T) {
	t.Helper()
	now, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.queue.Stop(now); err == nil {
		t.Fatal("the crash cut no job off")
	}
}

// nodeCustomer is a person with a project that may order nodes, signed in.
type nodeCustomer struct {
	token   string
	project project.Project
}

var nodeCustomers atomic.Int64

// customer registers a person, gives them a project billed to a profile
// with a test card, and signs them in.
func (s *nodeServer) customer(t *testing.T) nodeCustomer {
	t.Helper()
	c := payingCustomer(t, s.identity, s.issuer, s.billing, s.projects,
		fmt.Sprintf("customer%d@example.com", nodeCustomers.Add(1)), "UTC", billing.ProfileInput{
			Name: "Ops", Company: "Example Inc.", CountryCode: "US", Street: "1 Main St", City: "Springfield",
			Postcode: "12345", BillingEmail: "billing@example.com",
		}, "Production")
	return nodeCustomer{token: c.token, project: c.project}
}

// v1 is a CloudService v1 client of the server signed in with token.
func (s *nodeServer) v1(token string, opts ...connect.ClientOption) cloudv1connect.CloudServiceClient {
	return cloudv1connect.NewCloudServiceClient(testserver.H2CClient(), s.url, testserver.ClientOptions(token, opts...)...)
}

// serverOf returns the id of a node's server.
func (s *nodeServer) serverOf(t *testing.T, nodeID string) string {
	t.Helper()
	var id string
	if err := s.db.NewRaw("SELECT server_id FROM nodes WHERE id = ?", nodeID).Scan(t.Context(), &id); err != nil {
		t.Fatal(err)
	}
	return id
}

// count runs a COUNT(*) query.
func (s *nodeServer) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := s.db.NewRaw(query, args...).Scan(t.Context(), &n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// hardware is the provisioning driver of a nodeServer: the simulated
// datacenter, with the faults a test sets: requests refused (as the
// hardware's state or the backend's rules would), and a backend that cannot
// be reached at all.
type hardware struct {
	*sim.Driver

	mu sync.Mutex
	// refusals are the errors requests get instead of being made, by
	// method ("Rebuild", "Destroy", ...).
	refusals map[string]error
	// unreachable fails every call as a backend that does not answer.
	unreachable bool
	// accepted counts the requests the sim accepted, by method.
	accepted map[string]int
	// stalls are the methods whose next accepted request is not answered:
	// the call returns only when its context ends (the worker crashed or
	// was cut off right after the backend accepted). The channel is closed
	// when the sim has accepted the request.
	stalls map[string]chan struct{}
}

var _ provision.Driver = (*hardware)(nil)

// errUnreachable is the answer of a backend that does not answer.
var errUnreachable = errors.New("hardware: connection refused")

// refuse makes every request of method fail with err from now on; nil
// lets them through again.
func (h *hardware) refuse(method string, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.refusals[method] = err
}

// setUnreachable cuts the backend off (true) or brings it back.
func (h *hardware) setUnreachable(down bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.unreachable = down
}

// stall makes the next request of method that the sim accepts go
// unanswered (see hardware.stalls), and returns the channel closed when
// the sim has accepted it.
func (h *hardware) stall(method string) <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	ch := make(chan struct{})
	h.stalls[method] = ch
	return ch
}

// awaitAccepted waits until the stalled request (the channel stall
// returned) has reached the backend; what names it in the failure.
func awaitAccepted(t *testing.T, accepted <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-accepted:
	case <-time.After(nodeWait):
		t.Fatalf("the %s never reached the backend", what)
	}
}

// made returns how many requests of method the sim accepted.
func (h *hardware) made(method string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.accepted[method]
}

// answer is the answer to a request of method that the sim answered with
// err: counted when accepted, and withheld when the method stalls.
func (h *hardware) answer(ctx context.Context, method string, err error) error {
	if err != nil {
		return err
	}
	h.mu.Lock()
	h.accepted[method]++
	stalled := h.stalls[method]
	delete(h.stalls, method)
	h.mu.Unlock()
	if stalled == nil {
		return nil
	}
	close(stalled)
	<-ctx.Done()
	return ctx.Err()
}

// fault is the error a call of method gets instead of being made, if any.
func (h *hardware) fault(method string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.unreachable {
		return errUnreachable
	}
	return h.refusals[method]
}

// Deploy implements provision.Driver.
func (h *hardware) Deploy(ctx context.Context, s provision.Server, d provision.Deployment) error {
	if err := h.fault("Deploy"); err != nil {
		return err
	}
	return h.answer(ctx, "Deploy", h.Driver.Deploy(ctx, s, d))
}

// Rebuild implements provision.Driver.
func (h *hardware) Rebuild(ctx context.Context, s provision.Server, d provision.Deployment) error {
	if err := h.fault("Rebuild"); err != nil {
		return err
	}
	return h.answer(ctx, "Rebuild", h.Driver.Rebuild(ctx, s, d))
}

// Destroy implements provision.Driver.
func (h *hardware) Destroy(ctx context.Context, s provision.Server) error {
	if err := h.fault("Destroy"); err != nil {
		return err
	}
	return h.answer(ctx, "Destroy", h.Driver.Destroy(ctx, s))
}

// Rescue implements provision.Driver.
func (h *hardware) Rescue(ctx context.Context, s provision.Server, password string) error {
	if err := h.fault("Rescue"); err != nil {
		return err
	}
	return h.answer(ctx, "Rescue", h.Driver.Rescue(ctx, s, password))
}

// Unrescue implements provision.Driver.
func (h *hardware) Unrescue(ctx context.Context, s provision.Server) error {
	if err := h.fault("Unrescue"); err != nil {
		return err
	}
	return h.answer(ctx, "Unrescue", h.Driver.Unrescue(ctx, s))
}

// SetPower implements provision.Driver.
func (h *hardware) SetPower(ctx context.Context, s provision.Server, target catalog.PowerState) error {
	if err := h.fault("SetPower"); err != nil {
		return err
	}
	return h.answer(ctx, "SetPower", h.Driver.SetPower(ctx, s, target))
}

// GetState implements provision.Driver.
func (h *hardware) GetState(ctx context.Context, s provision.Server) (provision.State, error) {
	if err := h.fault("GetState"); err != nil {
		return provision.State{}, err
	}
	return h.Driver.GetState(ctx, s)
}

// awaitLog reads notifications until a server log contains text, and
// returns its message.
func (f *feed) awaitLog(t *testing.T, text string) string {
	t.Helper()
	timeout := time.NewTimer(nodeWait)
	defer timeout.Stop()
	for {
		select {
		case n := <-f.notes:
			if l := n.GetServerLog(); l != nil && strings.Contains(l.GetMessage(), text) {
				return l.GetMessage()
			}
		case err := <-f.err:
			t.Fatalf("stream ended (%v) while waiting for a server log with %q", err, text)
		case <-timeout.C:
			t.Fatalf("no server log with %q", text)
		}
	}
}
