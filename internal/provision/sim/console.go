package sim

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"time"

	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/provision"
)

// ErrLoginRefused is ConsoleLogin's refusal.
var ErrLoginRefused = errors.New("sim: console login refused")

// consoleSession is a console session open on a simulated BMC. Like a BMC
// checking a login, the sim needs only a digest of the password.
type consoleSession struct {
	username    string
	passwordSum [sha256.Size]byte
	expiresAt   time.Time
}

// OpenConsole implements provision.Driver: the server's simulated BMC takes
// c's credentials until c.ExpiresAt, by the sim's clock. The console's host
// is s.BMCAddress. Sessions whose time is up are forgotten.
func (d *Driver) OpenConsole(ctx context.Context, s provision.Server, c provision.ConsoleRequest) (provision.Console, error) {
	if err := ctx.Err(); err != nil {
		return provision.Console{}, err
	}
	switch {
	case c.SessionID == "":
		return provision.Console{}, fault.Invalid("session_id", "a console session needs an id")
	case c.Username == "":
		return provision.Console{}, fault.Invalid("username", "a console session needs a user name")
	case c.Password == "":
		return provision.Console{}, fault.Invalid("password", "a console session needs a password")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.clock.Now()
	if !c.ExpiresAt.After(now) {
		return provision.Console{}, fault.Invalid("expires_at", "the session would be over already (%s)", c.ExpiresAt.UTC().Format(time.RFC3339))
	}
	if s.BMCAddress == "" {
		return provision.Console{}, fault.Precondition("server %s has no BMC: there is no remote console", s.ID)
	}
	srv, err := d.lookup(s)
	if err != nil {
		return provision.Console{}, err
	}
	if !provision.HoldsInstance(srv.state) {
		return provision.Console{}, fault.Precondition("the server is %s: it holds no instance, so there is no console to open", srv.state)
	}
	sessions := d.consoles[s.ID]
	for id, open := range sessions {
		if !now.Before(open.expiresAt) {
			delete(sessions, id)
		}
	}
	want := &consoleSession{username: c.Username, passwordSum: sha256.Sum256([]byte(c.Password)), expiresAt: c.ExpiresAt}
	switch open, ok := sessions[c.SessionID]; {
	case !ok:
		if sessions == nil {
			sessions = map[string]*consoleSession{}
			d.consoles[s.ID] = sessions
		}
		sessions[c.SessionID] = want
	case open.username != want.username || open.passwordSum != want.passwordSum || !open.expiresAt.Equal(want.expiresAt):
		return provision.Console{}, fault.AlreadyExists("console session %s is open on server %s with other credentials", c.SessionID, s.ID)
	}
	return provision.Console{Host: s.BMCAddress, Username: c.Username, Password: c.Password, ExpiresAt: c.ExpiresAt}, nil
}

// ConsoleLogin is a VNC client logging in to the console of server
// serverID's BMC now, by the sim's clock: nil when an open session takes
// username and password, otherwise an error wrapping ErrLoginRefused that
// says why (no such credentials, or a session whose time is up).
func (d *Driver) ConsoleLogin(serverID, username, password string) error {
	sum := sha256.Sum256([]byte(password))
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.clock.Now()
	expired := false
	for _, open := range d.consoles[serverID] {
		if open.username != username || subtle.ConstantTimeCompare(open.passwordSum[:], sum[:]) != 1 {
			continue
		}
		if now.Before(open.expiresAt) {
			return nil
		}
		expired = true
	}
	if expired {
		return fmt.Errorf("%w: the session of %s on server %s is over", ErrLoginRefused, username, serverID)
	}
	return fmt.Errorf("%w: no open session on server %s takes these credentials", ErrLoginRefused, serverID)
}
