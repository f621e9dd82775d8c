package invoice_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gpcore/gpcore/internal/billing/billingtest"
	"github.com/gpcore/gpcore/internal/billing/invoice"
	"github.com/gpcore/gpcore/internal/money"
)

// sample is an invoice to a German company in EUR, long enough to need a
// second page.
func sample(t *testing.T, lines int) invoice.Invoice {
	t.Helper()
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	inv := invoice.Invoice{
		Number: "000042", IssuedAt: time.Date(2026, 12, 1, 0, 10, 0, 0, time.UTC),
		PeriodStart: time.Date(2026, 10, 31, 23, 0, 0, 0, time.UTC), PeriodEnd: time.Date(2026, 11, 30, 23, 0, 0, 0, time.UTC),
		Location: berlin, Locale: money.LocaleFor("DE"), Currency: "EUR",
		Seller:    invoice.Party{Company: "Bare Metal Cloud GmbH", Address: []string{"Hauptstraße 1", "60311 Frankfurt am Main", "Germany"}, VATID: "DE123456789"},
		Buyer:     invoice.Party{Company: "Müller & Söhne GmbH", Name: "Jürgen Müller", Address: []string{"Königsallee 5", "40212 Düsseldorf", "DE"}, VATID: "DE987654321", Email: "billing@mueller.example"},
		TaxRateBP: 1900,
	}
	for i := range lines {
		inv.Lines = append(inv.Lines, invoice.Line{
			Description: fmt.Sprintf("web-%d.example.com: BM-L1, hourly", i), Detail: "Project Shop, 1 November 2026 to 30 November 2026",
			Quantity: "720 hours", UnitPrice: 55, Amount: 720 * 55,
		})
	}
	inv.Net = int64(lines) * 720 * 55
	inv.Tax, err = money.ApplyRate(inv.Net, inv.TaxRateBP)
	if err != nil {
		t.Fatal(err)
	}
	inv.Gross = inv.Net + inv.Tax
	inv.Total = inv.Gross
	return inv
}

func TestRenderReadsBack(t *testing.T) {
	inv := sample(t, 60)
	pdf, err := invoice.Render(inv)
	if err != nil {
		t.Fatal(err)
	}
	text := billingtest.PDFText(t, pdf)
	for _, want := range []string{
		"Invoice", "Invoice number: 000042", "Date of issue: 1 December 2026",
		"Billing period: 1 November 2026 to 30 November 2026 (Europe/Berlin)",
		"Bare Metal Cloud GmbH", "VAT ID: DE123456789", "Müller & Söhne GmbH", "VAT ID: DE987654321",
		"Königsallee 5", "web-0.example.com: BM-L1, hourly", "web-59.example.com", "720 hours",
		"Net amount", "VAT 19 %", "Total due",
		billingtest.Plain(money.Format(inv.Net, "EUR", "en-DE")), billingtest.Plain(money.Format(inv.Tax, "EUR", "en-DE")),
		billingtest.Plain(money.Format(inv.Total, "EUR", "en-DE")), "0,55 €",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the PDF's text lacks %q:\n%s", want, text)
		}
	}
	if pages := strings.Count(text, "\f"); pages < 2 {
		t.Errorf("%d pages for 60 lines, want at least 2", pages)
	}
	// The same invoice renders to the same document.
	again, err := invoice.Render(inv)
	if err != nil || !bytes.Equal(pdf, again) {
		t.Errorf("a second rendering differs (err %v)", err)
	}
}

func TestRenderReverseChargeInUSD(t *testing.T) {
	inv := sample(t, 1)
	inv.Currency, inv.Locale, inv.TaxRateBP, inv.ReverseCharge = "USD", money.LocaleFor("US"), 0, true
	inv.Tax, inv.Gross, inv.Total = 0, inv.Net, inv.Net
	pdf, err := invoice.Render(inv)
	if err != nil {
		t.Fatal(err)
	}
	text := billingtest.PDFText(t, pdf)
	for _, want := range []string{"VAT 0 % (reverse charge)", "Reverse charge:", "$396.00", "$0.55"} {
		if !strings.Contains(text, want) {
			t.Errorf("the PDF's text lacks %q:\n%s", want, text)
		}
	}
}

func TestRenderUnprintable(t *testing.T) {
	inv := sample(t, 1)
	inv.Buyer.Company = "Tokyo 東京 KK"
	inv.Locale = "fr-FR" // groups thousands with U+202F
	pdf, err := invoice.Render(inv)
	if err != nil {
		t.Fatal(err)
	}
	text := billingtest.PDFText(t, pdf)
	if !strings.Contains(text, "Tokyo ?? KK") {
		t.Errorf("characters the font lacks are not shown as ?:\n%s", text)
	}
	if want := billingtest.Plain(money.Format(inv.Total, "EUR", "fr-FR")); !strings.Contains(text, want) {
		t.Errorf("the PDF's text lacks %q:\n%s", want, text)
	}
}
