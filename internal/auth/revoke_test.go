package auth_test

import (
	"net/url"
	"testing"

	"github.com/gpcore/gpcore/internal/auth"
)

// TestClientTokensRevoked: resetting a confidential client's secret revokes
// the access tokens issued through it, its service account's and those of
// people who signed in through it; deleting the client revokes the rest.
// Tokens of the public client are not touched.
func TestClientTokensRevoked(t *testing.T) {
	e := newEnv(t)
	owner := e.person(t, "owner@example.com")
	c, secret := e.client(t, owner, "agent")
	ccForm := url.Values{"grant_type": {"client_credentials"}, "client_id": {c.ID}, "client_secret": {secret}}

	machine := e.postToken(t, ccForm, nil).wantOK(t).AccessToken
	viaClient := passwordForm(c.ID, "owner@example.com")
	viaClient.Set("client_secret", secret)
	person := e.postToken(t, viaClient, nil).wantOK(t).AccessToken
	public := e.postToken(t, passwordForm(auth.PublicClientID, "owner@example.com"), nil).wantOK(t).AccessToken
	for name, token := range map[string]string{"machine": machine, "person": person, "public": public} {
		if _, err := e.issuer.Verify(t.Context(), token); err != nil {
			t.Fatalf("%s token before the reset: %v", name, err)
		}
	}

	newSecret, err := e.accounts.ResetClientSecret(t.Context(), owner.ID, c.ID)
	if err != nil {
		t.Fatalf("ResetClientSecret: %v", err)
	}
	for _, token := range []string{machine, person} {
		_, err := e.issuer.Verify(t.Context(), token)
		wantUnauthenticated(t, err, "secret of client \""+c.ID+"\" was reset")
	}
	if _, err := e.issuer.Verify(t.Context(), public); err != nil {
		t.Fatalf("public client's token after the reset: %v", err)
	}

	ccForm.Set("client_secret", newSecret)
	fresh := e.postToken(t, ccForm, nil).wantOK(t).AccessToken
	p, err := e.issuer.Verify(t.Context(), fresh)
	if err != nil || p.Kind != auth.PrincipalClient || p.UserID != c.ServiceAccount.ID {
		t.Fatalf("token of the new secret: %+v, %v", p, err)
	}

	if err := e.accounts.DeleteClient(t.Context(), owner.ID, c.ID); err != nil {
		t.Fatalf("DeleteClient: %v", err)
	}
	_, err = e.issuer.Verify(t.Context(), fresh)
	wantUnauthenticated(t, err, "client \""+c.ID+"\" was deleted")
	if _, err := e.issuer.Verify(t.Context(), public); err != nil {
		t.Fatalf("public client's token after the delete: %v", err)
	}
}
