package catalog_test

import (
	"slices"
	"testing"

	"github.com/gpcore/gpcore/internal/catalog"
	"github.com/gpcore/gpcore/internal/pagination"
)

func TestListCountries(t *testing.T) {
	t.Parallel()
	_, c := seeded(t)
	got, total, err := c.ListCountries(t.Context(), all)
	if err != nil || total != 15 || len(got) != 15 {
		t.Fatalf("ListCountries: %d of %d, %v; want 15", len(got), total, err)
	}
	var names []string
	byCode := map[string]catalog.Country{}
	for _, country := range got {
		names = append(names, country.Name)
		byCode[country.Code] = country
	}
	want := []string{"Austria", "Belgium", "Denmark", "France", "Germany", "Ireland", "Italy", "Luxembourg",
		"Netherlands", "Poland", "Spain", "Sweden", "Switzerland", "United Kingdom", "United States"}
	if !slices.Equal(names, want) {
		t.Errorf("names = %v, want %v", names, want)
	}
	for _, tc := range []struct {
		code    string
		rate    catalog.TaxRate
		percent float64
		net     bool
	}{
		{"DE", 1900, 19, true},
		{"CH", 810, 8.1, true},
		{"US", 0, 0, false},
	} {
		c := byCode[tc.code]
		if c.TaxRate != tc.rate || c.TaxRate.Percent() != tc.percent || c.NetSupport != tc.net {
			t.Errorf("%s = %+v (%v %%), want rate %d (%v %%), net support %v", tc.code, c, c.TaxRate.Percent(),
				tc.rate, tc.percent, tc.net)
		}
	}

	page, total, err := c.ListCountries(t.Context(), pagination.Page{Number: 3, Limit: 7})
	if err != nil || total != 15 || len(page) != 1 || page[0].Code != "US" {
		t.Fatalf("page 3 of 7 = %+v, total %d, %v; want [US] of 15", page, total, err)
	}
}
