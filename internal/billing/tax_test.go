package billing_test

import (
	"testing"

	"github.com/gpcore/gpcore/internal/billing"
	"github.com/gpcore/gpcore/internal/catalog"
)

func TestVATRule(t *testing.T) {
	t.Parallel()
	de := billing.VATRule{SellerCountry: "DE"}
	tests := []struct {
		name string
		rule billing.VATRule
		c    billing.TaxCustomer
		want catalog.TaxRate
	}{
		{"domestic consumer", de, billing.TaxCustomer{Country: "DE", CountryRate: 1900}, 1900},
		{"domestic business", de, billing.TaxCustomer{Country: "DE", CountryRate: 1900, Business: true}, 1900},
		{"EU consumer pays their country's rate (OSS)", de, billing.TaxCustomer{Country: "FR", CountryRate: 2000}, 2000},
		{"EU business: reverse charge", de, billing.TaxCustomer{Country: "FR", CountryRate: 2000, Business: true}, 0},
		{"non-EU consumer where the seller is registered", de, billing.TaxCustomer{Country: "CH", CountryRate: 810}, 810},
		{"non-EU business", de, billing.TaxCustomer{Country: "CH", CountryRate: 810, Business: true}, 0},
		{"non-EU country without VAT registration", de, billing.TaxCustomer{Country: "US", CountryRate: 0}, 0},
		{"another seller country: its consumers", billing.VATRule{SellerCountry: "AT"}, billing.TaxCustomer{Country: "AT", CountryRate: 2000}, 2000},
		{"another seller country: its businesses", billing.VATRule{SellerCountry: "AT"}, billing.TaxCustomer{Country: "AT", CountryRate: 2000, Business: true}, 2000},
		{"another seller country: German business", billing.VATRule{SellerCountry: "AT"}, billing.TaxCustomer{Country: "DE", CountryRate: 1900, Business: true}, 0},
	}
	for _, tt := range tests {
		if got := tt.rule.TaxRate(tt.c); got != tt.want {
			t.Errorf("%s: TaxRate(%+v) = %d, want %d", tt.name, tt.c, got, tt.want)
		}
	}
}

func TestNewRefusesABadSellerCountry(t *testing.T) {
	t.Parallel()
	for _, country := range []string{"", "de", "DEU", "1A"} {
		if _, err := billing.New(nil, billing.Config{TaxRule: billing.VATRule{SellerCountry: country}}); err == nil {
			t.Errorf("New with seller country %q: no error", country)
		}
	}
}
