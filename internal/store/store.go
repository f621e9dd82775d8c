// Package store opens gpcore's database, SQLite or PostgreSQL, behind one bun
// handle, runs the embedded migrations and offers the few helpers that differ
// between the two drivers: transactions and constraint-violation checks.
//
// Domain packages own their tables and queries; they reach the database only
// through a *DB (or the bun.Tx handed out by InTx) and write portable SQL with
// `?` placeholders, so one query serves both databases.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" database/sql driver
)

// Dialect names the database behind a DB.
type Dialect int

// The supported databases.
const (
	// SQLite is the embedded default: a single file in the data directory.
	SQLite Dialect = iota + 1
	// Postgres is PostgreSQL, the database for several replicas.
	Postgres
)

// String returns "sqlite" or "postgres".
func (d Dialect) String() string {
	switch d {
	case SQLite:
		return "sqlite"
	case Postgres:
		return "postgres"
	default:
		return fmt.Sprintf("Dialect(%d)", int(d))
	}
}

// SQLiteFile is the name of the SQLite database file inside Config.DataDir.
const SQLiteFile = "gpcore.db"

// sqliteBusyTimeoutMS is how long a SQLite statement waits for the write lock
// before failing with SQLITE_BUSY. Writers queue behind one another for up to
// this long.
const sqliteBusyTimeoutMS = 15000

// Config says which database to open.
type Config struct {
	// DSN is a PostgreSQL URL (postgres://... or postgresql://...). Empty means
	// SQLite in DataDir.
	DSN string
	// DataDir holds the SQLite file when DSN is empty. It is created (0700) if
	// missing, and so is the file, unless Existing.
	DataDir string
	// Existing opens only a SQLite database that is there already: when
	// DataDir holds no SQLite file, Open fails with ErrNoDatabase and creates
	// neither the directory nor the file. For commands that work on the
	// database of a server (gpcore admin) rather than make one.
	Existing bool
}

// ErrNoDatabase is Open's error when Config.Existing asks for a SQLite
// database that is not there.
var ErrNoDatabase = errors.New("store: no database")

// DB is an open database: a bun handle plus the dialect behind it.
//
// The Dialect field hides bun's Dialect method, so *DB itself is not a
// bun.IDB: pass db.DB where a bun.IDB (a handle or a transaction) is wanted.
type DB struct {
	*bun.DB
	// Dialect tells which database this is.
	Dialect Dialect

	pool *pgxpool.Pool
}

// Open connects to the database cfg names and checks that it answers. It does
// not migrate; call Migrate for that.
//
// SQLite is opened in WAL mode with foreign keys enforced, a busy timeout and
// transactions that take the write lock at BEGIN (BEGIN IMMEDIATE), so
// concurrent writers wait for one another instead of failing half-way.
// PostgreSQL goes through one pgx pool, which Pool exposes for other users
// such as a job queue.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	var (
		db  *DB
		err error
	)
	switch {
	case cfg.DSN == "":
		db, err = openSQLite(cfg.DataDir, cfg.Existing)
	case strings.HasPrefix(cfg.DSN, "postgres://"), strings.HasPrefix(cfg.DSN, "postgresql://"):
		db, err = openPostgres(ctx, cfg.DSN)
	default:
		return nil, errors.New("store: unsupported DSN: want empty (SQLite in the data directory) or a postgres:// or postgresql:// URL")
	}
	if err != nil {
		return nil, err
	}
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("store: ping %s: %w", db.Dialect, err)
	}
	return db, nil
}

func openSQLite(dataDir string, existing bool) (*DB, error) {
	if dataDir == "" {
		return nil, errors.New("store: SQLite needs a data directory")
	}
	path, err := filepath.Abs(filepath.Join(dataDir, SQLiteFile))
	if err != nil {
		return nil, fmt.Errorf("store: data directory: %w", err)
	}
	q := url.Values{}
	if existing {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s does not exist", ErrNoDatabase, path)
		}
		q.Set("mode", "rw") // SQLite's own guard: open, never create
	} else if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("store: create data directory: %w", err)
	}
	q.Set("_txlock", "immediate")
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", sqliteBusyTimeoutMS))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	dsn := (&url.URL{Scheme: "file", Path: path, RawQuery: q.Encode()}).String()

	sqldb, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open SQLite: %w", err)
	}
	// Keep connections: a new SQLite connection re-reads the whole schema, and
	// database/sql's default of 2 idle ones closes and reopens them under load.
	sqldb.SetMaxIdleConns(sqliteIdleConns)
	return &DB{DB: bun.NewDB(sqldb, sqlitedialect.New()), Dialect: SQLite}, nil
}

// sqliteIdleConns is how many SQLite connections stay open between uses.
const sqliteIdleConns = 32

func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	pcfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: parse PostgreSQL DSN: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("store: PostgreSQL pool: %w", err)
	}
	sqldb := stdlib.OpenDBFromPool(pool)
	return &DB{DB: bun.NewDB(sqldb, pgdialect.New()), Dialect: Postgres, pool: pool}, nil
}

// Pool returns the pgx pool behind a PostgreSQL DB, to share its connections
// with other pgx users (a job queue). It is nil for SQLite.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// Close closes the database and, for PostgreSQL, its pool.
func (db *DB) Close() error {
	err := db.DB.Close()
	if db.pool != nil {
		db.pool.Close()
	}
	return err
}

// InTx runs fn in a transaction: committed when fn returns nil, rolled back
// when it returns an error or panics. fn must use tx, not db, for every query
// that belongs to the transaction.
func (db *DB) InTx(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	return db.RunInTx(ctx, nil, fn)
}
