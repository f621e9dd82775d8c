package node_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/gpcore/gpcore/internal/catalog"
	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/node"
	"github.com/gpcore/gpcore/internal/provision/sim"
	"github.com/gpcore/gpcore/internal/store"
)

// race runs n orders at once, built by mk, and returns the kinds of their
// outcomes (KindInternal standing for success).
func (e *env) race(t *testing.T, c customer, n int, mk func(i int) node.Order) map[fault.Kind]int {
	t.Helper()
	start := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	outcomes := map[fault.Kind]int{}
	for i := range n {
		wg.Go(func() {
			<-start
			_, err := e.nodes.Create(context.Background(), c.user.ID, mk(i))
			kind := fault.KindInternal
			if err != nil {
				kind = fault.KindOf(err)
				if kind == fault.KindInternal {
					t.Errorf("order %d: %v", i, err)
				}
			}
			mu.Lock()
			outcomes[kind]++
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	return outcomes
}

// checkPools checks that every live node has its own server, in use, and
// that exactly the servers of live nodes are in use.
func (e *env) checkPools(t *testing.T) {
	t.Helper()
	live := e.count(t, "SELECT COUNT(*) FROM nodes WHERE deleted_at IS NULL")
	if got := e.count(t, "SELECT COUNT(DISTINCT server_id) FROM nodes WHERE deleted_at IS NULL"); got != live {
		t.Fatalf("%d live nodes on %d servers", live, got)
	}
	if got := e.count(t, "SELECT COUNT(*) FROM servers WHERE in_use"); got != live {
		t.Fatalf("%d servers in use for %d live nodes", got, live)
	}
	if got := e.count(t, "SELECT COUNT(*) FROM servers s JOIN nodes n ON n.server_id = s.id AND n.deleted_at IS NULL WHERE NOT s.in_use"); got != 0 {
		t.Fatalf("%d live nodes on servers not in use", got)
	}
	if got := e.count(t, "SELECT COUNT(*) FROM ip_addresses WHERE interface_id IS NOT NULL"); got != 2*live {
		t.Fatalf("%d addresses assigned for %d live nodes, want 2 each", got, live)
	}
}

// TestRaceForTheLastServers: many orders for the last servers at once;
// exactly as many nodes as servers, no server twice, the rest refused.
func TestRaceForTheLastServers(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{stopped: true})
	c := e.customer(t)
	e.exec(t, "UPDATE users SET node_limit = 100 WHERE id = ?", c.user.ID)

	// 24 single orders for the 2 BM-L1 servers.
	got := e.race(t, c, 24, func(i int) node.Order {
		o := order(c, fmt.Sprintf("l%d.example", i))
		o.FlavourID = flavourL1
		return o
	})
	if got[fault.KindInternal] != 2 || got[fault.KindResourceExhausted] != 22 {
		t.Fatalf("outcomes of 24 orders for 2 servers: %v", got)
	}
	// 12 orders of 2 nodes each for the 4 BM-M1 servers.
	got = e.race(t, c, 12, func(i int) node.Order {
		o := order(c, fmt.Sprintf("m%da.example", i), fmt.Sprintf("m%db.example", i))
		o.FlavourID = flavourM1
		return o
	})
	if got[fault.KindInternal] != 2 || got[fault.KindResourceExhausted] != 10 {
		t.Fatalf("outcomes of 12 double orders for 4 servers: %v", got)
	}
	if n := e.count(t, "SELECT COUNT(*) FROM nodes"); n != 6 {
		t.Fatalf("%d nodes, want 6", n)
	}
	e.checkPools(t)
}

// TestRaceForTheNodeLimit: concurrent orders by one user never exceed the
// user's node limit.
func TestRaceForTheNodeLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{stopped: true})
	c := e.customer(t)
	e.exec(t, "UPDATE users SET node_limit = 3 WHERE id = ?", c.user.ID)
	got := e.race(t, c, 12, func(i int) node.Order { return order(c, fmt.Sprintf("n%d.example", i)) })
	if got[fault.KindInternal] != 3 || got[fault.KindResourceExhausted] != 9 {
		t.Fatalf("outcomes of 12 orders under a limit of 3: %v", got)
	}
	e.checkPools(t)
}

// TestRaceForOneName: concurrent orders of one name give one node.
func TestRaceForOneName(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{stopped: true})
	c := e.customer(t)
	got := e.race(t, c, 6, func(i int) node.Order {
		return order(c, []string{"same.example", "SAME.example.", "Same.Example"}[i%3])
	})
	if got[fault.KindInternal] != 1 || got[fault.KindAlreadyExists] != 5 {
		t.Fatalf("outcomes of 6 orders of one name: %v", got)
	}
	e.checkPools(t)
}

// renameOnNameCheck runs rename once, right after a query that checks
// names (an order's check that its names are free).
type renameOnNameCheck struct {
	once   sync.Once
	rename func()
}

func (*renameOnNameCheck) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	return ctx
}

func (h *renameOnNameCheck) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	if strings.Contains(e.Query, "fqdn IN (") {
		h.once.Do(h.rename)
	}
}

// TestNameTakenDuringAnOrder: a name another node takes between an order's
// check of its names and its insert is refused as the check refuses it,
// naming the name.
func TestNameTakenDuringAnOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{stopped: true})
	c := e.customer(t)
	other := e.create(t, c, order(c, "other.example"))[0]
	hook := &renameOnNameCheck{rename: func() {
		e.exec(t, "UPDATE nodes SET fqdn = ? WHERE id = ?", "race.example", other.ID)
	}}
	nodes, err := node.New(&store.DB{DB: e.db.DB.WithQueryHook(hook), Dialect: e.db.Dialect}, node.Config{
		Catalog: catalog.New(e.db), Projects: e.projects, Keys: e.keys, Hub: e.hub, Queue: e.queue,
		Driver: e.sim, ConsoleTokens: e.issuer,
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = nodes.Create(t.Context(), c.user.ID, order(c, "free.example", "race.example"))
	wantFault(t, err, fault.KindAlreadyExists, "fqdns")
	if want := "fqdns: a node named race.example exists already"; err.Error() != want {
		t.Fatalf("err = %q, want %q", err, want)
	}
	if n := e.count(t, "SELECT COUNT(*) FROM nodes"); n != 1 {
		t.Fatalf("%d nodes after the refused order, want 1", n)
	}
	e.checkPools(t)
}

// TestResumeAfterRestart stops the workers in the middle of installs, as a
// crash would, and starts new ones with new simulated hardware that knows
// only what the database recorded: every node is installed, and every step
// is logged once.
func TestResumeAfterRestart(t *testing.T) {
	t.Parallel()
	clock := &manualClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	e := newEnv(t, envOptions{sim: &sim.Config{Clock: clock, Durations: sim.DefaultDurations()}})
	c := e.customer(t)
	nodes := e.create(t, c, order(c, "r1.example", "r2.example", "r3.example"))
	for _, n := range nodes {
		e.await(t, c, n.ID, "the install request", func(n node.Node) bool {
			return e.count(t, "SELECT COUNT(*) FROM nodes WHERE id = ? AND operation_requested_at IS NOT NULL", n.ID) == 1
		})
	}
	clock.Advance(5 * time.Second) // part of the way
	for _, n := range nodes {
		e.await(t, c, n.ID, "progress", func(n node.Node) bool { return n.Status != catalog.StateDeploying })
	}
	stopCtx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	if err := e.queue.Stop(stopCtx); err != nil {
		t.Fatal(err)
	}

	// New hardware that takes the recorded states over and, with no
	// durations, finishes what it finds under way at once.
	e.startQueue(t, e.newQueue(t, sim.New(sim.Config{})))
	for _, n := range nodes {
		e.awaitRest(t, c, n.ID, catalog.StateActive)
		seen := map[string]bool{}
		for _, line := range e.logs(t, n.ID) {
			if seen[line] {
				t.Errorf("node %s: logged twice: %s", n.FQDN, line)
			}
			seen[line] = true
		}
	}
}

// manualClock is a clock the test moves.
type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
