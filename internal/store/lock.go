package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
)

// ForUpdate locks the rows q selects until the transaction ends: SELECT ...
// FOR UPDATE on PostgreSQL. SQLite has no row locks and needs none: every
// transaction InTx starts holds the database write lock from BEGIN, so no
// other writer can touch the rows meanwhile. Use it inside InTx only.
func ForUpdate(q *bun.SelectQuery) *bun.SelectQuery {
	if q.Dialect().Name() == dialect.PG {
		return q.For("UPDATE")
	}
	return q
}

// ForUpdateSkipLocked is ForUpdate for taking free items from a pool (servers,
// IP addresses): on PostgreSQL, rows another transaction has locked are
// skipped rather than waited for, so concurrent takers get different rows and
// none comes back empty-handed while free rows remain. Filter on the "free"
// condition in q and mark the rows taken in the same transaction.
func ForUpdateSkipLocked(q *bun.SelectQuery) *bun.SelectQuery {
	if q.Dialect().Name() == dialect.PG {
		return q.For("UPDATE SKIP LOCKED")
	}
	return q
}

// LockTx takes a lock called name that is held until tx ends, to serialise
// check-then-write sequences that no row lock covers (such as "seed the
// catalog if it is empty"). On PostgreSQL it is a transaction-scoped advisory
// lock, keyed on the current schema and name; on SQLite the transaction
// already holds the database write lock. tx must come from InTx.
func LockTx(ctx context.Context, tx bun.Tx, name string) error {
	if tx.Dialect().Name() != dialect.PG {
		return nil
	}
	if _, err := tx.ExecContext(ctx,
		"SELECT pg_advisory_xact_lock(hashtext(current_schema()), hashtext(?))", name); err != nil {
		return fmt.Errorf("store: lock %q: %w", name, err)
	}
	return nil
}

// WithLock runs fn while holding a lock called name that other processes
// sharing the database must wait for: one-time start-up work outside a
// transaction, such as a migration that manages its own transactions. On
// PostgreSQL it is a session-level advisory lock, taken on a connection of
// its own and keyed like LockTx (current schema and name), so LockTx and
// WithLock with the same name exclude each other. On SQLite fn just runs: a
// SQLite file belongs to one process.
func (db *DB) WithLock(ctx context.Context, name string, fn func(ctx context.Context) error) (err error) {
	if db.Dialect != Postgres {
		return fn(ctx)
	}
	conn, err := db.DB.DB.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: lock %q: connection: %w", name, err)
	}
	// discard ends the session, and with it any lock it may hold, instead of
	// returning the connection to the pool.
	discard := func() { _ = conn.Raw(func(any) error { return driver.ErrBadConn }) }
	defer func() { _ = conn.Close() }()
	if _, err := conn.ExecContext(ctx,
		"SELECT pg_advisory_lock(hashtext(current_schema()), hashtext($1))", name); err != nil {
		discard()
		return fmt.Errorf("store: lock %q: %w", name, err)
	}
	defer func() {
		if _, uerr := conn.ExecContext(context.WithoutCancel(ctx),
			"SELECT pg_advisory_unlock(hashtext(current_schema()), hashtext($1))", name); uerr != nil {
			discard()
			err = errors.Join(err, fmt.Errorf("store: unlock %q: %w", name, uerr))
		}
	}()
	return fn(ctx)
}
