package cloudv1_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/coreos/go-oidc/v3/oidc"

	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	"github.com/gpcore/gpcore/internal/app"
	"github.com/gpcore/gpcore/internal/auth"
	"github.com/gpcore/gpcore/internal/node"
	"github.com/gpcore/gpcore/internal/provision/sim"
	"github.com/gpcore/gpcore/internal/testserver"
)

// hwClock is the simulated hardware's clock: the real time, plus what the
// test has moved it on by.
type hwClock struct {
	mu    sync.Mutex
	ahead time.Duration
}

func (c *hwClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.ahead)
}

func (c *hwClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ahead += d
}

// startWithHardware runs a server on simulated hardware the test holds,
// on clock.
func startWithHardware(t *testing.T, clock *hwClock) (*testserver.Server, *sim.Driver) {
	t.Helper()
	hw := sim.New(sim.Config{Clock: clock})
	return testserver.Start(t, func(c *app.Config) { c.Driver = hw }), hw
}

// consoleClaims are the claims of a console token a console proxy reads.
type consoleClaims struct {
	ID        string `json:"jti"`
	Type      string `json:"typ"`
	NodeID    string `json:"gpcore_node_id"`
	ServerID  string `json:"gpcore_server_id"`
	SessionID string `json:"gpcore_console_session_id"`
}

// verifyConsoleToken verifies token as a console proxy outside gpcore
// would: OpenID Connect discovery and JWKS from the server, then go-oidc
// for the console audience, at now.
func verifyConsoleToken(t *testing.T, s *testserver.Server, token string, now func() time.Time) (*oidc.IDToken, consoleClaims, error) {
	t.Helper()
	ctx := oidc.ClientContext(t.Context(), testserver.HTTPClient())
	provider, err := oidc.NewProvider(ctx, s.URL+"/realms/"+auth.Realm)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	tok, err := provider.Verifier(&oidc.Config{ClientID: auth.ConsoleAudience, Now: now}).Verify(ctx, token)
	if err != nil {
		return nil, consoleClaims{}, err
	}
	var c consoleClaims
	if err := tok.Claims(&c); err != nil {
		t.Fatalf("console token claims: %v", err)
	}
	return tok, c, nil
}

// checkConsole checks an answer of GetRemoteConsoleAccess for user's node
// nodeID: its token is a console token of gpcore's issuer for the node's
// session, and the node's BMC takes its credentials, and no others. It
// returns the server's id, from the token.
func checkConsole(t *testing.T, s *testserver.Server, hw *sim.Driver, res *cloudv1.GetRemoteConsoleAccessResponse, userID, nodeID string) string {
	t.Helper()
	tok, claims, err := verifyConsoleToken(t, s, res.GetToken(), time.Now)
	if err != nil {
		t.Fatalf("the console token does not verify against the JWKS: %v", err)
	}
	if tok.Subject != userID || claims.Type != "Console" || claims.NodeID != nodeID || claims.ServerID == "" ||
		claims.SessionID == "" || claims.SessionID != claims.ID ||
		tok.Expiry.After(time.Now().Add(node.DefaultConsoleTTL)) || !tok.Expiry.After(time.Now()) {
		t.Fatalf("console token: sub %s, exp %s, claims %+v", tok.Subject, tok.Expiry, claims)
	}
	if res.GetHostname() == "" || res.GetUsername() == "" || len(res.GetPassword()) < 20 {
		t.Fatalf("console access: host %q, user %q, password of %d characters", res.GetHostname(), res.GetUsername(), len(res.GetPassword()))
	}
	if err := hw.ConsoleLogin(claims.ServerID, res.GetUsername(), res.GetPassword()); err != nil {
		t.Fatalf("the BMC refuses the credentials the API returned: %v", err)
	}
	if err := hw.ConsoleLogin(claims.ServerID, res.GetUsername(), "not-the-password"); !errors.Is(err, sim.ErrLoginRefused) {
		t.Fatalf("the BMC takes a wrong password: %v", err)
	}
	return claims.ServerID
}

// TestRemoteConsole: GetRemoteConsoleAccess, over Connect and gRPC, opens
// a session on the node's BMC that takes the credentials it returns until
// they expire, with a console token of gpcore's issuer that expires with
// them and opens no API call.
func TestRemoteConsole(t *testing.T) {
	t.Parallel()
	clock := &hwClock{}
	s, hw := startWithHardware(t, clock)
	ctx := t.Context()
	u := s.Register(t)
	c := s.Cloud(u.Token)
	p := s.BilledProject(t, u, "Consoles")
	created, err := c.CreateNode(ctx, connect.NewRequest(orderS1(p.GetId(), "console.example")))
	if err != nil {
		t.Fatal(err)
	}
	id := created.Msg.GetNodes()[0].GetId()

	res, err := c.GetRemoteConsoleAccess(ctx, connect.NewRequest(&cloudv1.GetRemoteConsoleAccessRequest{Id: id}))
	if err != nil {
		t.Fatal(err)
	}
	serverID := checkConsole(t, s, hw, res.Msg, u.ID, id)
	g, err := s.Cloud(u.Token, connect.WithGRPC()).GetRemoteConsoleAccess(ctx, connect.NewRequest(&cloudv1.GetRemoteConsoleAccessRequest{Id: id}))
	if err != nil {
		t.Fatal(err)
	}
	if checkConsole(t, s, hw, g.Msg, u.ID, id) != serverID || g.Msg.GetPassword() == res.Msg.GetPassword() {
		t.Fatal("a second console over gRPC is not a new session on the same server")
	}

	// The token opens no API call.
	_, err = s.Cloud(res.Msg.GetToken()).ListDatacenters(ctx, connect.NewRequest(&cloudv1.ListDatacentersRequest{}))
	testserver.WantCode(t, err, connect.CodeUnauthenticated, "")

	// Past the TTL, the BMC refuses the credentials and the token is
	// expired.
	clock.Advance(node.DefaultConsoleTTL)
	if err := hw.ConsoleLogin(serverID, res.Msg.GetUsername(), res.Msg.GetPassword()); !errors.Is(err, sim.ErrLoginRefused) {
		t.Fatalf("the BMC takes console credentials past their TTL: %v", err)
	}
	later := func() time.Time { return time.Now().Add(node.DefaultConsoleTTL + time.Second) }
	if _, _, err := verifyConsoleToken(t, s, res.Msg.GetToken(), later); err == nil {
		t.Fatal("the console token verifies past its TTL")
	}

	// Bad ids, and other people's nodes.
	_, err = c.GetRemoteConsoleAccess(ctx, connect.NewRequest(&cloudv1.GetRemoteConsoleAccessRequest{Id: "not-a-uuid"}))
	testserver.WantCode(t, err, connect.CodeInvalidArgument, "id")
	_, err = s.Cloud(s.Register(t).Token).GetRemoteConsoleAccess(ctx, connect.NewRequest(&cloudv1.GetRemoteConsoleAccessRequest{Id: id}))
	testserver.WantCode(t, err, connect.CodeNotFound, "")
}
