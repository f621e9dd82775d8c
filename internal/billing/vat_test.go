package billing_test

import (
	"testing"

	"github.com/gpcore/gpcore/internal/billing"
	"github.com/gpcore/gpcore/internal/fault"
)

func TestNormalizeVATID(t *testing.T) {
	t.Parallel()
	valid := []struct {
		country, raw, want string
		checked            bool
	}{
		{"DE", "DE123456789", "DE123456789", true},
		{"DE", "de 123 456 789", "DE123456789", true},
		{"DE", "123456789", "DE123456789", true},
		{"AT", "ATU12345678", "ATU12345678", true},
		{"BE", "BE0123456789", "BE0123456789", true},
		{"BE", "BE1123456789", "BE1123456789", true},
		{"BG", "BG123456789", "BG123456789", true},
		{"BG", "BG1234567890", "BG1234567890", true},
		{"CY", "CY12345678X", "CY12345678X", true},
		{"CZ", "CZ12345678", "CZ12345678", true},
		{"CZ", "CZ1234567890", "CZ1234567890", true},
		{"DK", "DK 12 34 56 78", "DK12345678", true},
		{"EE", "EE123456789", "EE123456789", true},
		{"ES", "ESX1234567X", "ESX1234567X", true},
		{"ES", "ES12345678Z", "ES12345678Z", true},
		{"ES", "ESA12345678", "ESA12345678", true},
		{"FI", "FI12345678", "FI12345678", true},
		{"FR", "FR12345678901", "FR12345678901", true},
		{"FR", "FRAB123456789", "FRAB123456789", true},
		{"FR", "FRDE123456789", "FRDE123456789", true}, // FR's own prefix: DE is its national part
		{"FR", "AB123456789", "FRAB123456789", true},
		{"FR", "12345678901", "FR12345678901", true},
		{"GR", "EL123456789", "EL123456789", true},
		{"GR", "GR123456789", "EL123456789", true},
		{"GR", "123456789", "EL123456789", true},
		{"HR", "HR12345678901", "HR12345678901", true},
		{"HU", "HU12345678", "HU12345678", true},
		{"IE", "IE1234567WA", "IE1234567WA", true},
		{"IE", "IE1S23456L", "IE1S23456L", true},
		{"IE", "IE1+23456L", "IE1+23456L", true},
		{"IT", "IT12345678901", "IT12345678901", true},
		{"LT", "LT123456789", "LT123456789", true},
		{"LT", "LT123456789012", "LT123456789012", true},
		{"LU", "LU12345678", "LU12345678", true},
		{"LV", "LV12345678901", "LV12345678901", true},
		{"MT", "MT12345678", "MT12345678", true},
		{"NL", "NL123456789B01", "NL123456789B01", true},
		{"NL", "nl 1234.56.789.b.01", "NL123456789B01", true},
		{"PL", "PL123-456-78-90", "PL1234567890", true},
		{"PT", "PT123456789", "PT123456789", true},
		{"RO", "RO12", "RO12", true},
		{"RO", "RO1234567890", "RO1234567890", true},
		{"SE", "SE123456789001", "SE123456789001", true},
		{"SI", "SI12345678", "SI12345678", true},
		{"SK", "SK1234567890", "SK1234567890", true},
		{"GB", "GB123456789", "GB123456789", true},
		{"GB", "GB 123 4567 89 012", "GB123456789012", true},
		{"GB", "GBGD001", "GBGD001", true},
		{"GB", "GBHA599", "GBHA599", true},
		{"CH", "CHE-123.456.789 MWST", "CHE123456789MWST", true},
		{"CH", "CHE123456789", "CHE123456789", true},
		{"NO", "NO 123 456 789 MVA", "NO123456789MVA", true},
		// No known syntax: normalised, unchecked.
		{"US", "12-3456789", "123456789", false},
		{"US", "", "", false},
		{"DE", "   ", "", false},
	}
	for _, tt := range valid {
		got, checked, err := billing.NormalizeVATID(tt.country, tt.raw)
		if err != nil || got != tt.want || checked != tt.checked {
			t.Errorf("NormalizeVATID(%s, %q) = %q, %v, %v; want %q, %v", tt.country, tt.raw, got, checked, err, tt.want, tt.checked)
		}
	}

	invalid := []struct{ country, raw string }{
		{"DE", "DE12345678"},     // 8 digits
		{"DE", "DE1234567890"},   // 10 digits
		{"DE", "FR12345678901"},  // another country's id
		{"AT", "AT12345678"},     // no U
		{"BE", "BE2123456789"},   // starts with 2
		{"ES", "ES123456789"},    // first and last both digits
		{"FR", "FRIO123456789"},  // I and O are not used
		{"GR", "EL12345678"},     // 8 digits
		{"IE", "IE12345678"},     // no letter
		{"NL", "NL123456789A01"}, // A instead of B
		{"RO", "RO0123"},         // leading zero
		{"RO", "RO1"},            // too short
		{"GB", "GBGD500"},        // government departments are below 500
		{"GB", "GBHA499"},        // health authorities are from 500
		{"CH", "CHE12345678"},    // 8 digits
		{"NO", "NO123456789"},    // no MVA
		{"DE", "DE12345678!"},    // punctuation
		{"US", "X"},              // too short
		{"US", "123456789012345678901"},
		{"US", "12*45"},
	}
	for _, tt := range invalid {
		got, _, err := billing.NormalizeVATID(tt.country, tt.raw)
		if fault.KindOf(err) != fault.KindInvalidArgument {
			t.Errorf("NormalizeVATID(%s, %q) = %q, %v; want InvalidArgument", tt.country, tt.raw, got, err)
			continue
		}
		wantFault(t, err, fault.KindInvalidArgument, "vat_id", "")
	}
}

// TestNormalizeVATIDOfAnotherCountry: an id that starts with another
// country's VAT prefix is that country's, even where the national part
// could start with those letters (France's), and the refusal says so.
func TestNormalizeVATIDOfAnotherCountry(t *testing.T) {
	t.Parallel()
	tests := []struct{ country, raw, want string }{
		{"FR", "DE123456789", `"DE123456789" is a VAT identification number of DE (prefix DE), not of FR, the billing profile's country`},
		{"FR", "de 123 456 789", `"de 123 456 789" is a VAT identification number of DE (prefix DE), not of FR`},
		{"FR", "EL123456789", "of GR (prefix EL), not of FR"},
		{"FR", "GR123456789", "of GR (prefix GR), not of FR"},
		{"FR", "IT12345678901", "of IT (prefix IT), not of FR"},
		{"FR", "GB123456789", "of GB (prefix GB), not of FR"},
		{"DE", "FR12345678901", "of FR (prefix FR), not of DE"},
		{"GR", "DE123456789", "of DE (prefix DE), not of GR"},
	}
	for _, tt := range tests {
		got, _, err := billing.NormalizeVATID(tt.country, tt.raw)
		if err == nil {
			t.Errorf("NormalizeVATID(%s, %q) = %q, want a refusal", tt.country, tt.raw, got)
			continue
		}
		wantFault(t, err, fault.KindInvalidArgument, "vat_id", tt.want)
	}
}
