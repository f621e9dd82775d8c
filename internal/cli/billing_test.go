package cli

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	cloudv2 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v2"
	paymentv1 "github.com/gpcore/gpcore/gen/gpcore/api/payment/v1"
	typev1 "github.com/gpcore/gpcore/gen/gpcore/type/v1"
	"github.com/gpcore/gpcore/internal/app"
	"github.com/gpcore/gpcore/internal/billing"
	"github.com/gpcore/gpcore/internal/billing/billingtest"
	"github.com/gpcore/gpcore/internal/store"
	"github.com/gpcore/gpcore/internal/store/storetest"
	"github.com/gpcore/gpcore/internal/testserver"
)

// profileArgs are the flags of a German company's billing profile.
var profileArgs = []string{"--name", "Ada Lovelace", "--company", "Analytical Engines GmbH", "--vat-id", "DE123456789",
	"--street", "Hauptstr. 1", "--postcode", "10115", "--city", "Berlin", "--country", "DE", "--billing-email", "billing@example.com"}

// TestBillingProfileAndCards: billing profiles are created, changed field by
// field and deleted; cards are added with the test provider's tokens,
// declined ones are refused readably, and the default moves.
func TestBillingProfileAndCards(t *testing.T) {
	srv := testserver.Start(t)
	ada := registered(t, srv, "ada")

	ada.fails("you have no billing profile: create one", "payment", "card", "list")
	ada.fails(`invalid_argument: --country (country_code): "XX" is not`, "billing-profile", "create", "--name", "X", "--company", "X", "--street", "X",
		"--postcode", "1", "--city", "X", "--country", "XX", "--billing-email", "x@example.com")
	wantLines(t, ada.run(append([]string{"billing-profile", "create"}, profileArgs...)...),
		[]string{"Ada Lovelace", "Analytical Engines GmbH", "DE123456789", "DE", "Berlin", "billing@example.com", "19%"})
	ops := decode(t, ada.run("billing-profile", "create", "--name", "Ops", "--company", "Example Inc.", "--country", "US",
		"--street", "1 Main St", "--city", "Springfield", "--postcode", "12345", "--billing-email", "ops@example.com", "-o", "json"),
		&paymentv1.CreateBillingProfileResponse{}).GetBillingProfile()
	wantLines(t, ada.run("billing-profile", "list"), []string{"Analytical Engines GmbH"}, []string{ops.GetId(), "Example Inc."})
	ada.fails("you have 2 billing profiles: say which with --billing-profile", "payment", "card", "list")

	// update changes the fields given and keeps the others.
	ada.fails("nothing to change", "billing-profile", "update", "Ops")
	ada.run("billing-profile", "update", "Example Inc.", "--city", "Shelbyville", "--state", "IL")
	got := decode(t, ada.run("billing-profile", "get", ops.GetId(), "-o", "json"), &cloudv1.BillingProfile{})
	if got.GetCity() != "Shelbyville" || got.GetState() != "IL" || got.GetStreet() != "1 Main St" || got.GetCompany().GetName() != "Example Inc." ||
		got.GetBillingEmail() != "ops@example.com" {
		t.Fatalf("profile after update --city --state: %v", got)
	}
	wantLines(t, ada.run("billing-profile", "get", "Ops"), []string{"City:", "12345 Shelbyville"}, []string{"Tax rate:", "0%"})
	if _, err := ada.try("n\n", "billing-profile", "delete", "Ops"); err == nil || !strings.Contains(err.Error(), "not confirmed: nothing was done") {
		t.Fatalf("billing-profile delete answered no: %v", err)
	}
	ada.run("billing-profile", "get", "Ops") // still there
	if out := ada.runIn("y\n", "billing-profile", "delete", "Ops"); !strings.Contains(out, "Deleted billing profile Ops.") {
		t.Fatalf("billing-profile delete said %q", out)
	}

	// Cards through the built-in test provider.
	ada.fails("the test payment provider refused the card: card_declined", "payment", "card", "add", "--token", "tok_chargeDeclined")
	ada.fails("the test payment provider refused the card: invalid_request", "payment", "card", "add", "--token", "4242424242424242")
	wantLines(t, ada.run("payment", "card", "add", "--token", "tok_visa"), []string{"visa •••• 4242", "yes", "yes", "yes"})
	wantLines(t, ada.run("payment", "card", "add", "--billing-profile", "Analytical Engines GmbH", "--token", "tok_mastercard"),
		[]string{"mastercard •••• 4444", "no"})
	ada.run("payment", "card", "default", "4444")
	cards := decode(t, ada.run("payment", "card", "list", "-o", "json"), &paymentv1.ListCreditCardsResponse{}).GetCreditCards()
	if len(cards) != 2 || cards[0].GetActive() || !cards[1].GetActive() || cards[1].GetType() != typev1.CreditCardType_CREDIT_CARD_TYPE_MASTERCARD {
		t.Fatalf("cards after default 4444: %v", cards)
	}
	ada.fails("give --yes to remove card 4242 without asking", "payment", "card", "remove", "4242")
	if out := ada.run("payment", "card", "remove", "4242", "--yes"); !strings.Contains(out, "Removed card 4242.") {
		t.Fatalf("card remove said %q", out)
	}
	ada.fails(`no card named "4242" (there are 4444)`, "payment", "card", "remove", "4242", "--yes")
	// Without --token the setup is left for a browser to complete.
	wantLines(t, ada.run("payment", "card", "add"), []string{"client secret is seti_test_"}, []string{"Stripe.js"})
}

// TestBillingJourney: a billed project orders a node and destroys it with
// --wait; its usage is shown; once the month is closed (a billing service on
// the server's database with a clock moved 40 days on, as the periodic sweep
// will do then), its bill is listed, detailed and saved as a PDF.
func TestBillingJourney(t *testing.T) {
	var dbcfg store.Config
	srv := testserver.Start(t, func(c *app.Config) { dbcfg = store.Config{DSN: c.Database, DataDir: c.DataDir} })
	ada := registered(t, srv, "ada")
	ada.run(append([]string{"billing-profile", "create"}, profileArgs...)...)
	ada.run("payment", "card", "add", "--billing-profile", "Analytical Engines GmbH", "--token", "tok_visa")
	ada.run("project", "create", "Web shop", "--billing-profile", "Analytical Engines GmbH")

	out := ada.runIn("s3cret-Passw0rd\n", "node", "create", "--datacenter", "fra1", "--flavour", "BM-S1", "--image", "debian-12",
		"--fqdn", "web1.example.net", "--password-stdin", "--wait")
	wantStates(t, out, "web1.example.net", "DEPLOYING", "ACTIVE")
	wantLines(t, out, []string{"Log in:", "ssh debian@", "(with the password you gave)"})
	wantStates(t, ada.run("node", "destroy", "web1.example.net", "--yes", "--wait"), "web1.example.net", "", "DESTROYED")
	usage := decode(t, ada.run("usage", "-o", "json"), &cloudv1.GetProjectUsageResponse{}).GetUsage()
	if usage.GetTotal().GetAmount() != 10 || usage.GetTotal().GetCurrency() != "EUR" || len(usage.GetFlavourUsages()) != 1 {
		t.Fatalf("usage of one BM-S1 hour: %v", usage)
	}

	// No bill before the month ends.
	if bills := decode(t, ada.run("bill", "list", "-o", "json"), &cloudv2.ListBillingProfileBillsResponse{}); len(bills.GetBills()) != 0 {
		t.Fatalf("bills before the month ended: %v", bills)
	}
	ada.fails(`no bill named "1": there are none`, "bill", "pdf", "1", "-o", filepath.Join(t.TempDir(), "x.pdf"))

	db := storetest.Open(t, dbcfg)
	later, err := billing.New(db, billing.Config{
		Now:    func() time.Time { return time.Now().AddDate(0, 0, 40) },
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := later.Sweep(context.Background()); err != nil {
		t.Fatalf("close the month: %v", err)
	}

	bills := decode(t, ada.run("bill", "list", "-o", "json"), &cloudv2.ListBillingProfileBillsResponse{})
	if len(bills.GetBills()) != 1 || len(bills.GetYears()) != 1 {
		t.Fatalf("bills after the month ended: %v", bills)
	}
	b := bills.GetBills()[0]
	total := b.GetTotalPrice().GetFormatted()
	if b.GetTotalPrice().GetAmount() != 12 || b.GetStatus() != cloudv1.BillStatus_BILL_STATUS_SUCCEEDED { // 0.10 EUR + 19% VAT
		t.Fatalf("bill: %v", b)
	}
	year := strconv.Itoa(int(bills.GetYears()[0]))
	wantLines(t, ada.run("bill", "list", "--year", year), []string{b.GetNumber(), "succeeded", total}, []string{"Years with bills", year})
	if out := ada.run("bill", "list", "--year", "1999"); strings.Contains(out, b.GetNumber()) {
		t.Fatalf("bill list --year 1999 lists the bill:\n%s", out)
	}
	wantLines(t, ada.run("bill", "get", b.GetNumber()), []string{"Number:", b.GetNumber()}, []string{"Billed to:", "Analytical Engines GmbH (VAT id DE123456789)"},
		[]string{"Total:", total}, []string{"BM-S1", "hourly", "1", "hours"}, []string{"BM-S1", "web1.example.net"})

	// The PDF: to a file named with -o, to the default name, to standard output.
	file := filepath.Join(t.TempDir(), "invoice.pdf")
	wantLines(t, ada.run("bill", "pdf", b.GetNumber(), "-o", file), []string{"Saved the invoice to " + file})
	pdf, err := os.ReadFile(file)
	if err != nil || !bytes.HasPrefix(pdf, []byte("%PDF")) {
		t.Fatalf("bill pdf -o %s wrote %.20q, %v", file, pdf, err)
	}
	// The invoice formats money for the buyer's country.
	if text, due := billingtest.Plain(billingtest.PDFText(t, pdf)), billingtest.Formatted(12, "EUR", "DE"); !strings.Contains(text, b.GetNumber()) || !strings.Contains(text, due) {
		t.Fatalf("the invoice does not show the bill's number %s and total %s:\n%s", b.GetNumber(), due, text)
	}
	t.Chdir(t.TempDir())
	ada.run("bill", "pdf", b.GetId())
	if named, err := os.ReadFile("bill-" + b.GetNumber() + ".pdf"); err != nil || !bytes.Equal(named, pdf) {
		t.Fatalf("bill pdf without -o: %v", err)
	}
	if out := ada.run("bill", "pdf", b.GetNumber(), "-o", "-"); out != string(pdf) {
		t.Fatalf("bill pdf -o - wrote %d bytes, want the %d of the PDF", len(out), len(pdf))
	}
}
