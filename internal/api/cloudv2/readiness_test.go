package cloudv2_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"connectrpc.com/connect"

	cloudv2 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v2"
	"github.com/gpcore/gpcore/gen/gpcore/api/cloud/v2/cloudv2connect"
	apicloudv2 "github.com/gpcore/gpcore/internal/api/cloudv2"
	"github.com/gpcore/gpcore/internal/api/interceptor"
	"github.com/gpcore/gpcore/internal/auth"
	"github.com/gpcore/gpcore/internal/identity"
	"github.com/gpcore/gpcore/internal/store/storetest"
	"github.com/gpcore/gpcore/internal/testserver"
)

// downDatabase is a database that does not answer, with the kind of error
// text a driver gives: host, user and database names.
type downDatabase struct{}

// driverError is what the database driver said.
const driverError = `failed to connect to ` + "`" + `user=gpcore database=gpcore_prod` + "`" + `: 10.1.2.3:5432 (db.internal): dial error: connect: connection refused`

func (downDatabase) PingContext(context.Context) error { return errors.New(driverError) }

// TestReadinessCheckHidesTheDatabaseError: when the database does not
// answer, an unauthenticated caller of the PUBLIC ReadinessCheck gets
// Unavailable with a fixed message, over Connect JSON, Connect proto and
// gRPC, never the driver's error; the log has the cause.
func TestReadinessCheckHidesTheDatabaseError(t *testing.T) {
	db := storetest.New(t)
	ids, err := identity.New(db, identity.Config{})
	if err != nil {
		t.Fatal(err)
	}
	issuer, err := auth.NewIssuer(t.Context(), db, ids, auth.Config{PublicURL: "http://127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	var logs testserver.Output
	log := slog.New(slog.NewTextHandler(&logs, nil))
	opts := connect.WithInterceptors(interceptor.Errors{Log: log}, interceptor.NewPolicy(issuer))
	mux := http.NewServeMux()
	mux.Handle(cloudv2connect.NewCloudServiceHandler(apicloudv2.New(downDatabase{}, nil, log), opts))
	srv := testserver.Serve(t, mux)

	for name, opts := range map[string][]connect.ClientOption{
		"connect-json":  {connect.WithProtoJSON()},
		"connect-proto": nil,
		"grpc":          {connect.WithGRPC()},
	} {
		client := cloudv2connect.NewCloudServiceClient(testserver.H2CClient(), srv.URL, testserver.ClientOptions("", opts...)...)
		_, err := client.ReadinessCheck(t.Context(), connect.NewRequest(&cloudv2.ReadinessCheckRequest{}))
		testserver.WantCode(t, err, connect.CodeUnavailable, "")
		var ce *connect.Error
		if !errors.As(err, &ce) || ce.Message() != "database unavailable" {
			t.Errorf("%s: ReadinessCheck err = %v, want the message %q alone", name, err, "database unavailable")
		}
	}

	// What curl sees: the whole body, not only what a client decodes.
	res, err := http.Post(srv.URL+cloudv2connect.CloudServiceReadinessCheckProcedure, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), `"database unavailable"`) {
		t.Errorf("Connect JSON answer = %s %s, want 503 and the fixed message", res.Status, body)
	}
	for _, secret := range []string{"gpcore_prod", "10.1.2.3", "db.internal", "connection refused"} {
		if strings.Contains(string(body), secret) {
			t.Errorf("Connect JSON answer %s shows the driver's %q", body, secret)
		}
	}
	if !strings.Contains(logs.String(), "connection refused") || !strings.Contains(logs.String(), "db.internal") {
		t.Errorf("the log lacks the cause:\n%s", logs.String())
	}
}
