package money_test

import (
	"math"
	"testing"

	"github.com/gpcore/gpcore/internal/money"
)

func TestFormat(t *testing.T) {
	for _, tc := range []struct {
		amount   int64
		currency string
		locale   string
		want     string
	}{
		{123456, "EUR", "en", "€1,234.56"},
		{123456, "USD", "en", "$1,234.56"},
		{123456, "EUR", "de-DE", "1.234,56\u00a0€"},
		{123456, "EUR", "en-DE", "1.234,56\u00a0€"},
		{123456, "USD", "en-DE", "1.234,56\u00a0US$"},
		{123456, "USD", "en-US", "$1,234.56"},
		{123456, "EUR", "en-XX", "€1,234.56"},
		{10, "EUR", "en", "€0.10"},
		{-550, "EUR", "en", "-€5.50"},
		{500, "JPY", "en", "¥500"},
		{100, "XYZ", "en", ""},
	} {
		if got := money.Format(tc.amount, tc.currency, tc.locale); got != tc.want {
			t.Errorf("Format(%d, %s, %s) = %q, want %q", tc.amount, tc.currency, tc.locale, got, tc.want)
		}
	}
}

func TestLocaleFor(t *testing.T) {
	for country, want := range map[string]string{"DE": "en-DE", "us": "en-US", "": "en", "DEU": "en"} {
		if got := money.LocaleFor(country); got != want {
			t.Errorf("LocaleFor(%q) = %q, want %q", country, got, want)
		}
	}
}

func TestApplyRate(t *testing.T) {
	for _, tc := range []struct {
		amount int64
		bp     int32
		want   int64
	}{
		{10000, 1900, 1900},   // 100.00 at 19 % is 19.00
		{1, 1900, 0},          // 0.19 cent rounds down
		{3, 1900, 1},          // 0.57 cent rounds up
		{50, 1000, 5},         // exact
		{5, 1000, 1},          // 0.5 cent: half away from zero
		{-5, 1000, -1},        // and below zero too
		{15, 1000, 2},         // 1.5 cents
		{25, 1000, 3},         // 2.5 cents: away from zero, not to even
		{74337, 1900, 14124},  // 14124.03
		{74350, 700, 5205},    // 5204.5 rounds up
		{12345, 0, 0},         // reverse charge
		{99999, 10000, 99999}, // 100 %
		{math.MaxInt64 / 2, 10000, math.MaxInt64 / 2},
	} {
		got, err := money.ApplyRate(tc.amount, tc.bp)
		if err != nil || got != tc.want {
			t.Errorf("ApplyRate(%d, %d) = %d, %v; want %d", tc.amount, tc.bp, got, err, tc.want)
		}
	}
	if _, err := money.ApplyRate(math.MaxInt64, 20000); err == nil {
		t.Error("ApplyRate overflowing int64 did not fail")
	}
}

func TestSum(t *testing.T) {
	if got, err := money.Sum(1, 2, 3); err != nil || got != 6 {
		t.Errorf("Sum(1, 2, 3) = %d, %v", got, err)
	}
	if got, err := money.Sum(); err != nil || got != 0 {
		t.Errorf("Sum() = %d, %v", got, err)
	}
	if _, err := money.Sum(math.MaxInt64, 1); err == nil {
		t.Error("Sum overflowing int64 did not fail")
	}
	if _, err := money.Sum(math.MinInt64, -1); err == nil {
		t.Error("Sum underflowing int64 did not fail")
	}
}

func TestParseAmount(t *testing.T) {
	for _, tc := range []struct {
		amount, currency string
		want             int64
	}{
		{"25", "EUR", 2500}, {"25.5", "EUR", 2550}, {"1250.00", "USD", 125000}, {"0.01", "EUR", 1},
		{"0", "EUR", 0}, {"500", "JPY", 500}, {"92233720368547758.07", "EUR", math.MaxInt64},
	} {
		if got, err := money.ParseAmount(tc.amount, tc.currency); err != nil || got != tc.want {
			t.Errorf("ParseAmount(%q, %s) = %d, %v; want %d", tc.amount, tc.currency, got, err, tc.want)
		}
	}
	for _, tc := range []struct{ amount, currency string }{
		{"0.001", "EUR"}, {"1.5", "JPY"}, {"-5", "EUR"}, {"+5", "EUR"}, {"1e3", "EUR"}, {"1,000.00", "EUR"},
		{"25,00", "EUR"}, {"", "EUR"}, {".5", "EUR"}, {"5.", "EUR"}, {"NaN", "EUR"}, {"25", "XYZ"},
		{"92233720368547758.08", "EUR"},
	} {
		if got, err := money.ParseAmount(tc.amount, tc.currency); err == nil {
			t.Errorf("ParseAmount(%q, %s) = %d, want an error", tc.amount, tc.currency, got)
		}
	}
}
