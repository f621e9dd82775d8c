package apiconv_test

import (
	"testing"

	"github.com/gpcore/gpcore/internal/api/apiconv"
)

func TestPrice(t *testing.T) {
	for _, tc := range []struct {
		amount    int64
		currency  string
		formatted string
	}{
		{8900, "EUR", "€89.00"},
		{10, "EUR", "€0.10"},
		{123456789, "USD", "$1,234,567.89"},
		{-550, "EUR", "-€5.50"},
		{500, "JPY", "¥500"},
		{100, "XYZ", ""},
	} {
		p := apiconv.Price(tc.amount, tc.currency)
		if p.GetAmount() != tc.amount || p.GetCurrency() != tc.currency || p.GetFormatted() != tc.formatted {
			t.Errorf("Price(%d, %s) = %v, want formatted %q", tc.amount, tc.currency, p, tc.formatted)
		}
	}
}
