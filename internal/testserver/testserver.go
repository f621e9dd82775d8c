// Package testserver runs a whole gpcore control plane for API tests: a real
// listener on 127.0.0.1, a fresh database (SQLite, or a PostgreSQL schema when
// GPCORE_TEST_POSTGRES_DSN is set), and helpers that sign in and build real
// Connect and gRPC clients, the way users call the API.
package testserver

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	authv1 "github.com/gpcore/gpcore/gen/gpcore/api/auth/v1"
	"github.com/gpcore/gpcore/gen/gpcore/api/auth/v1/authv1connect"
	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	"github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1/cloudv1connect"
	"github.com/gpcore/gpcore/internal/app"
	"github.com/gpcore/gpcore/internal/audit"
	"github.com/gpcore/gpcore/internal/mail/mailtest"
	"github.com/gpcore/gpcore/internal/store/storetest"
)

// Server is a running control plane.
type Server struct {
	// URL is the base URL, e.g. http://127.0.0.1:41234.
	URL string
	// Addr is the host:port the server listens on.
	Addr string
	// OperatorEmail and OperatorPassword are the credentials printed at first start.
	OperatorEmail, OperatorPassword string
	// Output is what the server printed to its standard output.
	Output string
	// Mail holds every mail the server sent.
	Mail *mailtest.Mailbox

	app *app.App
}

var operatorRE = regexp.MustCompile(`e-mail:\s+(\S+)\s+password:\s+(\S+)`)

// Start runs a server for the duration of t; options change its
// configuration before it starts.
func Start(t testing.TB, options ...func(*app.Config)) *Server {
	t.Helper()
	dbcfg := storetest.NewConfig(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mailbox := mailtest.New()
	cfg := app.Config{
		MailSender: mailbox,
		Listen:     ln.Addr().String(),
		DataDir:    dbcfg.DataDir,
		Database:   dbcfg.DSN,
		LogLevel:   "warn",
		LogFormat:  "text",
	}
	for _, o := range options {
		o(&cfg)
	}
	var out bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg, &out)
	if err != nil {
		cancel()
		t.Fatalf("start gpcore: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		if err := a.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	s := &Server{URL: "http://" + ln.Addr().String(), Addr: ln.Addr().String(), Output: out.String(), Mail: mailbox, app: a}
	if m := operatorRE.FindStringSubmatch(s.Output); m != nil {
		s.OperatorEmail, s.OperatorPassword = m[1], m[2]
	} else {
		t.Fatalf("no operator credentials in the first start's output:\n%s", s.Output)
	}
	return s
}

// AuditLog returns the audit log entries f selects, newest first, once
// everything recorded so far is written.
func (s *Server) AuditLog(t testing.TB, f audit.Filter) []audit.Entry {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.app.AuditLog().Flush(ctx); err != nil {
		t.Fatalf("flush the audit log: %v", err)
	}
	entries, err := s.app.AuditLog().List(ctx, f)
	if err != nil {
		t.Fatalf("list the audit log: %v", err)
	}
	return entries
}

// Serve serves h on a 127.0.0.1 port until the test ends, over HTTP/1.1 and
// HTTP/2 without TLS (h2c, for gRPC), as gpcore serve does: for tests that
// put a handler of their own wiring in front of real clients.
func Serve(t testing.TB, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	var p http.Protocols
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	srv.Config.Protocols = &p
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// HTTPClient is a client that speaks HTTP/1.1 and, for gRPC, h2c.
func HTTPClient() *http.Client {
	var p http.Protocols
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	return &http.Client{Transport: &http.Transport{Protocols: &p}}
}

// H2CClient is a client that speaks only HTTP/2 without TLS, as gRPC needs.
func H2CClient() *http.Client {
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	return &http.Client{Transport: &http.Transport{Protocols: &p}}
}

// BearerInterceptor adds "authorization: Bearer <token>" to every request,
// unary and streaming.
func BearerInterceptor(token string) connect.Interceptor { return bearer(token) }

type bearer string

func (b bearer) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		if b != "" {
			req.Header().Set("Authorization", "Bearer "+string(b))
		}
		return next(ctx, req)
	}
}

func (b bearer) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return func(ctx context.Context, spec connect.Spec) connect.StreamingClientConn {
		conn := next(ctx, spec)
		if b != "" {
			conn.RequestHeader().Set("Authorization", "Bearer "+string(b))
		}
		return conn
	}
}

func (b bearer) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}

// ClientOptions are the options for a Connect client signed in with token
// (empty: anonymous); add connect.WithGRPC() for the gRPC protocol.
func ClientOptions(token string, extra ...connect.ClientOption) []connect.ClientOption {
	return append([]connect.ClientOption{connect.WithInterceptors(BearerInterceptor(token))}, extra...)
}

type bearerCreds string

func (b bearerCreds) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}

func (bearerCreds) RequireTransportSecurity() bool { return false }

// GRPCConn is a grpc-go connection to the server, signed in with token
// (empty: anonymous).
func (s *Server) GRPCConn(t testing.TB, token string) *grpc.ClientConn {
	t.Helper()
	opts := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	if token != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(bearerCreds(token)))
	}
	conn, err := grpc.NewClient(s.Addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// TokenResponse is the token endpoint's JSON answer.
type TokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int    `json:"expires_in"`
	TokenType    string `json:"token_type"`
	Error        string `json:"error"`
	Description  string `json:"error_description"`
}

// TokenEndpoint is the Keycloak-style token endpoint's URL.
func (s *Server) TokenEndpoint() string {
	return s.URL + "/realms/gpcore/protocol/openid-connect/token"
}

// PostToken posts a token request form and returns the HTTP status and answer.
func (s *Server) PostToken(t testing.TB, form url.Values) (int, TokenResponse) {
	t.Helper()
	res, err := http.PostForm(s.TokenEndpoint(), form)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	var tr TokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		t.Fatalf("token endpoint answered %d with non-JSON %q", res.StatusCode, body)
	}
	return res.StatusCode, tr
}

// PasswordToken signs in with the password grant of the public CLI client
// and returns the access token.
func (s *Server) PasswordToken(t testing.TB, email, password string) string {
	t.Helper()
	status, tr := s.PostToken(t, url.Values{
		"grant_type": {"password"}, "client_id": {"gpcore-cli"},
		"username": {email}, "password": {password},
	})
	if status != http.StatusOK || tr.AccessToken == "" {
		t.Fatalf("password grant for %s: %d %s: %s", email, status, tr.Error, tr.Description)
	}
	return tr.AccessToken
}

// OperatorToken signs in as the operator account.
func (s *Server) OperatorToken(t testing.TB) string {
	return s.PasswordToken(t, s.OperatorEmail, s.OperatorPassword)
}

// User is a registered person.
type User struct {
	ID, Email, Password, Token string
}

// Register signs a new person up through AuthService.Register with a unique
// e-mail address and returns their credentials and access token.
func (s *Server) Register(t testing.TB) User {
	t.Helper()
	email := fmt.Sprintf("user-%s@example.com", strings.ToLower(rand.Text()[:10]))
	password := "correct horse battery staple"
	client := authv1connect.NewAuthServiceClient(HTTPClient(), s.URL)
	res, err := client.Register(context.Background(), connect.NewRequest(&authv1.RegisterRequest{
		Email: email, Password: password, FirstName: "Test", LastName: "User",
	}))
	if err != nil {
		t.Fatalf("register %s: %v", email, err)
	}
	return User{ID: res.Msg.GetUser().GetId(), Email: email, Password: password, Token: res.Msg.GetTokens().GetAccessToken()}
}

// Cloud is a CloudService v1 client of the server signed in with token
// (empty: anonymous), speaking Connect over HTTP/2; add connect.WithGRPC()
// for gRPC.
func (s *Server) Cloud(token string, extra ...connect.ClientOption) cloudv1connect.CloudServiceClient {
	return cloudv1connect.NewCloudServiceClient(H2CClient(), s.URL, ClientOptions(token, extra...)...)
}

// CreateProject creates a project named name as the user token signs in and
// returns it.
func (s *Server) CreateProject(t testing.TB, token, name string) *cloudv1.Project {
	t.Helper()
	res, err := s.Cloud(token).CreateProject(context.Background(), connect.NewRequest(&cloudv1.CreateProjectRequest{Name: name}))
	if err != nil {
		t.Fatalf("create project %q: %v", name, err)
	}
	return res.Msg.GetProject()
}

// WantCode fails the test unless err has code and, when field is not empty,
// a google.rpc.BadRequest field violation naming field.
func WantCode(t testing.TB, err error, code connect.Code, field string) {
	t.Helper()
	if connect.CodeOf(err) != code {
		t.Fatalf("err = %v, want %v", err, code)
	}
	if field == "" {
		return
	}
	var ce *connect.Error
	if !errors.As(err, &ce) {
		t.Fatalf("err %v is not a Connect error", err)
	}
	for _, d := range ce.Details() {
		v, derr := d.Value()
		if br, ok := v.(*errdetails.BadRequest); ok && derr == nil {
			for _, fv := range br.GetFieldViolations() {
				if fv.GetField() == field {
					return
				}
			}
		}
	}
	t.Fatalf("err %v has no field violation for %q", err, field)
}
