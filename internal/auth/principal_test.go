package auth

import (
	"encoding/json"
	"slices"
	"testing"
	"time"
)

// TestClaimsPrincipal maps access tokens as Keycloak writes them.
func TestClaimsPrincipal(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		want    Principal
	}{
		{
			name: "Keycloak person",
			payload: `{"sub":"f1","azp":"gpcore-cli","typ":"Bearer","email":"a@example.com","preferred_username":"a@example.com",
				"realm_access":{"roles":["offline_access","admin"]},"aud":"account"}`,
			want: Principal{Subject: "f1", UserID: "f1", ClientID: "gpcore-cli", Kind: PrincipalUser, Roles: []string{"offline_access", "admin"}, Email: "a@example.com"},
		},
		{
			name:    "Keycloak 24 service account",
			payload: `{"sub":"f2","azp":"dhcp","typ":"Bearer","client_id":"dhcp","preferred_username":"service-account-dhcp"}`,
			want:    Principal{Subject: "f2", UserID: "f2", ClientID: "dhcp", Kind: PrincipalClient},
		},
		{
			name:    "older Keycloak service account",
			payload: `{"sub":"f3","typ":"Bearer","clientId":"dhcp","clientHost":"10.0.0.1","preferred_username":"service-account-dhcp"}`,
			want:    Principal{Subject: "f3", UserID: "f3", ClientID: "dhcp", Kind: PrincipalClient},
		},
		{
			name:    "person whose username looks like a service account",
			payload: `{"sub":"f4","azp":"gpcore-cli","preferred_username":"service-account-x@example.com","email":"service-account-x@example.com"}`,
			want:    Principal{Subject: "f4", UserID: "f4", ClientID: "gpcore-cli", Kind: PrincipalUser, Email: "service-account-x@example.com"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c claims
			if err := json.Unmarshal([]byte(tt.payload), &c); err != nil {
				t.Fatalf("unmarshal: %v", err)
			}
			got := *c.principal()
			if got.Subject != tt.want.Subject || got.UserID != tt.want.UserID || got.ClientID != tt.want.ClientID ||
				got.Kind != tt.want.Kind || !slices.Equal(got.Roles, tt.want.Roles) || got.Email != tt.want.Email {
				t.Fatalf("principal = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestClaimsPrincipalToken: the principal carries the token's own claims, for
// the audit log; a token without iat has a zero IssuedAt.
func TestClaimsPrincipalToken(t *testing.T) {
	var c claims
	payload := `{"sub":"f1","azp":"gpcore-cli","typ":"Bearer","jti":"j-1","iss":"https://id.example.com/realms/gpcore","iat":1700000000,"exp":1700000900}`
	if err := json.Unmarshal([]byte(payload), &c); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	want := Token{ID: "j-1", Issuer: "https://id.example.com/realms/gpcore", Type: "Bearer",
		IssuedAt: time.Unix(1700000000, 0).UTC(), ExpiresAt: time.Unix(1700000900, 0).UTC()}
	if got := c.principal().Token; got != want {
		t.Fatalf("token = %+v, want %+v", got, want)
	}

	c = claims{}
	if err := json.Unmarshal([]byte(`{"sub":"f1","typ":"Bearer","exp":1700000900}`), &c); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	if got := c.principal().Token; !got.IssuedAt.IsZero() || got.ExpiresAt.IsZero() {
		t.Fatalf("token without iat = %+v", got)
	}
}

func TestPrincipalKindString(t *testing.T) {
	for k, want := range map[PrincipalKind]string{PrincipalUser: "user", PrincipalClient: "client", 0: "PrincipalKind(0)"} {
		if got := k.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(k), got, want)
		}
	}
}
