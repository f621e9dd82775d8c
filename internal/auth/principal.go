package auth

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"
)

// PrincipalKind tells a person's token from a machine's.
type PrincipalKind int

// The kinds of principal.
const (
	// PrincipalUser is a person, signed in with the password grant (or a
	// refresh of it).
	PrincipalUser PrincipalKind = iota + 1
	// PrincipalClient is a confidential client acting as its service account
	// (the client_credentials grant).
	PrincipalClient
)

// String returns "user" or "client".
func (k PrincipalKind) String() string {
	switch k {
	case PrincipalUser:
		return "user"
	case PrincipalClient:
		return "client"
	default:
		return fmt.Sprintf("PrincipalKind(%d)", int(k))
	}
}

// Principal is who a verified access token speaks for.
type Principal struct {
	// Subject is the token's sub claim.
	Subject string
	// UserID is the account the token acts as: the person, or the client's
	// service account. It equals Subject.
	UserID string
	// ClientID is the client that obtained the token (azp).
	ClientID string
	// Kind tells a person from a client (see the package documentation).
	Kind PrincipalKind
	// Roles are the realm roles (realm_access.roles).
	Roles []string
	// Email is the person's e-mail address; empty for clients.
	Email string
	// Token is what the access token says about itself.
	Token Token
}

// Token is what an access token says about itself, beyond whom it speaks
// for; the audit log records it with every call.
type Token struct {
	// ID is the token's jti claim.
	ID string
	// Issuer is its iss claim.
	Issuer string
	// Type is its typ claim ("Bearer").
	Type string
	// IssuedAt is its iat claim; zero when the token has none.
	IssuedAt time.Time
	// ExpiresAt is its exp claim.
	ExpiresAt time.Time
}

// Verifier checks a bearer token and says whom it speaks for. A token that is
// malformed, wrongly signed, expired, from another issuer or not an access
// token is a fault.Unauthenticated error saying which.
type Verifier interface {
	Verify(ctx context.Context, rawJWT string) (*Principal, error)
}

// Token type values of the typ claim.
const (
	typeBearer = "Bearer"
	typeID     = "ID"
)

// claims are the claims of the tokens this package issues and reads, the
// access tokens' and the ID tokens' (see the package documentation).
type claims struct {
	jwt.Claims

	Type              string       `json:"typ,omitempty"`
	AuthorizedParty   string       `json:"azp,omitempty"`
	Scope             string       `json:"scope,omitempty"`
	Email             string       `json:"email,omitempty"`
	EmailVerified     *bool        `json:"email_verified,omitempty"`
	PreferredUsername string       `json:"preferred_username,omitempty"`
	Name              string       `json:"name,omitempty"`
	GivenName         string       `json:"given_name,omitempty"`
	FamilyName        string       `json:"family_name,omitempty"`
	RealmAccess       *realmAccess `json:"realm_access,omitempty"`
	// ClientID marks a client_credentials token (Keycloak 24 and later).
	ClientID string `json:"client_id,omitempty"`
	// LegacyClientID marks a client_credentials token of Keycloak before 24;
	// read, never written.
	LegacyClientID string `json:"clientId,omitempty"`
	// ClientGeneration is the secret generation of the confidential client
	// (azp) the token was obtained through; absent for PublicClientID. Our
	// own claim: Verify refuses the token once the client's generation moves
	// on.
	ClientGeneration int64 `json:"gpcore_client_generation,omitempty"`
}

// realmAccess is Keycloak's realm_access claim.
type realmAccess struct {
	Roles []string `json:"roles"`
}

// principal maps verified access-token claims to a Principal.
func (c *claims) principal() *Principal {
	p := &Principal{
		Subject:  c.Subject,
		UserID:   c.Subject,
		ClientID: c.AuthorizedParty,
		Kind:     PrincipalUser,
		Email:    c.Email,
		Token:    Token{ID: c.ID, Issuer: c.Issuer, Type: c.Type},
	}
	if c.IssuedAt != nil {
		p.Token.IssuedAt = c.IssuedAt.Time().UTC()
	}
	if c.Expiry != nil {
		p.Token.ExpiresAt = c.Expiry.Time().UTC()
	}
	if c.RealmAccess != nil {
		p.Roles = c.RealmAccess.Roles
	}
	if c.ClientID != "" || c.LegacyClientID != "" {
		p.Kind = PrincipalClient
		p.ClientID = cmp.Or(p.ClientID, c.ClientID, c.LegacyClientID)
	}
	return p
}
