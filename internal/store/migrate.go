package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
	"github.com/pressly/goose/v3/lock"
)

// migrationFiles holds every migration, numbered NNNNN_name.sql. The same
// files run on SQLite and PostgreSQL, so they use only the portable subset of
// SQL described in CONTRIBUTING.md. Migrations are append-only.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrate brings the schema up to the newest embedded migration. On
// PostgreSQL it holds an advisory lock while it runs, so replicas that start
// together migrate one after the other and the later ones find nothing to do.
func (db *DB) Migrate(ctx context.Context) error {
	provider, err := db.migrations(true)
	if err != nil {
		return err
	}
	if _, err := provider.Up(ctx); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	return nil
}

// CheckSchema returns nil when the database's schema is this binary's:
// every embedded migration applied, and none newer. Commands that use a
// database without migrating it (the operator's, beside running servers)
// check it first; the error says what to do.
func (db *DB) CheckSchema(ctx context.Context) error {
	provider, err := db.migrations(false)
	if err != nil {
		return err
	}
	pending, err := provider.HasPending(ctx)
	if err != nil {
		return fmt.Errorf("store: check the schema: %w", err)
	}
	current, target, err := provider.GetVersions(ctx)
	if err != nil {
		return fmt.Errorf("store: check the schema: %w", err)
	}
	switch {
	case pending || current < target:
		return fmt.Errorf("store: the database's schema is at version %d, this binary's at %d: migrate it first (gpcore migrate, or gpcore serve)", current, target)
	case current > target:
		return fmt.Errorf("store: the database's schema is at version %d, newer than this binary's %d: use the binary the servers run", current, target)
	}
	return nil
}

// migrations returns the goose provider of the embedded migrations on db,
// with the PostgreSQL migration lock when locked.
func (db *DB) migrations(locked bool) (*goose.Provider, error) {
	fsys, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("store: migrations: %w", err)
	}
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	var dialect database.Dialect
	switch db.Dialect {
	case SQLite:
		dialect = database.DialectSQLite3
	case Postgres:
		dialect = database.DialectPostgres
		if locked {
			opts = append(opts, goose.WithSessionLocker(pgMigrationLock{}))
		}
	default:
		return nil, fmt.Errorf("store: migrate: unknown dialect %v", db.Dialect)
	}
	provider, err := goose.NewProvider(dialect, db.DB.DB, fsys, opts...)
	if err != nil {
		return nil, fmt.Errorf("store: migrations: %w", err)
	}
	return provider, nil
}

// pgMigrationLock serialises migrations on PostgreSQL with a session-level
// advisory lock. Unlike goose's own locker, which polls every five seconds,
// it blocks in pg_advisory_lock until the holder is done, and it keys the
// lock on the current schema: replicas sharing a schema queue, while separate
// schemas (one per test) migrate in parallel.
type pgMigrationLock struct{}

var _ lock.SessionLocker = pgMigrationLock{}

// pgMigrationLockClass is the first key of the two-key advisory lock; the
// second is a hash of the schema name.
const pgMigrationLockClass = 0x67706d67 // "gpmg"

// SessionLock blocks until this connection holds the migration lock.
func (pgMigrationLock) SessionLock(ctx context.Context, conn *sql.Conn) error {
	if _, err := conn.ExecContext(ctx,
		"SELECT pg_advisory_lock($1, hashtext(current_schema()))", pgMigrationLockClass); err != nil {
		return fmt.Errorf("take migration lock: %w", err)
	}
	return nil
}

// SessionUnlock releases the migration lock held by this connection.
func (pgMigrationLock) SessionUnlock(ctx context.Context, conn *sql.Conn) error {
	if _, err := conn.ExecContext(ctx,
		"SELECT pg_advisory_unlock($1, hashtext(current_schema()))", pgMigrationLockClass); err != nil {
		return fmt.Errorf("release migration lock: %w", err)
	}
	return nil
}
