package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// realmPath is the path of the server's OpenID Connect issuer: Keycloak's
// layout, realm gpcore.
const realmPath = "/realms/gpcore"

// publicClientID is the OAuth client people sign in with; it has no secret.
const publicClientID = "gpcore-cli"

// serverURL checks that raw is an http or https base URL and returns it
// without a trailing slash.
func serverURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("--server %q is not an http:// or https:// URL", raw)
	}
	return strings.TrimSuffix(raw, "/"), nil
}

// discoverTokenURL reads the token endpoint from the server's OpenID Connect
// discovery document.
func discoverTokenURL(ctx context.Context, web *http.Client, server string) (string, error) {
	where := server + realmPath + "/.well-known/openid-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, where, nil)
	if err != nil {
		return "", fmt.Errorf("OpenID Connect discovery: %w", err)
	}
	res, err := web.Do(req)
	if err != nil {
		return "", fmt.Errorf("OpenID Connect discovery: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("OpenID Connect discovery at %s answered %s: is %s a gpcore server?", where, res.Status, server)
	}
	var doc struct {
		TokenEndpoint string `json:"token_endpoint"`
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&doc); err != nil || doc.TokenEndpoint == "" {
		return "", fmt.Errorf("OpenID Connect discovery at %s names no token endpoint", where)
	}
	return doc.TokenEndpoint, nil
}

// withHTTPClient makes the oauth2 package send its requests through web.
func withHTTPClient(ctx context.Context, web *http.Client) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, web)
}

// oauthConfig is the public client's configuration for c's token endpoint;
// the client id goes in the form, as a public client has no secret.
func (c *Credentials) oauthConfig() *oauth2.Config {
	return &oauth2.Config{
		ClientID: c.ClientID,
		Endpoint: oauth2.Endpoint{TokenURL: c.TokenURL, AuthStyle: oauth2.AuthStyleInParams},
	}
}

// passwordGrant signs a person in with the password grant of c's client.
func (c *Credentials) passwordGrant(ctx context.Context, web *http.Client, email, password string) (*oauth2.Token, error) {
	return c.oauthConfig().PasswordCredentialsToken(withHTTPClient(ctx, web), email, password)
}

// newToken gets a new access token: a client_credentials grant for a machine
// (it has its secret), a refresh_token grant for a person.
func (c *Credentials) newToken(ctx context.Context, web *http.Client) (*oauth2.Token, error) {
	ctx = withHTTPClient(ctx, web)
	if c.ClientSecret != "" {
		cc := clientcredentials.Config{
			ClientID: c.ClientID, ClientSecret: c.ClientSecret, TokenURL: c.TokenURL,
			AuthStyle: oauth2.AuthStyleInHeader,
		}
		return cc.Token(ctx)
	}
	if c.RefreshToken == "" {
		return nil, errNotSignedIn
	}
	return c.oauthConfig().TokenSource(ctx, &oauth2.Token{RefreshToken: c.RefreshToken}).Token()
}

// setToken keeps tok: its access token and expiry, and its refresh token when
// it has one (refresh tokens rotate: each is used once).
func (c *Credentials) setToken(tok *oauth2.Token) {
	c.AccessToken, c.Expiry = tok.AccessToken, tok.Expiry.UTC()
	if tok.RefreshToken != "" {
		c.RefreshToken = tok.RefreshToken
	}
}
