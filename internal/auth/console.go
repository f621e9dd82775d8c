package auth

import (
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/gpcore/gpcore/internal/fault"
)

// ConsoleAudience is the aud of remote console tokens. A console proxy
// accepts only tokens for it; Verify wants Config.Audience, so a console
// token is no access token to the API.
const ConsoleAudience = "gpcore-console"

// MaxConsoleTokenTTL is the longest a console token may live.
const MaxConsoleTokenTTL = time.Hour

// typeConsole is the typ of console tokens.
const typeConsole = "Console"

// ConsoleGrant is what a remote console token grants: one console session
// on one node's server, to one user, until ExpiresAt.
type ConsoleGrant struct {
	// UserID is who opened the session (sub).
	UserID string
	// SessionID is the console session's id (jti, and
	// gpcore_console_session_id).
	SessionID string
	// NodeID and ServerID are the node the console is of and its server
	// (gpcore_node_id, gpcore_server_id).
	NodeID   string
	ServerID string
	// ExpiresAt is when the session ends (exp): in the future, at most
	// MaxConsoleTokenTTL away.
	ExpiresAt time.Time
}

// consoleClaims are the claims of a console token.
type consoleClaims struct {
	jwt.Claims

	Type      string `json:"typ"`
	NodeID    string `json:"gpcore_node_id"`
	ServerID  string `json:"gpcore_server_id"`
	SessionID string `json:"gpcore_console_session_id"`
}

// IssueConsoleToken signs a JWT for the remote console session g, with the
// key access tokens are signed with (published at the JWKS endpoint): iss
// the issuer, sub the user, aud ConsoleAudience, typ "Console", iat now,
// exp g.ExpiresAt, jti and gpcore_console_session_id the session id,
// gpcore_node_id and gpcore_server_id. A grant with an empty id or an
// expiry not in (now, now+MaxConsoleTokenTTL] is a fault.Invalid naming the
// field.
func (i *Issuer) IssueConsoleToken(g ConsoleGrant) (string, error) {
	now := i.now()
	switch {
	case g.UserID == "":
		return "", fault.Invalid("user_id", "a console token needs a user")
	case g.SessionID == "":
		return "", fault.Invalid("session_id", "a console token needs a session")
	case g.NodeID == "":
		return "", fault.Invalid("node_id", "a console token needs a node")
	case g.ServerID == "":
		return "", fault.Invalid("server_id", "a console token needs a server")
	case !g.ExpiresAt.After(now) || g.ExpiresAt.After(now.Add(MaxConsoleTokenTTL)):
		return "", fault.Invalid("expires_at", "a console token expires within %s from now, not at %s",
			MaxConsoleTokenTTL, g.ExpiresAt.UTC().Format(time.RFC3339))
	}
	c := consoleClaims{
		Claims: jwt.Claims{
			Issuer:   i.issuer,
			Subject:  g.UserID,
			Audience: jwt.Audience{ConsoleAudience},
			IssuedAt: jwt.NewNumericDate(now),
			Expiry:   jwt.NewNumericDate(g.ExpiresAt),
			ID:       g.SessionID,
		},
		Type:      typeConsole,
		NodeID:    g.NodeID,
		ServerID:  g.ServerID,
		SessionID: g.SessionID,
	}
	s, err := jwt.Signed(i.keys.signer).Claims(c).Serialize()
	if err != nil {
		return "", fmt.Errorf("auth: sign console token: %w", err)
	}
	return s, nil
}
