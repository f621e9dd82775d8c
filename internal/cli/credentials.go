package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Credentials is what `gpcore login` keeps between commands: the server, how
// to get new tokens from its token endpoint, and the current tokens. The file
// holds secrets (tokens, and a machine's client secret), so it is written
// with mode 0600 in a directory of mode 0700.
type Credentials struct {
	// Server is the base URL of the gpcore API, e.g. http://127.0.0.1:8080.
	Server string `json:"server"`
	// TokenURL is the OpenID Connect token endpoint found by discovery.
	TokenURL string `json:"token_url"`
	// ClientID is the OAuth client the tokens were issued to: the public
	// gpcore-cli client for people, a confidential client for machines.
	ClientID string `json:"client_id"`
	// ClientSecret is a machine's client secret; set only for a
	// client-credentials login, which renews its token with a new grant.
	ClientSecret string `json:"client_secret,omitempty"`
	// UserID is the signed-in account, a person or a machine's service
	// account.
	UserID string `json:"user_id"`
	// AccessToken is the bearer token sent with every call, valid until
	// Expiry (zero: unknown, used until the server refuses it).
	AccessToken string    `json:"access_token"`
	Expiry      time.Time `json:"expiry,omitzero"`
	// RefreshToken trades, once, for a new pair; empty for machines.
	RefreshToken string `json:"refresh_token,omitempty"`
}

// expiryMargin is how long before its expiry an access token counts as
// expired already, so that it does not expire on its way to the server.
const expiryMargin = 30 * time.Second

// fresh reports whether the access token can still be sent at now.
func (c *Credentials) fresh(now time.Time) bool {
	return c.AccessToken != "" && (c.Expiry.IsZero() || now.Add(expiryMargin).Before(c.Expiry))
}

// errNotSignedIn is the error of a command that needs credentials when there
// are none.
var errNotSignedIn = errors.New("not signed in: run `gpcore login` (or `gpcore register`) first")

// credentialsPath is where the credentials live:
// <user config dir>/gpcore/credentials.json, the user config dir being
// $XDG_CONFIG_HOME or ~/.config on Linux (os.UserConfigDir).
func credentialsPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the directory for the credentials: %w", err)
	}
	return filepath.Join(dir, "gpcore", "credentials.json"), nil
}

// loadCredentials reads the credentials at path; errNotSignedIn when there
// are none.
func loadCredentials(path string) (*Credentials, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errNotSignedIn
	}
	if err != nil {
		return nil, fmt.Errorf("read the credentials: %w", err)
	}
	var c Credentials
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("read the credentials %s: %w (run `gpcore login` to replace them)", path, err)
	}
	if c.Server == "" || c.TokenURL == "" || c.AccessToken == "" {
		return nil, fmt.Errorf("the credentials in %s are incomplete: run `gpcore login` to replace them", path)
	}
	return &c, nil
}

// save writes c to path atomically: a new file of mode 0600 renamed over the
// old one (whatever mode that had), in a directory of mode 0700. The
// directory is created so when missing, and restricted to 0700 when it
// exists with more: anyone else who may write in it could put credentials
// of their own in place, naming a server of theirs that the next command
// would send the refresh token to.
func (c *Credentials) save(path string) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("encode the credentials: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create the credentials directory: %w", err)
	}
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("check the credentials directory: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("the credentials directory %s has mode %v, open to others, and cannot be restricted to 0700: %w",
				dir, st.Mode().Perm(), err)
		}
	}
	f, err := os.CreateTemp(dir, ".credentials-*.json") // mode 0600, whatever the umask
	if err != nil {
		return fmt.Errorf("write the credentials: %w", err)
	}
	_, werr := f.Write(append(b, '\n'))
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(f.Name(), path)
	}
	if werr != nil {
		_ = os.Remove(f.Name()) // best effort: the write already failed
		return fmt.Errorf("write the credentials: %w", werr)
	}
	return nil
}
