package e2e_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"buf.build/gen/go/gportal/gpcore/grpc/go/gpcore/api/auth/v1/authv1grpc"
	"buf.build/gen/go/gportal/gpcore/grpc/go/gpcore/api/cloud/v1/cloudv1grpc"
	"buf.build/gen/go/gportal/gpcore/grpc/go/gpcore/api/payment/v1/paymentv1grpc"
	authv1 "buf.build/gen/go/gportal/gpcore/protocolbuffers/go/gpcore/api/auth/v1"
	cloudv1 "buf.build/gen/go/gportal/gpcore/protocolbuffers/go/gpcore/api/cloud/v1"
	paymentv1 "buf.build/gen/go/gportal/gpcore/protocolbuffers/go/gpcore/api/payment/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// nodeWatch collects the node notifications of one SubscribeNotifications
// stream: the latest state of every node by id.
type nodeWatch struct {
	mu    sync.Mutex
	nodes map[string]*cloudv1.Node
	seen  map[string][]cloudv1.ServerProvisioningState
	err   error
}

func watchNodes(t *testing.T, ctx context.Context, cloud cloudv1grpc.CloudServiceClient) *nodeWatch {
	t.Helper()
	stream, err := cloud.SubscribeNotifications(ctx, &cloudv1.SubscribeNotificationsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	// The first message (a heartbeat) comes at once: the subscription is live.
	if _, err := stream.Recv(); err != nil {
		t.Fatalf("SubscribeNotifications: first message: %v", err)
	}
	w := &nodeWatch{nodes: map[string]*cloudv1.Node{}, seen: map[string][]cloudv1.ServerProvisioningState{}}
	go func() {
		for {
			resp, err := stream.Recv()
			if err != nil {
				w.mu.Lock()
				w.err = err
				w.mu.Unlock()
				return
			}
			if n := resp.GetNotification().GetNode(); n != nil {
				w.mu.Lock()
				w.nodes[n.GetId()] = n
				if s := w.seen[n.GetId()]; len(s) == 0 || s[len(s)-1] != n.GetStatus() {
					w.seen[n.GetId()] = append(s, n.GetStatus())
				}
				w.mu.Unlock()
			}
		}
	}()
	return w
}

// wait waits until the stream showed node id in a state f accepts.
func (w *nodeWatch) wait(t *testing.T, id, what string, f func(*cloudv1.Node) bool) {
	t.Helper()
	eventually(t, 90*time.Second, "stream: node "+id+" "+what, func() error {
		w.mu.Lock()
		defer w.mu.Unlock()
		if n := w.nodes[id]; n != nil && f(n) {
			return nil
		}
		if w.err != nil {
			return fmt.Errorf("stream ended: %w", w.err)
		}
		return fmt.Errorf("last seen %v", w.seen[id])
	})
}

func isActive(n *cloudv1.Node) bool {
	return n.GetStatus() == cloudv1.ServerProvisioningState_SERVER_PROVISIONING_STATE_ACTIVE
}

// TestJourneyWithPublicSDK walks the getting-started journey with the public
// GPCORE SDK's gRPC clients against a `gpcore serve` child process.
func TestJourneyWithPublicSDK(t *testing.T) {
	env := append(newDatabase(t), "GPCORE_SIM_STEP_DELAY=100ms")
	srv := startServer(t, env...)
	conn := srv.dial(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	auth := authv1grpc.NewAuthServiceClient(conn)
	cloud := cloudv1grpc.NewCloudServiceClient(conn)
	pay := paymentv1grpc.NewPaymentServiceClient(conn)

	// Register (public) and sign in at the token endpoint.
	const email, password = "ada@example.com", "correct horse battery"
	if _, err := auth.Register(ctx, &authv1.RegisterRequest{Email: email, Password: password}); err != nil {
		t.Fatalf("Register: %v", err)
	}
	uctx := authed(ctx, srv.token(t, email, password))
	user, err := auth.GetUser(uctx, &authv1.GetUserRequest{})
	if err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	if user.GetUser().GetEmail() != email {
		t.Fatalf("GetUser: email %q, want %q", user.GetUser().GetEmail(), email)
	}

	// Billing profile and a test card.
	profile, err := pay.CreateBillingProfile(uctx, &paymentv1.CreateBillingProfileRequest{
		Name: "Ada Lovelace", Company: proto.String("Analytical Engines GmbH"), VatId: proto.String("DE123456789"),
		CountryCode: "DE", Street: "Unter den Linden 1", City: "Berlin", Postcode: "10117",
		BillingEmail: "billing@example.com",
	})
	if err != nil {
		t.Fatalf("CreateBillingProfile: %v", err)
	}
	profileID := profile.GetBillingProfile().GetId()
	setup, err := pay.AddCreditCard(uctx, &paymentv1.AddCreditCardRequest{BillingProfileId: profileID})
	if err != nil {
		t.Fatalf("AddCreditCard: %v", err)
	}
	resp, err := http.PostForm(srv.URL+"/payment/test/confirm", url.Values{
		"setup_intent": {setup.GetStripeSetupIdent()}, "payment_method": {"tok_visa"},
	})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("confirm test card: %s: %s", resp.Status, body)
	}

	// A project billed to that profile, with no locks left.
	project, err := cloud.CreateProject(uctx, &cloudv1.CreateProjectRequest{Name: "Web shop", BillingAddressId: profileID})
	if err != nil {
		t.Fatalf("CreateProject: %v", err)
	}
	projectID := project.GetProject().GetId()
	locks, err := cloud.GetProjectLocks(uctx, &cloudv1.GetProjectLocksRequest{Id: projectID})
	if err != nil {
		t.Fatalf("GetProjectLocks: %v", err)
	}
	if len(locks.GetLockReasons()) != 0 {
		t.Fatalf("project locks = %v, want none", locks.GetLockReasons())
	}

	// An SSH key made by ssh-keygen.
	keyFile := filepath.Join(t.TempDir(), "id_ed25519")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ada@laptop", "-f", keyFile).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v: %s", err, out)
	}
	pub, err := os.ReadFile(keyFile + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	key, err := cloud.CreateUserSSHKey(uctx, &cloudv1.CreateUserSSHKeyRequest{Name: "laptop", PublicKey: strings.TrimSpace(string(pub))})
	if err != nil {
		t.Fatalf("CreateUserSSHKey: %v", err)
	}
	keyID := key.GetSshKey().GetId()

	// Where and what.
	dcs, err := cloud.ListDatacenters(uctx, &cloudv1.ListDatacentersRequest{})
	if err != nil {
		t.Fatalf("ListDatacenters: %v", err)
	}
	var dcID string
	for _, dc := range dcs.GetDatacenters() {
		if dc.GetShort() == "fra1" {
			dcID = dc.GetId()
		}
	}
	if dcID == "" {
		t.Fatalf("no fra1 among %v", dcs.GetDatacenters())
	}
	// BM-L1 has exactly two servers in the seed: the two nodes take them all,
	// so the flavour sells out and comes back when they are destroyed.
	const flavourName = "BM-L1"
	findFlavour := func() *cloudv1.Flavour {
		t.Helper()
		fl, err := cloud.ListProjectFlavours(uctx, &cloudv1.ListProjectFlavoursRequest{Id: projectID, DatacenterId: dcID})
		if err != nil {
			t.Fatalf("ListProjectFlavours: %v", err)
		}
		for _, f := range fl.GetFlavours() {
			if f.GetName() == flavourName {
				return f
			}
		}
		return nil
	}
	before := findFlavour()
	if before == nil || before.GetAvailability() != cloudv1.FlavourAvailability_FLAVOUR_AVAILABILITY_LOW {
		t.Fatalf("%s before the order = %v, want listed with availability LOW (2 free servers)", flavourName, before)
	}
	images, err := cloud.ListPublicImages(uctx, &cloudv1.ListPublicImagesRequest{FlavourId: before.GetId()})
	if err != nil {
		t.Fatalf("ListPublicImages: %v", err)
	}
	var imageID string
	for _, os := range images.GetOperatingSystems() {
		for _, img := range os.GetImages() {
			if img.GetAlias() == "debian-12" {
				imageID = img.GetId()
			}
		}
	}
	if imageID == "" {
		t.Fatalf("no debian-12 image among %v", images.GetOperatingSystems())
	}

	// Watch, then order two nodes.
	watch := watchNodes(t, uctx, cloud)
	order, err := cloud.CreateNode(uctx, &cloudv1.CreateNodeRequest{
		ProjectId: projectID, DatacenterId: dcID, FlavourId: before.GetId(), ImageId: imageID,
		SshKeyIds: []string{keyID}, Fqdns: []string{"web1.example.com", "web2.example.com"},
		BillingPeriod: cloudv1.BillingPeriod_BILLING_PERIOD_HOURLY,
	})
	if err != nil {
		t.Fatalf("CreateNode: %v", err)
	}
	if len(order.GetNodes()) != 2 {
		t.Fatalf("CreateNode: %d nodes, want 2", len(order.GetNodes()))
	}
	var ids []string
	for _, n := range order.GetNodes() {
		ids = append(ids, n.GetId())
		watch.wait(t, n.GetId(), "ACTIVE", isActive)
	}
	// Both servers are taken: the old SDK cannot ask for sold-out flavours,
	// so the flavour is either not listed or listed as OUT_OF_STOCK.
	if f := findFlavour(); f != nil && f.GetAvailability() != cloudv1.FlavourAvailability_FLAVOUR_AVAILABILITY_OUT_OF_STOCK {
		t.Fatalf("%s with both servers taken = %v, want OUT_OF_STOCK or not listed", flavourName, f.GetAvailability())
	}
	for _, id := range ids {
		n, err := cloud.GetNode(uctx, &cloudv1.GetNodeRequest{ProjectId: projectID, Id: id})
		if err != nil {
			t.Fatalf("GetNode: %v", err)
		}
		var ips []string
		for _, nic := range n.GetNode().GetNetworkInterfaces() {
			ips = append(ips, nic.GetIpAddresses()...)
		}
		if len(ips) == 0 {
			t.Fatalf("node %s has no IP addresses", n.GetNode().GetFqdn())
		}
		t.Logf("%s: %s, %v", n.GetNode().GetFqdn(), n.GetNode().GetStatus(), ips)
	}
	list, err := cloud.ListNodes(uctx, &cloudv1.ListNodesRequest{Id: projectID})
	if err != nil {
		t.Fatalf("ListNodes: %v", err)
	}
	if len(list.GetNodes()) != 2 {
		t.Fatalf("ListNodes: %d nodes, want 2", len(list.GetNodes()))
	}

	// Operate the first node. The node takes one request at a time: retry
	// while it is busy finishing the previous one.
	node := ids[0]
	retryBusy := func(what string, f func() error) {
		t.Helper()
		eventually(t, 30*time.Second, what, func() error {
			err := f()
			if status.Code(err) == codes.FailedPrecondition {
				return err
			}
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			return nil
		})
	}
	power := func(s cloudv1.ServerPowerState) {
		t.Helper()
		retryBusy("PowerActionNode "+s.String(), func() error {
			_, err := cloud.PowerActionNode(uctx, &cloudv1.PowerActionNodeRequest{ProjectId: projectID, Id: node, PowerState: s})
			return err
		})
		watch.wait(t, node, s.String(), func(n *cloudv1.Node) bool { return n.GetPowerState() == s })
	}
	power(cloudv1.ServerPowerState_SERVER_POWER_STATE_OFF)
	power(cloudv1.ServerPowerState_SERVER_POWER_STATE_ON)

	// Rescue mode on, then off: the stream shows the node in RESCUE, then
	// ACTIVE again. (The latest state the stream showed is ACTIVE before the
	// first call and RESCUE before the second, so each wait ends only once
	// its call has taken effect.)
	for _, on := range []bool{true, false} {
		retryBusy(fmt.Sprint("ChangeNodeRescueMode ", on), func() error {
			res, err := cloud.ChangeNodeRescueMode(uctx, &cloudv1.ChangeNodeRescueModeRequest{
				ProjectId: projectID, Id: node, RescueMode: &cloudv1.RescueMode{Enabled: on},
			})
			// The SDK's ChangeNodeRescueModeResponse is empty: the rescue
			// password our server returns arrives as an unknown field.
			if err == nil && on && len(res.ProtoReflect().GetUnknown()) == 0 {
				t.Fatal("ChangeNodeRescueMode on: the answer carries no rescue password")
			}
			return err
		})
		if on {
			watch.wait(t, node, "RESCUE", func(n *cloudv1.Node) bool {
				return n.GetStatus() == cloudv1.ServerProvisioningState_SERVER_PROVISIONING_STATE_RESCUE
			})
		} else {
			watch.wait(t, node, "ACTIVE after rescue mode off", isActive)
		}
	}
	retryBusy("ReinstallNode", func() error {
		_, err := cloud.ReinstallNode(uctx, &cloudv1.ReinstallNodeRequest{ProjectId: projectID, Id: node, Fqdn: "web1.example.com", ImageId: imageID, SshKeyIds: []string{keyID}})
		return err
	})
	// A reinstall leaves ACTIVE and comes back to it.
	watch.wait(t, node, "leaving ACTIVE for the reinstall", func(n *cloudv1.Node) bool { return !isActive(n) })
	watch.wait(t, node, "ACTIVE after reinstall", isActive)

	// Destroy both; the servers go back to the pool.
	for _, id := range ids {
		retryBusy("DestroyNode", func() error {
			_, err := cloud.DestroyNode(uctx, &cloudv1.DestroyNodeRequest{ProjectId: projectID, Id: id})
			return err
		})
	}
	for _, id := range ids {
		eventually(t, 90*time.Second, "GetNode NotFound after destroy", func() error {
			_, err := cloud.GetNode(uctx, &cloudv1.GetNodeRequest{ProjectId: projectID, Id: id})
			if status.Code(err) == codes.NotFound {
				return nil
			}
			return fmt.Errorf("GetNode: %v", err)
		})
	}
	eventually(t, 30*time.Second, "servers back in the pool", func() error {
		if after := findFlavour(); after == nil || after.GetAvailability() != before.GetAvailability() {
			return fmt.Errorf("%s = %v, want availability %v again", flavourName, after, before.GetAvailability())
		}
		return nil
	})
	list, err = cloud.ListNodes(uctx, &cloudv1.ListNodesRequest{Id: projectID})
	if err != nil {
		t.Fatalf("ListNodes: %v", err)
	}
	if len(list.GetNodes()) != 0 {
		t.Fatalf("ListNodes after destroy: %d nodes, want 0", len(list.GetNodes()))
	}

	// Usage and the project's log.
	usage, err := cloud.GetProjectUsage(uctx, &cloudv1.GetProjectUsageRequest{Id: projectID, Detailed: true})
	if err != nil {
		t.Fatalf("GetProjectUsage: %v", err)
	}
	if usage.GetUsage().GetTotal() == nil || len(usage.GetUsage().GetFlavourUsages()) == 0 {
		t.Fatalf("GetProjectUsage: %v, want a total and flavour lines", usage.GetUsage())
	}
	logs, err := cloud.ListProjectLogs(uctx, &cloudv1.ListProjectLogsRequest{Id: projectID})
	if err != nil {
		t.Fatalf("ListProjectLogs: %v", err)
	}
	if len(logs.GetLogs()) == 0 {
		t.Fatal("ListProjectLogs: no entries")
	}
	watch.mu.Lock()
	for _, id := range ids {
		t.Logf("stream saw node %s go %v", id, watch.seen[id])
	}
	watch.mu.Unlock()
}
