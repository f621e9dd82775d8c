package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"time"

	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/identity"
)

// maxTokenRequestBytes bounds a token request's form body.
const maxTokenRequestBytes = 64 << 10

// Grant types of the token endpoint.
const (
	grantPassword          = "password"
	grantRefreshToken      = "refresh_token"
	grantClientCredentials = "client_credentials"
)

// Handler serves the issuer's HTTP endpoints, Keycloak's paths for the realm
// Realm (other realms are 404):
//
//	GET  /realms/gpcore/.well-known/openid-configuration   discovery
//	GET  /realms/gpcore/protocol/openid-connect/certs      JWKS
//	POST /realms/gpcore/protocol/openid-connect/token      token endpoint
//
// Mount it on "/realms/". The token endpoint takes a form body
// (application/x-www-form-urlencoded) with grant_type password (username,
// password), refresh_token (refresh_token) or client_credentials, an optional
// scope, and the client's credentials as client_id and client_secret form
// fields or HTTP Basic. It answers Keycloak's JSON (access_token, expires_in,
// refresh_expires_in, refresh_token, token_type "Bearer", id_token when the
// scope has "openid", scope) or an RFC 6749 error: invalid_request,
// invalid_client (401), invalid_grant, unauthorized_client,
// unsupported_grant_type, invalid_scope. There is no authorization endpoint:
// people sign in with the password grant.
func (i *Issuer) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /realms/{realm}/.well-known/openid-configuration", i.inRealm(i.serveDiscovery))
	mux.HandleFunc("GET /realms/{realm}/protocol/openid-connect/certs", i.inRealm(i.serveJWKS))
	mux.HandleFunc("POST /realms/{realm}/protocol/openid-connect/token", i.inRealm(i.serveToken))
	return mux
}

// inRealm refuses realms other than Realm with 404.
func (i *Issuer) inRealm(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if realm := r.PathValue("realm"); realm != Realm {
			writeJSON(w, http.StatusNotFound, oauthError{Code: "not_found", Description: fmt.Sprintf("realm %q does not exist", realm)})
			return
		}
		h(w, r)
	}
}

// discovery is the OpenID Provider Metadata document.
type discovery struct {
	Issuer             string   `json:"issuer"`
	TokenEndpoint      string   `json:"token_endpoint"`
	JWKSURI            string   `json:"jwks_uri"`
	GrantTypes         []string `json:"grant_types_supported"`
	SubjectTypes       []string `json:"subject_types_supported"`
	IDTokenSigningAlgs []string `json:"id_token_signing_alg_values_supported"`
	TokenEndpointAuth  []string `json:"token_endpoint_auth_methods_supported"`
	Scopes             []string `json:"scopes_supported"`
	ClaimsSupported    []string `json:"claims_supported"`
}

func (i *Issuer) serveDiscovery(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=300")
	writeJSON(w, http.StatusOK, discovery{
		Issuer:             i.issuer,
		TokenEndpoint:      i.issuer + "/protocol/openid-connect/token",
		JWKSURI:            i.issuer + "/protocol/openid-connect/certs",
		GrantTypes:         []string{grantPassword, grantRefreshToken, grantClientCredentials},
		SubjectTypes:       []string{"public"},
		IDTokenSigningAlgs: []string{"RS256"},
		TokenEndpointAuth:  []string{"client_secret_basic", "client_secret_post"},
		Scopes:             []string{scopeOpenID, scopeEmail, scopeProfile},
		ClaimsSupported: []string{"iss", "sub", "aud", "azp", "exp", "iat", "jti", "typ", "scope", "email",
			"email_verified", "preferred_username", "name", "given_name", "family_name", "realm_access", "client_id"},
	})
}

func (i *Issuer) serveJWKS(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=300")
	writeJSON(w, http.StatusOK, i.keys.jwks)
}

// tokenResponse is Keycloak's token endpoint answer.
type tokenResponse struct {
	AccessToken      string `json:"access_token"`
	ExpiresIn        int64  `json:"expires_in"`
	RefreshExpiresIn int64  `json:"refresh_expires_in"`
	RefreshToken     string `json:"refresh_token,omitempty"`
	TokenType        string `json:"token_type"`
	IDToken          string `json:"id_token,omitempty"`
	NotBeforePolicy  int    `json:"not-before-policy"`
	Scope            string `json:"scope"`
}

// oauthError is an RFC 6749 section 5.2 error; status is the HTTP status.
type oauthError struct {
	status      int
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

func (e *oauthError) Error() string { return e.Code + ": " + e.Description }

// oauthFail returns an oauthError; invalid_client is 401, the others 400.
func oauthFail(code, format string, args ...any) *oauthError {
	status := http.StatusBadRequest
	if code == "invalid_client" {
		status = http.StatusUnauthorized
	}
	return &oauthError{status: status, Code: code, Description: fmt.Sprintf(format, args...)}
}

func (i *Issuer) serveToken(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	pair, err := i.token(r.Context(), w, r)
	var oerr *oauthError
	switch {
	case errors.As(err, &oerr):
		if oerr.status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Basic realm="`+Realm+`"`)
		}
		writeJSON(w, oerr.status, oerr)
		return
	case err != nil:
		i.log.ErrorContext(r.Context(), "token endpoint failed", "grant_type", r.PostForm.Get("grant_type"), "error", err)
		writeJSON(w, http.StatusInternalServerError, oauthError{Code: "server_error", Description: "internal error"})
		return
	}
	resp := tokenResponse{
		AccessToken: pair.AccessToken,
		ExpiresIn:   int64(i.cfg.AccessTokenTTL / time.Second),
		TokenType:   typeBearer,
		IDToken:     pair.IDToken,
		Scope:       pair.Scope,
	}
	if pair.RefreshToken != "" {
		resp.RefreshToken = pair.RefreshToken
		resp.RefreshExpiresIn = int64(i.cfg.RefreshTokenTTL / time.Second)
	}
	writeJSON(w, http.StatusOK, resp)
}

// token runs the grant r asks for. Refusals are *oauthError.
func (i *Issuer) token(ctx context.Context, w http.ResponseWriter, r *http.Request) (TokenPair, error) {
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/x-www-form-urlencoded" {
		return TokenPair{}, oauthFail("invalid_request", "the body must be application/x-www-form-urlencoded")
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxTokenRequestBytes)
	if err := r.ParseForm(); err != nil {
		return TokenPair{}, oauthFail("invalid_request", "malformed form body")
	}
	form := r.PostForm
	for k, v := range form {
		if len(v) > 1 {
			return TokenPair{}, oauthFail("invalid_request", "parameter %q is given more than once", k)
		}
	}
	grantType := form.Get("grant_type")
	switch grantType {
	case "":
		return TokenPair{}, oauthFail("invalid_request", "missing parameter grant_type")
	case grantPassword, grantRefreshToken, grantClientCredentials:
	default:
		return TokenPair{}, oauthFail("unsupported_grant_type", "grant type %q is not supported", grantType)
	}
	client, err := i.authenticateClient(ctx, r, form)
	if err != nil {
		return TokenPair{}, err
	}
	switch grantType {
	case grantPassword:
		return i.passwordGrant(ctx, client, form)
	case grantRefreshToken:
		return i.refreshGrant(ctx, client, form)
	default:
		return i.clientCredentialsGrant(ctx, client, form)
	}
}

// oauthClient is the authenticated client of a token request.
type oauthClient struct {
	id string
	// confidential is the client for a confidential client, nil for
	// PublicClientID.
	confidential *identity.Client
}

// generation is the confidential client's secret generation, 0 for
// PublicClientID.
func (c oauthClient) generation() int64 {
	if c.confidential == nil {
		return 0
	}
	return c.confidential.SecretGeneration
}

// authenticateClient reads the client's credentials, from HTTP Basic
// (form-urlencoded, RFC 6749 section 2.3.1) or the client_id and
// client_secret form fields; both may be given if they agree. PublicClientID
// needs no secret (one given is ignored, as Keycloak does); every other client
// must prove its secret. An unknown client, a wrong secret and a missing one
// get the same invalid_client answer.
func (i *Issuer) authenticateClient(ctx context.Context, r *http.Request, form url.Values) (oauthClient, error) {
	id, secret := form.Get("client_id"), form.Get("client_secret")
	if user, pass, ok := r.BasicAuth(); ok {
		basicID, err1 := url.QueryUnescape(user)
		basicSecret, err2 := url.QueryUnescape(pass)
		if err1 != nil || err2 != nil {
			return oauthClient{}, oauthFail("invalid_client", "malformed HTTP Basic client credentials")
		}
		if (id != "" && id != basicID) || (secret != "" && secret != basicSecret) {
			return oauthClient{}, oauthFail("invalid_request", "the client credentials in the form and in HTTP Basic differ")
		}
		id, secret = basicID, basicSecret
	}
	switch {
	case id == "":
		return oauthClient{}, oauthFail("invalid_client", "missing parameter client_id")
	case id == PublicClientID:
		return oauthClient{id: id}, nil
	}
	// A missing secret is checked like a wrong one, so the answer never
	// tells whether id is a client (RFC 6749 section 5.2).
	c, err := i.accounts.AuthenticateClient(ctx, id, secret)
	if fault.KindOf(err) == fault.KindUnauthenticated {
		msg := faultMessage(err)
		if secret == "" {
			msg += fmt.Sprintf(" (no client_secret given: only %s needs none)", PublicClientID)
		}
		return oauthClient{}, oauthFail("invalid_client", "%s", msg)
	}
	if err != nil {
		return oauthClient{}, err
	}
	return oauthClient{id: c.ID, confidential: &c}, nil
}

// passwordGrant signs a person in with e-mail address and password.
func (i *Issuer) passwordGrant(ctx context.Context, client oauthClient, form url.Values) (TokenPair, error) {
	username, password := form.Get("username"), form.Get("password")
	if username == "" || password == "" {
		return TokenPair{}, oauthFail("invalid_request", "missing parameter username or password")
	}
	sc, err := parseScope(form.Get("scope"))
	if err != nil {
		return TokenPair{}, oauthFail("invalid_scope", "%s", err)
	}
	user, err := i.accounts.Authenticate(ctx, username, password)
	if fault.KindOf(err) == fault.KindUnauthenticated {
		return TokenPair{}, oauthFail("invalid_grant", "%s", faultMessage(err))
	}
	if err != nil {
		return TokenPair{}, err
	}
	return i.issue(ctx, grant{subject: user, clientID: client.id, clientGeneration: client.generation(), scope: sc, refresh: true})
}

// refreshGrant trades a refresh token, once, for new tokens. It fails when the
// token is unknown, used, expired or another client's (which burns it all the
// same), or when its account is gone or locked.
func (i *Issuer) refreshGrant(ctx context.Context, client oauthClient, form url.Values) (TokenPair, error) {
	token := form.Get("refresh_token")
	if token == "" {
		return TokenPair{}, oauthFail("invalid_request", "missing parameter refresh_token")
	}
	row, found, err := i.consumeRefreshToken(ctx, token)
	switch {
	case err != nil:
		return TokenPair{}, err
	case !found:
		return TokenPair{}, oauthFail("invalid_grant", "the refresh token is not valid or was used already")
	case row.ClientID != client.id:
		return TokenPair{}, oauthFail("invalid_grant", "the refresh token was issued to another client")
	case !i.now().Before(row.ExpiresAt):
		return TokenPair{}, oauthFail("invalid_grant", "the refresh token expired")
	}
	granted, err := parseScope(row.Scope)
	if err != nil {
		return TokenPair{}, fmt.Errorf("auth: stored refresh token scope: %w", err)
	}
	sc := granted
	if requested := form.Get("scope"); requested != "" {
		if sc, err = parseScope(requested); err != nil {
			return TokenPair{}, oauthFail("invalid_scope", "%s", err)
		}
		if sc.openid && !granted.openid {
			return TokenPair{}, oauthFail("invalid_scope", "scope %q was not granted", scopeOpenID)
		}
	}
	user, err := i.accounts.GetUser(ctx, row.UserID)
	switch {
	case fault.KindOf(err) == fault.KindNotFound:
		return TokenPair{}, oauthFail("invalid_grant", "the account no longer exists")
	case err != nil:
		return TokenPair{}, err
	case user.Locked:
		return TokenPair{}, oauthFail("invalid_grant", "the account is locked")
	}
	return i.issue(ctx, grant{subject: user, clientID: client.id, clientGeneration: client.generation(), scope: sc, refresh: true})
}

// clientCredentialsGrant gives a confidential client a token for its service
// account, without a refresh token (as Keycloak does by default).
func (i *Issuer) clientCredentialsGrant(ctx context.Context, client oauthClient, form url.Values) (TokenPair, error) {
	if client.confidential == nil {
		return TokenPair{}, oauthFail("unauthorized_client", "the public client %q cannot use grant type %s", client.id, grantClientCredentials)
	}
	sc, err := parseScope(form.Get("scope"))
	if err != nil {
		return TokenPair{}, oauthFail("invalid_scope", "%s", err)
	}
	return i.issue(ctx, grant{
		subject:           client.confidential.ServiceAccount,
		clientID:          client.id,
		clientCredentials: true,
		clientGeneration:  client.generation(),
		scope:             sc,
	})
}

// faultMessage returns a fault error's message without its field.
func faultMessage(err error) string {
	var fe *fault.Error
	if errors.As(err, &fe) {
		return fe.Message
	}
	return err.Error()
}

// writeJSON writes v as a JSON response with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client went away; nothing to do
}
