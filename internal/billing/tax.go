package billing

import (
	"fmt"

	"github.com/gpcore/gpcore/internal/catalog"
)

// DefaultSellerCountry is the operator's country when Config.TaxRule is not
// set.
const DefaultSellerCountry = "DE"

// TaxCustomer is what a tax rule knows about the customer of a billing
// profile.
type TaxCustomer struct {
	// Country is the profile's ISO 3166-1 alpha-2 country code.
	Country string
	// CountryRate is the country's VAT rate from the catalog (the countries
	// table, ListCountries): what a consumer there pays.
	CountryRate catalog.TaxRate
	// Business is true for a company whose VAT id has the syntax of its
	// country (see NormalizeVATID): a taxable person the reverse charge
	// applies to. A company without a VAT id, or with one gpcore cannot
	// check, counts as a consumer, so the rule never charges too little.
	Business bool
}

// TaxRule decides the VAT rate a billing profile's bills carry.
type TaxRule interface {
	// TaxRate returns the rate charged to c.
	TaxRate(c TaxCustomer) catalog.TaxRate
}

// VATRule is the embedded default tax rule, for an operator established in
// SellerCountry who sells electronically supplied services (renting servers)
// and is registered for VAT, through the EU One-Stop Shop and wherever the
// catalog gives a country a non-zero rate, in every country it lists:
//
//  1. A customer in the seller's own country pays that country's rate,
//     business or not (a domestic supply).
//  2. A business elsewhere pays 0: the reverse charge (EU VAT Directive
//     2006/112/EC, articles 44 and 196, for EU businesses with a VAT id; the
//     customer's own self-accounting outside the EU). The bill states the
//     customer's VAT id.
//  3. A consumer elsewhere pays the rate of their own country, the place of
//     supply of electronic services to consumers (article 58; declared
//     through the One-Stop Shop in the EU). Outside the EU that is the
//     catalog's rate too: the operator sets 0 for a country where it is not
//     registered (the seed does for US) and the local rate where it is (CH,
//     GB).
//
// The catalog's rates are the countries' standard rates, so ListCountries
// shows what a consumer from each country pays.
type VATRule struct {
	// SellerCountry is the operator's ISO 3166-1 alpha-2 country code.
	SellerCountry string
}

// TaxRate implements TaxRule.
func (r VATRule) TaxRate(c TaxCustomer) catalog.TaxRate {
	switch {
	case c.Country == r.SellerCountry:
		return c.CountryRate
	case c.Business:
		return 0
	default:
		return c.CountryRate
	}
}

// check refuses a seller country that is not an upper-case ISO 3166-1
// alpha-2 code.
func (r VATRule) check() error {
	if !isCountryCode(r.SellerCountry) {
		return fmt.Errorf("tax rule: seller country %q is not an ISO 3166-1 alpha-2 code like %q", r.SellerCountry, DefaultSellerCountry)
	}
	return nil
}

// isCountryCode reports whether s looks like an upper-case ISO 3166-1
// alpha-2 code.
func isCountryCode(s string) bool {
	return len(s) == 2 && 'A' <= s[0] && s[0] <= 'Z' && 'A' <= s[1] && s[1] <= 'Z'
}
