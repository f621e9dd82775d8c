package catalog

import (
	"strings"
	"sync"
	_ "time/tzdata" // every listed zone loads even on hosts without a tz database

	"github.com/gpcore/gpcore/internal/pagination"
)

//go:generate go run ./gentimezones -zonetab /usr/share/zoneinfo/zone.tab -tzdata /usr/share/zoneinfo/tzdata.zi -zoneinfo $GOROOT/lib/time/zoneinfo.zip -o timezones_gen.go

// Timezone is a time zone a user can choose for their billing periods.
type Timezone struct {
	// Code is the IANA zone name, e.g. "Europe/Berlin"; time.LoadLocation
	// accepts it.
	Code string
	// Name is a label for people: "<location> (<country>)", the location being
	// the zone name's last part with spaces for underscores, preceded by the
	// middle part when there is one that differs from the country name, e.g.
	// "Berlin (Germany)", "Buenos Aires (Argentina)",
	// "Indianapolis, Indiana (United States)". UTC is "UTC".
	Name string
}

// timezones is the list ListTimezones serves, built once from the generated
// timezoneZones.
var timezones = sync.OnceValue(func() []Timezone {
	list := make([]Timezone, len(timezoneZones))
	for i, z := range timezoneZones {
		list[i] = Timezone{Code: z.code, Name: timezoneName(z.code, z.country)}
	}
	return list
})

func timezoneName(code, country string) string {
	if country == "" {
		return code
	}
	parts := strings.Split(code, "/")
	label := func(s string) string { return strings.ReplaceAll(s, "_", " ") }
	location := label(parts[len(parts)-1])
	countryName := countryName(country)
	if len(parts) > 2 {
		if sub := label(parts[len(parts)-2]); sub != countryName {
			location += ", " + sub
		}
	}
	return location + " (" + countryName + ")"
}

// ListTimezones returns page p of the time zones users can choose, sorted by
// IANA name, and their number. The list is generated from the IANA tz
// database's zone.tab (one or more zones per country) plus UTC; see
// gentimezones.
func ListTimezones(p pagination.Page) ([]Timezone, int64) {
	all := timezones()
	return pagination.Slice(all, p), int64(len(all))
}
