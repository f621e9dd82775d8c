package e2e_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"buf.build/gen/go/gportal/gpcore/grpc/go/gpcore/api/auth/v1/authv1grpc"
	"buf.build/gen/go/gportal/gpcore/grpc/go/gpcore/api/cloud/v1/cloudv1grpc"
	"buf.build/gen/go/gportal/gpcore/grpc/go/gpcore/api/payment/v1/paymentv1grpc"
	authv1 "buf.build/gen/go/gportal/gpcore/protocolbuffers/go/gpcore/api/auth/v1"
	cloudv1 "buf.build/gen/go/gportal/gpcore/protocolbuffers/go/gpcore/api/cloud/v1"
	paymentv1 "buf.build/gen/go/gportal/gpcore/protocolbuffers/go/gpcore/api/payment/v1"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/protobuf/proto"

	"github.com/gpcore/gpcore/internal/store/storetest"
)

// orderable is a user with an unlocked project and everything an order needs.
type orderable struct {
	ctx                                 context.Context // carries the user's token
	project, dc, flavour, image, sshKey string
}

// newOrderable registers a user on srv with the SDK, gives them a billing
// profile with a test card and a project, and picks fra1, BM-S1, debian-12.
func newOrderable(t *testing.T, ctx context.Context, srv *server, email string) orderable {
	t.Helper()
	conn := srv.dial(t)
	auth := authv1grpc.NewAuthServiceClient(conn)
	cloud := cloudv1grpc.NewCloudServiceClient(conn)
	pay := paymentv1grpc.NewPaymentServiceClient(conn)
	const password = "correct horse battery"
	if _, err := auth.Register(ctx, &authv1.RegisterRequest{Email: email, Password: password}); err != nil {
		t.Fatalf("Register: %v", err)
	}
	o := orderable{ctx: authed(ctx, srv.token(t, email, password))}
	profile, err := pay.CreateBillingProfile(o.ctx, &paymentv1.CreateBillingProfileRequest{
		Name: "Ada Lovelace", Company: proto.String("Analytical Engines GmbH"), VatId: proto.String("DE123456789"), CountryCode: "DE", Street: "Unter den Linden 1", City: "Berlin", Postcode: "10117",
		BillingEmail: "billing@example.com",
	})
	if err != nil {
		t.Fatalf("CreateBillingProfile: %v", err)
	}
	setup, err := pay.AddCreditCard(o.ctx, &paymentv1.AddCreditCardRequest{BillingProfileId: profile.GetBillingProfile().GetId()})
	if err != nil {
		t.Fatalf("AddCreditCard: %v", err)
	}
	resp, err := http.PostForm(srv.URL+"/payment/test/confirm", url.Values{"setup_intent": {setup.GetStripeSetupIdent()}, "payment_method": {"tok_visa"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("confirm test card: %s", resp.Status)
	}
	project, err := cloud.CreateProject(o.ctx, &cloudv1.CreateProjectRequest{Name: "Replicas", BillingAddressId: profile.GetBillingProfile().GetId()})
	if err != nil {
		t.Fatalf("CreateProject: %v", err)
	}
	o.project = project.GetProject().GetId()
	keyFile := filepath.Join(t.TempDir(), "id_ed25519")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", keyFile).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v: %s", err, out)
	}
	pub, err := os.ReadFile(keyFile + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	key, err := cloud.CreateUserSSHKey(o.ctx, &cloudv1.CreateUserSSHKeyRequest{Name: "key", PublicKey: strings.TrimSpace(string(pub))})
	if err != nil {
		t.Fatalf("CreateUserSSHKey: %v", err)
	}
	o.sshKey = key.GetSshKey().GetId()
	dcs, err := cloud.ListDatacenters(o.ctx, &cloudv1.ListDatacentersRequest{})
	if err != nil {
		t.Fatalf("ListDatacenters: %v", err)
	}
	for _, dc := range dcs.GetDatacenters() {
		if dc.GetShort() == "fra1" {
			o.dc = dc.GetId()
		}
	}
	fl, err := cloud.ListProjectFlavours(o.ctx, &cloudv1.ListProjectFlavoursRequest{Id: o.project, DatacenterId: o.dc})
	if err != nil {
		t.Fatalf("ListProjectFlavours: %v", err)
	}
	for _, f := range fl.GetFlavours() {
		if f.GetName() == "BM-S1" {
			o.flavour = f.GetId()
		}
	}
	images, err := cloud.ListPublicImages(o.ctx, &cloudv1.ListPublicImagesRequest{})
	if err != nil {
		t.Fatalf("ListPublicImages: %v", err)
	}
	for _, os := range images.GetOperatingSystems() {
		for _, img := range os.GetImages() {
			if img.GetAlias() == "debian-12" {
				o.image = img.GetId()
			}
		}
	}
	if o.dc == "" || o.flavour == "" || o.image == "" {
		t.Fatalf("catalog: fra1 %q, BM-S1 %q, debian-12 %q", o.dc, o.flavour, o.image)
	}
	return o
}

func (o orderable) order(t *testing.T, cloud cloudv1grpc.CloudServiceClient, fqdns ...string) []string {
	t.Helper()
	resp, err := cloud.CreateNode(o.ctx, &cloudv1.CreateNodeRequest{
		ProjectId: o.project, DatacenterId: o.dc, FlavourId: o.flavour, ImageId: o.image,
		SshKeyIds: []string{o.sshKey}, Fqdns: fqdns,
	})
	if err != nil {
		t.Fatalf("CreateNode: %v", err)
	}
	var ids []string
	for _, n := range resp.GetNodes() {
		ids = append(ids, n.GetId())
	}
	return ids
}

// installJob is a node_install job as River's table holds it.
type installJob struct {
	Args  string
	State string
	// Attempt is River's attempt counter: snoozes between looks at the
	// hardware do not count, a rescue of a stuck attempt does.
	Attempt int
	// AttemptedBy names the River client (one per replica) of every
	// attempt, in order.
	AttemptedBy []string
	// Errors counts the errors recorded, a rescue's included.
	Errors int
}

// installJobs reads the node_install jobs of River's table.
func installJobs(t *testing.T, ctx context.Context, db *pgxpool.Pool) []installJob {
	t.Helper()
	rows, err := db.Query(ctx, `SELECT args::text, state::text, attempt, attempted_by, coalesce(array_length(errors, 1), 0)
		FROM river_job WHERE kind = 'node_install' ORDER BY id`)
	if err != nil {
		t.Fatalf("read river_job: %v", err)
	}
	defer rows.Close()
	var jobs []installJob
	for rows.Next() {
		var j installJob
		if err := rows.Scan(&j.Args, &j.State, &j.Attempt, &j.AttemptedBy, &j.Errors); err != nil {
			t.Fatal(err)
		}
		jobs = append(jobs, j)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return jobs
}

// forNode returns the jobs whose args name node id.
func forNode(jobs []installJob, id string) []installJob {
	var out []installJob
	for _, j := range jobs {
		if strings.Contains(j.Args, id) {
			out = append(out, j)
		}
	}
	return out
}

var queueStartedRE = regexp.MustCompile(`msg="job queue started".* river_client_id=(\S+)`)

// riverClientID returns the River client id s logged when its job queue
// started: the name River records in attempted_by for s's attempts.
func (s *server) riverClientID(t *testing.T) string {
	t.Helper()
	var id string
	eventually(t, 30*time.Second, "the job queue's start in the log", func() error {
		m := queueStartedRE.FindStringSubmatch(s.log.String())
		if m == nil {
			return errors.New("no \"job queue started\" line yet")
		}
		id = m[1]
		return nil
	})
	return id
}

// serverLog is one entry of a server's log.
type serverLog struct{ Level, Message string }

// serverLogs reads the server log entries written about node id.
func serverLogs(t *testing.T, ctx context.Context, db *pgxpool.Pool, id string) []serverLog {
	t.Helper()
	rows, err := db.Query(ctx, `SELECT level, message FROM server_logs WHERE node_id = $1 ORDER BY created_at, id`, id)
	if err != nil {
		t.Fatalf("read server_logs: %v", err)
	}
	defer rows.Close()
	var logs []serverLog
	for rows.Next() {
		var l serverLog
		if err := rows.Scan(&l.Level, &l.Message); err != nil {
			t.Fatal(err)
		}
		logs = append(logs, l)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return logs
}

var stepRE = regexp.MustCompile(`\((\S+) → (\S+)\)$`)

// installedOnce fails t unless the server log of node id tells one clean
// installation: every entry once, no warning or error, the request, the
// hardware's steps chained from DEPLOYING to ACTIVE (looks far apart may
// see several steps as one), and the end.
func installedOnce(t *testing.T, ctx context.Context, db *pgxpool.Pool, id string) {
	t.Helper()
	logs := serverLogs(t, ctx, db, id)
	seen := map[string]bool{}
	at := "DEPLOYING"
	for _, l := range logs {
		if seen[l.Message] || l.Level != "INFO" {
			t.Fatalf("server log of node %s repeats a step or reports a problem (%s %q):\n%v", id, l.Level, l.Message, logs)
		}
		seen[l.Message] = true
		if m := stepRE.FindStringSubmatch(l.Message); m != nil {
			if m[1] != at {
				t.Fatalf("server log of node %s: a step from %s after %s:\n%v", id, m[1], at, logs)
			}
			at = m[2]
		}
	}
	if at != "ACTIVE" || !seen["The provisioning backend accepted the installation"] || !seen["The installation is done"] {
		t.Fatalf("server log of node %s: steps end in %s, want ACTIVE, the request and the end:\n%v", id, at, logs)
	}
}

// TestReplicasOnOnePostgres runs two `gpcore serve` replicas on one
// PostgreSQL schema. An order taken by one is streamed by the other, and
// every install is run by the replicas, exactly once. Then the replica that
// holds an install job in the middle of an attempt is killed with SIGKILL,
// and the other one, already running, finishes that install: the job
// completes once (rescued once), no step is repeated, the node is ACTIVE.
func TestReplicasOnOnePostgres(t *testing.T) {
	if os.Getenv(storetest.EnvPostgresDSN) == "" {
		t.Skipf("%s is not set", storetest.EnvPostgresDSN)
	}
	// storetest fails the test (never skips) if the server is unreachable.
	cfg := storetest.NewConfig(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	db, err := pgxpool.New(ctx, cfg.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	// Installs take a few seconds (4 simulated steps). A job left running by
	// a dead replica is rescued once it has run for 6s (--job-rescue-after;
	// River's rescuer, on the leader, looks every 30s).
	env := []string{
		"GPCORE_DATABASE=" + cfg.DSN,
		"GPCORE_PUBLIC_URL=http://gpcore.test", // one issuer: tokens work on every replica
		"GPCORE_SIM_STEP_DELAY=700ms",
		"GPCORE_JOB_TIMEOUT=5s",
		"GPCORE_JOB_RESCUE_AFTER=6s",
	}
	a := startServer(t, append(env, "GPCORE_DATA_DIR="+t.TempDir())...)
	b := startServer(t, append(env, "GPCORE_DATA_DIR="+t.TempDir())...)
	replicas := map[string]string{a.riverClientID(t): "A", b.riverClientID(t): "B"}
	if len(replicas) != 2 {
		t.Fatalf("the replicas' River client ids are not distinct: %v", replicas)
	}
	cloudA := cloudv1grpc.NewCloudServiceClient(a.dial(t))
	cloudB := cloudv1grpc.NewCloudServiceClient(b.dial(t))

	user := newOrderable(t, ctx, a, "replicas@example.com")
	watchA := watchNodes(t, user.ctx, cloudA)
	watchB := watchNodes(t, user.ctx, cloudB)

	// An order on A is streamed to a subscriber on B.
	ids := user.order(t, cloudA, "r1.example.com", "r2.example.com", "r3.example.com", "r4.example.com")
	for _, id := range ids {
		watchB.wait(t, id, "ACTIVE on replica B", isActive)
	}
	// Each install ran exactly once, every attempt on one of the replicas.
	jobs := installJobs(t, ctx, db)
	attempts := map[string]int{}
	for _, id := range ids {
		js := forNode(jobs, id)
		if len(js) != 1 || js[0].State != "completed" || js[0].Attempt != 1 || js[0].Errors != 0 {
			t.Fatalf("install jobs of node %s: %+v, want one completed at attempt 1, without errors", id, js)
		}
		for _, by := range js[0].AttemptedBy {
			if replicas[by] == "" {
				t.Fatalf("install of node %s attempted by %q, which is neither replica (%v)", id, by, replicas)
			}
			attempts[replicas[by]]++
		}
		installedOnce(t, ctx, db, id)
	}
	t.Logf("attempts of the first order's installs, by replica: %v", attempts)

	// Kill -9 the replica that holds an install job in the middle of an
	// attempt. Attempts are short (one look at the hardware, then a snooze),
	// so the test holds the node's row lock once the install is under way:
	// the next attempt blocks in its transaction, running, on whichever
	// replica took it.
	crash := user.order(t, cloudA, "crash.example.com")[0]
	watchA.wait(t, crash, "past the first install step", func(n *cloudv1.Node) bool {
		return n.GetStatus() == cloudv1.ServerProvisioningState_SERVER_PROVISIONING_STATE_DEPLOY_WAIT
	})
	lock, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = lock.Rollback(context.Background()) }()
	if _, err := lock.Exec(ctx, `SELECT id FROM nodes WHERE id = $1 FOR UPDATE`, crash); err != nil {
		t.Fatal(err)
	}
	var held installJob
	eventually(t, 30*time.Second, "the install's next attempt running", func() error {
		js := forNode(installJobs(t, ctx, db), crash)
		if len(js) == 1 && js[0].State == "running" {
			held = js[0]
			return nil
		}
		return fmt.Errorf("jobs %+v", js)
	})
	holderID := held.AttemptedBy[len(held.AttemptedBy)-1]
	victim, survivor, survivorWatch := a, b, watchB
	switch replicas[holderID] {
	case "A":
	case "B":
		victim, survivor, survivorWatch = b, a, watchA
	default:
		t.Fatalf("the running attempt is held by %q, neither replica (%v)", holderID, replicas)
	}
	survivorID := survivor.riverClientID(t)
	t.Logf("replica %s holds the install (attempt %d); killing it", replicas[holderID], held.Attempt)
	victim.kill()
	if js := forNode(installJobs(t, ctx, db), crash); len(js) != 1 || js[0].State != "running" {
		t.Fatalf("install job after kill -9: %+v, want it still running (cut off mid-attempt)", js)
	}
	// The dead replica's transaction is gone with its connection; let the
	// survivor lock the node.
	if err := lock.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	survivorWatch.wait(t, crash, "ACTIVE, finished by the surviving replica", isActive)
	t.Logf("replica %s finished the install %v after the kill", replicas[survivorID], time.Since(start).Round(time.Second))

	js := forNode(installJobs(t, ctx, db), crash)
	if len(js) != 1 || js[0].State != "completed" || js[0].Attempt != held.Attempt+1 || js[0].Errors != 1 {
		t.Fatalf("install job of the crashed node: %+v, want one, completed at attempt %d after one rescue", js, held.Attempt+1)
	}
	by := js[0].AttemptedBy
	if !slices.Contains(by, holderID) || by[len(by)-1] != survivorID {
		t.Fatalf("install of the crashed node attempted by %v, want the killed replica (%s) and last the survivor (%s)", by, holderID, survivorID)
	}
	installedOnce(t, ctx, db, crash)
	n, err := cloudv1grpc.NewCloudServiceClient(survivor.dial(t)).GetNode(user.ctx, &cloudv1.GetNodeRequest{ProjectId: user.project, Id: crash})
	if err != nil || !isActive(n.GetNode()) {
		t.Fatalf("GetNode on the survivor: %v, %v; want ACTIVE", n.GetNode().GetStatus(), err)
	}
}
