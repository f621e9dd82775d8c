package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/google/uuid"

	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/identity"
	"github.com/gpcore/gpcore/internal/store"
)

// Realm is the one realm the embedded issuer serves.
const Realm = "gpcore"

// PublicClientID is the built-in public client: it signs people in with the
// password grant and refreshes their tokens without a client secret, like the
// CLI does.
const PublicClientID = "gpcore-cli"

// Defaults for Config fields left zero.
const (
	DefaultAudience        = "gpcore"
	DefaultAccessTokenTTL  = 15 * time.Minute
	DefaultRefreshTokenTTL = 30 * 24 * time.Hour
)

// clockSkew is how far verification tolerates clocks that disagree, on exp
// and iat.
const clockSkew = time.Minute

// Accounts is what the issuer needs from internal/identity (*identity.Service
// implements it).
type Accounts interface {
	// Authenticate checks a person's e-mail address and password.
	Authenticate(ctx context.Context, email, password string) (identity.User, error)
	// AuthenticateClient checks a confidential client's id and secret.
	AuthenticateClient(ctx context.Context, clientID, secret string) (identity.Client, error)
	// GetUser returns an account by id.
	GetUser(ctx context.Context, id string) (identity.User, error)
	// ClientSecretGeneration returns a confidential client's current secret
	// generation; fault.NotFound once the client is deleted.
	ClientSecretGeneration(ctx context.Context, clientID string) (int64, error)
}

// Config configures the Issuer.
type Config struct {
	// PublicURL is the base URL clients reach gpcore at, e.g.
	// "https://cloud.example.com"; the issuer is PublicURL + "/realms/gpcore".
	// Required.
	PublicURL string
	// Audience is the aud of access tokens (DefaultAudience if empty).
	Audience string
	// AccessTokenTTL is the lifetime of access tokens (DefaultAccessTokenTTL
	// if 0).
	AccessTokenTTL time.Duration
	// RefreshTokenTTL is the lifetime of a refresh token, counted anew at each
	// rotation (DefaultRefreshTokenTTL if 0).
	RefreshTokenTTL time.Duration
	// Now is the clock (time.Now if nil).
	Now func() time.Time
	// Logger gets the token endpoint's internal errors (slog.Default() if
	// nil).
	Logger *slog.Logger
}

// Issuer is the embedded OpenID Connect provider: it issues tokens, serves
// the Keycloak-style endpoints (Handler) and verifies its own tokens (Verify).
type Issuer struct {
	db       *store.DB
	accounts Accounts
	cfg      Config
	issuer   string
	keys     *keySet
	log      *slog.Logger
}

var _ Verifier = (*Issuer)(nil)

// NewIssuer returns an Issuer on db, which must be migrated. It loads the
// signing keys, generating and storing the first one if there is none.
func NewIssuer(ctx context.Context, db *store.DB, accounts Accounts, cfg Config) (*Issuer, error) {
	base, err := url.Parse(cfg.PublicURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" ||
		base.RawQuery != "" || base.Fragment != "" || base.User != nil {
		return nil, fmt.Errorf("auth: public URL %q is not an http(s) URL without query, fragment or user", cfg.PublicURL)
	}
	if cfg.Audience == "" {
		cfg.Audience = DefaultAudience
	}
	if cfg.AccessTokenTTL == 0 {
		cfg.AccessTokenTTL = DefaultAccessTokenTTL
	}
	if cfg.RefreshTokenTTL == 0 {
		cfg.RefreshTokenTTL = DefaultRefreshTokenTTL
	}
	if cfg.AccessTokenTTL < time.Second || cfg.RefreshTokenTTL < time.Second {
		return nil, errors.New("auth: token lifetimes must be at least a second")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	i := &Issuer{
		db:       db,
		accounts: accounts,
		cfg:      cfg,
		issuer:   strings.TrimSuffix(cfg.PublicURL, "/") + "/realms/" + Realm,
		log:      log,
	}
	if i.keys, err = loadKeys(ctx, db, i.now()); err != nil {
		return nil, err
	}
	return i, nil
}

// URL returns the issuer identifier, PublicURL + "/realms/gpcore": the iss of
// its tokens and the base of its endpoints.
func (i *Issuer) URL() string { return i.issuer }

func (i *Issuer) now() time.Time { return i.cfg.Now().UTC() }

// TokenPair is the result of a grant.
type TokenPair struct {
	// AccessToken is the signed JWT to send as "Authorization: Bearer".
	AccessToken string
	// ExpiresAt is when AccessToken expires.
	ExpiresAt time.Time
	// RefreshToken is empty for the client_credentials grant.
	RefreshToken string
	// RefreshExpiresAt is when RefreshToken expires; zero without one.
	RefreshExpiresAt time.Time
	// IDToken is an OpenID Connect ID token for the client, issued only when
	// the scope includes "openid".
	IDToken string
	// Scope is the granted scope, space-separated.
	Scope string
}

// IssueForUser signs user in through the public client PublicClientID, as
// AuthService.Register does after creating the account: an access token and
// a refresh token with the default scope. A locked account or a service
// account is fault.FailedPrecondition.
func (i *Issuer) IssueForUser(ctx context.Context, user identity.User) (TokenPair, error) {
	if user.Type != identity.UserTypeUser || user.Locked {
		return TokenPair{}, fault.Precondition("tokens are issued only to people whose account is not locked")
	}
	return i.issue(ctx, grant{subject: user, clientID: PublicClientID, scope: defaultScope, refresh: true})
}

// grant is what a token is issued for.
type grant struct {
	// subject is the person or the client's service account.
	subject identity.User
	// clientID is the client that asks.
	clientID string
	// clientCredentials marks a client acting as its service account.
	clientCredentials bool
	// clientGeneration is a confidential client's secret generation, 0 for
	// PublicClientID.
	clientGeneration int64
	scope            scope
	// refresh asks for a refresh token.
	refresh bool
}

// issue signs the tokens for g and stores its refresh token.
func (i *Issuer) issue(ctx context.Context, g grant) (TokenPair, error) {
	now := i.now()
	pair := TokenPair{ExpiresAt: now.Add(i.cfg.AccessTokenTTL), Scope: g.scope.String()}
	access := i.userClaims(g.subject, now, pair.ExpiresAt)
	access.Audience = jwt.Audience{i.cfg.Audience}
	access.Type = typeBearer
	access.AuthorizedParty = g.clientID
	access.Scope = pair.Scope
	access.RealmAccess = &realmAccess{Roles: append([]string{}, g.subject.Roles...)}
	if g.clientCredentials {
		access.ClientID = g.clientID
	}
	access.ClientGeneration = g.clientGeneration
	var err error
	if pair.AccessToken, err = i.sign(access); err != nil {
		return TokenPair{}, err
	}
	if g.scope.openid {
		id := i.userClaims(g.subject, now, pair.ExpiresAt)
		id.Audience = jwt.Audience{g.clientID}
		id.Type = typeID
		id.AuthorizedParty = g.clientID
		if pair.IDToken, err = i.sign(id); err != nil {
			return TokenPair{}, err
		}
	}
	if g.refresh {
		pair.RefreshExpiresAt = now.Add(i.cfg.RefreshTokenTTL)
		pair.RefreshToken, err = i.storeRefreshToken(ctx, g.subject.ID, g.clientID, pair.Scope, pair.RefreshExpiresAt)
		if err != nil {
			return TokenPair{}, err
		}
	}
	return pair, nil
}

// userClaims returns the claims every token about u carries.
func (i *Issuer) userClaims(u identity.User, now, expiry time.Time) *claims {
	c := &claims{
		Claims: jwt.Claims{
			Issuer:   i.issuer,
			Subject:  u.ID,
			IssuedAt: jwt.NewNumericDate(now),
			Expiry:   jwt.NewNumericDate(expiry),
			ID:       uuid.NewString(),
		},
		PreferredUsername: u.Username,
		Name:              u.FullName,
		GivenName:         u.FirstName,
		FamilyName:        u.LastName,
	}
	if u.Type == identity.UserTypeUser {
		c.Email = u.Email
		verified := u.Confirmed
		c.EmailVerified = &verified
	}
	return c
}

// sign serialises c as a JWT signed with the active key.
func (i *Issuer) sign(c *claims) (string, error) {
	s, err := jwt.Signed(i.keys.signer).Claims(c).Serialize()
	if err != nil {
		return "", fmt.Errorf("auth: sign token: %w", err)
	}
	return s, nil
}

// Verify checks an access token issued by this issuer (any replica) against
// its keys, without a round trip, and returns its Principal. It does not look
// the account up: a lock takes effect when the token expires. A token
// obtained through a confidential client is also checked against the
// client's current secret generation (Accounts.ClientSecretGeneration, which
// caches): it is refused once the client is deleted or its secret reset.
func (i *Issuer) Verify(ctx context.Context, rawJWT string) (*Principal, error) {
	tok, err := jwt.ParseSigned(rawJWT, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return nil, fault.Unauthenticated("the token is not an RS256-signed JWT")
	}
	key, ok := i.keys.public[tok.Headers[0].KeyID]
	if !ok {
		return nil, fault.Unauthenticated("the token is signed with a key this issuer does not know")
	}
	var c claims
	if err := tok.Claims(key, &c); err != nil {
		return nil, fault.Unauthenticated("the token's signature is invalid")
	}
	if c.Expiry == nil || c.Subject == "" {
		return nil, fault.Unauthenticated("the token lacks an expiry or a subject")
	}
	err = c.ValidateWithLeeway(jwt.Expected{
		Issuer:      i.issuer,
		AnyAudience: jwt.Audience{i.cfg.Audience},
		Time:        i.now(),
	}, clockSkew)
	switch {
	case errors.Is(err, jwt.ErrInvalidIssuer):
		return nil, fault.Unauthenticated("the token was issued by %q, not by %q", c.Issuer, i.issuer)
	case errors.Is(err, jwt.ErrInvalidAudience):
		return nil, fault.Unauthenticated("the token is for %q, not for %q", []string(c.Audience), i.cfg.Audience)
	case errors.Is(err, jwt.ErrExpired):
		return nil, fault.Unauthenticated("the token expired at %s", c.Expiry.Time().UTC().Format(time.RFC3339))
	case err != nil:
		return nil, fault.Unauthenticated("the token is not valid yet")
	}
	if c.Type != typeBearer {
		return nil, fault.Unauthenticated("the token is of type %q, not an access token (%q)", c.Type, typeBearer)
	}
	p := c.principal()
	if err := i.checkClient(ctx, p.ClientID, c.ClientGeneration); err != nil {
		return nil, err
	}
	return p, nil
}

// checkClient refuses a token obtained through the confidential client
// clientID under secret generation gen when the client is gone or its secret
// was reset since. Tokens of PublicClientID are not checked.
func (i *Issuer) checkClient(ctx context.Context, clientID string, gen int64) error {
	if clientID == PublicClientID {
		return nil
	}
	current, err := i.accounts.ClientSecretGeneration(ctx, clientID)
	switch {
	case fault.KindOf(err) == fault.KindNotFound:
		return fault.Unauthenticated("the token was revoked: client %q was deleted", clientID)
	case err != nil:
		return fmt.Errorf("auth: verify token of client %s: %w", clientID, err)
	case gen != current:
		return fault.Unauthenticated("the token was revoked: the secret of client %q was reset after it was issued", clientID)
	}
	return nil
}

// scope is a granted scope. It always holds "email" and "profile", as
// Keycloak's default client scopes; "openid" only when asked for.
type scope struct {
	openid bool
}

// Scope values.
const (
	scopeOpenID  = "openid"
	scopeEmail   = "email"
	scopeProfile = "profile"
)

// defaultScope is granted when a client asks for none.
var defaultScope = scope{}

// parseScope reads a requested scope parameter. Unknown values are an
// invalid_scope error.
func parseScope(requested string) (scope, error) {
	var s scope
	for _, v := range strings.Fields(requested) {
		switch v {
		case scopeOpenID:
			s.openid = true
		case scopeEmail, scopeProfile:
		default:
			return scope{}, fmt.Errorf("unknown scope %q: supported are %s, %s and %s", v, scopeOpenID, scopeEmail, scopeProfile)
		}
	}
	return s, nil
}

// String returns s space-separated, as in the scope claim.
func (s scope) String() string {
	if s.openid {
		return scopeOpenID + " " + scopeEmail + " " + scopeProfile
	}
	return scopeEmail + " " + scopeProfile
}
