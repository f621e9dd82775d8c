package catalog_test

import (
	"errors"
	"testing"

	"github.com/uptrace/bun"

	"github.com/gpcore/gpcore/internal/catalog"
	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/pagination"
	"github.com/gpcore/gpcore/internal/store"
	"github.com/gpcore/gpcore/internal/store/storetest"
)

// seeded returns a fresh database holding the default seed and a Catalog
// over it.
func seeded(t *testing.T) (*store.DB, *catalog.Catalog) {
	t.Helper()
	db := storetest.New(t)
	if err := catalog.Seed(t.Context(), db, catalog.DefaultSeed()); err != nil {
		t.Fatalf("Seed(default): %v", err)
	}
	return db, catalog.New(db)
}

// idOf returns the id of the row of table whose column equals value.
func idOf(t *testing.T, db *store.DB, table, column, value string) string {
	t.Helper()
	var id string
	if err := db.NewSelect().TableExpr(table).Column("id").Where("? = ?", bun.Ident(column), value).
		Scan(t.Context(), &id); err != nil {
		t.Fatalf("id of %s %s=%q: %v", table, column, value, err)
	}
	return id
}

// exec runs one statement and fails the test on error.
func exec(t *testing.T, db *store.DB, query string, args ...any) {
	t.Helper()
	if _, err := db.ExecContext(t.Context(), query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// all is a page large enough for any list in the tests.
var all = pagination.Page{Number: 1, Limit: 1000}

// wantFault fails unless err is a fault of the given kind.
func wantFault(t *testing.T, err error, kind fault.Kind) {
	t.Helper()
	var fe *fault.Error
	if !errors.As(err, &fe) || fe.Kind != kind {
		t.Fatalf("error = %v, want a fault of kind %v", err, kind)
	}
}

// TestSchemaMatchesEnums checks that the schema's CHECK constraints accept
// every value of the Go enumerations, and nothing else.
func TestSchemaMatchesEnums(t *testing.T) {
	t.Parallel()
	db, _ := seeded(t)
	server := idOf(t, db, "servers", "name", "fra1-bm001")
	datacenter := idOf(t, db, "datacenters", "short", "fra1")
	image := idOf(t, db, "images", "alias", "debian-12")
	sw := idOf(t, db, "switches", "name", "fra1-sw1")
	network := idOf(t, db, "networks", "name", "fra1-public")

	strs := func(vs ...any) []any { return vs }
	for _, tc := range []struct {
		table, column, id string
		values            []any
	}{
		{"servers", "provision_state", server, func() []any {
			var out []any
			for _, s := range catalog.ProvisionStates() {
				out = append(out, s)
			}
			return out
		}()},
		{"servers", "power_state", server, strs(catalog.PowerOn, catalog.PowerOff, catalog.PowerReset)},
		{"servers", "status", server, strs(catalog.ServerImporting, catalog.ServerImported, catalog.ServerDeleting)},
		{"servers", "platform_management_type", server, strs(catalog.PlatformIDRAC8, catalog.PlatformIDRAC9,
			catalog.PlatformILO5, catalog.PlatformASRR, catalog.PlatformIPMI, catalog.PlatformXClarity2)},
		{"datacenters", "status", datacenter, strs(catalog.DatacenterAvailable, catalog.DatacenterComingSoon,
			catalog.DatacenterUnavailable)},
		{"images", "release", image, strs(catalog.ReleaseStable, catalog.ReleasePreRelease, catalog.ReleaseEndOfLife)},
		{"switches", "type", sw, strs(catalog.SwitchJuniper, catalog.SwitchJuniperLegacy, catalog.SwitchFS,
			catalog.SwitchAristaEOS)},
		{"networks", "type", network, strs(catalog.NetworkPublic, catalog.NetworkManagement)},
	} {
		t.Run(tc.table+"."+tc.column, func(t *testing.T) {
			set := func(v any) error {
				_, err := db.NewUpdate().Table(tc.table).Set("? = ?", bun.Ident(tc.column), v).
					Where("id = ?", tc.id).Exec(t.Context())
				return err
			}
			for _, v := range tc.values {
				if err := set(v); err != nil {
					t.Errorf("%v refused: %v", v, err)
				}
			}
			if err := set("BOGUS"); err == nil {
				t.Errorf("BOGUS accepted")
			}
		})
	}
}
