package auth_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/gpcore/gpcore/internal/auth"
	"github.com/gpcore/gpcore/internal/identity"
	"github.com/gpcore/gpcore/internal/store/storetest"
)

func TestVerifyRefusals(t *testing.T) {
	e := newEnv(t)
	e.person(t, "jane@example.com")
	f := passwordForm(auth.PublicClientID, "jane@example.com")
	f.Set("scope", "openid")
	r := e.postToken(t, f, nil).wantOK(t)

	// Same database and keys, but another public URL or audience.
	otherURL := e.newIssuer(t, auth.Config{PublicURL: "https://elsewhere.example.com"})
	otherAudience := e.newIssuer(t, auth.Config{PublicURL: e.srv.URL, Audience: "billing"})
	// Another database: other keys.
	stranger := newEnv(t)
	stranger.person(t, "jane@example.com")
	strangerToken := stranger.postToken(t, passwordForm(auth.PublicClientID, "jane@example.com"), nil).wantOK(t).AccessToken

	parts := strings.Split(r.AccessToken, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("decode payload: %v", err)
	}
	var c map[string]any
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatalf("payload: %v", err)
	}
	c["realm_access"] = map[string]any{"roles": []string{"admin"}}
	forged, _ := json.Marshal(c)
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(forged) + "." + parts[2]

	tests := []struct {
		name     string
		verifier auth.Verifier
		token    string
		msg      string
	}{
		{"garbage", e.issuer, "not.a.jwt", "not an RS256-signed JWT"},
		{"no signature", e.issuer, parts[0] + "." + parts[1] + ".", "signature is invalid"},
		{"tampered claims", e.issuer, tampered, "signature is invalid"},
		{"another issuer's key", e.issuer, strangerToken, "key this issuer does not know"},
		{"another issuer URL", otherURL, r.AccessToken, "issued by \"" + e.issuer.URL() + "\""},
		{"another audience", otherAudience, r.AccessToken, "not for \"billing\""},
		{"an ID token", e.issuer, r.IDToken, "not for \"gpcore\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := tt.verifier.Verify(t.Context(), tt.token)
			if p != nil {
				t.Fatalf("Verify accepted the token: %+v", p)
			}
			wantUnauthenticated(t, err, tt.msg)
		})
	}
}

func TestVerifyExpiry(t *testing.T) {
	e := newEnv(t)
	e.person(t, "jane@example.com")
	r := e.postToken(t, passwordForm(auth.PublicClientID, "jane@example.com"), nil).wantOK(t)
	expiry := e.clock.Now().Add(15 * time.Minute)

	e.clock.Add(15 * time.Minute) // the last second of its life
	if _, err := e.issuer.Verify(t.Context(), r.AccessToken); err != nil {
		t.Fatalf("Verify at expiry: %v", err)
	}
	e.clock.Add(time.Minute + time.Second) // beyond the tolerated clock skew
	_, err := e.issuer.Verify(t.Context(), r.AccessToken)
	wantUnauthenticated(t, err, "expired at "+expiry.Format(time.RFC3339))
}

func TestKeysShared(t *testing.T) {
	e := newEnv(t)
	jane := e.person(t, "jane@example.com")
	// A second replica (or a restart) on the same database.
	replica := e.newIssuer(t, auth.Config{PublicURL: e.srv.URL})
	pair, err := replica.IssueForUser(t.Context(), jane)
	if err != nil {
		t.Fatalf("IssueForUser: %v", err)
	}
	if p, err := e.issuer.Verify(t.Context(), pair.AccessToken); err != nil || p.UserID != jane.ID {
		t.Fatalf("first issuer does not verify the replica's token: %+v, %v", p, err)
	}
	if got, want := jwks(t, e, e.srv.URL), 1; len(got) != want {
		t.Fatalf("JWKS has %d keys, want %d", len(got), want)
	}
}

func TestKeysRace(t *testing.T) {
	// Replicas starting together on a database that has no key yet.
	db := storetest.New(t)
	clk := &clock{now: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	accounts, err := identity.New(db, identity.Config{Now: clk.Now})
	if err != nil {
		t.Fatalf("identity.New: %v", err)
	}
	jane, err := accounts.Register(t.Context(), identity.RegisterInput{Email: "jane@example.com", Password: password})
	if err != nil {
		t.Fatalf("Register: %v", err)
	}
	const n = 4
	issuers := make([]*auth.Issuer, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			var err error
			issuers[i], err = auth.NewIssuer(t.Context(), db, accounts, auth.Config{PublicURL: "https://cloud.example.com", Now: clk.Now})
			if err != nil {
				t.Errorf("replica %d: NewIssuer: %v", i, err)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	keys, err := db.NewSelect().Table("oauth_signing_keys").Count(t.Context())
	if err != nil || keys != 1 {
		t.Fatalf("%d signing keys stored (%v), want 1", keys, err)
	}
	pair, err := issuers[0].IssueForUser(t.Context(), jane)
	if err != nil {
		t.Fatalf("IssueForUser: %v", err)
	}
	for i, iss := range issuers {
		if _, err := iss.Verify(t.Context(), pair.AccessToken); err != nil {
			t.Errorf("replica %d does not verify replica 0's token: %v", i, err)
		}
	}
}

func TestDiscoveryAndJWKS(t *testing.T) {
	e := newEnv(t)
	var doc map[string]any
	getJSON(t, e, e.srv.URL+"/realms/gpcore/.well-known/openid-configuration", http.StatusOK, &doc)
	iss := e.srv.URL + "/realms/gpcore"
	if doc["issuer"] != iss || doc["token_endpoint"] != iss+"/protocol/openid-connect/token" ||
		doc["jwks_uri"] != iss+"/protocol/openid-connect/certs" || e.issuer.URL() != iss {
		t.Fatalf("discovery = %v", doc)
	}
	keys := jwks(t, e, e.srv.URL)
	if len(keys) != 1 || keys[0]["kty"] != "RSA" || keys[0]["alg"] != "RS256" || keys[0]["use"] != "sig" ||
		keys[0]["kid"] == "" || keys[0]["d"] != nil {
		t.Fatalf("JWKS keys = %v", keys)
	}
	for _, path := range []string{"/.well-known/openid-configuration", "/protocol/openid-connect/certs"} {
		var errDoc map[string]any
		getJSON(t, e, e.srv.URL+"/realms/master"+path, http.StatusNotFound, &errDoc)
		if errDoc["error"] != "not_found" {
			t.Fatalf("unknown realm: %v", errDoc)
		}
	}
}

// TestOIDCVerifier checks the embedded issuer with go-oidc, the library the
// external verifier uses: discovery and JWKS over HTTP, then verification.
func TestOIDCVerifier(t *testing.T) {
	e := newEnv(t)
	jane := e.person(t, "jane@example.com")
	agent, secret := e.client(t, jane, "agent")
	v, err := auth.NewOIDCVerifier(t.Context(), auth.OIDCConfig{
		IssuerURL:  e.issuer.URL(),
		Audience:   auth.DefaultAudience,
		HTTPClient: e.srv.Client(),
		Now:        e.clock.Now,
	})
	if err != nil {
		t.Fatalf("NewOIDCVerifier: %v", err)
	}
	f := passwordForm(auth.PublicClientID, "jane@example.com")
	f.Set("scope", "openid")
	user := e.postToken(t, f, nil).wantOK(t)
	client := e.postToken(t, url.Values{"grant_type": {"client_credentials"}}, &basic{agent.ID, secret}).wantOK(t)

	p, err := v.Verify(t.Context(), user.AccessToken)
	want := auth.Principal{Subject: jane.ID, UserID: jane.ID, ClientID: auth.PublicClientID, Kind: auth.PrincipalUser, Roles: []string{}, Email: jane.Email}
	if err != nil || !equalPrincipal(*p, want) {
		t.Fatalf("Verify(user token) = %+v, %v; want %+v", p, err, want)
	}
	p, err = v.Verify(t.Context(), client.AccessToken)
	sa := agent.ServiceAccount.ID
	want = auth.Principal{Subject: sa, UserID: sa, ClientID: agent.ID, Kind: auth.PrincipalClient, Roles: []string{}}
	if err != nil || !equalPrincipal(*p, want) {
		t.Fatalf("Verify(client token) = %+v, %v; want %+v", p, err, want)
	}

	// An ID token is for the client, not for the API.
	_, err = v.Verify(t.Context(), user.IDToken)
	wantUnauthenticated(t, err, "audience")

	// Without an audience check, an ID token is still no access token.
	anyAudience, err := auth.NewOIDCVerifier(t.Context(), auth.OIDCConfig{IssuerURL: e.issuer.URL(), HTTPClient: e.srv.Client(), Now: e.clock.Now})
	if err != nil {
		t.Fatalf("NewOIDCVerifier: %v", err)
	}
	_, err = anyAudience.Verify(t.Context(), user.IDToken)
	wantUnauthenticated(t, err, "not an access token")

	// Another issuer's token.
	stranger := newEnv(t)
	stranger.person(t, "jane@example.com")
	strangerToken := stranger.postToken(t, passwordForm(auth.PublicClientID, "jane@example.com"), nil).wantOK(t).AccessToken
	_, err = v.Verify(t.Context(), strangerToken)
	wantUnauthenticated(t, err, "not valid")

	e.clock.Add(15*time.Minute + time.Second)
	_, err = v.Verify(t.Context(), user.AccessToken)
	wantUnauthenticated(t, err, "expired at")

	if _, err := auth.NewOIDCVerifier(t.Context(), auth.OIDCConfig{IssuerURL: e.srv.URL + "/realms/master", HTTPClient: e.srv.Client()}); err == nil {
		t.Fatalf("NewOIDCVerifier(unknown realm) succeeded")
	}
}

// TestOAuth2Clients signs in with golang.org/x/oauth2, as SDKs do, in each
// way it sends client credentials.
func TestOAuth2Clients(t *testing.T) {
	e := newEnv(t)
	jane := e.person(t, "jane@example.com")
	agent, secret := e.client(t, jane, "agent")
	ctx := context.WithValue(t.Context(), oauth2.HTTPClient, e.srv.Client())
	tokenURL := e.issuer.URL() + "/protocol/openid-connect/token"

	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleAutoDetect, oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
		cfg := oauth2.Config{ClientID: auth.PublicClientID, Endpoint: oauth2.Endpoint{TokenURL: tokenURL, AuthStyle: style}}
		tok, err := cfg.PasswordCredentialsToken(ctx, "jane@example.com", password)
		if err != nil {
			t.Fatalf("password grant, auth style %d: %v", style, err)
		}
		if tok.RefreshToken == "" || tok.TokenType != "Bearer" || tok.Expiry.IsZero() {
			t.Fatalf("password grant token = %+v", tok)
		}
		tok.Expiry = time.Now().Add(-time.Hour) // make the token source refresh
		refreshed, err := cfg.TokenSource(ctx, tok).Token()
		if err != nil || refreshed.AccessToken == tok.AccessToken || refreshed.RefreshToken == tok.RefreshToken {
			t.Fatalf("refresh, auth style %d = %+v, %v", style, refreshed, err)
		}

		cc := clientcredentials.Config{ClientID: agent.ID, ClientSecret: secret, TokenURL: tokenURL, AuthStyle: style}
		tok, err = cc.Token(ctx)
		if err != nil {
			t.Fatalf("client credentials, auth style %d: %v", style, err)
		}
		p, err := e.issuer.Verify(t.Context(), tok.AccessToken)
		if err != nil || p.Kind != auth.PrincipalClient || p.ClientID != agent.ID {
			t.Fatalf("Verify(client credentials token) = %+v, %v", p, err)
		}
	}

	cfg := oauth2.Config{ClientID: auth.PublicClientID, Endpoint: oauth2.Endpoint{TokenURL: tokenURL}}
	_, err := cfg.PasswordCredentialsToken(ctx, "jane@example.com", "wrong-Password-1")
	if re, ok := err.(*oauth2.RetrieveError); !ok || re.ErrorCode != "invalid_grant" || re.Response.StatusCode != http.StatusBadRequest {
		t.Fatalf("wrong password: %v, want invalid_grant", err)
	}
}

// jwks fetches the published keys of the issuer at base.
func jwks(t *testing.T, e *env, base string) []map[string]any {
	t.Helper()
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	getJSON(t, e, base+"/realms/gpcore/protocol/openid-connect/certs", http.StatusOK, &set)
	return set.Keys
}

// getJSON GETs target, checks the status and decodes the JSON body into v.
func getJSON(t *testing.T, e *env, target string, status int, v any) {
	t.Helper()
	resp, err := e.srv.Client().Get(target)
	if err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != status || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET %s = %d %s, want %d JSON", target, resp.StatusCode, resp.Header.Get("Content-Type"), status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
}
