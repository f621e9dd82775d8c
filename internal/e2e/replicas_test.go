package e2e_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
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

type installJob struct {
	State   string
	Attempt int
}

// installJobs reads the node_install jobs of River's table, by node id.
func installJobs(t *testing.T, ctx context.Context, db *pgxpool.Pool) map[string][]installJob {
	t.Helper()
	rows, err := db.Query(ctx, `SELECT args::text, state::text, attempt FROM river_job WHERE kind = 'node_install' ORDER BY id`)
	if err != nil {
		t.Fatalf("read river_job: %v", err)
	}
	defer rows.Close()
	jobs := map[string][]installJob{}
	for rows.Next() {
		var args string
		var j installJob
		if err := rows.Scan(&args, &j.State, &j.Attempt); err != nil {
			t.Fatal(err)
		}
		jobs[args] = append(jobs[args], j)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return jobs
}

// forNode returns the jobs whose args name node id.
func forNode(jobs map[string][]installJob, id string) []installJob {
	var out []installJob
	for args, js := range jobs {
		if strings.Contains(args, id) {
			out = append(out, js...)
		}
	}
	return out
}

// TestReplicasOnOnePostgres runs two `gpcore serve` replicas on one
// PostgreSQL schema: an order taken by one is streamed by the other, every
// install job runs exactly once across both, and when a replica is killed
// mid-install another one finishes the work.
func TestReplicasOnOnePostgres(t *testing.T) {
	if os.Getenv(storetest.EnvPostgresDSN) == "" {
		t.Skipf("%s is not set", storetest.EnvPostgresDSN)
	}
	// storetest fails the test (never skips) if the server is unreachable.
	cfg := storetest.NewConfig(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	db, err := pgxpool.New(ctx, cfg.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	// Installs take a few seconds (5 simulated states); a crashed attempt is
	// rescued after 6s.
	env := []string{
		"GPCORE_DATABASE=" + cfg.DSN,
		"GPCORE_PUBLIC_URL=http://gpcore.test", // one issuer: tokens work on every replica
		"GPCORE_SIM_STEP_DELAY=700ms",
		"GPCORE_JOB_TIMEOUT=5s",
		"GPCORE_JOB_RESCUE_AFTER=6s",
	}
	a := startServer(t, append(env, "GPCORE_DATA_DIR="+t.TempDir())...)
	b := startServer(t, append(env, "GPCORE_DATA_DIR="+t.TempDir())...)
	cloudA := cloudv1grpc.NewCloudServiceClient(a.dial(t))
	cloudB := cloudv1grpc.NewCloudServiceClient(b.dial(t))

	user := newOrderable(t, ctx, a, "replicas@example.com")

	// An order on A is streamed to a subscriber on B.
	watchB := watchNodes(t, user.ctx, cloudB)
	ids := user.order(t, cloudA, "r1.example.com", "r2.example.com")
	for _, id := range ids {
		watchB.wait(t, id, "ACTIVE on replica B", isActive)
	}
	// Each install ran exactly once across both replicas.
	jobs := installJobs(t, ctx, db)
	for _, id := range ids {
		js := forNode(jobs, id)
		if len(js) != 1 || js[0].State != "completed" || js[0].Attempt != 1 {
			t.Fatalf("install jobs of node %s: %+v, want one completed at attempt 1", id, js)
		}
	}

	// Kill -9 the replica that runs an install; another one finishes it.
	// To know which replica holds the job, B is stopped first and a fresh
	// replica C takes over after A dies.
	b.kill()
	watchA := watchNodes(t, user.ctx, cloudA)
	crash := user.order(t, cloudA, "crash.example.com")[0]
	eventually(t, 30*time.Second, "install job running on A", func() error {
		js := forNode(installJobs(t, ctx, db), crash)
		if len(js) == 1 && js[0].State == "running" {
			return nil
		}
		return fmt.Errorf("jobs %+v", js)
	})
	watchA.wait(t, crash, "past the first install step", func(n *cloudv1.Node) bool {
		return n.GetStatus() != cloudv1.ServerProvisioningState_SERVER_PROVISIONING_STATE_DEPLOYING
	})
	a.kill()
	if js := forNode(installJobs(t, ctx, db), crash); len(js) != 1 || js[0].State != "running" {
		t.Fatalf("install job after kill -9: %+v, want it still running (cut off mid-install)", js)
	}
	start := time.Now()
	c := startServer(t, append(env, "GPCORE_DATA_DIR="+t.TempDir())...)
	cloudC := cloudv1grpc.NewCloudServiceClient(c.dial(t))
	eventually(t, 90*time.Second, "replica C finishes the install", func() error {
		n, err := cloudC.GetNode(user.ctx, &cloudv1.GetNodeRequest{ProjectId: user.project, Id: crash})
		if err != nil {
			return err
		}
		if !isActive(n.GetNode()) {
			return fmt.Errorf("status %v", n.GetNode().GetStatus())
		}
		return nil
	})
	t.Logf("replica C finished the install %v after A was killed", time.Since(start).Round(time.Second))
	js := forNode(installJobs(t, ctx, db), crash)
	if len(js) != 1 || js[0].State != "completed" || js[0].Attempt != 2 {
		t.Fatalf("install job of the crashed node: %+v, want one, completed at attempt 2", js)
	}
}
