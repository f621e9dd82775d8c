package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"connectrpc.com/grpcreflect"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	cloudv2 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v2"
	"github.com/gpcore/gpcore/gen/gpcore/api/cloud/v2/cloudv2connect"
	"github.com/gpcore/gpcore/internal/testserver"
)

func TestReflectionListsEveryService(t *testing.T) {
	s := testserver.Start(t)
	client := grpcreflect.NewClient(testserver.H2CClient(), s.URL)
	stream := client.NewStream(context.Background())
	defer stream.Close()
	names, err := stream.ListServices()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range names {
		got = append(got, string(n))
	}
	for _, want := range []string{
		"gpcore.api.auth.v1.AuthService", "gpcore.api.cloud.v1.CloudService", "gpcore.api.cloud.v2.CloudService",
		"gpcore.api.gateway.v1.GatewayService", "gpcore.api.metadata.v1.MetadataService",
		"gpcore.api.network.v1.NetworkService", "gpcore.api.payment.v1.PaymentService",
	} {
		if !slices.Contains(got, want) {
			t.Errorf("reflection does not list %s (got %v)", want, got)
		}
	}
}

// TestHealth checks the standard gRPC health service with clients built from
// the standard grpc/health/v1/health.proto: grpc-go's own health client, and
// connect-go clients of the same messages over Connect JSON, Connect proto,
// gRPC and gRPC-Web (binary and JSON). All of them read SERVING, and so does
// a script that reads the Connect JSON answer as text.
func TestHealth(t *testing.T) {
	s := testserver.Start(t)
	ctx := t.Context()
	const cloud = "gpcore.api.cloud.v1.CloudService"

	grpcHealth := healthpb.NewHealthClient(s.GRPCConn(t, ""))
	for _, service := range []string{"", cloud} {
		res, err := grpcHealth.Check(ctx, &healthpb.HealthCheckRequest{Service: service})
		if err != nil || res.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("grpc-go: Check(%q) = %v, %v; want SERVING", service, res, err)
		}
	}
	if _, err := grpcHealth.Check(ctx, &healthpb.HealthCheckRequest{Service: "no.such.Service"}); status.Code(err) != codes.NotFound {
		t.Errorf("grpc-go: Check(unknown) err = %v, want NotFound", err)
	}
	list, err := grpcHealth.List(ctx, &healthpb.HealthListRequest{})
	if err != nil {
		t.Errorf("grpc-go: List: %v", err)
	}
	for _, service := range []string{"", cloud, "gpcore.api.auth.v1.AuthService"} {
		if got := list.GetStatuses()[service].GetStatus(); got != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("grpc-go: List()[%q] = %v, want SERVING", service, got)
		}
	}
	watch, err := grpcHealth.Watch(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatalf("grpc-go: Watch: %v", err)
	}
	if res, err := watch.Recv(); err != nil || res.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("grpc-go: Watch = %v, %v; want SERVING", res, err)
	}

	for name, c := range map[string]struct {
		client *http.Client
		opts   []connect.ClientOption
	}{
		"connect-json":  {testserver.HTTPClient(), []connect.ClientOption{connect.WithProtoJSON()}},
		"connect-proto": {testserver.HTTPClient(), nil},
		"grpc":          {testserver.H2CClient(), []connect.ClientOption{connect.WithGRPC()}},
		"grpc-web":      {testserver.HTTPClient(), []connect.ClientOption{connect.WithGRPCWeb()}},
		"grpc-web-json": {testserver.HTTPClient(), []connect.ClientOption{connect.WithGRPCWeb(), connect.WithProtoJSON()}},
	} {
		check := connect.NewClient[healthpb.HealthCheckRequest, healthpb.HealthCheckResponse](c.client, s.URL+healthpb.Health_Check_FullMethodName, c.opts...)
		for _, service := range []string{"", cloud} {
			res, err := check.CallUnary(ctx, connect.NewRequest(&healthpb.HealthCheckRequest{Service: service}))
			var got healthpb.HealthCheckResponse_ServingStatus
			if err == nil {
				got = res.Msg.GetStatus()
			}
			if err != nil || got != healthpb.HealthCheckResponse_SERVING {
				t.Errorf("%s: Check(%q) = %v, %v; want SERVING", name, service, got, err)
			}
		}
		_, err := check.CallUnary(ctx, connect.NewRequest(&healthpb.HealthCheckRequest{Service: "no.such.Service"}))
		if connect.CodeOf(err) != connect.CodeNotFound {
			t.Errorf("%s: Check(unknown) err = %v, want NotFound", name, err)
		}
	}

	// What curl or a load balancer's HTTP check reads.
	res, err := http.Post(s.URL+healthpb.Health_Check_FullMethodName, "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != `{"status":"SERVING"}` {
		t.Errorf("Connect JSON Check = %s %s, want 200 {\"status\":\"SERVING\"}", res.Status, body)
	}

	for _, path := range []string{"/healthz", "/readyz"} {
		if code, body := get(t, s.URL+path); code != http.StatusOK {
			t.Errorf("GET %s = %d %s", path, code, body)
		}
	}
}

func TestReadinessCheckReturnsVersion(t *testing.T) {
	s := testserver.Start(t)
	client := cloudv2connect.NewCloudServiceClient(testserver.H2CClient(), s.URL, connect.WithGRPC())
	res, err := client.ReadinessCheck(context.Background(), connect.NewRequest(&cloudv2.ReadinessCheckRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	if res.Msg.GetVersion() == "" {
		t.Error("ReadinessCheck returned no version")
	}
}

func TestMetricsCountRequestsByMethodAndCode(t *testing.T) {
	s := testserver.Start(t)
	client := cloudv2connect.NewCloudServiceClient(testserver.HTTPClient(), s.URL)
	if _, err := client.ReadinessCheck(context.Background(), connect.NewRequest(&cloudv2.ReadinessCheckRequest{})); err != nil {
		t.Fatal(err)
	}
	_, body := get(t, s.URL+"/metrics")
	for _, want := range []string{
		`gpcore_rpc_requests_total{code="ok",procedure="/gpcore.api.cloud.v2.CloudService/ReadinessCheck"} 1`,
		`gpcore_rpc_duration_seconds_bucket{procedure="/gpcore.api.cloud.v2.CloudService/ReadinessCheck"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestOpenIDDiscovery(t *testing.T) {
	s := testserver.Start(t)
	code, body := get(t, s.URL+"/realms/gpcore/.well-known/openid-configuration")
	if code != http.StatusOK {
		t.Fatalf("discovery = %d %s", code, body)
	}
	var doc struct {
		Issuer        string `json:"issuer"`
		TokenEndpoint string `json:"token_endpoint"`
		JWKS          string `json:"jwks_uri"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Issuer != s.URL+"/realms/gpcore" || doc.TokenEndpoint != s.TokenEndpoint() {
		t.Errorf("discovery = %+v", doc)
	}
	if code, _ := get(t, doc.JWKS); code != http.StatusOK {
		t.Errorf("JWKS = %d", code)
	}
}

// TestGrpcurl drives the server with grpcurl, which knows no .proto file and
// learns the API by reflection. CI installs grpcurl; elsewhere the test needs
// it on PATH.
func TestGrpcurl(t *testing.T) {
	bin, err := exec.LookPath("grpcurl")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("grpcurl is not installed; .ci/run installs it")
		}
		t.Skip("grpcurl not on PATH (go install github.com/fullstorydev/grpcurl/cmd/grpcurl@v1.9.3)")
	}
	s := testserver.Start(t)
	user := s.Register(t)
	out, err := exec.Command(bin, "-plaintext", "-H", "authorization: Bearer "+user.Token,
		s.Addr, "gpcore.api.cloud.v1.CloudService/ListDatacenters").CombinedOutput()
	if err != nil {
		t.Fatalf("grpcurl: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), `"short": "fra1"`) {
		t.Errorf("grpcurl output lacks fra1:\n%s", out)
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}
