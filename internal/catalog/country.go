package catalog

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"golang.org/x/text/collate"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"

	"github.com/gpcore/gpcore/internal/pagination"
)

// TaxRate is a VAT rate in basis points (hundredths of a percent): 1900 is
// 19 %, 810 is 8.1 %. Integers keep tax arithmetic exact.
type TaxRate int32

// Percent returns the rate in percent (19 for 19 %), the unit of the API's
// float tax_rate fields.
func (r TaxRate) Percent() float64 { return float64(r) / 100 }

// Country is a country customers may do business from.
type Country struct {
	// Code is the ISO 3166-1 alpha-2 code, e.g. "DE".
	Code string
	// Name is the country's English name, e.g. "Germany".
	Name string
	// TaxRate is the VAT rate charged to customers from this country.
	TaxRate TaxRate
	// NetSupport tells whether network support is offered in this country.
	NetSupport bool
}

// countryName is the English name of an ISO 3166-1 alpha-2 code, from the
// CLDR data in golang.org/x/text; the code itself if it is not a region.
func countryName(code string) string {
	r, err := language.ParseRegion(code)
	if err != nil {
		return code
	}
	if name := display.English.Regions().Name(r); name != "" {
		return name
	}
	return code
}

// ListCountries returns page p of all countries, sorted by English name
// (English collation, so "Åland Islands" sorts with the A's), and the number
// of countries.
func (c *Catalog) ListCountries(ctx context.Context, p pagination.Page) ([]Country, int64, error) {
	var rows []countryRow
	if err := c.db.NewSelect().Model(&rows).Scan(ctx); err != nil {
		return nil, 0, fmt.Errorf("catalog: list countries: %w", err)
	}
	countries := make([]Country, len(rows))
	for i, r := range rows {
		countries[i] = Country{
			Code:       r.Code,
			Name:       countryName(r.Code),
			TaxRate:    TaxRate(r.TaxRateBP),
			NetSupport: r.NetSupport,
		}
	}
	byName := collate.New(language.English)
	slices.SortFunc(countries, func(a, b Country) int {
		return cmp.Or(byName.CompareString(a.Name, b.Name), cmp.Compare(a.Code, b.Code))
	})
	return pagination.Slice(countries, p), int64(len(countries)), nil
}
