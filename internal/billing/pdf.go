package billing

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gpcore/gpcore/internal/billing/invoice"
	"github.com/gpcore/gpcore/internal/billing/metering"
	"github.com/gpcore/gpcore/internal/billing/usage"
	"github.com/gpcore/gpcore/internal/money"
)

// BillPDF returns the invoice of bill billID of userID's billing profile
// profileID as a PDF document (see internal/billing/invoice): rendered from
// the bill as it was issued, so it is the same document every time, with
// amounts formatted for the buyer's country (money.LocaleFor). NotFound as
// for GetBill.
func (s *Service) BillPDF(ctx context.Context, userID, profileID, billID string) ([]byte, error) {
	b, lines, err := s.GetBill(ctx, userID, profileID, billID)
	if err != nil {
		return nil, err
	}
	pdf, err := invoice.Render(invoiceOf(b, lines))
	if err != nil {
		return nil, wrap("render invoice", err)
	}
	return pdf, nil
}

// invoiceOf returns what the invoice of bill b with lines prints.
func invoiceOf(b Bill, lines []BillLine) invoice.Invoice {
	loc := usage.LoadLocation(b.Timezone)
	inv := invoice.Invoice{
		Number: b.Number, IssuedAt: b.IssuedAt, PeriodStart: b.PeriodStart, PeriodEnd: b.PeriodEnd,
		Location: loc, Locale: money.LocaleFor(b.Buyer.CountryCode), Currency: string(b.Currency),
		Seller: invoice.Party{Company: b.Seller.Name, Address: nonEmpty(strings.Split(b.Seller.Address, "\n")...), VATID: b.Seller.VATID},
		Buyer: invoice.Party{
			Company: b.Buyer.Company, Name: b.Buyer.Name, VATID: b.Buyer.VATID, Email: b.Buyer.BillingEmail,
			Address: nonEmpty(b.Buyer.Street, strings.TrimSpace(b.Buyer.Postcode+" "+b.Buyer.City), b.Buyer.State, b.Buyer.CountryCode),
		},
		TaxRateBP:     int32(b.TaxRate),
		ReverseCharge: b.TaxRate == 0 && b.Buyer.VATID != "" && b.Buyer.CountryCode != b.Seller.Country,
		Net:           b.Net, Tax: b.Tax, Gross: b.Gross, Credit: b.Credit, Total: b.Total,
	}
	for _, l := range lines {
		inv.Lines = append(inv.Lines, invoiceLine(l, loc))
	}
	return inv
}

// invoiceLine is how a bill line reads on the invoice.
func invoiceLine(l BillLine, loc *time.Location) invoice.Line {
	project := "Project " + l.ProjectName
	if l.PlanCode != "" {
		project += " (plan " + l.PlanCode + ")"
	}
	out := invoice.Line{
		UnitPrice: l.UnitPrice, Amount: l.Amount,
		Detail: fmt.Sprintf("%s, %s to %s", project, l.From.In(loc).Format(lineTime), l.To.In(loc).Format(lineTime)),
	}
	switch {
	case l.Kind == metering.KindLicence:
		out.Description = fmt.Sprintf("%s: Windows Server SPLA licence for %d cores (%s)", l.NodeName, l.Units, l.FlavourName)
		out.Quantity = "1 month"
	case l.UnitType == metering.Hours:
		out.Description = fmt.Sprintf("%s: %s, hourly", l.NodeName, l.FlavourName)
		out.Quantity = plural(l.Units, "hour")
	default:
		out.Description = fmt.Sprintf("%s: %s, monthly", l.NodeName, l.FlavourName)
		out.Quantity = plural(l.Units, "month")
	}
	return out
}

// lineTime is how the invoice writes the span of a line.
const lineTime = "2 Jan 2006 15:04"

// plural writes n units: "1 hour", "3 hours".
func plural(n int64, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// nonEmpty returns the strings that are not blank, trimmed.
func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
