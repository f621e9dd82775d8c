package identity_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/identity"
)

func TestCreateClient(t *testing.T) {
	svc, _, clk := newService(t)
	owner := register(t, svc, "owner@example.com")
	c, secret, err := svc.CreateClient(t.Context(), owner.ID, " DHCP agent ", "answers DHCP\nin dc1")
	if err != nil {
		t.Fatalf("CreateClient: %v", err)
	}
	if len(secret) != 43 {
		t.Fatalf("secret %q is not 43 base64url characters", secret)
	}
	if c.Name != "DHCP agent" || c.Description != "answers DHCP\nin dc1" || c.OwnerUserID != owner.ID ||
		!c.CreatedAt.Equal(clk.Now()) || !c.UpdatedAt.Equal(clk.Now()) {
		t.Fatalf("client = %+v", c)
	}
	sa := c.ServiceAccount
	if sa.Type != identity.UserTypeServiceAccount || sa.Username != identity.ServiceAccountPrefix+c.ID ||
		sa.Email != "" || !sa.Confirmed || sa.Number == "" || sa.Number == owner.Number {
		t.Fatalf("service account = %+v", sa)
	}
	got, err := svc.GetUser(t.Context(), sa.ID)
	if err != nil || got.Type != identity.UserTypeServiceAccount {
		t.Fatalf("GetUser(service account) = %+v, %v", got, err)
	}
	// A service account has no password to sign in with.
	if _, err := svc.Authenticate(t.Context(), sa.Username, ""); !errors.Is(err, fault.ErrUnauthenticated) {
		t.Fatalf("Authenticate(service account) = %v, want Unauthenticated", err)
	}
}

func TestCreateClientRefusals(t *testing.T) {
	svc, _, _ := newService(t)
	owner := register(t, svc, "owner@example.com")
	agent, _, err := svc.CreateClient(t.Context(), owner.ID, "agent", "")
	if err != nil {
		t.Fatalf("CreateClient: %v", err)
	}
	tests := []struct {
		name        string
		owner       string
		clientName  string
		description string
		kind        fault.Kind
		field       string
	}{
		{"no name", owner.ID, "  ", "", fault.KindInvalidArgument, "name"},
		{"long name", owner.ID, strings.Repeat("n", 101), "", fault.KindInvalidArgument, "name"},
		{"line break in name", owner.ID, "a\nb", "", fault.KindInvalidArgument, "name"},
		{"long description", owner.ID, "n", strings.Repeat("d", 1001), fault.KindInvalidArgument, "description"},
		{"unknown owner", "4b1c7a57-2f44-4c40-9d3c-3f1f0b9f6e01", "n", "", fault.KindNotFound, ""},
		{"service account owner", agent.ServiceAccount.ID, "n", "", fault.KindFailedPrecondition, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := svc.CreateClient(t.Context(), tt.owner, tt.clientName, tt.description)
			wantFault(t, err, tt.kind, tt.field)
		})
	}
}

func TestAuthenticateClient(t *testing.T) {
	svc, db, _ := newService(t)
	owner := register(t, svc, "owner@example.com")
	good, goodSecret, err := svc.CreateClient(t.Context(), owner.ID, "good", "")
	if err != nil {
		t.Fatalf("CreateClient: %v", err)
	}
	locked, lockedSecret, err := svc.CreateClient(t.Context(), owner.ID, "locked", "")
	if err != nil {
		t.Fatalf("CreateClient: %v", err)
	}
	if _, err := db.NewUpdate().Table("users").Set("locked = ?", true).
		Where("id = ?", locked.ServiceAccount.ID).Exec(t.Context()); err != nil {
		t.Fatalf("lock service account: %v", err)
	}

	tests := []struct {
		name    string
		id      string
		secret  string
		wantMsg string // "" means accepted
	}{
		{"right", good.ID, goodSecret, ""},
		{"wrong secret", good.ID, lockedSecret, "unknown client or wrong client credentials"},
		{"no secret", good.ID, "", "unknown client or wrong client credentials"},
		{"unknown client", "c0ffee00-0000-4000-8000-000000000000", goodSecret, "unknown client or wrong client credentials"},
		{"locked service account", locked.ID, lockedSecret, "locked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := svc.AuthenticateClient(t.Context(), tt.id, tt.secret)
			if tt.wantMsg == "" {
				if err != nil || c.ID != good.ID || c.ServiceAccount.ID != good.ServiceAccount.ID {
					t.Fatalf("AuthenticateClient = %+v, %v", c, err)
				}
				return
			}
			wantFault(t, err, fault.KindUnauthenticated, "")
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("error %q does not say %q", err, tt.wantMsg)
			}
		})
	}
}
