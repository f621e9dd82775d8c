package auth_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gpcore/gpcore/internal/auth"
	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/identity"
	"github.com/gpcore/gpcore/internal/store"
	"github.com/gpcore/gpcore/internal/store/storetest"
)

// password is every test person's password.
const password = "Correct-Horse-42"

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// env is an issuer on a fresh database, served by an httptest server.
type env struct {
	db       *store.DB
	clock    *clock
	accounts *identity.Service
	issuer   *auth.Issuer
	srv      *httptest.Server
}

// newEnv starts an issuer whose PublicURL is its own httptest server.
func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{db: storetest.New(t), clock: &clock{now: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}}
	var err error
	if e.accounts, err = identity.New(e.db, identity.Config{Now: e.clock.Now}); err != nil {
		t.Fatalf("identity.New: %v", err)
	}
	var handler http.Handler
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handler.ServeHTTP(w, r)
	}))
	t.Cleanup(e.srv.Close)
	e.issuer = e.newIssuer(t, auth.Config{PublicURL: e.srv.URL})
	handler = e.issuer.Handler()
	return e
}

// newIssuer returns another issuer on e's database and clock.
func (e *env) newIssuer(t *testing.T, cfg auth.Config) *auth.Issuer {
	t.Helper()
	cfg.Now = e.clock.Now
	iss, err := auth.NewIssuer(t.Context(), e.db, e.accounts, cfg)
	if err != nil {
		t.Fatalf("NewIssuer: %v", err)
	}
	return iss
}

// person registers a person with password.
func (e *env) person(t *testing.T, email string) identity.User {
	t.Helper()
	u, err := e.accounts.Register(t.Context(), identity.RegisterInput{Email: email, Password: password, FirstName: "Test", LastName: "Person"})
	if err != nil {
		t.Fatalf("Register(%q): %v", email, err)
	}
	return u
}

// client creates a confidential client owned by owner and returns it with
// its secret.
func (e *env) client(t *testing.T, owner identity.User, name string) (identity.Client, string) {
	t.Helper()
	c, secret, err := e.accounts.CreateClient(t.Context(), owner.ID, name, "")
	if err != nil {
		t.Fatalf("CreateClient: %v", err)
	}
	return c, secret
}

// setLocked locks or unlocks an account.
func (e *env) setLocked(t *testing.T, userID string, locked bool) {
	t.Helper()
	if _, err := e.db.NewUpdate().Table("users").Set("locked = ?", locked).Where("id = ?", userID).Exec(t.Context()); err != nil {
		t.Fatalf("lock user: %v", err)
	}
}

// tokenReply is the token endpoint's JSON, success or error.
type tokenReply struct {
	status int
	header http.Header

	AccessToken      string `json:"access_token"`
	ExpiresIn        int64  `json:"expires_in"`
	RefreshExpiresIn int64  `json:"refresh_expires_in"`
	RefreshToken     string `json:"refresh_token"`
	TokenType        string `json:"token_type"`
	IDToken          string `json:"id_token"`
	NotBeforePolicy  *int   `json:"not-before-policy"`
	Scope            string `json:"scope"`
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

// basic is HTTP Basic client credentials; nil means none.
type basic struct{ id, secret string }

// postToken posts form to the token endpoint, with HTTP Basic credentials if
// b is not nil.
func (e *env) postToken(t *testing.T, form url.Values, b *basic) tokenReply {
	t.Helper()
	return e.postTokenTo(t, e.srv.URL+"/realms/gpcore/protocol/openid-connect/token", "application/x-www-form-urlencoded", form.Encode(), b)
}

// postTokenTo posts body to target with contentType.
func (e *env) postTokenTo(t *testing.T, target, contentType, body string, b *basic) tokenReply {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, target, strings.NewReader(body))
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	req.Header.Set("Content-Type", contentType)
	if b != nil {
		req.SetBasicAuth(url.QueryEscape(b.id), url.QueryEscape(b.secret))
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", target, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read reply: %v", err)
	}
	reply := tokenReply{status: resp.StatusCode, header: resp.Header}
	if err := json.Unmarshal(raw, &reply); err != nil {
		t.Fatalf("reply %d %q is not JSON: %v", resp.StatusCode, raw, err)
	}
	return reply
}

// wantOK fails the test unless the reply is a successful grant.
func (r tokenReply) wantOK(t *testing.T) tokenReply {
	t.Helper()
	if r.status != http.StatusOK || r.AccessToken == "" || r.TokenType != "Bearer" {
		t.Fatalf("reply = %d %+v, want 200 with a Bearer access token", r.status, r)
	}
	if r.header.Get("Cache-Control") != "no-store" || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("reply headers = %v", r.header)
	}
	return r
}

// wantError fails the test unless the reply is the RFC 6749 error code with
// HTTP status and a description containing desc.
func (r tokenReply) wantError(t *testing.T, status int, code, desc string) {
	t.Helper()
	if r.status != status || r.Error != code || !strings.Contains(r.ErrorDescription, desc) || r.AccessToken != "" {
		t.Fatalf("reply = %d %q %q, want %d %q containing %q", r.status, r.Error, r.ErrorDescription, status, code, desc)
	}
	if status == http.StatusUnauthorized && r.header.Get("WWW-Authenticate") == "" {
		t.Fatalf("401 reply without WWW-Authenticate")
	}
}

// passwordForm is a password grant for email.
func passwordForm(clientID, email string) url.Values {
	return url.Values{"grant_type": {"password"}, "client_id": {clientID}, "username": {email}, "password": {password}}
}

// wantUnauthenticated fails the test unless err is fault.Unauthenticated and
// says msg.
func wantUnauthenticated(t *testing.T, err error, msg string) {
	t.Helper()
	if !errors.Is(err, fault.ErrUnauthenticated) || !strings.Contains(err.Error(), msg) {
		t.Fatalf("error = %v, want Unauthenticated saying %q", err, msg)
	}
}
