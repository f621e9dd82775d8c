// Package storetest gives tests a fresh, migrated database of their own.
//
// By default that is a SQLite file in a temporary directory. When the
// environment variable GPCORE_TEST_POSTGRES_DSN holds a PostgreSQL URL, it is
// a new schema in that database instead, created for the test and dropped
// when it ends, so tests can run in parallel against one server. A test told
// to use PostgreSQL fails, never skips, when the server cannot be reached.
package storetest

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gpcore/gpcore/internal/store"
)

// EnvPostgresDSN names the environment variable that switches tests to
// PostgreSQL, e.g.
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
const EnvPostgresDSN = "GPCORE_TEST_POSTGRES_DSN"

// poolMaxConns bounds each test's pool so that many parallel tests stay well
// under the server's max_connections.
const poolMaxConns = 4

// cleanupTimeout bounds closing and dropping a test database; the test's own
// context is already cancelled when cleanups run.
const cleanupTimeout = 30 * time.Second

// New returns a migrated database that belongs to t alone and is closed (and,
// on PostgreSQL, dropped) when t ends.
func New(t testing.TB) *store.DB {
	t.Helper()
	db := Open(t, NewConfig(t))
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatalf("storetest: %v", err)
	}
	return db
}

// NewConfig returns the configuration of a fresh, empty (unmigrated) database
// that belongs to t: a temporary data directory for SQLite, or a new schema
// on the GPCORE_TEST_POSTGRES_DSN server, dropped when t ends. Tests that
// need several handles on one database, or an unmigrated one, start here.
func NewConfig(t testing.TB) store.Config {
	t.Helper()
	dsn := os.Getenv(EnvPostgresDSN)
	if dsn == "" {
		return store.Config{DataDir: t.TempDir()}
	}
	schema := "test_" + strings.ToLower(rand.Text())
	testDSN, err := schemaDSN(dsn, schema)
	if err != nil {
		t.Fatalf("storetest: %s: %v", EnvPostgresDSN, err)
	}
	if err := adminExec(t.Context(), dsn, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("storetest: PostgreSQL from %s: %v", EnvPostgresDSN, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer cancel()
		if err := adminExec(ctx, dsn, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("storetest: drop schema %s: %v", schema, err)
		}
	})
	return store.Config{DSN: testDSN}
}

// Open opens cfg (usually from NewConfig) without migrating and closes it
// when t ends.
func Open(t testing.TB, cfg store.Config) *store.DB {
	t.Helper()
	db, err := store.Open(t.Context(), cfg)
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("storetest: close %s: %v", db.Dialect, err)
		}
	})
	return db
}

// schemaDSN returns dsn with every connection's search_path set to schema and
// a small pool.
func schemaDSN(dsn, schema string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", fmt.Errorf("parse DSN: %w", err)
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return "", fmt.Errorf("want a postgres:// URL, got scheme %q", u.Scheme)
	}
	q := u.Query()
	q.Set("search_path", schema)
	q.Set("pool_max_conns", fmt.Sprint(poolMaxConns))
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// adminExec runs one statement on its own connection to dsn.
func adminExec(ctx context.Context, dsn, sql string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, sql)
	return err
}
