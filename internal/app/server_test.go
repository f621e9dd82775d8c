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
	"connectrpc.com/grpchealth"
	"connectrpc.com/grpcreflect"

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

func TestHealth(t *testing.T) {
	s := testserver.Start(t)
	client := grpchealth.NewClient(testserver.H2CClient(), s.URL, connect.WithGRPC())
	ctx := context.Background()
	for _, service := range []string{"", "gpcore.api.cloud.v1.CloudService"} {
		res, err := client.Check(ctx, &grpchealth.CheckRequest{Service: service})
		if err != nil || res.Status != grpchealth.StatusServing {
			t.Errorf("Check(%q) = %v, %v; want SERVING", service, res, err)
		}
	}
	if _, err := client.Check(ctx, &grpchealth.CheckRequest{Service: "no.such.Service"}); connect.CodeOf(err) != connect.CodeNotFound {
		t.Errorf("Check(unknown) err = %v, want NotFound", err)
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
