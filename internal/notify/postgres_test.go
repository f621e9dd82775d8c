package notify_test

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/gpcore/gpcore/internal/notify"
	"github.com/gpcore/gpcore/internal/store"
	"github.com/gpcore/gpcore/internal/store/storetest"
)

// replicas are two hubs on two separate handles to one PostgreSQL database,
// as two `gpcore serve` processes have.
type replicas struct {
	a, b *notify.Hub
	// dbA is replica A's database handle.
	dbA *store.DB
	// appB is the application_name of replica B's connections; its
	// listener's is appB + "/notify".
	appB string
}

// newReplicas starts two replicas on one fresh schema, or skips t when the
// tests run on SQLite, where one process owns the database.
func newReplicas(t *testing.T) replicas {
	t.Helper()
	cfg := storetest.NewConfig(t)
	if cfg.DSN == "" {
		t.Skipf("replicas share events through PostgreSQL: set %s", storetest.EnvPostgresDSN)
	}
	appB := "gpcore-test-b-" + uuid.NewString()[:8]
	dbA := storetest.Open(t, cfg)
	dbB := storetest.Open(t, store.Config{DSN: withDSN(t, cfg.DSN, func(u *url.URL, q url.Values) {
		q.Set("application_name", appB)
	})})
	return replicas{
		a:    newHub(t, dbA, notify.Config{}),
		b:    newHub(t, dbB, notify.Config{}),
		dbA:  dbA,
		appB: appB,
	}
}

// withDSN returns dsn changed by edit.
func withDSN(t *testing.T, dsn string, edit func(u *url.URL, q url.Values)) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("parse DSN: %v", err)
	}
	q := u.Query()
	edit(u, q)
	u.RawQuery = q.Encode()
	return u.String()
}

// terminateListener kills the connection of the listener whose
// application_name is app, as a database restart or a network failure
// would.
func terminateListener(t *testing.T, db *store.DB, app string) {
	t.Helper()
	var killed int
	if err := db.QueryRowContext(t.Context(),
		"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = ?",
		app+"/notify").Scan(&killed); err != nil {
		t.Fatalf("terminate the listener of %s: %v", app, err)
	}
	if killed != 1 {
		t.Fatalf("terminated %d listener connections of %s, want 1", killed, app)
	}
}

func TestReplicasShareEvents(t *testing.T) {
	t.Parallel()
	r := newReplicas(t)
	alice := users(1)
	onA, onB := subscribe(t, r.a, alice[0]), subscribe(t, r.b, alice[0])

	fromA, fromB := nodeEvent(alice...), nodeEvent(alice...)
	publish(t, r.a, fromA)
	expect(t, onB, fromA)
	expect(t, onA, fromA)
	publish(t, r.b, fromB)
	expect(t, onA, fromB)
	expect(t, onB, fromB)

	committed := nodeEvent(alice...)
	if err := r.a.InTx(t.Context(), func(ctx context.Context, tx bun.Tx) error {
		return r.a.PublishTx(ctx, tx, committed)
	}); err != nil {
		t.Fatalf("InTx: %v", err)
	}
	expect(t, onB, committed)
	expect(t, onA, committed)

	errRollback := errors.New("roll back")
	if err := r.a.InTx(t.Context(), func(ctx context.Context, tx bun.Tx) error {
		if err := r.a.PublishTx(ctx, tx, nodeEvent(alice...)); err != nil {
			return err
		}
		return errRollback
	}); !errors.Is(err, errRollback) {
		t.Fatalf("InTx = %v, want the rollback error", err)
	}
	// Notifications arrive in commit order: had the rolled-back event been
	// sent, it would come before the fence.
	fence(t, r.a, alice, onB, onA)
}

func TestListenerReconnects(t *testing.T) {
	t.Parallel()
	r := newReplicas(t)
	alice := users(1)
	before := subscribe(t, r.b, alice[0])
	terminateListener(t, r.dbA, r.appB)

	// B may have missed events while it was away: once it listens again it
	// ends the subscriptions it had, so that their clients reload.
	if got := drain(t, before); len(got) != 0 {
		t.Fatalf("subscription held %+v, want nothing", got)
	}
	if err := before.Err(); !errors.Is(err, notify.ErrLagged) {
		t.Fatalf("Err = %v, want ErrLagged", err)
	}

	after := subscribe(t, r.b, alice[0])
	later := nodeEvent(alice...)
	publish(t, r.a, later)
	expect(t, after, later)
}

func TestSchemasDoNotHearEachOther(t *testing.T) {
	t.Parallel()
	one, other := newReplicas(t), newReplicas(t)
	alice := users(1)
	onOther := subscribe(t, other.b, alice[0])
	publish(t, one.a, nodeEvent(alice...))
	fence(t, other.a, alice, onOther)
}

func TestListenerRetriesUntilTheDatabaseIsBack(t *testing.T) {
	t.Parallel()
	cfg := storetest.NewConfig(t)
	if cfg.DSN == "" {
		t.Skipf("the listener is PostgreSQL's: set %s", storetest.EnvPostgresDSN)
	}
	dbA := storetest.Open(t, cfg)
	a := newHub(t, dbA, notify.Config{})

	// Replica B connects as a role of its own, so that the test can refuse
	// it new connections without disturbing anyone else.
	role := "gpcore_test_" + strings.ReplaceAll(uuid.NewString()[:8], "-", "")
	admin := func(query string) {
		t.Helper()
		if _, err := dbA.ExecContext(context.WithoutCancel(t.Context()), query); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	}
	admin("CREATE ROLE " + role + " LOGIN")
	t.Cleanup(func() {
		admin("DROP OWNED BY " + role)
		admin("DROP ROLE " + role)
	})
	admin("GRANT USAGE ON SCHEMA " + schemaOf(t, dbA) + " TO " + role)
	appB := "gpcore-test-b-" + role
	dbB := storetest.Open(t, store.Config{DSN: withDSN(t, cfg.DSN, func(u *url.URL, q url.Values) {
		u.User = url.User(role)
		q.Set("application_name", appB)
	})})
	tap := newLogTap()
	b := newHub(t, dbB, notify.Config{Logger: slog.New(tap)})
	alice := users(1)
	before := subscribe(t, b, alice[0])

	admin("ALTER ROLE " + role + " CONNECTION LIMIT 0")
	terminateListener(t, dbA, appB)
	tap.await(t, "notify: listener lost its PostgreSQL connection; reconnecting")
	tap.await(t, "notify: listener cannot reconnect to PostgreSQL")
	tap.await(t, "notify: listener cannot reconnect to PostgreSQL")
	admin("ALTER ROLE " + role + " CONNECTION LIMIT -1")
	tap.await(t, "notify: listener reconnected; subscriptions ended so that clients reload")

	if got := drain(t, before); len(got) != 0 || !errors.Is(before.Err(), notify.ErrLagged) {
		t.Fatalf("subscription held %+v and ended with %v, want nothing and ErrLagged", got, before.Err())
	}
	after := subscribe(t, b, alice[0])
	later := nodeEvent(alice...)
	publish(t, a, later)
	expect(t, after, later)
}

func TestListenerSkipsForeignPayloads(t *testing.T) {
	t.Parallel()
	r := newReplicas(t)
	alice := users(1)
	sub := subscribe(t, r.b, alice[0])
	for _, payload := range []string{`not json`, `{"v":99,"e":[]}`, `{"v":1,"e":[{"k":"invoice","id":"i","u":["` + alice[0] + `"]}]}`} {
		if _, err := r.dbA.ExecContext(t.Context(),
			"SELECT pg_notify('gpcore_events.' || current_schema(), ?)", payload); err != nil {
			t.Fatalf("pg_notify: %v", err)
		}
	}
	// The listener dropped them and goes on.
	fence(t, r.a, alice, sub)
}

// schemaOf returns the schema db's connections use.
func schemaOf(t *testing.T, db *store.DB) string {
	t.Helper()
	var schema string
	if err := db.QueryRowContext(t.Context(), "SELECT current_schema()").Scan(&schema); err != nil {
		t.Fatalf("current_schema: %v", err)
	}
	return schema
}

// logTap is a slog.Handler that lets a test wait for log messages.
type logTap struct {
	messages chan string
}

func newLogTap() logTap { return logTap{messages: make(chan string, 64)} }

// Enabled implements slog.Handler.
func (l logTap) Enabled(context.Context, slog.Level) bool { return true }

// Handle implements slog.Handler; it drops messages nobody waits for once
// its buffer is full.
func (l logTap) Handle(_ context.Context, r slog.Record) error {
	select {
	case l.messages <- r.Message:
	default:
	}
	return nil
}

// WithAttrs implements slog.Handler.
func (l logTap) WithAttrs([]slog.Attr) slog.Handler { return l }

// WithGroup implements slog.Handler.
func (l logTap) WithGroup(string) slog.Handler { return l }

// await skips logged messages until msg.
func (l logTap) await(t *testing.T, msg string) {
	t.Helper()
	timeout := time.After(waitTimeout)
	for {
		select {
		case got := <-l.messages:
			if got == msg {
				return
			}
		case <-timeout:
			t.Fatalf("no log message %q within %s", msg, waitTimeout)
		}
	}
}
