package apiconv

import (
	"github.com/bojanz/currency"

	typev1 "github.com/gpcore/gpcore/gen/gpcore/type/v1"
)

// priceFormatter formats prices with CLDR's English conventions. A Formatter
// only reads its settings when it formats, so one serves every request.
var priceFormatter = currency.NewFormatter(currency.NewLocale("en"))

// Price is amount minor units (cents) of the ISO 4217 currency code as a
// price, with its formatted form for people: Price(8900, "EUR") is 89.00 EUR,
// formatted "€89.00". A code the formatter does not know leaves the
// formatted form empty.
func Price(amount int64, code string) *typev1.Price {
	p := &typev1.Price{Amount: amount, Currency: code}
	if a, err := currency.NewAmountFromInt64(amount, code); err == nil {
		p.Formatted = priceFormatter.Format(a)
	}
	return p
}
