package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
	"github.com/uptrace/bun"

	"github.com/gpcore/gpcore/internal/store"
	"github.com/gpcore/gpcore/internal/store/storetest"
)

func TestOpenSQLiteConfiguresConnection(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "nested", "data")
	db := storetest.Open(t, store.Config{DataDir: dir})

	if db.Dialect != store.SQLite {
		t.Fatalf("Dialect = %v, want sqlite", db.Dialect)
	}
	info, err := os.Stat(dir)
	if err != nil {
		t.Fatalf("data directory: %v", err)
	}
	if got := info.Mode().Perm(); got != 0o700 {
		t.Errorf("data directory mode = %v, want 0700", got)
	}
	if _, err := os.Stat(filepath.Join(dir, store.SQLiteFile)); err != nil {
		t.Errorf("database file: %v", err)
	}
	if db.Pool() != nil {
		t.Errorf("Pool() on SQLite = %v, want nil", db.Pool())
	}

	for _, tc := range []struct {
		pragma string
		want   string
	}{
		{"journal_mode", "wal"},
		{"foreign_keys", "1"},
		{"busy_timeout", "15000"},
	} {
		var got string
		if err := db.QueryRowContext(t.Context(), "PRAGMA "+tc.pragma).Scan(&got); err != nil {
			t.Fatalf("PRAGMA %s: %v", tc.pragma, err)
		}
		if got != tc.want {
			t.Errorf("PRAGMA %s = %q, want %q", tc.pragma, got, tc.want)
		}
	}
}

func TestOpenRejectsBadConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cfg  store.Config
	}{
		{"no data directory", store.Config{}},
		{"unknown scheme", store.Config{DSN: "mysql://root@localhost/gpcore"}},
		{"keyword DSN", store.Config{DSN: "host=localhost dbname=gpcore"}},
		{"unreachable postgres", store.Config{DSN: "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=5"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			db, err := store.Open(t.Context(), tc.cfg)
			if err == nil {
				_ = db.Close()
				t.Fatalf("Open(%+v) succeeded, want an error", tc.cfg)
			}
		})
	}
}

func TestOpenPostgresSharesPool(t *testing.T) {
	t.Parallel()
	db := storetest.New(t)
	if db.Dialect != store.Postgres {
		if db.Pool() != nil {
			t.Fatalf("Pool() on %v = %v, want nil", db.Dialect, db.Pool())
		}
		return
	}
	var one int
	if err := db.Pool().QueryRow(t.Context(), "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("query through Pool(): %d, %v", one, err)
	}
}

// newestMigration is the version of the newest embedded migration file: the
// number its name starts with. Numbers are handed out ahead of time, so a
// branch may lack some below its own; the newest is what a migrated
// database is at.
func newestMigration(t *testing.T) int64 {
	t.Helper()
	files, err := fs.Glob(os.DirFS("migrations"), "*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("migration files: %v, %v", files, err)
	}
	var newest int64
	for _, f := range files {
		var v int64
		if _, err := fmt.Sscanf(f, "%05d_", &v); err != nil {
			t.Fatalf("migration file %s: no version: %v", f, err)
		}
		newest = max(newest, v)
	}
	return newest
}

func schemaVersion(t *testing.T, db *store.DB) int64 {
	t.Helper()
	var v int64
	if err := db.QueryRowContext(t.Context(),
		"SELECT MAX(version_id) FROM goose_db_version WHERE is_applied").Scan(&v); err != nil {
		t.Fatalf("schema version: %v", err)
	}
	return v
}

func TestMigrateIsIdempotent(t *testing.T) {
	t.Parallel()
	db := storetest.New(t)
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	if got, want := schemaVersion(t, db), newestMigration(t); got != want {
		t.Fatalf("schema version = %d, want %d", got, want)
	}
}

// TestMigrateReplicasStartingTogether opens several handles on one empty
// database and migrates through all of them at once, as replicas starting
// together would. PostgreSQL serialises them with the advisory lock. A SQLite
// file belongs to one process, so there the handles migrate in turn.
func TestMigrateReplicasStartingTogether(t *testing.T) {
	t.Parallel()
	cfg := storetest.NewConfig(t)
	const replicas = 4
	dbs := make([]*store.DB, replicas)
	for i := range dbs {
		dbs[i] = storetest.Open(t, cfg)
	}
	if dbs[0].Dialect == store.SQLite {
		for i, db := range dbs {
			if err := db.Migrate(t.Context()); err != nil {
				t.Fatalf("replica %d: Migrate: %v", i, err)
			}
		}
	} else {
		errs := make([]error, replicas)
		var wg sync.WaitGroup
		for i, db := range dbs {
			wg.Go(func() { errs[i] = db.Migrate(t.Context()) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("replica %d: Migrate: %v", i, err)
			}
		}
	}
	if got, want := schemaVersion(t, dbs[0]), newestMigration(t); got != want {
		t.Fatalf("schema version = %d, want %d", got, want)
	}
}

// createTable makes a scratch table for one test; each test has its own
// database, so names never collide.
func createTable(t *testing.T, db *store.DB, ddl string) {
	t.Helper()
	if _, err := db.ExecContext(t.Context(), ddl); err != nil {
		t.Fatalf("%s: %v", ddl, err)
	}
}

func count(t *testing.T, db bun.IDB, table string) int64 {
	t.Helper()
	n, err := db.NewSelect().TableExpr(table).Count(t.Context())
	if err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

func TestInTx(t *testing.T) {
	t.Parallel()
	db := storetest.New(t)
	createTable(t, db, "CREATE TABLE notes (id TEXT PRIMARY KEY)")
	insert := func(ctx context.Context, tx bun.Tx, id string) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO notes (id) VALUES (?)", id)
		return err
	}
	errRefused := errors.New("refused")

	if err := db.InTx(t.Context(), func(ctx context.Context, tx bun.Tx) error {
		return insert(ctx, tx, "committed")
	}); err != nil {
		t.Fatalf("InTx commit: %v", err)
	}

	err := db.InTx(t.Context(), func(ctx context.Context, tx bun.Tx) error {
		if err := insert(ctx, tx, "rolled-back"); err != nil {
			return err
		}
		return errRefused
	})
	if !errors.Is(err, errRefused) {
		t.Fatalf("InTx error = %v, want %v", err, errRefused)
	}

	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("InTx swallowed a panic")
			}
		}()
		_ = db.InTx(t.Context(), func(ctx context.Context, tx bun.Tx) error {
			if err := insert(ctx, tx, "panicked"); err != nil {
				return err
			}
			panic("boom")
		})
	}()

	var ids []string
	if err := db.NewSelect().TableExpr("notes").Column("id").Scan(t.Context(), &ids); err != nil {
		t.Fatalf("select: %v", err)
	}
	if len(ids) != 1 || ids[0] != "committed" {
		t.Fatalf("rows after InTx = %v, want [committed]", ids)
	}
}

func TestConstraintViolations(t *testing.T) {
	t.Parallel()
	db := storetest.New(t)
	createTable(t, db, "CREATE TABLE parents (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE)")
	createTable(t, db, "CREATE TABLE children (id TEXT PRIMARY KEY, parent_id TEXT NOT NULL REFERENCES parents (id))")
	exec := func(query string, args ...any) error {
		_, err := db.ExecContext(t.Context(), query, args...)
		return err
	}
	if err := exec("INSERT INTO parents (id, name) VALUES ('p1', 'one')"); err != nil {
		t.Fatalf("seed: %v", err)
	}

	for _, tc := range []struct {
		name       string
		err        error
		unique, fk bool
	}{
		{"duplicate unique column", exec("INSERT INTO parents (id, name) VALUES ('p2', 'one')"), true, false},
		{"duplicate primary key", exec("INSERT INTO parents (id, name) VALUES ('p1', 'two')"), true, false},
		{"missing parent", exec("INSERT INTO children (id, parent_id) VALUES ('c1', 'nope')"), false, true},
		{"parent still referenced", func() error {
			if err := exec("INSERT INTO children (id, parent_id) VALUES ('c2', 'p1')"); err != nil {
				return err
			}
			return exec("DELETE FROM parents WHERE id = 'p1'")
		}(), false, true},
		{"not null", exec("INSERT INTO parents (id) VALUES ('p3')"), false, false},
		{"syntax", exec("INSERT INTO nowhere VALUES (1)"), false, false},
		{"plain error", errors.New("unique violation"), false, false},
		{"nil", nil, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name != "nil" && tc.err == nil {
				t.Fatal("statement succeeded, want an error")
			}
			wrapped := fmt.Errorf("context: %w", tc.err)
			if tc.err == nil {
				wrapped = nil
			}
			if got := store.IsUniqueViolation(wrapped); got != tc.unique {
				t.Errorf("IsUniqueViolation(%v) = %v, want %v", tc.err, got, tc.unique)
			}
			if got := store.IsForeignKeyViolation(wrapped); got != tc.fk {
				t.Errorf("IsForeignKeyViolation(%v) = %v, want %v", tc.err, got, tc.fk)
			}
		})
	}
}

// TestConcurrentWritersQueue hammers one counter with read-modify-write
// transactions from many goroutines. Every transaction must succeed (writers
// wait for each other instead of failing with SQLITE_BUSY) and no increment
// may be lost.
func TestConcurrentWritersQueue(t *testing.T) {
	t.Parallel()
	db := storetest.New(t)
	createTable(t, db, "CREATE TABLE counters (id TEXT PRIMARY KEY, n BIGINT NOT NULL)")
	if _, err := db.ExecContext(t.Context(), "INSERT INTO counters (id, n) VALUES ('c', 0)"); err != nil {
		t.Fatal(err)
	}

	const writers, rounds = 16, 10
	errs := make(chan error, writers*rounds)
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for range rounds {
				errs <- db.InTx(t.Context(), func(ctx context.Context, tx bun.Tx) error {
					var n int64
					q := tx.NewSelect().TableExpr("counters").Column("n").Where("id = ?", "c")
					if err := store.ForUpdate(q).Scan(ctx, &n); err != nil {
						return fmt.Errorf("read: %w", err)
					}
					_, err := tx.ExecContext(ctx, "UPDATE counters SET n = ? WHERE id = ?", n+1, "c")
					return err
				})
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("writer: %v", err)
		}
	}
	var n int64
	if err := db.NewSelect().TableExpr("counters").Column("n").Scan(t.Context(), &n); err != nil {
		t.Fatal(err)
	}
	if n != writers*rounds {
		t.Fatalf("counter = %d, want %d (lost updates)", n, writers*rounds)
	}
}

// TestForUpdateSkipLockedTakesEachRowOnce lets more takers than there are
// free rows race for them: every row is taken exactly once and every taker
// beyond the supply finds nothing.
func TestForUpdateSkipLockedTakesEachRowOnce(t *testing.T) {
	t.Parallel()
	db := storetest.New(t)
	createTable(t, db, "CREATE TABLE slots (id TEXT PRIMARY KEY, taken_by TEXT)")
	const free, takers = 10, 25
	for i := range free {
		if _, err := db.ExecContext(t.Context(), "INSERT INTO slots (id) VALUES (?)", fmt.Sprintf("s%02d", i)); err != nil {
			t.Fatal(err)
		}
	}

	errNoneFree := errors.New("no free slot")
	results := make([]error, takers)
	var wg sync.WaitGroup
	for i := range takers {
		wg.Go(func() {
			results[i] = db.InTx(t.Context(), func(ctx context.Context, tx bun.Tx) error {
				var id string
				q := tx.NewSelect().TableExpr("slots").Column("id").
					Where("taken_by IS NULL").OrderExpr("id").Limit(1)
				err := store.ForUpdateSkipLocked(q).Scan(ctx, &id)
				if errors.Is(err, sql.ErrNoRows) {
					return errNoneFree
				}
				if err != nil {
					return err
				}
				res, err := tx.ExecContext(ctx, "UPDATE slots SET taken_by = ? WHERE id = ? AND taken_by IS NULL",
					fmt.Sprint(i), id)
				if err != nil {
					return err
				}
				if n, _ := res.RowsAffected(); n != 1 {
					return fmt.Errorf("slot %s was taken twice", id)
				}
				return nil
			})
		})
	}
	wg.Wait()

	var took, none int
	for i, err := range results {
		switch {
		case err == nil:
			took++
		case errors.Is(err, errNoneFree):
			none++
		default:
			t.Errorf("taker %d: %v", i, err)
		}
	}
	if took != free || none != takers-free {
		t.Fatalf("took %d and found none %d times, want %d and %d", took, none, free, takers-free)
	}
	var distinct int
	if err := db.QueryRowContext(t.Context(),
		"SELECT COUNT(DISTINCT taken_by) FROM slots WHERE taken_by IS NOT NULL").Scan(&distinct); err != nil {
		t.Fatal(err)
	}
	if distinct != free {
		t.Fatalf("%d distinct takers hold slots, want %d", distinct, free)
	}
	if got := count(t, db.DB, "slots"); got != free {
		t.Fatalf("slots = %d, want %d", got, free)
	}
}

// TestLockTxSerialisesCheckThenInsert runs "insert unless present" from many
// goroutines at once; LockTx must let exactly one of them insert.
func TestLockTxSerialisesCheckThenInsert(t *testing.T) {
	t.Parallel()
	db := storetest.New(t)
	createTable(t, db, "CREATE TABLE singletons (name TEXT NOT NULL)")
	const workers = 12
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			errs <- db.InTx(t.Context(), func(ctx context.Context, tx bun.Tx) error {
				if err := store.LockTx(ctx, tx, "singleton"); err != nil {
					return err
				}
				n, err := tx.NewSelect().TableExpr("singletons").Count(ctx)
				if err != nil || n > 0 {
					return err
				}
				_, err = tx.ExecContext(ctx, "INSERT INTO singletons (name) VALUES ('only')")
				return err
			})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("worker: %v", err)
		}
	}
	if got := count(t, db.DB, "singletons"); got != 1 {
		t.Fatalf("rows = %d, want 1", got)
	}
}

// TestLockTxHeldUntilTransactionEnds checks on PostgreSQL that the advisory
// lock is held exactly as long as the transaction that took it.
func TestLockTxHeldUntilTransactionEnds(t *testing.T) {
	t.Parallel()
	db := storetest.New(t)
	tx, err := db.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	if err := store.LockTx(t.Context(), tx, "singleton"); err != nil {
		t.Fatalf("LockTx: %v", err)
	}
	if db.Dialect != store.Postgres {
		return // SQLite: the transaction's write lock is the lock
	}
	tryLock := func() bool {
		t.Helper()
		var got bool
		if err := db.QueryRowContext(t.Context(),
			"SELECT pg_try_advisory_xact_lock(hashtext(current_schema()), hashtext('singleton'))").Scan(&got); err != nil {
			t.Fatal(err)
		}
		return got
	}
	if tryLock() {
		t.Fatal("another session took the lock while the transaction holds it")
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if !tryLock() {
		t.Fatal("the lock outlived its transaction")
	}
}

// TestWithLockExcludesOtherHolders runs critical sections from several
// handles at once, as replicas would; WithLock must let one in at a time and
// pass fn's error through.
func TestWithLockExcludesOtherHolders(t *testing.T) {
	t.Parallel()
	cfg := storetest.NewConfig(t)
	const holders = 4
	var inside, most int
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make([]error, holders)
	for i := range holders {
		db := storetest.Open(t, cfg)
		wg.Go(func() {
			errs[i] = db.WithLock(t.Context(), "singleton", func(ctx context.Context) error {
				mu.Lock()
				inside++
				most = max(most, inside)
				mu.Unlock()
				// Give the others a chance to barge in while we hold the lock.
				if _, err := db.ExecContext(ctx, "SELECT 1"); err != nil {
					return err
				}
				mu.Lock()
				inside--
				mu.Unlock()
				return nil
			})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("holder %d: %v", i, err)
		}
	}
	db := storetest.Open(t, cfg)
	if db.Dialect == store.Postgres && most != 1 {
		t.Fatalf("%d holders inside at once, want 1", most)
	}

	errBoom := errors.New("boom")
	if err := db.WithLock(t.Context(), "singleton", func(context.Context) error { return errBoom }); !errors.Is(err, errBoom) {
		t.Fatalf("WithLock error = %v, want %v", err, errBoom)
	}
	if db.Dialect != store.Postgres {
		return
	}
	// Held while fn runs, released after.
	tryLock := func() bool {
		t.Helper()
		var got bool
		if err := db.QueryRowContext(t.Context(),
			"SELECT pg_try_advisory_xact_lock(hashtext(current_schema()), hashtext('singleton'))").Scan(&got); err != nil {
			t.Fatal(err)
		}
		return got
	}
	if err := db.WithLock(t.Context(), "singleton", func(context.Context) error {
		if tryLock() {
			return errors.New("another session took the lock while WithLock holds it")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !tryLock() {
		t.Fatal("the lock outlived WithLock")
	}
}

// TestMigrationGivesLinkedProjectsTheirPlan: the migration that records
// projects' plans (00011) gives a project linked to a billing profile before
// it that profile's default plan code, and a project without one no plan.
func TestMigrationGivesLinkedProjectsTheirPlan(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, storetest.NewConfig(t))
	dialect := database.DialectSQLite3
	if db.Dialect == store.Postgres {
		dialect = database.DialectPostgres
	}
	migrations, err := fs.Sub(os.DirFS("."), "migrations")
	if err != nil {
		t.Fatal(err)
	}
	provider, err := goose.NewProvider(dialect, db.DB.DB, migrations, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := provider.UpTo(t.Context(), 10); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"INSERT INTO countries (code, tax_rate_bp, net_support) VALUES ('DE', 1900, TRUE)",
		`INSERT INTO users (id, email, username, first_name, last_name, full_name, password_hash, type, confirmed, locked,
			timezone, node_limit, number, default_plan_code, created_at, updated_at)
			VALUES ('u1', 'ada@example.com', 'ada@example.com', 'Ada', 'L', 'Ada L', 'x', 'USER', TRUE, FALSE,
			'UTC', 10, '100001', '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)`,
		`INSERT INTO billing_profiles (id, user_id, name, company_name, vat_id, country_code, state, street, city, postcode,
			billing_email, default_plan_code, created_at, updated_at)
			VALUES ('bp1', 'u1', 'Ada', 'AE GmbH', '', 'DE', '', 'Str. 1', 'Berlin', '10115', 'b@example.com', 'partner',
			CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)`,
		`INSERT INTO projects (id, name, name_lower, description, environment, avatar_url, currency, billing_profile_id, created_at, updated_at)
			VALUES ('linked', 'Linked', 'linked', '', '', '', 'EUR', 'bp1', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
			       ('alone', 'Alone', 'alone', '', '', '', 'EUR', NULL, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)`,
	} {
		if _, err := db.ExecContext(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	plans := map[string]sql.NullString{}
	rows, err := db.QueryContext(t.Context(), "SELECT id, plan_code FROM projects")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var plan sql.NullString
		if err := rows.Scan(&id, &plan); err != nil {
			t.Fatal(err)
		}
		plans[id] = plan
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if plans["linked"] != (sql.NullString{String: "partner", Valid: true}) || plans["alone"].Valid {
		t.Fatalf("plans after the migration: %v", plans)
	}
}

// TestCheckSchema: a database is this binary's once migrated, and neither
// before nor when a newer binary has migrated it further.
func TestCheckSchema(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, storetest.NewConfig(t))
	if err := db.CheckSchema(t.Context()); err == nil || !strings.Contains(err.Error(), "migrate it first") {
		t.Fatalf("CheckSchema before Migrate = %v", err)
	}
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := db.CheckSchema(t.Context()); err != nil {
		t.Fatalf("CheckSchema after Migrate = %v", err)
	}
	if _, err := db.ExecContext(t.Context(),
		"INSERT INTO goose_db_version (version_id, is_applied) VALUES (99999, TRUE)"); err != nil {
		t.Fatal(err)
	}
	if err := db.CheckSchema(t.Context()); err == nil || !strings.Contains(err.Error(), "newer than this binary's") {
		t.Fatalf("CheckSchema of a newer schema = %v", err)
	}
}
