package apiconv

import (
	typev1 "github.com/gpcore/gpcore/gen/gpcore/type/v1"
	"github.com/gpcore/gpcore/internal/money"
)

// Price is amount minor units (cents) of the ISO 4217 currency code as a
// price, with its formatted form for people (money.Format in
// money.DefaultLocale): Price(8900, "EUR") is 89.00 EUR, formatted "€89.00".
// A code the formatter does not know leaves the formatted form empty.
func Price(amount int64, code string) *typev1.Price {
	return &typev1.Price{Amount: amount, Currency: code, Formatted: money.Format(amount, code, money.DefaultLocale)}
}
