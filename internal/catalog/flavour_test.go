package catalog_test

import (
	"slices"
	"testing"

	"github.com/uptrace/bun"

	"github.com/gpcore/gpcore/internal/catalog"
	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/pagination"
)

func TestAvailabilityOf(t *testing.T) {
	for _, tc := range []struct {
		free     int64
		preOrder int32
		want     catalog.Availability
	}{
		{0, 0, catalog.OutOfStock},
		{0, 5, catalog.PreOrder},
		{1, 0, catalog.Low},
		{1, 5, catalog.Low},
		{2, 0, catalog.Low},
		{3, 0, catalog.Middle},
		{9, 0, catalog.Middle},
		{10, 0, catalog.High},
		{500, 0, catalog.High},
	} {
		if got := catalog.AvailabilityOf(tc.free, tc.preOrder); got != tc.want {
			t.Errorf("AvailabilityOf(%d, %d) = %s, want %s", tc.free, tc.preOrder, got, tc.want)
		}
	}
}

func TestSPLAMonthlyFee(t *testing.T) {
	price := catalog.SPLAPrice{
		Base:             catalog.Money{Amount: 5000, Currency: catalog.EUR},
		Additional2Cores: catalog.Money{Amount: 1250, Currency: catalog.EUR},
	}
	for _, tc := range []struct {
		cores int32
		want  int64
	}{
		{1, 5000},
		{8, 5000},
		{9, 6250}, // a started pair counts
		{10, 6250},
		{12, 7500},
		{32, 20000},
		{128, 80000},
	} {
		got := price.MonthlyFee(tc.cores)
		if got != (catalog.Money{Amount: tc.want, Currency: catalog.EUR}) {
			t.Errorf("MonthlyFee(%d) = %+v, want %d EUR", tc.cores, got, tc.want)
		}
	}
}

// offer summarises a DatacenterFlavour for comparisons.
type offer struct {
	name         string
	free         int64
	availability catalog.Availability
}

func offers(list []catalog.DatacenterFlavour) []offer {
	out := make([]offer, len(list))
	for i, f := range list {
		out[i] = offer{f.Name, f.FreeServers, f.Availability}
	}
	return out
}

func TestListFlavoursComputesAvailability(t *testing.T) {
	t.Parallel()
	db, c := seeded(t)
	fra1 := idOf(t, db, "datacenters", "short", "fra1")
	list := func(includeSoldOut bool) []offer {
		t.Helper()
		got, total, err := c.ListFlavours(t.Context(),
			catalog.FlavourFilter{DatacenterID: fra1, Currency: catalog.EUR, IncludeSoldOut: includeSoldOut}, all)
		if err != nil {
			t.Fatalf("ListFlavours: %v", err)
		}
		if total != int64(len(got)) {
			t.Fatalf("total = %d for %d flavours", total, len(got))
		}
		return offers(got)
	}

	// The default seed: 6 BM-S1, 4 BM-M1, 2 BM-L1, no BM-XL1 (pre-orders allowed).
	want := []offer{
		{"BM-L1", 2, catalog.Low},
		{"BM-M1", 4, catalog.Middle},
		{"BM-S1", 6, catalog.Middle},
		{"BM-XL1", 0, catalog.PreOrder},
	}
	if got := list(false); !slices.Equal(got, want) {
		t.Fatalf("seeded offer = %+v, want %+v", got, want)
	}

	// Only servers in the pool, not in use and AVAILABLE are free.
	update := func(set string, value any, names ...string) {
		t.Helper()
		if _, err := db.NewUpdate().Table("servers").Set(set, value).
			Where("name IN (?)", bun.In(names)).Exec(t.Context()); err != nil {
			t.Fatalf("update servers: %v", err)
		}
	}
	update("in_use = ?", true, "fra1-bm001")                         // BM-S1
	update("in_pool = ?", false, "fra1-bm002")                       // BM-S1
	update("provision_state = ?", catalog.StateActive, "fra1-bm003") // BM-S1
	update("provision_state = ?", catalog.StateCleaning, "fra1-bm004")
	update("in_use = ?", true, "fra1-bm011", "fra1-bm012") // both BM-L1
	exec(t, db, "UPDATE flavour_datacenters SET pre_order_limit = 0 WHERE flavour_id = ?",
		idOf(t, db, "flavours", "name", "BM-XL1"))

	if got, want := list(true), []offer{
		{"BM-L1", 0, catalog.OutOfStock},
		{"BM-M1", 4, catalog.Middle},
		{"BM-S1", 2, catalog.Low},
		{"BM-XL1", 0, catalog.OutOfStock},
	}; !slices.Equal(got, want) {
		t.Fatalf("offer with sold-out = %+v, want %+v", got, want)
	}
	if got, want := list(false), []offer{
		{"BM-M1", 4, catalog.Middle},
		{"BM-S1", 2, catalog.Low},
	}; !slices.Equal(got, want) {
		t.Fatalf("offer without sold-out = %+v, want %+v", got, want)
	}

	// Servers of the flavour elsewhere do not count; ten free ones here are HIGH.
	exec(t, db, "UPDATE servers SET flavour_id = ?, in_use = ?, in_pool = ?, provision_state = ?",
		idOf(t, db, "flavours", "name", "BM-M1"), false, true, catalog.StateAvailable)
	if got, want := list(false), []offer{{"BM-M1", 12, catalog.High}}; !slices.Equal(got, want) {
		t.Fatalf("offer with all servers BM-M1 = %+v, want %+v", got, want)
	}
}

func TestListFlavoursPricesAndPages(t *testing.T) {
	t.Parallel()
	db, c := seeded(t)
	fra1 := idOf(t, db, "datacenters", "short", "fra1")
	ber1 := idOf(t, db, "datacenters", "short", "ber1")

	// Berlin is COMING_SOON without servers: everything is sold out there.
	got, total, err := c.ListFlavours(t.Context(), catalog.FlavourFilter{DatacenterID: ber1, Currency: catalog.EUR}, all)
	if err != nil || total != 0 || len(got) != 0 {
		t.Fatalf("ber1 without sold-out: %d flavours, total %d, %v; want none", len(got), total, err)
	}

	for _, tc := range []struct {
		datacenter, flavour string
		cur                 catalog.Currency
		perHour, perMonth   int64
		windows             int64 // -1: none
	}{
		{fra1, "BM-S1", catalog.EUR, 10, 5900, -1},
		{fra1, "BM-S1", catalog.USD, 11, 6500, -1},
		{ber1, "BM-S1", catalog.EUR, 11, 6400, -1}, // Berlin's override
		{ber1, "BM-S1", catalog.USD, 12, 7000, -1},
		{ber1, "BM-M1", catalog.EUR, 19, 10900, 7500}, // no override
		{fra1, "BM-XL1", catalog.USD, 165, 98900, 88000},
	} {
		f, err := c.GetFlavour(t.Context(), tc.datacenter, idOf(t, db, "flavours", "name", tc.flavour), tc.cur)
		if err != nil {
			t.Fatalf("GetFlavour(%s): %v", tc.flavour, err)
		}
		money := func(n int64) catalog.Money { return catalog.Money{Amount: n, Currency: tc.cur} }
		if f.PricePerHour != money(tc.perHour) || f.PricePerMonth != money(tc.perMonth) {
			t.Errorf("%s in %s: %+v / %+v, want %d / %d %s", tc.flavour, tc.cur,
				f.PricePerHour, f.PricePerMonth, tc.perHour, tc.perMonth, tc.cur)
		}
		switch {
		case tc.windows < 0 && f.WindowsMonthlyFee != nil:
			t.Errorf("%s: Windows fee %+v, want none", tc.flavour, *f.WindowsMonthlyFee)
		case tc.windows >= 0 && (f.WindowsMonthlyFee == nil || *f.WindowsMonthlyFee != money(tc.windows)):
			t.Errorf("%s: Windows fee %v, want %d", tc.flavour, f.WindowsMonthlyFee, tc.windows)
		}
		if f.SPLA.Base.Currency != tc.cur || f.DatacenterID != tc.datacenter {
			t.Errorf("%s: SPLA %+v, datacenter %s", tc.flavour, f.SPLA, f.DatacenterID)
		}
	}

	for _, tc := range []struct {
		page pagination.Page
		want []string
	}{
		{pagination.Page{Number: 1, Limit: 3}, []string{"BM-L1", "BM-M1", "BM-S1"}},
		{pagination.Page{Number: 2, Limit: 3}, []string{"BM-XL1"}},
		{pagination.Page{Number: 2, Limit: 2}, []string{"BM-S1", "BM-XL1"}},
		{pagination.Page{Number: 5, Limit: 2}, nil},
	} {
		got, total, err := c.ListFlavours(t.Context(), catalog.FlavourFilter{DatacenterID: fra1, Currency: catalog.USD}, tc.page)
		if err != nil || total != 4 {
			t.Fatalf("ListFlavours(%+v): total %d, %v", tc.page, total, err)
		}
		var names []string
		for _, f := range got {
			names = append(names, f.Name)
		}
		if !slices.Equal(names, tc.want) {
			t.Errorf("page %+v = %v, want %v", tc.page, names, tc.want)
		}
	}
}

func TestGetFlavourRefusals(t *testing.T) {
	t.Parallel()
	db, c := seeded(t)
	fra1 := idOf(t, db, "datacenters", "short", "fra1")
	ber1 := idOf(t, db, "datacenters", "short", "ber1")
	large := idOf(t, db, "flavours", "name", "BM-L1")
	const unknown = "00000000-0000-4000-8000-00000000dead"

	for _, tc := range []struct {
		name                string
		datacenter, flavour string
		cur                 catalog.Currency
		want                fault.Kind
	}{
		{"unknown flavour", fra1, unknown, catalog.EUR, fault.KindNotFound},
		{"flavour not offered there", ber1, large, catalog.EUR, fault.KindNotFound},
		{"unknown datacenter", unknown, large, catalog.EUR, fault.KindNotFound},
		{"unknown currency", fra1, large, "GBP", fault.KindInvalidArgument},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.GetFlavour(t.Context(), tc.datacenter, tc.flavour, tc.cur)
			wantFault(t, err, tc.want)
		})
	}
	_, _, err := c.ListFlavours(t.Context(), catalog.FlavourFilter{DatacenterID: unknown, Currency: catalog.EUR}, all)
	wantFault(t, err, fault.KindNotFound)
}
