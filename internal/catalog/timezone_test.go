package catalog_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gpcore/gpcore/internal/catalog"
	"github.com/gpcore/gpcore/internal/pagination"
)

func TestListTimezones(t *testing.T) {
	zones, total := catalog.ListTimezones(pagination.Page{Number: 1, Limit: catalog.TimezonesPageLimit})
	if int64(len(zones)) != total || total < 400 {
		t.Fatalf("ListTimezones: %d of %d, want every zone (400+) on one default page", len(zones), total)
	}
	if !slices.IsSortedFunc(zones, func(a, b catalog.Timezone) int { return strings.Compare(a.Code, b.Code) }) {
		t.Error("zones are not sorted by code")
	}
	names := map[string]string{}
	byCode := map[string]string{}
	for _, z := range zones {
		if _, err := time.LoadLocation(z.Code); err != nil {
			t.Errorf("time.LoadLocation(%q): %v", z.Code, err)
		}
		if prev, dup := names[z.Name]; dup {
			t.Errorf("%s and %s share the name %q", prev, z.Code, z.Name)
		}
		if _, dup := byCode[z.Code]; dup {
			t.Errorf("%s is listed twice", z.Code)
		}
		names[z.Name] = z.Code
		byCode[z.Code] = z.Name
	}
	for code, want := range map[string]string{
		"UTC":                            "UTC",
		"Europe/Berlin":                  "Berlin (Germany)",
		"Europe/Oslo":                    "Oslo (Norway)",
		"America/New_York":               "New York (United States)",
		"America/Argentina/Buenos_Aires": "Buenos Aires (Argentina)",
		"America/Indiana/Indianapolis":   "Indianapolis, Indiana (United States)",
	} {
		if got := byCode[code]; got != want {
			t.Errorf("name of %s = %q, want %q", code, got, want)
		}
	}

	page, total2 := catalog.ListTimezones(pagination.Page{Number: 2, Limit: 10})
	if total2 != total || !slices.Equal(page, zones[10:20]) {
		t.Errorf("page 2 of 10 = %v, want %v", page, zones[10:20])
	}
}
