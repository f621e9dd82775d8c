// Package invoice renders a bill as a PDF invoice: seller and buyer with
// their VAT ids, the billing period, one line per node and licence, the tax
// and the totals, amounts formatted for the buyer's locale (internal/money).
//
// It is a pure function of its input (Render), so a bill renders to the
// same document every time; it embeds the Go fonts (golang.org/x/image,
// BSD licence), whose glyphs cover the Latin scripts and the currency signs
// gpcore bills in, so every text of the document, € included, can be read
// back from it (pdftotext does in the tests). A character the fonts lack is
// printed as "?" (a space for the spaces CLDR puts in numbers), never
// dropped silently.
package invoice

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/signintech/gopdf"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/sfnt"

	"github.com/gpcore/gpcore/internal/money"
)

// Invoice is what Render prints.
type Invoice struct {
	// Number is the bill's number.
	Number string
	// IssuedAt is when the bill was issued.
	IssuedAt time.Time
	// PeriodStart and PeriodEnd bound the billing period, [start, end).
	PeriodStart, PeriodEnd time.Time
	// Location is the buyer's time zone, the period's calendar.
	Location *time.Location
	// Locale formats amounts (money.Format), e.g. "en-DE".
	Locale string
	// Currency is the ISO 4217 code of every amount.
	Currency string
	Seller   Party
	Buyer    Party
	Lines    []Line
	// TaxRateBP is the tax rate in basis points (1900 is 19 %).
	TaxRateBP int32
	// ReverseCharge says the buyer accounts for the VAT (a business
	// elsewhere, rate 0): the invoice says so.
	ReverseCharge bool
	// Net, Tax, Gross, Credit and Total are the bill's totals in minor units.
	Net, Tax, Gross, Credit, Total int64
}

// Party is the seller or the buyer.
type Party struct {
	// Company is the company's name, empty for a person.
	Company string
	// Name is the person's name (the buyer's addressee).
	Name string
	// Address are the postal address's lines.
	Address []string
	// VATID is the VAT identification number, empty when there is none.
	VATID string
	// Email is where bills go, empty for the seller.
	Email string
}

// Line is one line of the invoice.
type Line struct {
	// Description says what is paid for, e.g. "web-1.example.com: BM-L1,
	// hourly"; Detail adds a second, smaller line (project and span).
	Description, Detail string
	// Quantity is the number and unit, e.g. "3 hours", "32 cores".
	Quantity string
	// UnitPrice and Amount are in minor units.
	UnitPrice, Amount int64
}

// Page geometry, in points (A4 is 595 × 842).
const (
	marginX     = 50.0
	marginTop   = 50.0
	pageBottom  = 780.0
	contentW    = 595.0 - 2*marginX
	lineH       = 13.0
	colQtyX     = 330.0
	colUnitX    = 400.0
	colAmountX  = 470.0
	colAmountW  = marginX + contentW - colAmountX
	colUnitW    = colAmountX - colUnitX - 5
	descW       = colQtyX - marginX - 5
	fontRegular = "go"
	fontBold    = "go-bold"
)

// Render returns the invoice as a PDF document.
func Render(inv Invoice) ([]byte, error) {
	r := &renderer{inv: inv, loc: inv.Location}
	if r.loc == nil {
		r.loc = time.UTC
	}
	if err := r.render(); err != nil {
		return nil, fmt.Errorf("invoice %s: %w", inv.Number, err)
	}
	var buf bytes.Buffer
	if _, err := r.pdf.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("invoice %s: %w", inv.Number, err)
	}
	return buf.Bytes(), nil
}

// renderer lays out one invoice.
type renderer struct {
	inv Invoice
	loc *time.Location
	pdf gopdf.GoPdf
	y   float64
	err error
}

func (r *renderer) render() error {
	r.pdf.Start(gopdf.Config{PageSize: *gopdf.PageSizeA4})
	r.pdf.SetInfo(gopdf.PdfInfo{
		Title: "Invoice " + r.inv.Number, Author: r.inv.Seller.Company, Creator: "gpcore",
		Producer: "gpcore", CreationDate: r.inv.IssuedAt,
	})
	if err := r.pdf.AddTTFFontData(fontRegular, goregular.TTF); err != nil {
		return err
	}
	if err := r.pdf.AddTTFFontData(fontBold, gobold.TTF); err != nil {
		return err
	}
	r.newPage()
	r.header()
	r.parties()
	r.table()
	r.totals()
	r.notes()
	return r.err
}

// newPage starts a page at its top margin.
func (r *renderer) newPage() {
	r.pdf.AddPage()
	r.y = marginTop
}

// room starts a new page unless h more points fit on this one.
func (r *renderer) room(h float64) {
	if r.y+h > pageBottom {
		r.newPage()
	}
}

// text prints s at (x, r.y) in font at size, aligned within width w
// (gopdf.Left or gopdf.Right); the first failure sticks in r.err.
func (r *renderer) text(x, w float64, font string, size float64, align int, s string) {
	if r.err != nil {
		return
	}
	if r.err = r.pdf.SetFont(font, "", size); r.err != nil {
		return
	}
	r.pdf.SetXY(x, r.y)
	r.err = r.pdf.CellWithOption(&gopdf.Rect{W: w, H: lineH}, printable(s), gopdf.CellOption{Align: align | gopdf.Top})
}

// wrapped prints s within width w from x on as many lines as it needs and
// returns how many it took.
func (r *renderer) wrapped(x, w float64, font string, size float64, s string) int {
	if r.err != nil {
		return 1
	}
	if r.err = r.pdf.SetFont(font, "", size); r.err != nil {
		return 1
	}
	lines, err := r.pdf.SplitTextWithWordWrap(printable(s), w)
	if err != nil || len(lines) == 0 {
		lines = []string{printable(s)}
	}
	y := r.y
	for i, l := range lines {
		r.y = y + float64(i)*lineH
		r.text(x, w, font, size, gopdf.Left, l)
	}
	r.y = y
	return len(lines)
}

// amount formats minor units in the invoice's currency and locale.
func (r *renderer) amount(v int64) string {
	return money.Format(v, r.inv.Currency, r.inv.Locale)
}

// date formats t as a day on the buyer's calendar.
func (r *renderer) date(t time.Time) string { return t.In(r.loc).Format("2 January 2006") }

func (r *renderer) header() {
	r.text(marginX, contentW, fontBold, 20, gopdf.Left, "Invoice")
	r.text(marginX, contentW, fontBold, 11, gopdf.Right, "Invoice number: "+r.inv.Number)
	r.y += 2 * lineH
	r.text(marginX, contentW, fontRegular, 10, gopdf.Right, "Date of issue: "+r.date(r.inv.IssuedAt))
	r.y += lineH
	last := r.inv.PeriodEnd.Add(-time.Nanosecond)
	r.text(marginX, contentW, fontRegular, 10, gopdf.Right,
		fmt.Sprintf("Billing period: %s to %s (%s)", r.date(r.inv.PeriodStart), r.date(last), r.loc))
	r.y += 2 * lineH
}

func (r *renderer) parties() {
	top := r.y
	half := contentW/2 - 10
	seller := r.party(marginX, half, "From", r.inv.Seller)
	r.y = top
	buyer := r.party(marginX+contentW/2, half, "Bill to", r.inv.Buyer)
	r.y = max(seller, buyer) + lineH
}

// party prints a party's block at x and returns the y below it.
func (r *renderer) party(x, w float64, title string, p Party) float64 {
	r.text(x, w, fontBold, 10, gopdf.Left, title)
	r.y += lineH
	var lines []string
	for _, s := range []string{p.Company, p.Name} {
		if s != "" {
			lines = append(lines, s)
		}
	}
	lines = append(lines, p.Address...)
	if p.VATID != "" {
		lines = append(lines, "VAT ID: "+p.VATID)
	}
	if p.Email != "" {
		lines = append(lines, p.Email)
	}
	for _, l := range lines {
		r.y += float64(r.wrapped(x, w, fontRegular, 10, l)) * lineH
	}
	return r.y
}

func (r *renderer) tableHeader() {
	r.text(marginX, descW, fontBold, 9, gopdf.Left, "Description")
	r.text(colQtyX, colUnitX-colQtyX-5, fontBold, 9, gopdf.Left, "Quantity")
	r.text(colUnitX, colUnitW, fontBold, 9, gopdf.Right, "Unit price")
	r.text(colAmountX, colAmountW, fontBold, 9, gopdf.Right, "Amount")
	r.y += lineH
	r.pdf.Line(marginX, r.y, marginX+contentW, r.y)
	r.y += 4
}

func (r *renderer) table() {
	r.tableHeader()
	for _, l := range r.inv.Lines {
		r.room(3 * lineH)
		if r.y == marginTop {
			r.tableHeader()
		}
		n := r.wrapped(marginX, descW, fontRegular, 9, l.Description)
		r.text(colQtyX, colUnitX-colQtyX-5, fontRegular, 9, gopdf.Left, l.Quantity)
		r.text(colUnitX, colUnitW, fontRegular, 9, gopdf.Right, r.amount(l.UnitPrice))
		r.text(colAmountX, colAmountW, fontRegular, 9, gopdf.Right, r.amount(l.Amount))
		r.y += float64(n) * lineH
		if l.Detail != "" {
			r.y += float64(r.wrapped(marginX+10, descW-10, fontRegular, 8, l.Detail)) * lineH
		}
		r.y += 3
	}
	r.pdf.Line(marginX, r.y, marginX+contentW, r.y)
	r.y += lineH / 2
}

func (r *renderer) totals() {
	r.room(6 * lineH)
	row := func(font, label string, v int64) {
		r.text(colQtyX, colAmountX-colQtyX, font, 10, gopdf.Left, label)
		r.text(colAmountX, colAmountW, font, 10, gopdf.Right, r.amount(v))
		r.y += lineH
	}
	tax := fmt.Sprintf("VAT %s %%", percent(r.inv.TaxRateBP))
	if r.inv.ReverseCharge {
		tax += " (reverse charge)"
	}
	row(fontRegular, "Net amount", r.inv.Net)
	row(fontRegular, tax, r.inv.Tax)
	row(fontRegular, "Gross amount", r.inv.Gross)
	row(fontRegular, "Credit", -r.inv.Credit)
	row(fontBold, "Total due", r.inv.Total)
	r.y += lineH
}

func (r *renderer) notes() {
	var notes []string
	if r.inv.ReverseCharge {
		notes = append(notes, "Reverse charge: the recipient is liable for the VAT (Article 196, Council Directive 2006/112/EC).")
	}
	notes = append(notes, "Hourly nodes are billed per started hour, monthly nodes per month in advance, licences per licence month.")
	for _, n := range notes {
		r.room(2 * lineH)
		r.y += float64(r.wrapped(marginX, contentW, fontRegular, 8, n)) * lineH
	}
}

// percent writes basis points as a percentage: 1900 is "19", 810 "8.1".
func percent(bp int32) string {
	s := fmt.Sprintf("%d.%02d", bp/100, bp%100)
	return strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
}

// glyphs reports which runes the regular font can print; the bold font has
// the same coverage. It is safe for concurrent use.
var glyphs = func() func(rune) bool {
	f, err := sfnt.Parse(goregular.TTF)
	if err != nil {
		panic(fmt.Sprintf("invoice: the embedded Go font does not parse: %v", err))
	}
	var (
		mu    sync.Mutex
		buf   sfnt.Buffer
		cache = map[rune]bool{}
	)
	return func(c rune) bool {
		mu.Lock()
		defer mu.Unlock()
		ok, seen := cache[c]
		if !seen {
			i, err := f.GlyphIndex(&buf, c)
			ok = err == nil && i != 0
			cache[c] = ok
		}
		return ok
	}
}()

// printable replaces what the fonts cannot print: spaces by a no-break
// space or a space, anything else by "?". Control characters go.
func printable(s string) string {
	return strings.Map(func(c rune) rune {
		switch {
		case c == ' ' || glyphs(c):
			return c
		case unicode.IsControl(c):
			return -1
		case unicode.IsSpace(c) && glyphs('\u00a0'):
			return '\u00a0'
		case unicode.IsSpace(c):
			return ' '
		}
		return '?'
	}, s)
}
