package node_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/gpcore/gpcore/internal/auth"
	"github.com/gpcore/gpcore/internal/catalog"
	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/jobs"
	"github.com/gpcore/gpcore/internal/node"
	"github.com/gpcore/gpcore/internal/provision/sim"
)

// consoleToken are the claims of a console token, as a console proxy reads
// them.
type consoleToken struct {
	jwt.Claims
	Type      string `json:"typ"`
	NodeID    string `json:"gpcore_node_id"`
	ServerID  string `json:"gpcore_server_id"`
	SessionID string `json:"gpcore_console_session_id"`
}

// consoleClaims checks token's signature with the keys the issuer's JWKS
// endpoint publishes and returns its claims.
func (e *env) consoleClaims(t *testing.T, token string) consoleToken {
	t.Helper()
	rec := httptest.NewRecorder()
	e.issuer.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/realms/gpcore/protocol/openid-connect/certs", nil))
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(rec.Body.Bytes(), &set); err != nil {
		t.Fatalf("JWKS: %v", err)
	}
	tok, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatalf("the console token is no RS256 JWT: %v", err)
	}
	keys := set.Key(tok.Headers[0].KeyID)
	if len(keys) != 1 {
		t.Fatalf("the JWKS lacks the console token's key %q", tok.Headers[0].KeyID)
	}
	var c consoleToken
	if err := tok.Claims(keys[0].Key, &c); err != nil {
		t.Fatalf("console token signature: %v", err)
	}
	return c
}

// sum is the hex SHA-256 of s.
func sum(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// TestConsole: the credentials Console returns are the ones the server's
// BMC takes, until they expire; the token is the issuer's, for that
// session; only digests are stored.
func TestConsole(t *testing.T) {
	t.Parallel()
	clock := &manualClock{now: time.Date(2026, 5, 4, 3, 2, 1, 0, time.UTC)}
	e := newEnv(t, envOptions{stopped: true, clock: clock})
	c := e.customer(t)
	ctx := t.Context()
	n := e.create(t, c, order(c, "console.example"))[0] // DEPLOYING: a console shows the installation
	serverID := e.serverOf(t, n.ID)
	var bmc string
	if err := e.db.NewRaw("SELECT platform_management_ip FROM servers WHERE id = ?", serverID).Scan(ctx, &bmc); err != nil {
		t.Fatal(err)
	}

	access, err := e.nodes.Console(ctx, c.user.ID, n.ID)
	if err != nil {
		t.Fatal(err)
	}
	if access.Hostname != bmc || len(access.Username) != 16 || !strings.HasPrefix(access.Username, "console-") ||
		len(access.Password) < 20 || !access.ExpiresAt.Equal(clock.Now().Add(node.DefaultConsoleTTL)) {
		t.Fatalf("console access %+v (BMC %s)", access, bmc)
	}
	if err := e.sim.ConsoleLogin(serverID, access.Username, access.Password); err != nil {
		t.Fatalf("the BMC refuses the credentials Console returned: %v", err)
	}
	if err := e.sim.ConsoleLogin(serverID, access.Username, access.Password+"x"); !errors.Is(err, sim.ErrLoginRefused) {
		t.Fatalf("the BMC takes a wrong password: %v", err)
	}

	claims := e.consoleClaims(t, access.Token)
	if claims.Issuer != e.issuer.URL() || claims.Subject != c.user.ID || !slices.Equal(claims.Audience, jwt.Audience{auth.ConsoleAudience}) ||
		claims.Type != "Console" || claims.ID != access.SessionID || claims.SessionID != access.SessionID ||
		claims.NodeID != n.ID || claims.ServerID != serverID || !claims.Expiry.Time().Equal(access.ExpiresAt) {
		t.Fatalf("console token claims %+v, access %+v", claims, access)
	}
	if got := e.count(t, "SELECT COUNT(*) FROM node_console_sessions WHERE id = ? AND node_id = ? AND user_id = ? AND username = ? AND token_sha256 = ? AND password_sha256 = ?",
		access.SessionID, n.ID, c.user.ID, access.Username, sum(access.Token), sum(access.Password)); got != 1 {
		t.Fatal("the session is not stored by the digests of its credentials")
	}
	if got := e.count(t, "SELECT COUNT(*) FROM project_logs WHERE project_id = ? AND message LIKE ?",
		c.project.ID, "opened a remote console on the node console.example%"); got != 1 {
		t.Fatal("no project log entry for the console")
	}

	// Each call opens a session of its own; the first one's time runs out.
	clock.Advance(time.Minute)
	second, err := e.nodes.Console(ctx, c.user.ID, n.ID)
	if err != nil || second.Username == access.Username || second.Password == access.Password || second.Token == access.Token {
		t.Fatalf("a second console: %+v, %v", second, err)
	}
	clock.Advance(node.DefaultConsoleTTL - time.Minute)
	if err := e.sim.ConsoleLogin(serverID, access.Username, access.Password); !errors.Is(err, sim.ErrLoginRefused) {
		t.Fatalf("the BMC takes expired credentials: %v", err)
	}
	if err := e.sim.ConsoleLogin(serverID, second.Username, second.Password); err != nil {
		t.Fatalf("the BMC refuses the second session before its end: %v", err)
	}
	if _, err := e.issuer.Verify(ctx, access.Token); fault.KindOf(err) != fault.KindUnauthenticated {
		t.Fatalf("a console token works as an access token: %v", err)
	}

	// Someone else's node is not found; a server without platform
	// management has no console.
	other := e.customer(t)
	_, err = e.nodes.Console(ctx, other.user.ID, n.ID)
	wantFault(t, err, fault.KindNotFound, "")
	e.exec(t, "UPDATE servers SET platform_management_ip = '' WHERE id = ?", serverID)
	got, err := e.nodes.Get(ctx, c.user.ID, c.project.ID, n.ID)
	if err != nil || got.HasConsoleAccess {
		t.Fatalf("a server without platform management: console access %v, %v", got.HasConsoleAccess, err)
	}
	_, err = e.nodes.Console(ctx, c.user.ID, n.ID)
	wantFault(t, err, fault.KindFailedPrecondition, "")
}

// TestConsoleRefusedByTheHardware: a server the hardware holds no instance
// on opens no console, and nothing is recorded.
func TestConsoleRefusedByTheHardware(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{stopped: true})
	c := e.customer(t)
	n := e.create(t, c, order(c, "torn.example"))[0]
	// The control plane records the node as installing, but the hardware
	// has it torn down already (what the sim takes over from).
	e.exec(t, "UPDATE servers SET provision_state = ? WHERE id = ?", catalog.StateCleaning, e.serverOf(t, n.ID))
	_, err := e.nodes.Console(t.Context(), c.user.ID, n.ID)
	wantFault(t, err, fault.KindFailedPrecondition, "")
	if !strings.Contains(err.Error(), "holds no instance") {
		t.Fatalf("refusal %q does not say why", err)
	}
	if got := e.count(t, "SELECT COUNT(*) FROM node_console_sessions"); got != 0 {
		t.Fatalf("%d console sessions recorded for a refused console", got)
	}
}

// TestConsoleDuringDestroy: a node being destroyed opens no console, and
// the teardown closes the sessions open on its BMC.
func TestConsoleDuringDestroy(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	c := e.customer(t)
	ctx := t.Context()
	n := e.create(t, c, order(c, "doomed.example"))[0]
	e.awaitRest(t, c, n.ID, catalog.StateActive)
	access, err := e.nodes.Console(ctx, c.user.ID, n.ID)
	if err != nil {
		t.Fatal(err)
	}
	serverID := e.serverOf(t, n.ID)
	if err := e.sim.ConsoleLogin(serverID, access.Username, access.Password); err != nil {
		t.Fatal(err)
	}
	if err := e.nodes.Destroy(ctx, c.user.ID, c.project.ID, n.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.nodes.Console(ctx, c.user.ID, n.ID)
	wantFault(t, err, fault.KindFailedPrecondition, "")
	e.await(t, c, n.ID, "deletion", func(n node.Node) bool { return !n.DeletedAt.IsZero() })
	if err := e.sim.ConsoleLogin(serverID, access.Username, access.Password); !errors.Is(err, sim.ErrLoginRefused) {
		t.Fatalf("the BMC of a destroyed node still takes its console credentials: %v", err)
	}
}

// jobDone is a slog.Handler that signals each "job done" line of a job
// kind, the line package jobs writes when an attempt succeeds.
type jobDone struct {
	kind  string
	attrs []slog.Attr
	done  chan struct{}
}

func (h *jobDone) Enabled(context.Context, slog.Level) bool { return true }

func (h *jobDone) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "job done" {
		return nil
	}
	for _, a := range h.attrs {
		if a.Key == "job_kind" && a.Value.String() == h.kind {
			select {
			case h.done <- struct{}{}:
			default: // one signal waiting is enough
			}
		}
	}
	return nil
}

func (h *jobDone) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &jobDone{kind: h.kind, attrs: append(slices.Clone(h.attrs), attrs...), done: h.done}
}

func (h *jobDone) WithGroup(string) slog.Handler { return h }

// TestConsoleSweep: the periodic sweep deletes the sessions whose time is
// up, by the service's clock, and keeps the others.
func TestConsoleSweep(t *testing.T) {
	t.Parallel()
	clock := &manualClock{now: time.Date(2026, 5, 4, 3, 2, 1, 0, time.UTC)}
	e := newEnv(t, envOptions{stopped: true, clock: clock})
	c := e.customer(t)
	ctx := t.Context()
	n := e.create(t, c, order(c, "swept.example"))[0]
	first, err := e.nodes.Console(ctx, c.user.ID, n.ID)
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(3 * time.Minute)
	second, err := e.nodes.Console(ctx, c.user.ID, n.ID)
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(node.DefaultConsoleTTL - 3*time.Minute) // the first one's end

	signal := &jobDone{kind: "node_console_sweep", done: make(chan struct{}, 1)}
	e.startQueue(t, e.newQueueWith(t, e.sim, jobs.Config{Logger: slog.New(signal), PeriodicJobs: node.PeriodicJobs(node.BillingChangeInterval)}))
	select {
	case <-signal.done:
	case <-time.After(waitTimeout):
		t.Fatal("no console sweep ran at the queue's start")
	}
	var left []string
	if err := e.db.NewRaw("SELECT id FROM node_console_sessions").Scan(ctx, &left); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(left, []string{second.SessionID}) {
		t.Fatalf("sessions left after the sweep: %v; want only the second (%s), not the first (%s)", left, second.SessionID, first.SessionID)
	}
}
