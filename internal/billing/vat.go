package billing

import (
	"regexp"
	"strings"

	"github.com/gpcore/gpcore/internal/fault"
)

// vatSyntax is how the VAT identification numbers of one country look:
// the prefix they start with and the pattern of the national part after it.
type vatSyntax struct {
	prefix   string
	national *regexp.Regexp
}

// vatSyntaxes are the VAT id syntaxes gpcore checks, by ISO 3166-1 country
// code. Only the syntax is checked, never whether the number is issued: that
// needs the network (VIES), which gpcore does not rely on.
//
// The EU member states follow the European Commission's VIES table "VAT
// number structure" (VIES FAQ, https://ec.europa.eu/taxation_customs/vies/#/faq,
// question "What is the structure of a VAT number?"), including its notes:
// Austria's national part starts with U; Belgium's 10 digits start with 0 or
// 1; the first and last of Spain's 9 characters may be letters but not both
// digits; France's first two characters may be letters other than I and O;
// Ireland's 8 characters are a digit, a letter, digit, '+' or '*', five digits
// and a letter, or its 9 are seven digits and two letters; the Netherlands'
// 12 characters are 9 digits, the letter B and 2 digits; Romania's are 2 to
// 10 digits not starting with 0. Greece uses the prefix EL.
//
// Outside the EU: the United Kingdom per HMRC (9 digits, 12 digits for
// branches, GD and 3 digits below 500 for government departments, HA and 3
// digits from 500 for health authorities); Switzerland's UID register
// (CHE and 9 digits, optionally followed by MWST, TVA, IVA or TPV); Norway's
// VAT register (9 digits and MVA).
var vatSyntaxes = map[string]vatSyntax{
	"AT": {"AT", regexp.MustCompile(`^U\d{8}$`)},
	"BE": {"BE", regexp.MustCompile(`^[01]\d{9}$`)},
	"BG": {"BG", regexp.MustCompile(`^\d{9,10}$`)},
	"CY": {"CY", regexp.MustCompile(`^\d{8}[A-Z]$`)},
	"CZ": {"CZ", regexp.MustCompile(`^\d{8,10}$`)},
	"DE": {"DE", regexp.MustCompile(`^\d{9}$`)},
	"DK": {"DK", regexp.MustCompile(`^\d{8}$`)},
	"EE": {"EE", regexp.MustCompile(`^\d{9}$`)},
	"ES": {"ES", regexp.MustCompile(`^([A-Z]\d{7}[A-Z0-9]|\d{8}[A-Z])$`)},
	"FI": {"FI", regexp.MustCompile(`^\d{8}$`)},
	"FR": {"FR", regexp.MustCompile(`^[A-HJ-NP-Z0-9]{2}\d{9}$`)},
	"GR": {"EL", regexp.MustCompile(`^\d{9}$`)},
	"HR": {"HR", regexp.MustCompile(`^\d{11}$`)},
	"HU": {"HU", regexp.MustCompile(`^\d{8}$`)},
	"IE": {"IE", regexp.MustCompile(`^(\d[A-Z0-9+*]\d{5}[A-Z]|\d{7}[A-Z]{2})$`)},
	"IT": {"IT", regexp.MustCompile(`^\d{11}$`)},
	"LT": {"LT", regexp.MustCompile(`^(\d{9}|\d{12})$`)},
	"LU": {"LU", regexp.MustCompile(`^\d{8}$`)},
	"LV": {"LV", regexp.MustCompile(`^\d{11}$`)},
	"MT": {"MT", regexp.MustCompile(`^\d{8}$`)},
	"NL": {"NL", regexp.MustCompile(`^\d{9}B\d{2}$`)},
	"PL": {"PL", regexp.MustCompile(`^\d{10}$`)},
	"PT": {"PT", regexp.MustCompile(`^\d{9}$`)},
	"RO": {"RO", regexp.MustCompile(`^[1-9]\d{1,9}$`)},
	"SE": {"SE", regexp.MustCompile(`^\d{12}$`)},
	"SI": {"SI", regexp.MustCompile(`^\d{8}$`)},
	"SK": {"SK", regexp.MustCompile(`^\d{10}$`)},

	"GB": {"GB", regexp.MustCompile(`^(\d{9}|\d{12}|GD[0-4]\d{2}|HA[5-9]\d{2})$`)},
	"CH": {"CHE", regexp.MustCompile(`^\d{9}(MWST|TVA|IVA|TPV)?$`)},
	"NO": {"NO", regexp.MustCompile(`^\d{9}MVA$`)},
}

// maxVATIDLength bounds a VAT id of a country whose syntax gpcore does not
// know, after normalisation.
const maxVATIDLength = 20

// vatIDNoise are the characters people put into VAT ids for readability;
// normalisation drops them.
var vatIDNoise = strings.NewReplacer(" ", "", ".", "", "-", "", "/", "", "\t", "")

// anyVATID is what a VAT id of a country without a known syntax may contain.
var anyVATID = regexp.MustCompile(`^[A-Z0-9]{2,20}$`)

// NormalizeVATID checks raw, a VAT identification number given for a
// customer in country (ISO 3166-1 alpha-2), and returns it normalised: upper
// case, without spaces, dots, dashes or slashes, with the country's VAT
// prefix (added when raw lacks it; Greece's GR is accepted for EL). A raw
// that starts with the VAT prefix of another country whose syntax gpcore
// knows is that country's number, and refused, not taken for a national
// part (France's may start with two letters). checked
// tells whether the country's syntax is known and was checked (see
// vatSyntaxes); for other countries any 2 to 20 letters and digits pass,
// unchecked. Refusals are InvalidArgument naming the field "vat_id". An empty
// raw gives "", false, nil.
func NormalizeVATID(country, raw string) (id string, checked bool, err error) {
	s := strings.ToUpper(vatIDNoise.Replace(strings.TrimSpace(raw)))
	if s == "" {
		return "", false, nil
	}
	syntax, known := vatSyntaxes[country]
	if !known {
		if !anyVATID.MatchString(s) {
			return "", false, fault.Invalid("vat_id", "must be 2 to %d letters and digits", maxVATIDLength)
		}
		return s, false, nil
	}
	national := s
	switch {
	case strings.HasPrefix(s, syntax.prefix):
		national = s[len(syntax.prefix):]
	case country == "GR" && strings.HasPrefix(s, "GR"):
		national = s[len("GR"):]
	default:
		if other, prefix, ok := vatPrefixOwner(s); ok {
			return "", false, fault.Invalid("vat_id", "%q is a VAT identification number of %s (prefix %s), not of %s, the billing profile's country (want the form %s)",
				raw, other, prefix, country, vatExamples[country])
		}
	}
	if !syntax.national.MatchString(national) {
		return "", false, fault.Invalid("vat_id", "%q is not a VAT identification number of %s (want the form %s)",
			raw, country, vatExamples[country])
	}
	return syntax.prefix + national, true, nil
}

// vatPrefixOwner returns the country whose VAT prefix s starts with, and
// the prefix, among the countries of vatSyntaxes (Greece's GR included, as
// NormalizeVATID accepts it for EL).
func vatPrefixOwner(s string) (country, prefix string, ok bool) {
	for c, syntax := range vatSyntaxes {
		if strings.HasPrefix(s, syntax.prefix) {
			return c, syntax.prefix, true
		}
	}
	if strings.HasPrefix(s, "GR") {
		return "GR", "GR", true
	}
	return "", "", false
}

// hasVATIDSyntax reports whether gpcore knows, and checks, the syntax of the
// VAT ids of country: the EU member states, the United Kingdom, Switzerland
// and Norway.
func hasVATIDSyntax(country string) bool {
	_, ok := vatSyntaxes[country]
	return ok
}

// vatExamples show each country's form in refusals, in the VIES table's
// notation (9 a digit, X a letter or digit, L a letter).
var vatExamples = map[string]string{
	"AT": "ATU99999999", "BE": "BE0999999999", "BG": "BG999999999 or BG9999999999",
	"CY": "CY99999999L", "CZ": "CZ99999999 to CZ9999999999", "DE": "DE999999999",
	"DK": "DK99999999", "EE": "EE999999999", "ES": "ESX9999999X", "FI": "FI99999999",
	"FR": "FRXX999999999", "GR": "EL999999999", "HR": "HR99999999999", "HU": "HU99999999",
	"IE": "IE9S99999L or IE9999999WI", "IT": "IT99999999999", "LT": "LT999999999 or LT999999999999",
	"LU": "LU99999999", "LV": "LV99999999999", "MT": "MT99999999", "NL": "NL999999999B99",
	"PL": "PL9999999999", "PT": "PT999999999", "RO": "RO99 to RO9999999999",
	"SE": "SE999999999999", "SI": "SI99999999", "SK": "SK9999999999",
	"GB": "GB999999999, GB999999999999, GBGD999 or GBHA999", "CH": "CHE999999999 MWST",
	"NO": "NO999999999MVA",
}
