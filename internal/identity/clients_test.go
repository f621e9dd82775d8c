package identity_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/identity"
	"github.com/gpcore/gpcore/internal/pagination"
	"github.com/gpcore/gpcore/internal/store"
)

// createClient creates a client of owner and fails the test on error.
func createClient(t *testing.T, svc *identity.Service, owner identity.User, name string) (identity.Client, string) {
	t.Helper()
	c, secret, err := svc.CreateClient(t.Context(), owner.ID, name, "")
	if err != nil {
		t.Fatalf("CreateClient(%q): %v", name, err)
	}
	return c, secret
}

func TestListClients(t *testing.T) {
	svc, db, clk := newService(t)
	alice := register(t, svc, "alice@example.com")
	bob := register(t, svc, "bob@example.com")
	var want []string
	for _, name := range []string{"one", "two", "three"} {
		c, _ := createClient(t, svc, alice, name)
		want = append(want, c.ID)
		clk.Add(time.Second)
	}
	bobs, _ := createClient(t, svc, bob, "bob's")
	// A role on a service account comes back with the list.
	if _, err := db.ExecContext(t.Context(), "INSERT INTO user_roles (user_id, role) VALUES (?, ?)",
		bobs.ServiceAccount.ID, "datacenter-agent"); err != nil {
		t.Fatalf("give role: %v", err)
	}

	var got []string
	for page := int32(1); page <= 2; page++ {
		clients, total, err := svc.ListClients(t.Context(), alice.ID, pagination.Page{Number: page, Limit: 2})
		if err != nil || total != 3 {
			t.Fatalf("ListClients page %d: total %d, %v", page, total, err)
		}
		for _, c := range clients {
			if c.OwnerUserID != alice.ID || c.ServiceAccount.Username != identity.ServiceAccountPrefix+c.ID ||
				c.ServiceAccount.FullName != c.Name || c.SecretGeneration != 1 {
				t.Fatalf("listed client %+v", c)
			}
			got = append(got, c.ID)
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("listed %v, want %v oldest first", got, want)
	}
	if clients, total, err := svc.ListClients(t.Context(), alice.ID, pagination.Page{Number: 3, Limit: 2}); err != nil || total != 3 || len(clients) != 0 {
		t.Fatalf("page past the end = %v, %d, %v", clients, total, err)
	}

	clients, total, err := svc.ListClients(t.Context(), bob.ID, pagination.Page{Number: 1, Limit: identity.ClientsPageLimit})
	if err != nil || total != 1 || len(clients) != 1 || clients[0].ID != bobs.ID {
		t.Fatalf("bob's clients = %+v, %d, %v", clients, total, err)
	}
	if roles := clients[0].ServiceAccount.Roles; len(roles) != 1 || roles[0] != "datacenter-agent" {
		t.Fatalf("service account roles = %v", roles)
	}
}

func TestGetAndUpdateClient(t *testing.T) {
	svc, _, clk := newService(t)
	alice := register(t, svc, "alice@example.com")
	bob := register(t, svc, "bob@example.com")
	c, _ := createClient(t, svc, alice, "agent")

	got, err := svc.GetClient(t.Context(), alice.ID, c.ID)
	if err != nil || got.ID != c.ID || got.Name != "agent" || got.ServiceAccount.ID != c.ServiceAccount.ID || !got.CreatedAt.Equal(c.CreatedAt) {
		t.Fatalf("GetClient = %+v, %v", got, err)
	}

	clk.Add(time.Minute)
	u, err := svc.UpdateClient(t.Context(), alice.ID, c.ID, " DHCP agent ", "answers DHCP\nin dc1")
	if err != nil {
		t.Fatalf("UpdateClient: %v", err)
	}
	if u.Name != "DHCP agent" || u.Description != "answers DHCP\nin dc1" || !u.UpdatedAt.Equal(clk.Now()) ||
		!u.CreatedAt.Equal(c.CreatedAt) || u.ServiceAccount.FullName != "DHCP agent" || !u.ServiceAccount.UpdatedAt.Equal(clk.Now()) {
		t.Fatalf("UpdateClient = %+v", u)
	}
	if again, err := svc.GetClient(t.Context(), alice.ID, c.ID); err != nil || again.Name != "DHCP agent" {
		t.Fatalf("GetClient after update = %+v, %v", again, err)
	}

	_, err = svc.UpdateClient(t.Context(), alice.ID, c.ID, "", "")
	wantFault(t, err, fault.KindInvalidArgument, "name")
	_, err = svc.UpdateClient(t.Context(), alice.ID, c.ID, "n", strings.Repeat("d", 1001))
	wantFault(t, err, fault.KindInvalidArgument, "description")

	// Someone else's client does not exist for them.
	_, err = svc.GetClient(t.Context(), bob.ID, c.ID)
	wantFault(t, err, fault.KindNotFound, "")
	_, err = svc.UpdateClient(t.Context(), bob.ID, c.ID, "stolen", "")
	wantFault(t, err, fault.KindNotFound, "")
	_, err = svc.GetClient(t.Context(), c.ServiceAccount.ID, c.ID)
	wantFault(t, err, fault.KindNotFound, "")
	if again, err := svc.GetClient(t.Context(), alice.ID, c.ID); err != nil || again.Name != "DHCP agent" {
		t.Fatalf("GetClient after bob's attempt = %+v, %v", again, err)
	}
}

func TestResetClientSecret(t *testing.T) {
	svc, _, _ := newService(t)
	alice := register(t, svc, "alice@example.com")
	bob := register(t, svc, "bob@example.com")
	c, oldSecret := createClient(t, svc, alice, "agent")

	_, err := svc.ResetClientSecret(t.Context(), bob.ID, c.ID)
	wantFault(t, err, fault.KindNotFound, "")
	if gen, err := svc.ClientSecretGeneration(t.Context(), c.ID); err != nil || gen != 1 {
		t.Fatalf("generation after bob's attempt = %d, %v; want 1", gen, err)
	}

	newSecret, err := svc.ResetClientSecret(t.Context(), alice.ID, c.ID)
	if err != nil {
		t.Fatalf("ResetClientSecret: %v", err)
	}
	if len(newSecret) != 43 || newSecret == oldSecret {
		t.Fatalf("new secret %q", newSecret)
	}
	if _, err := svc.AuthenticateClient(t.Context(), c.ID, oldSecret); !errors.Is(err, fault.ErrUnauthenticated) {
		t.Fatalf("old secret after reset: %v, want Unauthenticated", err)
	}
	authenticated, err := svc.AuthenticateClient(t.Context(), c.ID, newSecret)
	if err != nil || authenticated.SecretGeneration != 2 {
		t.Fatalf("new secret: generation %d, %v; want 2", authenticated.SecretGeneration, err)
	}
	if gen, err := svc.ClientSecretGeneration(t.Context(), c.ID); err != nil || gen != 2 {
		t.Fatalf("generation after reset = %d, %v; want 2", gen, err)
	}
}

// refreshTokens counts the refresh tokens of a client or a user.
func refreshTokens(t *testing.T, db *store.DB, clientID, userID string) int64 {
	t.Helper()
	n, err := db.NewSelect().Table("oauth_refresh_tokens").
		Where("client_id = ? OR user_id = ?", clientID, userID).Count(t.Context())
	if err != nil {
		t.Fatalf("count refresh tokens: %v", err)
	}
	return n
}

// addRefreshToken stores a refresh token row for userID through clientID.
func addRefreshToken(t *testing.T, db *store.DB, hash, userID, clientID string) {
	t.Helper()
	now := time.Now().UTC()
	if _, err := db.ExecContext(t.Context(),
		"INSERT INTO oauth_refresh_tokens (token_hash, user_id, client_id, scope, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?)",
		hash, userID, clientID, "email profile", now.Add(time.Hour), now); err != nil {
		t.Fatalf("insert refresh token: %v", err)
	}
}

func TestDeleteClient(t *testing.T) {
	svc, db, _ := newService(t)
	alice := register(t, svc, "alice@example.com")
	bob := register(t, svc, "bob@example.com")
	c, secret := createClient(t, svc, alice, "agent")
	other, otherSecret := createClient(t, svc, alice, "other")
	// Refresh tokens of the service account, and of a person who signed in
	// through the client; and one of the other client that must survive.
	addRefreshToken(t, db, "h1", c.ServiceAccount.ID, c.ID)
	addRefreshToken(t, db, "h2", bob.ID, c.ID)
	addRefreshToken(t, db, "h3", bob.ID, other.ID)

	wantFault(t, svc.DeleteClient(t.Context(), bob.ID, c.ID), fault.KindNotFound, "")
	if _, err := svc.AuthenticateClient(t.Context(), c.ID, secret); err != nil {
		t.Fatalf("client after bob's attempt: %v", err)
	}

	if err := svc.DeleteClient(t.Context(), alice.ID, c.ID); err != nil {
		t.Fatalf("DeleteClient: %v", err)
	}
	_, err := svc.GetClient(t.Context(), alice.ID, c.ID)
	wantFault(t, err, fault.KindNotFound, "")
	wantFault(t, svc.DeleteClient(t.Context(), alice.ID, c.ID), fault.KindNotFound, "")
	if _, err := svc.AuthenticateClient(t.Context(), c.ID, secret); !errors.Is(err, fault.ErrUnauthenticated) {
		t.Fatalf("deleted client authenticates: %v", err)
	}
	_, err = svc.ClientSecretGeneration(t.Context(), c.ID)
	wantFault(t, err, fault.KindNotFound, "")
	if n := refreshTokens(t, db, c.ID, c.ServiceAccount.ID); n != 0 {
		t.Fatalf("%d refresh tokens of the deleted client left", n)
	}
	if n := refreshTokens(t, db, other.ID, ""); n != 1 {
		t.Fatalf("%d refresh tokens of the other client left, want 1", n)
	}
	// The service account stays, locked.
	sa, err := svc.GetUser(t.Context(), c.ServiceAccount.ID)
	if err != nil || !sa.Locked || sa.Type != identity.UserTypeServiceAccount {
		t.Fatalf("service account after delete = %+v, %v", sa, err)
	}
	// The other client is untouched.
	if _, err := svc.AuthenticateClient(t.Context(), other.ID, otherSecret); err != nil {
		t.Fatalf("other client: %v", err)
	}
}

// TestClientSecretGenerationAcrossReplicas shows the revocation bound: the
// replica that resets or deletes a client sees it at once, another replica
// within ClientCacheTTL.
func TestClientSecretGenerationAcrossReplicas(t *testing.T) {
	a, db, clk := newServiceWith(t, identity.Config{ClientCacheTTL: 10 * time.Second})
	b, err := identity.New(db, identity.Config{Now: clk.Now, ClientCacheTTL: 10 * time.Second})
	if err != nil {
		t.Fatalf("identity.New: %v", err)
	}
	alice := register(t, a, "alice@example.com")
	c, _ := createClient(t, a, alice, "agent")

	generation := func(svc *identity.Service) int64 {
		t.Helper()
		gen, err := svc.ClientSecretGeneration(t.Context(), c.ID)
		if fault.KindOf(err) == fault.KindNotFound {
			return 0
		}
		if err != nil {
			t.Fatalf("ClientSecretGeneration: %v", err)
		}
		return gen
	}
	if generation(a) != 1 || generation(b) != 1 {
		t.Fatal("a new client is not at generation 1")
	}
	if _, err := a.ResetClientSecret(t.Context(), alice.ID, c.ID); err != nil {
		t.Fatalf("ResetClientSecret: %v", err)
	}
	if generation(a) != 2 {
		t.Fatal("the replica that reset the secret does not see it at once")
	}
	if generation(b) != 1 {
		t.Fatal("replica b did not cache the generation")
	}
	clk.Add(10 * time.Second)
	if generation(b) != 2 {
		t.Fatal("replica b still has the old generation after the cache TTL")
	}

	if err := a.DeleteClient(t.Context(), alice.ID, c.ID); err != nil {
		t.Fatalf("DeleteClient: %v", err)
	}
	if generation(a) != 0 {
		t.Fatal("the replica that deleted the client does not see it at once")
	}
	clk.Add(10 * time.Second)
	if generation(b) != 0 {
		t.Fatal("replica b still knows the client after the cache TTL")
	}
}

// TestClientSecretGenerationRacesReset hammers the cache with readers while
// the secret is reset: once ResetClientSecret returns, no reader on the same
// replica may see the old generation, even one whose read raced the reset.
func TestClientSecretGenerationRacesReset(t *testing.T) {
	svc, _, _ := newServiceWith(t, identity.Config{ClientCacheTTL: time.Hour})
	alice := register(t, svc, "alice@example.com")
	c, _ := createClient(t, svc, alice, "agent")

	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for ctx.Err() == nil {
				if _, err := svc.ClientSecretGeneration(ctx, c.ID); err != nil && ctx.Err() == nil {
					t.Errorf("ClientSecretGeneration: %v", err)
					return
				}
			}
		})
	}
	for want := int64(2); want <= 6; want++ {
		if _, err := svc.ResetClientSecret(t.Context(), alice.ID, c.ID); err != nil {
			t.Fatalf("ResetClientSecret: %v", err)
		}
		if gen, err := svc.ClientSecretGeneration(t.Context(), c.ID); err != nil || gen != want {
			t.Fatalf("after reset %d: generation %d, %v", want-1, gen, err)
		}
	}
	cancel()
	wg.Wait()
}
