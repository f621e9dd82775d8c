package interceptor_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"

	authv1 "github.com/gpcore/gpcore/gen/gpcore/api/auth/v1"
	"github.com/gpcore/gpcore/gen/gpcore/api/auth/v1/authv1connect"
	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	paymentv1 "github.com/gpcore/gpcore/gen/gpcore/api/payment/v1"
	"github.com/gpcore/gpcore/gen/gpcore/api/payment/v1/paymentv1connect"
	"github.com/gpcore/gpcore/internal/api/interceptor"
	"github.com/gpcore/gpcore/internal/app"
	"github.com/gpcore/gpcore/internal/audit"
	"github.com/gpcore/gpcore/internal/testserver"
)

// withHeaders is a client option that sets header on every request.
func withHeaders(header map[string]string) connect.ClientOption {
	return connect.WithInterceptors(connect.UnaryInterceptorFunc(func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			for k, v := range header {
				req.Header().Set(k, v)
			}
			return next(ctx, req)
		}
	}))
}

// requestIDOf returns the X-Request-Id the server answered err with.
func requestIDOf(t *testing.T, err error) string {
	t.Helper()
	var ce *connect.Error
	if !errors.As(err, &ce) {
		t.Fatalf("err %v is not a Connect error", err)
	}
	return ce.Meta().Get(interceptor.RequestIDHeader)
}

// only returns the single entry of entries, failing otherwise.
func only(t *testing.T, entries []audit.Entry) audit.Entry {
	t.Helper()
	if len(entries) != 1 {
		t.Fatalf("%d audit entries, want 1: %+v", len(entries), entries)
	}
	return entries[0]
}

// TestAuditLogRecordsCalls: a call with a token writes one entry with the
// caller, the token, the address, the user agent, the request id it was
// answered with and the request; anonymous calls write none; failures are
// recorded with their code.
func TestAuditLogRecordsCalls(t *testing.T) {
	s := testserver.Start(t)
	ctx := context.Background()
	u := s.Register(t) // anonymous: not recorded
	if got := s.AuditLog(t, audit.Filter{}); len(got) != 0 {
		t.Fatalf("an anonymous Register was recorded: %+v", got)
	}

	for _, protocol := range []string{"connect", "grpc"} {
		t.Run(protocol, func(t *testing.T) {
			var extra []connect.ClientOption
			if protocol == "grpc" {
				extra = append(extra, connect.WithGRPC())
			}
			requestID := "test-" + protocol + "-" + uuid.NewString()
			cloud := s.Cloud(u.Token, append(extra, withHeaders(map[string]string{
				interceptor.RequestIDHeader: requestID,
				"User-Agent":                "audit-test/1.0 (" + protocol + ")",
				"X-Forwarded-For":           "198.51.100.77", // not from a trusted proxy: ignored
			}))...)
			before := time.Now().UTC().Add(-time.Second)
			res, err := cloud.CreateProject(ctx, connect.NewRequest(&cloudv1.CreateProjectRequest{Name: "audited " + protocol}))
			if err != nil {
				t.Fatalf("CreateProject: %v", err)
			}
			if got := res.Header().Get(interceptor.RequestIDHeader); got != requestID {
				t.Errorf("X-Request-Id answered %q, want the one sent, %q", got, requestID)
			}

			e := only(t, s.AuditLog(t, audit.Filter{RequestID: requestID}))
			if e.RPCMethod != "/gpcore.api.cloud.v1.CloudService/CreateProject" || e.Code != "ok" || e.Stream {
				t.Errorf("method, code, stream = %q, %q, %v", e.RPCMethod, e.Code, e.Stream)
			}
			if e.UserID != u.ID || e.Token.Subject != u.ID || e.ClientID != "gpcore-cli" || e.Kind != audit.KindUser {
				t.Errorf("caller = user %q subject %q client %q kind %q, want %q via gpcore-cli", e.UserID, e.Token.Subject, e.ClientID, e.Kind, u.ID)
			}
			if e.Token.ID == "" || e.Token.Issuer != s.URL+"/realms/gpcore" || e.Token.Type != "Bearer" ||
				e.Token.IssuedAt.IsZero() || !e.Token.ExpiresAt.After(e.Token.IssuedAt) {
				t.Errorf("token = %+v", e.Token)
			}
			if e.IPAddress != "127.0.0.1" {
				t.Errorf("ip = %q, want 127.0.0.1 (X-Forwarded-For from an untrusted peer is ignored)", e.IPAddress)
			}
			if e.UserAgent != "audit-test/1.0 ("+protocol+")" {
				t.Errorf("user agent = %q", e.UserAgent)
			}
			if e.CreatedAt.Before(before) || e.CreatedAt.After(time.Now().UTC()) {
				t.Errorf("created at %v, not during the call", e.CreatedAt)
			}
			var payload map[string]any
			if err := json.Unmarshal(e.Payload, &payload); err != nil || payload["name"] != "audited "+protocol {
				t.Errorf("payload = %s (%v)", e.Payload, err)
			}

			// A refused call is recorded with its code, under the request id
			// the server made up and answered with.
			_, err = s.Cloud(u.Token, extra...).GetProject(ctx, connect.NewRequest(&cloudv1.GetProjectRequest{Id: uuid.NewString()}))
			testserver.WantCode(t, err, connect.CodeNotFound, "")
			generated := requestIDOf(t, err)
			if _, perr := uuid.Parse(generated); perr != nil {
				t.Fatalf("generated request id %q is not a UUID", generated)
			}
			if e := only(t, s.AuditLog(t, audit.Filter{RequestID: generated})); e.Code != "not_found" || e.RPCMethod != "/gpcore.api.cloud.v1.CloudService/GetProject" {
				t.Errorf("refused call recorded as %q %q", e.RPCMethod, e.Code)
			}

			// A malformed request id is replaced, not echoed.
			_, err = s.Cloud(u.Token, append(extra, withHeaders(map[string]string{interceptor.RequestIDHeader: "no spaces <allowed>"}))...).
				GetProject(ctx, connect.NewRequest(&cloudv1.GetProjectRequest{Id: uuid.NewString()}))
			if got := requestIDOf(t, err); got == "no spaces <allowed>" || got == "" {
				t.Errorf("malformed request id answered with %q", got)
			}
		})
	}

	// Anonymous calls get a request id too, and no entry.
	_, err := s.Cloud("").ListProjects(ctx, connect.NewRequest(&cloudv1.ListProjectsRequest{}))
	testserver.WantCode(t, err, connect.CodeUnauthenticated, "")
	if id := requestIDOf(t, err); id == "" || len(s.AuditLog(t, audit.Filter{RequestID: id})) != 0 {
		t.Errorf("anonymous call: request id %q, or recorded", id)
	}
}

// TestAuditLogPolicyRefusal: a valid token refused by the method's policy is
// recorded with PermissionDenied.
func TestAuditLogPolicyRefusal(t *testing.T) {
	s := testserver.Start(t)
	u := s.Register(t)
	_, err := paymentv1connect.NewPaymentServiceClient(testserver.HTTPClient(), s.URL, testserver.ClientOptions(u.Token)...).
		ListPlanCodes(context.Background(), connect.NewRequest(&paymentv1.ListPlanCodesRequest{}))
	testserver.WantCode(t, err, connect.CodePermissionDenied, "")
	e := only(t, s.AuditLog(t, audit.Filter{RequestID: requestIDOf(t, err)}))
	if e.Code != "permission_denied" || e.UserID != u.ID {
		t.Errorf("entry = %+v", e)
	}
}

// TestAuditLogKeepsNoSecrets: passwords and client secrets, in requests and
// in responses, and the bearer tokens themselves never reach the audit log;
// a client's calls are recorded as the client's.
func TestAuditLogKeepsNoSecrets(t *testing.T) {
	s := testserver.Start(t)
	ctx := context.Background()
	u := s.Register(t)
	auth := authv1connect.NewAuthServiceClient(testserver.HTTPClient(), s.URL, testserver.ClientOptions(u.Token)...)

	// Register is PUBLIC: anonymous it is not recorded, but with a token it
	// is, and its password must not be.
	const password = "the-audit-must-not-see-this-1"
	_, err := auth.Register(ctx, connect.NewRequest(&authv1.RegisterRequest{
		Email: "second-" + strings.ToLower(uuid.NewString()[:8]) + "@example.com", Password: password, FirstName: "S", LastName: "T",
	}))
	if err != nil {
		t.Fatalf("Register with a token: %v", err)
	}

	created, err := auth.CreateClient(ctx, connect.NewRequest(&authv1.CreateClientRequest{Name: "audited agent"}))
	if err != nil {
		t.Fatalf("CreateClient: %v", err)
	}
	client := created.Msg.GetClient()
	reset, err := auth.ResetClientSecret(ctx, connect.NewRequest(&authv1.ResetClientSecretRequest{Id: client.GetId()}))
	if err != nil {
		t.Fatalf("ResetClientSecret: %v", err)
	}
	status, tr := s.PostToken(t, map[string][]string{
		"grant_type": {"client_credentials"}, "client_id": {client.GetId()}, "client_secret": {reset.Msg.GetSecret()},
	})
	if status != http.StatusOK {
		t.Fatalf("client_credentials: %d %s", status, tr.Error)
	}
	if _, err := s.Cloud(tr.AccessToken).ListProjects(ctx, connect.NewRequest(&cloudv1.ListProjectsRequest{})); err != nil {
		t.Fatalf("ListProjects as the client: %v", err)
	}

	entries := s.AuditLog(t, audit.Filter{})
	methods := map[string]audit.Entry{}
	for _, e := range entries {
		methods[e.RPCMethod[strings.LastIndex(e.RPCMethod, "/")+1:]] = e
		for _, secret := range []string{password, client.GetSecret(), reset.Msg.GetSecret(), u.Token, tr.AccessToken} {
			if strings.Contains(string(e.Payload), secret) || strings.Contains(e.UserAgent, secret) {
				t.Errorf("%s entry holds a secret: %s", e.RPCMethod, e.Payload)
			}
		}
	}
	for _, m := range []string{"Register", "CreateClient", "ResetClientSecret", "ListProjects"} {
		if _, ok := methods[m]; !ok {
			t.Errorf("no entry for %s among %d", m, len(entries))
		}
	}
	if p := string(methods["Register"].Payload); !strings.Contains(p, `"password":"`+interceptor.Redacted+`"`) || !strings.Contains(p, `"firstName":"S"`) {
		t.Errorf("Register payload = %s, want the password redacted and the rest kept", p)
	}
	if e := methods["ListProjects"]; e.Kind != audit.KindClient || e.ClientID != client.GetId() || e.UserID == u.ID || e.UserID == "" {
		t.Errorf("the client's call recorded as kind %q client %q user %q", e.Kind, e.ClientID, e.UserID)
	}
	if client.GetSecret() == "" || reset.Msg.GetSecret() == "" {
		t.Fatalf("no secrets to look for")
	}
}

// TestAuditLogStream: a stream is recorded once, when it starts, and
// answers with a request id.
func TestAuditLogStream(t *testing.T) {
	s := testserver.Start(t)
	u := s.Register(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, err := s.Cloud(u.Token).SubscribeNotifications(ctx, connect.NewRequest(&cloudv1.SubscribeNotificationsRequest{}))
	if err != nil {
		t.Fatalf("SubscribeNotifications: %v", err)
	}
	if !stream.Receive() {
		t.Fatalf("no first heartbeat: %v", stream.Err())
	}
	requestID := stream.ResponseHeader().Get(interceptor.RequestIDHeader)
	if requestID == "" {
		t.Fatalf("the stream answered without a request id")
	}
	e := only(t, s.AuditLog(t, audit.Filter{RequestID: requestID}))
	if !e.Stream || e.Code != "" || e.RPCMethod != "/gpcore.api.cloud.v1.CloudService/SubscribeNotifications" || e.UserID != u.ID {
		t.Errorf("stream entry = %+v", e)
	}
	cancel()
	_ = stream.Close()
}

// TestAuditLogTrustedProxy: behind a trusted proxy the caller's address is
// read from X-Forwarded-For, past the proxies.
func TestAuditLogTrustedProxy(t *testing.T) {
	s := testserver.Start(t, func(c *app.Config) { c.TrustedProxies = []string{"127.0.0.1", "10.0.0.0/8"} })
	u := s.Register(t)
	requestID := uuid.NewString()
	cloud := s.Cloud(u.Token, withHeaders(map[string]string{
		interceptor.RequestIDHeader: requestID,
		"X-Forwarded-For":           "192.0.2.1, 198.51.100.77, 10.1.1.1",
	}))
	if _, err := cloud.ListProjects(context.Background(), connect.NewRequest(&cloudv1.ListProjectsRequest{})); err != nil {
		t.Fatalf("ListProjects: %v", err)
	}
	if e := only(t, s.AuditLog(t, audit.Filter{RequestID: requestID})); e.IPAddress != "198.51.100.77" {
		t.Errorf("ip = %q, want 198.51.100.77 (the hop before the trusted ones)", e.IPAddress)
	}
}
