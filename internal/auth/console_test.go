package auth_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/gpcore/gpcore/internal/auth"
	"github.com/gpcore/gpcore/internal/fault"
)

// consoleTokenClaims are the claims a console proxy reads.
type consoleTokenClaims struct {
	jwt.Claims
	Type      string `json:"typ"`
	NodeID    string `json:"gpcore_node_id"`
	ServerID  string `json:"gpcore_server_id"`
	SessionID string `json:"gpcore_console_session_id"`
}

// verifyAsProxy checks token as a console proxy outside gpcore would: with
// the keys the JWKS endpoint publishes, for the console audience, at now
// (with no leeway for clock skew).
func verifyAsProxy(t *testing.T, e *env, token string, now time.Time) (consoleTokenClaims, error) {
	t.Helper()
	var set jose.JSONWebKeySet
	getJSON(t, e, e.issuer.URL()+"/protocol/openid-connect/certs", http.StatusOK, &set)
	tok, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatalf("the console token is no RS256 JWT: %v", err)
	}
	keys := set.Key(tok.Headers[0].KeyID)
	if len(keys) != 1 {
		t.Fatalf("the JWKS has no key %q", tok.Headers[0].KeyID)
	}
	var c consoleTokenClaims
	if err := tok.Claims(keys[0].Key, &c); err != nil {
		t.Fatalf("signature: %v", err)
	}
	return c, c.ValidateWithLeeway(jwt.Expected{Issuer: e.issuer.URL(), AnyAudience: jwt.Audience{auth.ConsoleAudience}, Time: now}, 0)
}

// TestConsoleToken: a console token is signed with the published keys, for
// the console audience only, names the session and expires with it.
func TestConsoleToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	jane := e.person(t, "jane@example.com")
	expires := e.clock.Now().Add(5 * time.Minute)
	g := auth.ConsoleGrant{UserID: jane.ID, SessionID: "session-1", NodeID: "node-1", ServerID: "server-1", ExpiresAt: expires}
	token, err := e.issuer.IssueConsoleToken(g)
	if err != nil {
		t.Fatal(err)
	}
	c, err := verifyAsProxy(t, e, token, e.clock.Now())
	if err != nil {
		t.Fatalf("the proxy refuses the console token: %v", err)
	}
	if c.Subject != jane.ID || c.ID != "session-1" || c.SessionID != "session-1" || c.NodeID != "node-1" || c.ServerID != "server-1" ||
		c.Type != "Console" || !c.Expiry.Time().Equal(expires) || !c.IssuedAt.Time().Equal(e.clock.Now()) ||
		len(c.Audience) != 1 || c.Audience[0] != auth.ConsoleAudience {
		t.Fatalf("console token claims %+v", c)
	}
	if _, err := verifyAsProxy(t, e, token, expires.Add(time.Second)); !errors.Is(err, jwt.ErrExpired) {
		t.Fatalf("the proxy after the expiry: %v, want the token expired", err)
	}

	// It is no access token to the API.
	_, err = e.issuer.Verify(t.Context(), token)
	wantUnauthenticated(t, err, "not for")
	// And an access token is no console token.
	access := e.postToken(t, passwordForm(auth.PublicClientID, "jane@example.com"), nil).wantOK(t).AccessToken
	if _, err := verifyAsProxy(t, e, access, e.clock.Now()); !errors.Is(err, jwt.ErrInvalidAudience) {
		t.Fatalf("the proxy takes an access token: %v", err)
	}
}

func TestConsoleTokenRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	now := e.clock.Now()
	ok := auth.ConsoleGrant{UserID: "u", SessionID: "s", NodeID: "n", ServerID: "srv", ExpiresAt: now.Add(time.Minute)}
	for field, change := range map[string]func(*auth.ConsoleGrant){
		"user_id":    func(g *auth.ConsoleGrant) { g.UserID = "" },
		"session_id": func(g *auth.ConsoleGrant) { g.SessionID = "" },
		"node_id":    func(g *auth.ConsoleGrant) { g.NodeID = "" },
		"server_id":  func(g *auth.ConsoleGrant) { g.ServerID = "" },
		"expires_at": func(g *auth.ConsoleGrant) { g.ExpiresAt = now },
	} {
		g := ok
		change(&g)
		_, err := e.issuer.IssueConsoleToken(g)
		var fe *fault.Error
		if !errors.As(err, &fe) || fe.Kind != fault.KindInvalidArgument || fe.Field != field {
			t.Errorf("IssueConsoleToken without a good %s = %v, want InvalidArgument naming it", field, err)
		}
	}
	long := ok
	long.ExpiresAt = now.Add(auth.MaxConsoleTokenTTL + time.Second)
	if _, err := e.issuer.IssueConsoleToken(long); fault.KindOf(err) != fault.KindInvalidArgument {
		t.Errorf("a console token for longer than %s: %v, want InvalidArgument", auth.MaxConsoleTokenTTL, err)
	}
}
