// Package auth issues and verifies gpcore's OAuth 2.0 / OpenID Connect
// tokens.
//
// The Issuer is an embedded OpenID Connect provider for the realm "gpcore"
// that behaves like Keycloak where clients look: discovery, JWKS and the token
// endpoint live under /realms/gpcore/... (see Issuer.Handler), so the public
// GPCORE SDK, gocloak and golang.org/x/oauth2 sign in unchanged. It serves the
// password, refresh_token and client_credentials grants for the built-in
// public client PublicClientID and for the confidential clients of
// internal/identity.
//
// # Tokens
//
// Access tokens are RS256 JWTs signed with an RSA 2048 key that the first
// replica generates and stores in the database (oauth_signing_keys), so every
// replica and every restart signs and verifies with the same key. Their
// claims, Keycloak's:
//
//	iss                 PublicURL + "/realms/gpcore"
//	sub                 the user id; for client_credentials the client's service-account user id
//	aud                 Config.Audience ("gpcore" by default)
//	azp                 the client id that asked for the token
//	exp, iat, jti       expiry, issue time, a random UUID
//	typ                 "Bearer" ("ID" in ID tokens, which are refused as access tokens)
//	scope               "email profile", with "openid" first when asked for
//	email               the person's e-mail address (absent for service accounts)
//	email_verified      whether the person confirmed it
//	preferred_username  the username; "service-account-<client id>" for clients
//	name, given_name, family_name
//	realm_access.roles  the account's realm roles
//	client_id           the client id, in client_credentials tokens only
//	gpcore_client_generation
//	                    the secret generation of the confidential client the
//	                    token was obtained through (ours, not Keycloak's)
//
// Refresh tokens are opaque random strings; only their SHA-256 is stored
// (oauth_refresh_tokens). Each works once: using it deletes it and yields a
// new one with a fresh lifetime (rotation). When "openid" is in the scope,
// the token response also carries an ID token for the client.
//
// # Console tokens
//
// IssueConsoleToken signs the token of a remote console session
// (GetRemoteConsoleAccess) with the same key, so whatever sits in front of
// the consoles (a VNC proxy) verifies it against the published JWKS like
// any OpenID Connect relying party. Its claims:
//
//	iss                        as in access tokens
//	sub                        the user who opened the session
//	aud                        ConsoleAudience ("gpcore-console") only
//	typ                        "Console"
//	iat, exp                   issue time, the session's end (at most MaxConsoleTokenTTL on)
//	jti                        the console session's id
//	gpcore_console_session_id  the console session's id again
//	gpcore_node_id             the node the console is of
//	gpcore_server_id           the node's server
//
// Verify refuses it (its audience is not Config.Audience): a console token
// opens no API call, and an access token, whose audience is not the
// console's, opens no console.
//
// # Verification
//
// A Verifier turns a bearer token into a Principal. The Issuer verifies its
// own tokens locally, with no HTTP round trip; OIDCVerifier verifies an
// external issuer's (Keycloak's) through discovery and JWKS. Both tell the two
// kinds of token apart the way Keycloak marks them: a token that carries a
// client_id claim (Keycloak 24 and later, and this issuer) or a clientId claim
// (older Keycloak) was issued by the client_credentials grant to a client's
// service account and is a PrincipalClient; any other token is a
// PrincipalUser.
//
// # Revocation
//
// The Issuer's Verify does not look accounts up, so locking a person takes
// effect when their access token expires (AccessTokenTTL, 15 minutes by
// default); their refresh tokens stop at once. Confidential clients are
// different, because their owner must be able to cut them off: every token
// obtained through one carries the client's secret generation, and Verify
// asks internal/identity for the client's current generation (cached for
// identity.Config.ClientCacheTTL, dropped at once on the replica that made
// the change). Deleting the client (NotFound) or resetting its secret (a new
// generation) thus revokes its access tokens on the replica that did it at
// once and on the others within the cache TTL; its refresh tokens are deleted
// with it.
package auth
