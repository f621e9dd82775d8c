package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/gpcore/gpcore/internal/fault"
)

// OIDCConfig configures an OIDCVerifier.
type OIDCConfig struct {
	// IssuerURL is the external issuer, e.g.
	// "https://keycloak.example.com/realms/gpcore". Required.
	IssuerURL string
	// Audience, if set, must be among a token's aud values. Keycloak puts
	// "account" there by default, and client_credentials tokens may carry no
	// aud at all, so it is empty (not checked) unless an audience mapper makes
	// one.
	Audience string
	// HTTPClient fetches discovery and keys (http.DefaultClient if nil).
	HTTPClient *http.Client
	// Now is the clock (time.Now if nil).
	Now func() time.Time
}

// OIDCVerifier verifies access tokens of an external OpenID Connect issuer
// such as Keycloak, with the issuer's published keys (JWKS, fetched and
// refreshed as needed). Principal.UserID is the external subject.
type OIDCVerifier struct {
	verifier *oidc.IDTokenVerifier
}

var _ Verifier = (*OIDCVerifier)(nil)

// NewOIDCVerifier reads the issuer's discovery document (one HTTP round trip;
// ctx bounds it) and returns a verifier for its tokens.
func NewOIDCVerifier(ctx context.Context, cfg OIDCConfig) (*OIDCVerifier, error) {
	if cfg.IssuerURL == "" {
		return nil, errors.New("auth: OIDC issuer URL is required")
	}
	if cfg.HTTPClient != nil {
		ctx = oidc.ClientContext(ctx, cfg.HTTPClient)
	}
	provider, err := oidc.NewProvider(ctx, cfg.IssuerURL)
	if err != nil {
		return nil, fmt.Errorf("auth: discover OIDC issuer %s: %w", cfg.IssuerURL, err)
	}
	return &OIDCVerifier{verifier: provider.Verifier(&oidc.Config{
		ClientID:          cfg.Audience,
		SkipClientIDCheck: cfg.Audience == "",
		Now:               cfg.Now,
	})}, nil
}

// Verify checks rawJWT's signature, issuer, audience (if configured) and
// expiry, refuses tokens whose typ is set to anything but "Bearer" (ID
// tokens), and maps the claims, realm_access.roles included, to a Principal.
func (v *OIDCVerifier) Verify(ctx context.Context, rawJWT string) (*Principal, error) {
	tok, err := v.verifier.Verify(ctx, rawJWT)
	if expired, ok := errors.AsType[*oidc.TokenExpiredError](err); ok {
		return nil, fault.Unauthenticated("the token expired at %s", expired.Expiry.UTC().Format(time.RFC3339))
	}
	if err != nil {
		return nil, fault.Unauthenticated("the token is not valid: %s", strings.TrimPrefix(err.Error(), "oidc: "))
	}
	var c claims
	if err := tok.Claims(&c); err != nil {
		return nil, fault.Unauthenticated("the token's claims are malformed: %v", err)
	}
	if c.Type != "" && c.Type != typeBearer {
		return nil, fault.Unauthenticated("the token is of type %q, not an access token (%q)", c.Type, typeBearer)
	}
	if c.Subject == "" {
		return nil, fault.Unauthenticated("the token has no subject")
	}
	return c.principal(), nil
}
