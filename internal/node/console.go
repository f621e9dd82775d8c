package node

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"github.com/uptrace/bun"

	"github.com/gpcore/gpcore/internal/auth"
	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/jobs"
	"github.com/gpcore/gpcore/internal/provision"
)

// ConsoleSweepInterval is how often the periodic sweep deletes the console
// sessions whose time is up.
const ConsoleSweepInterval = 5 * time.Minute

// ConsoleTokens signs the tokens of remote console sessions; *auth.Issuer
// does, with the keys it publishes at its JWKS endpoint.
type ConsoleTokens interface {
	IssueConsoleToken(g auth.ConsoleGrant) (string, error)
}

// ConsoleAccess is a remote console session open on the platform
// management controller (BMC) of a node's server, and how to use it.
type ConsoleAccess struct {
	// SessionID is the session's id, the token's jti.
	SessionID string
	// Token is a JWT for the session signed by gpcore's issuer (see
	// auth.IssueConsoleToken), for whatever sits in front of the consoles.
	Token string
	// Hostname is where a VNC client connects: the BMC, or the console
	// proxy the driver names.
	Hostname string
	// Username and Password log in to the console.
	Username string
	Password string
	// ExpiresAt is when the BMC stops taking the credentials and the token
	// expires.
	ExpiresAt time.Time
}

// Console opens a remote console session on the BMC of a node's server and
// returns it. The provisioning driver opens the session with credentials
// made here (a random password, a user name of 16 characters, the IPMI
// limit) or hands out its own; the BMC takes them until ExpiresAt, the
// service's console TTL from now, and the token, signed by gpcore's OpenID
// Connect issuer, expires then too. Only the SHA-256 of the password and of
// the token are kept (node_console_sessions), until the periodic sweep
// deletes the session once its time is up; the project log says who opened
// a console. Refusals are fault errors: NotFound for a node that is not
// live in a project userID is a confirmed member of; FailedPrecondition
// when the server has no platform management, the node is being destroyed,
// or the driver refuses in the server's state (one that holds no instance).
func (s *Service) Console(ctx context.Context, userID, nodeID string) (ConsoleAccess, error) {
	access, err := s.console(ctx, userID, nodeID)
	return access, wrap("console", err)
}

func (s *Service) console(ctx context.Context, userID, nodeID string) (ConsoleAccess, error) {
	n, err := findNode(ctx, s.db.DB, "", nodeID, false)
	if err != nil {
		return ConsoleAccess{}, err
	}
	member, err := s.projects.IsMember(ctx, n.node.ProjectID, userID)
	if err != nil {
		return ConsoleAccess{}, err
	}
	if !member {
		return ConsoleAccess{}, errNodeNotFound(nodeID)
	}
	if err := n.hasConsole(); err != nil {
		return ConsoleAccess{}, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return ConsoleAccess{}, fmt.Errorf("console session id: %w", err)
	}
	now := s.now()
	req := provision.ConsoleRequest{
		SessionID: id.String(),
		Username:  consoleUsername(id),
		Password:  rand.Text(),
		ExpiresAt: now.Add(s.consoleTTL),
	}
	console, err := s.driver.OpenConsole(ctx, n.provisionServer(), req)
	if err != nil {
		return ConsoleAccess{}, driverRefusal(n, err)
	}
	switch {
	case console.Host == "" || console.Username == "" || console.Password == "":
		return ConsoleAccess{}, fmt.Errorf("the driver's console on server %s lacks a host or credentials", n.server.ID)
	case !console.ExpiresAt.After(now) || console.ExpiresAt.After(req.ExpiresAt):
		return ConsoleAccess{}, fmt.Errorf("the driver's console on server %s ends at %s, not within the %s asked for",
			n.server.ID, console.ExpiresAt.UTC().Format(time.RFC3339), s.consoleTTL)
	}
	access := ConsoleAccess{
		SessionID: req.SessionID,
		Hostname:  console.Host,
		Username:  console.Username,
		Password:  console.Password,
		ExpiresAt: console.ExpiresAt.UTC(),
	}
	access.Token, err = s.tokens.IssueConsoleToken(auth.ConsoleGrant{
		UserID: userID, SessionID: access.SessionID, NodeID: nodeID, ServerID: n.server.ID, ExpiresAt: access.ExpiresAt,
	})
	if err != nil {
		return ConsoleAccess{}, fmt.Errorf("sign the console token: %v", err)
	}
	// Recorded once the BMC has the session: a failure from here on leaves
	// a session on the BMC whose credentials nobody got, which ends at
	// ExpiresAt (or when the server is torn down).
	err = s.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		n, err := lockNode(ctx, tx, n.node.ProjectID, nodeID)
		if err != nil {
			return err
		}
		if err := n.hasConsole(); err != nil {
			return err
		}
		row := consoleSessionRow{ID: access.SessionID, NodeID: nodeID, UserID: userID, Username: access.Username,
			TokenSHA256: sha256Hex(access.Token), PasswordSHA256: sha256Hex(access.Password),
			ExpiresAt: access.ExpiresAt, CreatedAt: now}
		if _, err := tx.NewInsert().Model(&row).Exec(ctx); err != nil {
			return fmt.Errorf("store console session: %w", err)
		}
		return s.projects.Log(ctx, tx, n.node.ProjectID, userID,
			fmt.Sprintf("opened a remote console on the node %s until %s", n.node.FQDN, access.ExpiresAt.Format(time.RFC3339)))
	})
	if err != nil {
		return ConsoleAccess{}, err
	}
	return access, nil
}

// hasConsole refuses a console on a node whose server has no platform
// management, or that is being destroyed.
func (n *lockedNode) hasConsole() error {
	switch {
	case n.server.PlatformManagementIP == "":
		return fault.Precondition("node %s has no platform management: no remote console", n.node.FQDN)
	case n.node.destroyed():
		return fault.Precondition("node %s is being destroyed", n.node.FQDN)
	}
	return nil
}

// driverRefusal is what the caller is told when the driver does not open a
// console: its FailedPrecondition (the server's state allows none), or an
// internal error; any other fault of the driver's is a request this package
// got wrong, not the caller.
func driverRefusal(n *lockedNode, err error) error {
	switch fault.KindOf(err) {
	case fault.KindFailedPrecondition:
		return fault.Precondition("node %s has no remote console now: %v", n.node.FQDN, err)
	case fault.KindInternal:
		return fmt.Errorf("open a console on server %s: %w", n.server.ID, err)
	}
	return fmt.Errorf("open a console on server %s: the driver refused the request: %v", n.server.ID, err)
}

// consoleUsername is the console user name of session id: "console-" and
// the last eight hex digits of the id, which are random in a UUIDv7; 16
// characters, what IPMI allows.
func consoleUsername(id uuid.UUID) string {
	s := id.String()
	return "console-" + s[len(s)-8:]
}

// sha256Hex is the hex SHA-256 of s, as console credentials are kept.
func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// sweepConsoleSessions deletes the console sessions whose time is up and
// returns how many.
func (c *core) sweepConsoleSessions(ctx context.Context) (int64, error) {
	res, err := c.db.NewDelete().Model((*consoleSessionRow)(nil)).Where("expires_at <= ?", c.now()).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("node: delete expired console sessions: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("node: delete expired console sessions: %w", err)
	}
	return n, nil
}

// consoleSweepArgs are the args of the console sweep job.
type consoleSweepArgs struct{}

// Kind implements river.JobArgs.
func (consoleSweepArgs) Kind() string { return "node_console_sweep" }

// InsertOpts keeps one sweep at a time queued or running.
func (consoleSweepArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: jobs.OnePerTarget()}
}

// consoleSweepWorker works the console sweep job.
type consoleSweepWorker struct {
	river.WorkerDefaults[consoleSweepArgs]
	c *core
}

// Work deletes the expired console sessions; a failure is retried.
func (w *consoleSweepWorker) Work(ctx context.Context, _ *river.Job[consoleSweepArgs]) error {
	n, err := w.c.sweepConsoleSessions(ctx)
	if err != nil {
		return err
	}
	jobs.Logger(ctx).DebugContext(ctx, "expired console sessions deleted", "count", n)
	return nil
}

// consoleSweepJob schedules the sweep of expired console sessions, every
// ConsoleSweepInterval and whenever a replica becomes River's leader.
func consoleSweepJob() *river.PeriodicJob {
	return river.NewPeriodicJob(
		river.PeriodicInterval(ConsoleSweepInterval),
		func() (river.JobArgs, *river.InsertOpts) { return consoleSweepArgs{}, nil },
		&river.PeriodicJobOpts{ID: consoleSweepArgs{}.Kind(), RunOnStart: true},
	)
}
