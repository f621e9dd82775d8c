// Package money holds gpcore's rules for money that are not about prices:
// how an amount is shown to people and read from them, and the one place an
// amount is ever rounded.
//
// # Amounts
//
// Money is always an int64 of a currency's minor units (cents) with its ISO
// 4217 code: 8900 EUR is 89.00 EUR. Prices, usage and bill lines are integer
// multiples of integer prices, so nothing about them needs rounding.
//
// # The rounding rule
//
// The one computation whose exact result is not a whole number of minor
// units is a rate applied to an amount: the tax of a bill, its net total
// times the tax rate. ApplyRate does it, once per bill on the bill's net
// total (never per line), and rounds the exact result half away from zero to
// the minor unit (commercial rounding: 0.5 cent becomes 1 cent). Nothing else
// in gpcore rounds money.
//
// # Formatting
//
// Format writes an amount the way people of a locale read it, from the
// Unicode CLDR data of github.com/bojanz/currency: "€1,234.56" in English,
// "1.234,56 €" in German. Locale "en" is what the API's Price.formatted uses;
// invoices use their buyer's country (LocaleFor).
package money

import (
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strings"
	"sync"

	"github.com/bojanz/currency"
)

// DefaultLocale is the locale of the formatted prices in API answers, which
// carry no locale of their own.
const DefaultLocale = "en"

// Format returns amount minor units of the ISO 4217 currency code as people
// of locale (a BCP 47 tag such as "en", "de-DE" or "en-DE") write it, or ""
// for a currency code CLDR does not know. An unknown locale falls back to
// its language, then to English.
func Format(amount int64, code, locale string) string {
	a, err := currency.NewAmountFromInt64(amount, code)
	if err != nil {
		return ""
	}
	f, ok := formatters.Load(locale)
	if !ok {
		// A Formatter only reads its settings when it formats, so one per
		// locale serves every caller.
		f, _ = formatters.LoadOrStore(locale, currency.NewFormatter(currency.NewLocale(locale)))
	}
	return f.(*currency.Formatter).Format(a)
}

// plainDecimal is what ParseAmount reads: digits, and maybe a point and more
// digits.
var plainDecimal = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)

// ParseAmount reads amount, a non-negative decimal number of major units of
// the ISO 4217 currency code as people type it ("25", "25.5", "1250.00"),
// and returns it in minor units (2500, 2550, 125000 for EUR). It refuses
// anything else: signs, exponents, thousands separators, an unknown
// currency, more fraction digits than the currency has (that would need
// rounding), and an amount that does not fit an int64.
func ParseAmount(amount, code string) (int64, error) {
	if !plainDecimal.MatchString(amount) {
		return 0, fmt.Errorf("money: %q is not an amount like 25.00", amount)
	}
	digits, ok := currency.GetDigits(code)
	if !ok {
		return 0, fmt.Errorf("money: unknown currency %q", code)
	}
	if _, frac, ok := strings.Cut(amount, "."); ok && len(frac) > int(digits) {
		return 0, fmt.Errorf("money: %q has more than the %d decimals of %s", amount, digits, code)
	}
	a, err := currency.NewAmount(amount, code)
	if err != nil {
		return 0, fmt.Errorf("money: %w", err)
	}
	minor, err := a.Int64()
	if err != nil {
		return 0, fmt.Errorf("money: %s %s is too large", amount, code)
	}
	return minor, nil
}

// formatters caches a formatter per locale.
var formatters sync.Map

// LocaleFor returns the locale invoices for a buyer in country (an ISO
// 3166-1 alpha-2 code) are formatted in: English text with that country's
// conventions for numbers and currency symbols ("en-DE" writes 1.234,56 €),
// or DefaultLocale without a country.
func LocaleFor(country string) string {
	if len(country) != 2 {
		return DefaultLocale
	}
	return DefaultLocale + "-" + strings.ToUpper(country)
}

// ApplyRate returns amount times basisPoints/10000 (19 % is 1900 basis
// points), rounded half away from zero to a whole minor unit: the package's
// one rounding rule. It fails when the result does not fit an int64.
func ApplyRate(amount int64, basisPoints int32) (int64, error) {
	num := new(big.Int).Mul(big.NewInt(amount), big.NewInt(int64(basisPoints)))
	q, r := new(big.Int).QuoRem(num, big.NewInt(10000), new(big.Int))
	// Half away from zero: a remainder of at least half the divisor (in
	// absolute value) moves the quotient one step away from zero.
	if twice := new(big.Int).Abs(new(big.Int).Mul(r, big.NewInt(2))); twice.Cmp(big.NewInt(10000)) >= 0 {
		if num.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	if !q.IsInt64() {
		return 0, fmt.Errorf("money: %d × %d basis points does not fit an int64", amount, basisPoints)
	}
	return q.Int64(), nil
}

// Sum adds amounts, failing when the total does not fit an int64.
func Sum(amounts ...int64) (int64, error) {
	var total int64
	for _, a := range amounts {
		if (a > 0 && total > math.MaxInt64-a) || (a < 0 && total < math.MinInt64-a) {
			return 0, fmt.Errorf("money: the sum of %d amounts does not fit an int64", len(amounts))
		}
		total += a
	}
	return total, nil
}
