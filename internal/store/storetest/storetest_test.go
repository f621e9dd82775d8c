package storetest_test

import (
	"os"
	"strings"
	"testing"

	"github.com/gpcore/gpcore/internal/store"
	"github.com/gpcore/gpcore/internal/store/storetest"
)

// TestNewHonoursEnvironment checks that New gives a migrated database of the
// kind the environment asks for and, on PostgreSQL, that the test's schema is
// dropped once the test ends.
func TestNewHonoursEnvironment(t *testing.T) {
	onPostgres := os.Getenv(storetest.EnvPostgresDSN) != ""
	var (
		schema string
		admin  *store.DB
	)
	if onPostgres {
		admin = storetest.New(t)
	}

	t.Run("inner", func(t *testing.T) {
		db := storetest.New(t)
		want := store.SQLite
		if onPostgres {
			want = store.Postgres
		}
		if db.Dialect != want {
			t.Fatalf("Dialect = %v, want %v", db.Dialect, want)
		}
		var version int64
		if err := db.QueryRowContext(t.Context(),
			"SELECT MAX(version_id) FROM goose_db_version").Scan(&version); err != nil || version < 1 {
			t.Fatalf("not migrated: version %d, %v", version, err)
		}
		if onPostgres {
			if err := db.QueryRowContext(t.Context(), "SELECT current_schema()").Scan(&schema); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(schema, "test_") {
				t.Fatalf("current_schema() = %q, want a test_ schema", schema)
			}
		}
	})

	if onPostgres {
		var n int
		if err := admin.QueryRowContext(t.Context(),
			"SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = ?", schema).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatalf("schema %s still exists after its test ended", schema)
		}
	}
}
