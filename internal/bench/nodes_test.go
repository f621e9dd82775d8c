package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"gopkg.in/yaml.v3"

	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	"github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1/cloudv1connect"
	cloudv2 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v2"
	"github.com/gpcore/gpcore/gen/gpcore/api/cloud/v2/cloudv2connect"
	typev1 "github.com/gpcore/gpcore/gen/gpcore/type/v1"
	"github.com/gpcore/gpcore/internal/app"
	"github.com/gpcore/gpcore/internal/billing/metering"
	"github.com/gpcore/gpcore/internal/billing/usage"
	"github.com/gpcore/gpcore/internal/catalog"
	"github.com/gpcore/gpcore/internal/store"
	"github.com/gpcore/gpcore/internal/store/storetest"
	"github.com/gpcore/gpcore/internal/testserver"
)

// Ids from the embedded default seed.
const (
	seedFra1   = "cd7dcddb-8833-4d1f-b4ea-b99de893df8f"
	seedS1     = "751a633c-c549-4a5f-abc1-bb0715c9f931"
	seedDebian = "f5328dbe-06fe-4ec3-99a2-e701653bb2ea"
)

// createNodeServers is how many extra BM-S1 servers BenchmarkCreateNode's
// seed adds to fra1: the most nodes one run can order (keep -benchtime
// below it, e.g. -benchtime=2000x).
const createNodeServers = 6000

// listNodes is the size of BenchmarkListNodes10k's project.
const listNodes = 10000

// benchServer is a running server whose catalog has extra servers, and a
// second handle on its database for the benchmarks' set-up.
type benchServer struct {
	*testserver.Server
	db *store.DB
	// servers are the ids of the generated fra1 BM-S1 servers.
	servers []string
}

// startWithServers starts a server whose seed is the embedded default with n
// more BM-S1 servers in fra1 (each with a PUBLIC interface) and a public
// address pool (one IPv4 /16 and one IPv6 /64) of at least n+16 addresses.
func startWithServers(b *testing.B, n int) *benchServer {
	b.Helper()
	seed, servers := benchSeed(b, n)
	path := filepath.Join(b.TempDir(), "seed.yaml")
	if err := os.WriteFile(path, seed, 0o600); err != nil {
		b.Fatal(err)
	}
	var cfg app.Config
	s := testserver.Start(b, func(c *app.Config) {
		c.SeedFile = path
		cfg = *c
	})
	db := storetest.Open(b, store.Config{DSN: cfg.Database, DataDir: cfg.DataDir})
	return &benchServer{Server: s, db: db, servers: servers}
}

// benchSeed returns the embedded seed with fra1 grown as startWithServers
// says, and the ids of the servers it added.
func benchSeed(b *testing.B, n int) ([]byte, []string) {
	b.Helper()
	var doc map[string]any
	if err := yaml.Unmarshal(catalog.DefaultSeed(), &doc); err != nil {
		b.Fatal(err)
	}
	var fra1 map[string]any
	for _, r := range doc["regions"].([]any) {
		for _, dc := range r.(map[string]any)["datacenters"].([]any) {
			if d := dc.(map[string]any); d["id"] == seedFra1 {
				fra1 = d
			}
		}
	}
	if fra1 == nil {
		b.Fatal("no fra1 in the embedded seed")
	}
	pool := n + 16
	v4 := netip.MustParseAddr("198.18.0.10")
	v6 := netip.MustParseAddr("2001:db8:100::10")
	end4, end6 := v4, v6
	for range pool {
		end4, end6 = end4.Next(), end6.Next()
	}
	for _, nw := range fra1["networks"].([]any) {
		if m := nw.(map[string]any); m["type"] == "PUBLIC" {
			m["subnets"] = []any{
				map[string]any{"id": uuid.NewString(), "cidr": "198.18.0.0/16", "gateway": "198.18.0.1",
					"pool_start": v4.String(), "pool_end": end4.String()},
				map[string]any{"id": uuid.NewString(), "cidr": "2001:db8:100::/64", "gateway": "2001:db8:100::1",
					"pool_start": v6.String(), "pool_end": end6.String()},
			}
		}
	}
	servers := fra1["servers"].([]any)
	ids := make([]string, n)
	for i := range n {
		ids[i] = uuid.NewString()
		servers = append(servers, map[string]any{
			"id": ids[i], "name": fmt.Sprintf("bench-%05d", i), "flavour": "BM-S1",
			"platform_management": map[string]any{"type": "IPMI", "ip": "10.10.0.11", "username": "admin"},
			"interfaces": []any{map[string]any{
				"id": uuid.NewString(), "type": "PUBLIC",
				"mac_address": fmt.Sprintf("02:62:00:%02x:%02x:%02x", i>>16&0xff, i>>8&0xff, i&0xff),
				"speed":       1000, "switch": "fra1-sw1", "switch_port": fmt.Sprintf("Bench%d", i),
			}},
		})
	}
	fra1["servers"] = servers
	out, err := yaml.Marshal(doc)
	if err != nil {
		b.Fatal(err)
	}
	return out, ids
}

// raiseNodeLimit lets user order as many nodes as the benchmark needs.
func (s *benchServer) raiseNodeLimit(b *testing.B, userID string) {
	b.Helper()
	if _, err := s.db.NewUpdate().Table("users").Set("node_limit = ?", 1_000_000).
		Where("id = ?", userID).Exec(context.Background()); err != nil {
		b.Fatalf("raise the node limit: %v", err)
	}
}

// benchNode is a nodes row as bulkNodes writes it.
type benchNode struct {
	bun.BaseModel `bun:"table:nodes"`

	ID            string    `bun:"id,pk"`
	ProjectID     string    `bun:"project_id"`
	ServerID      string    `bun:"server_id"`
	DatacenterID  string    `bun:"datacenter_id"`
	FlavourID     string    `bun:"flavour_id"`
	ImageID       string    `bun:"image_id"`
	OrderedBy     string    `bun:"ordered_by"`
	FQDN          string    `bun:"fqdn"`
	Tags          string    `bun:"tags"`
	TagsSearch    string    `bun:"tags_search"`
	BillingPeriod string    `bun:"billing_period"`
	PaidUntilAt   time.Time `bun:"paid_until_at"`
	SSHKeys       string    `bun:"ssh_keys"`
	HasPassword   bool      `bun:"has_password"`
	UserData      string    `bun:"user_data"`
	CreatedAt     time.Time `bun:"created_at"`
	UpdatedAt     time.Time `bun:"updated_at"`
}

// bulkNodes is the test-only fast path of BenchmarkListNodes10k and
// BenchmarkNotifyDelivery: it writes n nodes at rest (no operation pending,
// their servers ACTIVE, powered on and in use) straight into the nodes
// table, on the first n generated servers, in one transaction, instead of
// ordering them through CreateNode and waiting for the installs, then
// analyzes the tables on PostgreSQL. Node i is
// web-%05d.bench.example with the tags role=web and env=prod (even i) or
// env=staging (odd i). It returns the node ids.
func (s *benchServer) bulkNodes(b *testing.B, project *cloudv1.Project, userID string, n int) []string {
	b.Helper()
	if n > len(s.servers) {
		b.Fatalf("%d nodes on %d servers", n, len(s.servers))
	}
	ctx := context.Background()
	projectID := project.GetId()
	cat := catalog.New(s.db)
	cur := catalog.EUR
	if project.GetCurrency() == cloudv1.Currency_CURRENCY_US_DOLLAR {
		cur = catalog.USD
	}
	flavour, err := cat.GetFlavour(ctx, seedFra1, seedS1, cur)
	if err != nil {
		b.Fatal(err)
	}
	image, err := cat.GetImage(ctx, seedDebian)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC()
	rows := make([]benchNode, n)
	ids := make([]string, n)
	for i := range rows {
		env := "prod"
		if i%2 == 1 {
			env = "staging"
		}
		tags, err := json.Marshal(map[string]string{"env": env, "role": "web"})
		if err != nil {
			b.Fatal(err)
		}
		ids[i] = uuid.Must(uuid.NewV7()).String()
		rows[i] = benchNode{
			ID: ids[i], ProjectID: projectID, ServerID: s.servers[i], DatacenterID: seedFra1,
			FlavourID: seedS1, ImageID: seedDebian, OrderedBy: userID,
			FQDN: fmt.Sprintf("web-%05d.bench.example", i), Tags: string(tags),
			TagsSearch: "\nenv=" + env + "\nrole=web\n", BillingPeriod: "HOURLY",
			PaidUntilAt: now.Add(time.Hour), SSHKeys: "[]", HasPassword: true,
			CreatedAt: now, UpdatedAt: now,
		}
	}
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		for batch := range slices.Chunk(rows, 500) {
			if _, err := tx.NewInsert().Model(&batch).Exec(ctx); err != nil {
				return err
			}
		}
		// Metering starts with the order, as CreateNode's transaction does.
		var paidUntil time.Time
		for _, r := range rows {
			var err error
			if paidUntil, err = usage.StartTx(ctx, tx, usage.ForOrder(r.ID, projectID, flavour, image, metering.Hourly, now)); err != nil {
				return err
			}
		}
		if _, err := tx.NewUpdate().Table("nodes").Set("paid_until_at = ?", paidUntil).
			Where("project_id = ?", projectID).Exec(ctx); err != nil {
			return err
		}
		for batch := range slices.Chunk(s.servers[:n], 500) {
			if _, err := tx.NewUpdate().Table("servers").
				Set("provision_state = 'ACTIVE'").Set("power_state = 'ON'").Set("in_use = ?", true).
				Where("id IN (?)", bun.In(batch)).Exec(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatalf("bulk insert %d nodes: %v", n, err)
	}
	// Planner statistics as autovacuum keeps them on a database whose
	// nodes have been there a while; fresh ones would have PostgreSQL plan
	// for a project of one node. (SQLite plans without statistics.)
	if s.db.Dialect == store.Postgres {
		if _, err := s.db.ExecContext(ctx, "ANALYZE"); err != nil {
			b.Fatalf("analyze: %v", err)
		}
	}
	return ids
}

// BenchmarkCreateNode orders one BM-S1 node per call through CloudService
// v1 CreateNode (connect-grpc) from parallel goroutines, on a server whose
// seed has createNodeServers extra servers and a large enough address pool,
// for a user whose node limit is raised. Each call runs every check and the
// order transaction (server taken, addresses assigned, node, audit entry and
// install job written); the sim driver's installs (zero step delay) run in
// the background on the same server meanwhile. nodes/s is the throughput.
func BenchmarkCreateNode(b *testing.B) {
	s := startWithServers(b, createNodeServers)
	u := s.Register(b)
	s.raiseNodeLimit(b, u.ID)
	project := s.BilledProject(b, u, "Bench").GetId()
	c := s.Cloud(u.Token, connect.WithGRPC())
	var seq atomic.Int64
	order := func(ctx context.Context) error {
		req := &cloudv1.CreateNodeRequest{
			ProjectId: project, DatacenterId: seedFra1, FlavourId: seedS1, ImageId: seedDebian,
			Fqdns:         []string{fmt.Sprintf("n%d.bench.example", seq.Add(1))},
			BillingPeriod: cloudv1.BillingPeriod_BILLING_PERIOD_HOURLY,
		}
		res, err := c.CreateNode(ctx, connect.NewRequest(req))
		if err != nil {
			return err
		}
		if len(res.Msg.GetNodes()) != 1 {
			return fmt.Errorf("CreateNode answered %d nodes", len(res.Msg.GetNodes()))
		}
		return nil
	}
	if err := order(context.Background()); err != nil {
		b.Fatalf("first order: %v", err)
	}
	b.Run("connect-grpc", func(b *testing.B) {
		if int(seq.Load())+b.N > createNodeServers {
			b.Skipf("b.N=%d: only %d servers left; use -benchtime=%dx or less", b.N, createNodeServers-int(seq.Load()), createNodeServers/2)
		}
		measure(b, order)
		if e := b.Elapsed().Seconds(); e > 0 {
			b.ReportMetric(float64(b.N)/e, "nodes/s")
		}
	})
}

// BenchmarkListNodes10k measures CloudService v2 ListNodes (connect-grpc)
// on a project of 10,000 nodes, a page of 50 with a search term: "prod"
// (a tag of every other node: 5,000 matches, so the count and the sort run
// over half the project) and "web-0042" (an FQDN prefix: 10 matches). The
// nodes are written by bulkNodes, the test-only fast path. serial is one
// caller (the latency of an idle server); parallel is
// GPCORE_BENCH_PARALLELISM×GOMAXPROCS callers.
func BenchmarkListNodes10k(b *testing.B) {
	s := startWithServers(b, listNodes)
	u := s.Register(b)
	p := s.CreateProject(b, u.Token, "Bench")
	project := p.GetId()
	start := time.Now()
	s.bulkNodes(b, p, u.ID, listNodes)
	b.Logf("bulk insert of %d nodes: %v", listNodes, time.Since(start).Round(time.Millisecond))
	c := cloudv2connect.NewCloudServiceClient(testserver.H2CClient(), s.URL, testserver.ClientOptions(u.Token, connect.WithGRPC())...)
	for _, term := range []struct {
		search string
		total  int64
		page   int
	}{{"prod", listNodes / 2, 50}, {"web-0042", 10, 10}} {
		list := func(ctx context.Context) error {
			limit := int32(50)
			res, err := c.ListNodes(ctx, connect.NewRequest(&cloudv2.ListNodesRequest{
				Id: project, Search: &term.search, Pagination: &typev1.PaginationRequest{Page: 2, Limit: &limit},
			}))
			if err != nil {
				return err
			}
			if res.Msg.GetTotal() != term.total || len(res.Msg.GetNodes()) != term.page && term.total > 50 {
				return fmt.Errorf("search %q: total %d, %d nodes; want %d", term.search, res.Msg.GetTotal(), len(res.Msg.GetNodes()), term.total)
			}
			return nil
		}
		if err := list(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.Run(term.search+"/serial", func(b *testing.B) { measureSerial(b, list) })
		b.Run(term.search+"/parallel", func(b *testing.B) { measure(b, list) })
	}
}

// measureSerial calls c b.N times from one goroutine and reports req/s and
// the p50 and p99 latency of single calls.
func measureSerial(b *testing.B, c call) {
	ctx := context.Background()
	latencies := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		if err := c(ctx); err != nil {
			b.Fatal(err)
		}
		latencies = append(latencies, time.Since(start))
	}
	b.StopTimer()
	reportLatencies(b, latencies, "")
	if e := b.Elapsed().Seconds(); e > 0 {
		b.ReportMetric(float64(b.N)/e, "req/s")
	}
}

// reportLatencies reports the p50, p99 and maximum of latencies, their
// units prefixed with prefix.
func reportLatencies(b *testing.B, latencies []time.Duration, prefix string) {
	if len(latencies) == 0 {
		return
	}
	slices.Sort(latencies)
	b.ReportMetric(micros(percentile(latencies, 50)), prefix+"p50-us")
	b.ReportMetric(micros(percentile(latencies, 99)), prefix+"p99-us")
	b.ReportMetric(micros(latencies[len(latencies)-1]), prefix+"max-us")
}

// notifySubscribers is how many SubscribeNotifications streams
// BenchmarkNotifyDelivery opens.
const notifySubscribers = 1000

// streamsPerConn keeps each HTTP/2 connection under the server's default
// limit of concurrent streams (250).
const streamsPerConn = 100

// BenchmarkNotifyDelivery measures notification delivery end to end: 1,000
// SubscribeNotifications streams (connect-grpc, ten HTTP/2 connections of
// 100 streams, all of the project's owner) are open on one server; each
// operation is one UpdateNode (a new tag value) of one node of the project,
// and ends when every stream has received that node's notification. The
// latencies are from just before the UpdateNode call to each stream's
// receipt (1,000 per operation): p50, p99 and max over all of them, and
// last-p50-us, the median time until the last of the 1,000 has it.
func BenchmarkNotifyDelivery(b *testing.B) {
	s := startWithServers(b, 1)
	u := s.Register(b)
	p := s.CreateProject(b, u.Token, "Bench")
	project := p.GetId()
	node := s.bulkNodes(b, p, u.ID, 1)[0]
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	type arrival struct {
		value string
		at    time.Time
	}
	arrivals := make(chan arrival, 4*notifySubscribers)
	ready := make(chan error, notifySubscribers)
	var wg sync.WaitGroup
	var clients []*http.Client
	defer func() {
		cancel()
		wg.Wait()
		for _, hc := range clients {
			hc.CloseIdleConnections()
		}
	}()
	var c cloudv1connect.CloudServiceClient
	for i := range notifySubscribers {
		if i%streamsPerConn == 0 {
			hc := testserver.H2CClient()
			clients = append(clients, hc)
			c = cloudv1connect.NewCloudServiceClient(hc, s.URL, testserver.ClientOptions(u.Token, connect.WithGRPC())...)
		}
		wg.Go(func() {
			stream, err := c.SubscribeNotifications(ctx, connect.NewRequest(&cloudv1.SubscribeNotificationsRequest{}))
			if err != nil {
				ready <- err
				return
			}
			defer func() { _ = stream.Close() }()
			first := true
			for stream.Receive() {
				if first {
					first = false
					ready <- nil
				}
				if n := stream.Msg().GetNotification().GetNode(); n.GetId() == node {
					arrivals <- arrival{n.GetTags()["bench"], time.Now()}
				}
			}
			if first {
				ready <- fmt.Errorf("stream ended before its first notification: %w", stream.Err())
			}
		})
	}
	for range notifySubscribers {
		select {
		case err := <-ready:
			if err != nil {
				b.Fatal(err)
			}
		case <-time.After(time.Minute):
			b.Fatal("the streams did not all open within a minute")
		}
	}
	update := cloudv1connect.NewCloudServiceClient(testserver.H2CClient(), s.URL, testserver.ClientOptions(u.Token, connect.WithGRPC())...)
	var op int
	b.Run("subscribers=1000", func(b *testing.B) {
		var latencies, lasts []time.Duration
		b.ResetTimer()
		for range b.N {
			op++
			value := strconv.Itoa(op)
			start := time.Now()
			if _, err := update.UpdateNode(ctx, connect.NewRequest(&cloudv1.UpdateNodeRequest{
				Id: node, ProjectId: project, Tags: map[string]string{"bench": value},
			})); err != nil {
				b.Fatal(err)
			}
			timeout := time.After(time.Minute)
			var last time.Duration
			for got := 0; got < notifySubscribers; {
				select {
				case a := <-arrivals:
					if a.value != value {
						continue // a late copy of an earlier change
					}
					got++
					d := a.at.Sub(start)
					latencies = append(latencies, d)
					last = max(last, d)
				case <-timeout:
					b.Fatal(errors.New("not every stream received the change within a minute"))
				}
			}
			lasts = append(lasts, last)
		}
		b.StopTimer()
		reportLatencies(b, latencies, "")
		slices.Sort(lasts)
		b.ReportMetric(micros(percentile(lasts, 50)), "last-p50-us")
	})
}
