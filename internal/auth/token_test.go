package auth_test

import (
	"maps"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gpcore/gpcore/internal/auth"
)

// noSecret is the token endpoint's answer to a client other than the public
// one that gives no secret, known or not.
const noSecret = "unknown client or wrong client credentials (no client_secret given: only gpcore-cli needs none)"

func TestPasswordGrant(t *testing.T) {
	e := newEnv(t)
	jane := e.person(t, "jane@example.com")
	locked := e.person(t, "locked@example.com")
	e.setLocked(t, locked.ID, true)
	agent, secret := e.client(t, jane, "agent")

	with := func(f url.Values, k, v string) url.Values {
		f = maps.Clone(f)
		if v == "" {
			f.Del(k)
		} else {
			f.Set(k, v)
		}
		return f
	}
	public := passwordForm(auth.PublicClientID, "jane@example.com")
	confidential := with(passwordForm(agent.ID, "jane@example.com"), "client_secret", secret)

	tests := []struct {
		name   string
		form   url.Values
		basic  *basic
		client string // the azp of a success
		scope  string // the scope of a success
		status int    // of a failure
		code   string
		desc   string
	}{
		{name: "public client", form: public, client: auth.PublicClientID, scope: "email profile"},
		{name: "public client, address in capitals", form: with(public, "username", "JANE@EXAMPLE.COM"), client: auth.PublicClientID, scope: "email profile"},
		{name: "public client in HTTP Basic, no secret", form: with(public, "client_id", ""), basic: &basic{auth.PublicClientID, ""}, client: auth.PublicClientID, scope: "email profile"},
		{name: "public client with a secret, ignored", form: with(public, "client_secret", "whatever"), client: auth.PublicClientID, scope: "email profile"},
		{name: "openid scope", form: with(public, "scope", "openid email"), client: auth.PublicClientID, scope: "openid email profile"},
		{name: "confidential client in the form", form: confidential, client: agent.ID, scope: "email profile"},
		{name: "confidential client in HTTP Basic", form: with(with(confidential, "client_id", ""), "client_secret", ""), basic: &basic{agent.ID, secret}, client: agent.ID, scope: "email profile"},
		{name: "confidential client in both", form: confidential, basic: &basic{agent.ID, secret}, client: agent.ID, scope: "email profile"},
		// gocloak, which the GPCORE SDK uses: secret in HTTP Basic, client_id,
		// scope openid and response_type in the form.
		{name: "gocloak", form: with(with(with(confidential, "client_secret", ""), "scope", "openid"), "response_type", "token"),
			basic: &basic{agent.ID, secret}, client: agent.ID, scope: "openid email profile"},

		{name: "wrong password", form: with(public, "password", "Correct-Horse-43"), status: 400, code: "invalid_grant", desc: "invalid e-mail address or password"},
		{name: "unknown person", form: with(public, "username", "nobody@example.com"), status: 400, code: "invalid_grant", desc: "invalid e-mail address or password"},
		{name: "locked person", form: with(public, "username", "locked@example.com"), status: 400, code: "invalid_grant", desc: "locked"},
		{name: "no password", form: with(public, "password", ""), status: 400, code: "invalid_request", desc: "password"},
		{name: "unknown scope", form: with(public, "scope", "openid offline_access"), status: 400, code: "invalid_scope", desc: "offline_access"},
		{name: "no client", form: with(public, "client_id", ""), status: 401, code: "invalid_client", desc: "client_id"},
		{name: "unknown client", form: with(confidential, "client_id", "6b0d1d55-0d6c-4f43-8d51-0ff6b4f8a000"), status: 401, code: "invalid_client", desc: "unknown client or wrong client credentials"},
		// Without a secret, a client and an unknown id get the same answer.
		{name: "confidential client without secret", form: with(confidential, "client_secret", ""), status: 401, code: "invalid_client", desc: noSecret},
		{name: "unknown client without secret", form: with(public, "client_id", "nope"), status: 401, code: "invalid_client", desc: noSecret},
		{name: "confidential client, wrong secret", form: with(confidential, "client_secret", secret+"x"), status: 401, code: "invalid_client", desc: "unknown client or wrong client credentials"},
		{name: "form and Basic differ", form: confidential, basic: &basic{auth.PublicClientID, ""}, status: 400, code: "invalid_request", desc: "differ"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.postToken(t, tt.form, tt.basic)
			if tt.code != "" {
				r.wantError(t, tt.status, tt.code, tt.desc)
				return
			}
			r.wantOK(t)
			if r.ExpiresIn != 900 || r.RefreshExpiresIn != 30*24*3600 || r.RefreshToken == "" || r.Scope != tt.scope ||
				r.NotBeforePolicy == nil {
				t.Fatalf("reply = %+v", r)
			}
			if (r.IDToken != "") != (tt.scope == "openid email profile") {
				t.Fatalf("id_token = %q with scope %q", r.IDToken, tt.scope)
			}
			p, err := e.issuer.Verify(t.Context(), r.AccessToken)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			want := auth.Principal{Subject: jane.ID, UserID: jane.ID, ClientID: tt.client, Kind: auth.PrincipalUser, Roles: []string{}, Email: "jane@example.com"}
			if !equalPrincipal(*p, want) {
				t.Fatalf("principal = %+v, want %+v", *p, want)
			}
		})
	}
}

func TestPasswordGrantOperatorRoles(t *testing.T) {
	e := newEnv(t)
	_, email, pw, err := e.accounts.EnsureOperator(t.Context())
	if err != nil {
		t.Fatalf("EnsureOperator: %v", err)
	}
	f := passwordForm(auth.PublicClientID, email)
	f.Set("password", pw)
	r := e.postToken(t, f, nil).wantOK(t)
	p, err := e.issuer.Verify(t.Context(), r.AccessToken)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if !slices.Equal(p.Roles, []string{"admin", "manage-payment", "view-payment"}) || p.Kind != auth.PrincipalUser {
		t.Fatalf("operator principal = %+v", p)
	}
}

func TestClientCredentialsGrant(t *testing.T) {
	e := newEnv(t)
	owner := e.person(t, "owner@example.com")
	agent, secret := e.client(t, owner, "agent")
	locked, lockedSecret := e.client(t, owner, "locked agent")
	e.setLocked(t, locked.ServiceAccount.ID, true)

	cc := func(id, secret string) url.Values {
		f := url.Values{"grant_type": {"client_credentials"}}
		if id != "" {
			f.Set("client_id", id)
		}
		if secret != "" {
			f.Set("client_secret", secret)
		}
		return f
	}
	tests := []struct {
		name   string
		form   url.Values
		basic  *basic
		status int
		code   string
		desc   string
	}{
		{name: "secret in the form", form: cc(agent.ID, secret)},
		{name: "secret in HTTP Basic", form: cc("", ""), basic: &basic{agent.ID, secret}},
		{name: "gocloak", form: url.Values{"grant_type": {"client_credentials"}, "client_id": {agent.ID}, "response_type": {"token"}},
			basic: &basic{agent.ID, secret}},
		{name: "wrong secret", form: cc(agent.ID, lockedSecret), status: 401, code: "invalid_client", desc: "unknown client or wrong client credentials"},
		{name: "unknown client", form: cc("gpcore-dhcp", secret), status: 401, code: "invalid_client", desc: "unknown client or wrong client credentials"},
		{name: "no secret", form: cc(agent.ID, ""), status: 401, code: "invalid_client", desc: noSecret},
		{name: "unknown client, no secret", form: cc("nope", ""), status: 401, code: "invalid_client", desc: noSecret},
		{name: "locked service account", form: cc(locked.ID, lockedSecret), status: 401, code: "invalid_client", desc: "locked"},
		{name: "public client", form: cc(auth.PublicClientID, ""), status: 400, code: "unauthorized_client", desc: "client_credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.postToken(t, tt.form, tt.basic)
			if tt.code != "" {
				r.wantError(t, tt.status, tt.code, tt.desc)
				return
			}
			r.wantOK(t)
			if r.RefreshToken != "" || r.RefreshExpiresIn != 0 || r.ExpiresIn != 900 || r.Scope != "email profile" {
				t.Fatalf("reply = %+v, want no refresh token", r)
			}
			p, err := e.issuer.Verify(t.Context(), r.AccessToken)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			sa := agent.ServiceAccount.ID
			want := auth.Principal{Subject: sa, UserID: sa, ClientID: agent.ID, Kind: auth.PrincipalClient, Roles: []string{}}
			if !equalPrincipal(*p, want) {
				t.Fatalf("principal = %+v, want %+v", *p, want)
			}
		})
	}
}

func TestRefreshGrant(t *testing.T) {
	e := newEnv(t)
	jane := e.person(t, "jane@example.com")
	agent, secret := e.client(t, jane, "agent")
	login := func(t *testing.T, scope string) tokenReply {
		t.Helper()
		f := passwordForm(auth.PublicClientID, "jane@example.com")
		if scope != "" {
			f.Set("scope", scope)
		}
		return e.postToken(t, f, nil).wantOK(t)
	}
	refresh := func(t *testing.T, token string, extra url.Values) tokenReply {
		t.Helper()
		f := url.Values{"grant_type": {"refresh_token"}, "client_id": {auth.PublicClientID}, "refresh_token": {token}}
		for k, v := range extra {
			f[k] = v
		}
		return e.postToken(t, f, nil)
	}

	t.Run("rotation", func(t *testing.T) {
		first := login(t, "")
		e.clock.Add(time.Minute)
		second := refresh(t, first.RefreshToken, nil).wantOK(t)
		if second.RefreshToken == "" || second.RefreshToken == first.RefreshToken || second.AccessToken == first.AccessToken {
			t.Fatalf("refresh did not rotate: %+v", second)
		}
		if p, err := e.issuer.Verify(t.Context(), second.AccessToken); err != nil || p.UserID != jane.ID {
			t.Fatalf("Verify(refreshed) = %+v, %v", p, err)
		}
		refresh(t, first.RefreshToken, nil).wantError(t, 400, "invalid_grant", "used already")
		refresh(t, second.RefreshToken, nil).wantOK(t)
		refresh(t, second.RefreshToken, nil).wantError(t, 400, "invalid_grant", "used already")
	})
	t.Run("scope kept and narrowed", func(t *testing.T) {
		first := login(t, "openid")
		second := refresh(t, first.RefreshToken, nil).wantOK(t)
		if second.Scope != "openid email profile" || second.IDToken == "" {
			t.Fatalf("refresh lost the openid scope: %+v", second)
		}
		third := refresh(t, second.RefreshToken, url.Values{"scope": {"email"}}).wantOK(t)
		if third.Scope != "email profile" || third.IDToken != "" {
			t.Fatalf("narrowed refresh = %+v", third)
		}
	})
	t.Run("scope not widened", func(t *testing.T) {
		first := login(t, "")
		refresh(t, first.RefreshToken, url.Values{"scope": {"openid"}}).wantError(t, 400, "invalid_scope", "openid")
	})
	t.Run("unknown token", func(t *testing.T) {
		refresh(t, "not-a-token", nil).wantError(t, 400, "invalid_grant", "not valid")
	})
	t.Run("no token", func(t *testing.T) {
		refresh(t, "", nil).wantError(t, 400, "invalid_request", "refresh_token")
	})
	t.Run("another client", func(t *testing.T) {
		first := login(t, "")
		e.postToken(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first.RefreshToken}}, &basic{agent.ID, secret}).
			wantError(t, 400, "invalid_grant", "another client")
	})
	t.Run("confidential client", func(t *testing.T) {
		f := passwordForm(agent.ID, "jane@example.com")
		f.Set("client_secret", secret)
		first := e.postToken(t, f, nil).wantOK(t)
		f = url.Values{"grant_type": {"refresh_token"}, "client_id": {agent.ID}, "refresh_token": {first.RefreshToken}}
		e.postToken(t, f, nil).wantError(t, 401, "invalid_client", "secret")
		f.Set("client_secret", secret)
		e.postToken(t, f, nil).wantOK(t)
	})
	t.Run("expired", func(t *testing.T) {
		first := login(t, "")
		e.clock.Add(30*24*time.Hour + time.Second)
		refresh(t, first.RefreshToken, nil).wantError(t, 400, "invalid_grant", "expired")
	})
	t.Run("locked account", func(t *testing.T) {
		first := login(t, "")
		e.setLocked(t, jane.ID, true)
		defer e.setLocked(t, jane.ID, false)
		refresh(t, first.RefreshToken, nil).wantError(t, 400, "invalid_grant", "locked")
	})
	t.Run("deleted account", func(t *testing.T) {
		gone := e.person(t, "gone@example.com")
		first := e.postToken(t, passwordForm(auth.PublicClientID, "gone@example.com"), nil).wantOK(t)
		if _, err := e.db.NewDelete().Table("users").Where("id = ?", gone.ID).Exec(t.Context()); err != nil {
			t.Fatalf("delete user: %v", err)
		}
		refresh(t, first.RefreshToken, nil).wantError(t, 400, "invalid_grant", "not valid")
	})
	t.Run("concurrent use", func(t *testing.T) {
		first := login(t, "")
		const n = 8
		statuses := make([]int, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { statuses[i] = refresh(t, first.RefreshToken, nil).status })
		}
		wg.Wait()
		ok := 0
		for _, s := range statuses {
			if s == http.StatusOK {
				ok++
			}
		}
		if ok != 1 {
			t.Fatalf("%d of %d concurrent uses of one refresh token succeeded (%v), want 1", ok, n, statuses)
		}
	})
}

func TestIssueForUser(t *testing.T) {
	e := newEnv(t)
	jane := e.person(t, "jane@example.com")
	pair, err := e.issuer.IssueForUser(t.Context(), jane)
	if err != nil {
		t.Fatalf("IssueForUser: %v", err)
	}
	if !pair.ExpiresAt.Equal(e.clock.Now().Add(15*time.Minute)) || !pair.RefreshExpiresAt.Equal(e.clock.Now().Add(30*24*time.Hour)) ||
		pair.Scope != "email profile" || pair.IDToken != "" {
		t.Fatalf("pair = %+v", pair)
	}
	p, err := e.issuer.Verify(t.Context(), pair.AccessToken)
	if err != nil || p.UserID != jane.ID || p.ClientID != auth.PublicClientID || p.Kind != auth.PrincipalUser {
		t.Fatalf("Verify = %+v, %v", p, err)
	}
	r := e.postToken(t, url.Values{"grant_type": {"refresh_token"}, "client_id": {auth.PublicClientID}, "refresh_token": {pair.RefreshToken}}, nil)
	r.wantOK(t)

	e.setLocked(t, jane.ID, true)
	locked, err := e.accounts.GetUser(t.Context(), jane.ID)
	if err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	if _, err := e.issuer.IssueForUser(t.Context(), locked); err == nil {
		t.Fatalf("IssueForUser(locked) succeeded")
	}
}

func TestTokenRequestRefusals(t *testing.T) {
	e := newEnv(t)
	e.person(t, "jane@example.com")
	endpoint := e.srv.URL + "/realms/gpcore/protocol/openid-connect/token"
	form := passwordForm(auth.PublicClientID, "jane@example.com")

	e.postToken(t, url.Values{"client_id": {auth.PublicClientID}}, nil).wantError(t, 400, "invalid_request", "grant_type")
	e.postToken(t, url.Values{"grant_type": {"authorization_code"}, "client_id": {auth.PublicClientID}}, nil).
		wantError(t, 400, "unsupported_grant_type", "authorization_code")
	e.postTokenTo(t, endpoint, "application/json", `{"grant_type":"password"}`, nil).
		wantError(t, 400, "invalid_request", "x-www-form-urlencoded")
	e.postTokenTo(t, endpoint, "application/x-www-form-urlencoded", form.Encode()+"&password=again", nil).
		wantError(t, 400, "invalid_request", "more than once")
	e.postTokenTo(t, endpoint+"?"+form.Encode(), "application/x-www-form-urlencoded", "", nil).
		wantError(t, 400, "invalid_request", "grant_type")
	e.postTokenTo(t, e.srv.URL+"/realms/master/protocol/openid-connect/token", "application/x-www-form-urlencoded", form.Encode(), nil).
		wantError(t, 404, "not_found", "master")

	resp, err := e.srv.Client().Get(endpoint)
	if err != nil {
		t.Fatalf("GET token endpoint: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET token endpoint = %d, want 405", resp.StatusCode)
	}
}

// equalPrincipal compares principals field by field.
func equalPrincipal(a, b auth.Principal) bool {
	return a.Subject == b.Subject && a.UserID == b.UserID && a.ClientID == b.ClientID && a.Kind == b.Kind &&
		slices.Equal(a.Roles, b.Roles) && a.Email == b.Email
}
