package catalog_test

import (
	"slices"
	"testing"

	"github.com/gpcore/gpcore/internal/catalog"
	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/pagination"
)

func TestListDatacenters(t *testing.T) {
	t.Parallel()
	db, c := seeded(t)

	got, total, err := c.ListDatacenters(t.Context(), all)
	if err != nil || total != 2 || len(got) != 2 {
		t.Fatalf("ListDatacenters: %d of %d, %v; want 2 of 2", len(got), total, err)
	}
	berlin, frankfurt := got[0], got[1]
	if berlin.Short != "ber1" || berlin.Status != catalog.DatacenterComingSoon {
		t.Errorf("first = %s %s, want ber1 COMING_SOON (sorted by name, COMING_SOON listed)", berlin.Short, berlin.Status)
	}
	if frankfurt.Name != "Frankfurt" || frankfurt.Status != catalog.DatacenterAvailable ||
		frankfurt.ServerPrefix != "fra1-bm" || !slices.Equal(frankfurt.ManagementVLANIDs, []int32{10}) {
		t.Errorf("Frankfurt = %+v", frankfurt)
	}
	region := frankfurt.Region
	if region.Name != "Europe" || region.CountryCode != "DE" || region.ID != idOf(t, db, "regions", "name", "Europe") ||
		region.CreatedAt.IsZero() || region.CreatedAt.Location().String() != "UTC" {
		t.Errorf("region = %+v", region)
	}
	if berlin.Region.ID != region.ID {
		t.Errorf("Berlin's region = %s, want %s", berlin.Region.ID, region.ID)
	}

	for _, tc := range []struct {
		page pagination.Page
		want []string
	}{
		{pagination.Page{Number: 1, Limit: 1}, []string{"ber1"}},
		{pagination.Page{Number: 2, Limit: 1}, []string{"fra1"}},
		{pagination.Page{Number: 3, Limit: 1}, nil},
	} {
		got, total, err := c.ListDatacenters(t.Context(), tc.page)
		if err != nil || total != 2 {
			t.Fatalf("ListDatacenters(%+v): total %d, %v", tc.page, total, err)
		}
		var shorts []string
		for _, dc := range got {
			shorts = append(shorts, dc.Short)
		}
		if !slices.Equal(shorts, tc.want) {
			t.Errorf("page %+v = %v, want %v", tc.page, shorts, tc.want)
		}
	}
}

func TestGetDatacenter(t *testing.T) {
	t.Parallel()
	db, c := seeded(t)
	id := idOf(t, db, "datacenters", "short", "fra1")
	dc, err := c.GetDatacenter(t.Context(), id)
	if err != nil || dc.ID != id || dc.Short != "fra1" || dc.Region.Name != "Europe" {
		t.Fatalf("GetDatacenter = %+v, %v", dc, err)
	}
	_, err = c.GetDatacenter(t.Context(), "00000000-0000-4000-8000-00000000dead")
	wantFault(t, err, fault.KindNotFound)
}
