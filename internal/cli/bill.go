package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"connectrpc.com/connect"
	"github.com/spf13/cobra"

	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	cloudv2 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v2"
	typev1 "github.com/gpcore/gpcore/gen/gpcore/type/v1"
)

// pdfMagic starts every PDF document.
var pdfMagic = []byte("%PDF-")

func newBillCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "bill",
		Aliases: []string{"bills"},
		Short:   "Bills of a billing profile: list, details, PDF invoices",
		Long: `The monthly bills of a billing profile. A BILL argument is a bill's id or its
number; --billing-profile takes a profile's id, name or company name and
defaults to your only profile.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newBillListCommand(), newBillGetCommand(), newBillPDFCommand())
	return cmd
}

func newBillListCommand() *cobra.Command {
	var (
		profile string
		year    int32
		pf      pageFlags
	)
	cmd := listCommand("List the bills of a billing profile, newest first", &pf, func(ctx context.Context, c *call) error {
		p, err := c.billingProfile(ctx, profile)
		if err != nil {
			return err
		}
		req := &cloudv2.ListBillingProfileBillsRequest{Id: p.GetId(), Pagination: pf.request()}
		if year != 0 {
			req.Year = &year
		}
		res, err := c.cloud2.ListBillingProfileBills(ctx, connect.NewRequest(req))
		if err != nil {
			return err
		}
		return c.printPage(res.Msg, func(w io.Writer) error {
			if err := billTable(w, res.Msg.GetBills()...); err != nil {
				return err
			}
			if len(res.Msg.GetYears()) > 0 {
				fmt.Fprintf(w, "\nYears with bills (--year): %v\n", res.Msg.GetYears())
			}
			return nil
		})
	})
	addProfileFlag(cmd, &profile)
	cmd.Flags().Int32Var(&year, "year", 0, "only the bills of this year")
	return cmd
}

func newBillGetCommand() *cobra.Command {
	var profile string
	cmd := apiCommand(&cobra.Command{
		Use:   "get BILL",
		Short: "Show a bill and the usage it covers",
		Args:  cobra.ExactArgs(1),
	}, func(ctx context.Context, c *call, args []string) error {
		profileID, billID, err := c.billRef(ctx, profile, args[0])
		if err != nil {
			return err
		}
		res, err := c.cloud.GetBillingProfileBillDetails(ctx, connect.NewRequest(&cloudv1.GetBillingProfileBillDetailsRequest{Id: profileID, BillId: billID}))
		if err != nil {
			return err
		}
		b := res.Msg.GetBill()
		return c.print(res.Msg, func(w io.Writer) error {
			t := newTable(w)
			t.row("ID:", b.GetId())
			t.row("Number:", b.GetNumber())
			t.row("Status:", enumName(b.GetStatus()))
			t.row("Issued:", when(b.GetIssuedAt()))
			t.row("Billed to:", billedTo(b.GetBillingProfile()))
			t.row("Net:", priceText(b.GetNetPrice()))
			t.row("Tax:", priceText(b.GetTaxPrice()))
			t.row("Gross:", priceText(b.GetGrossPrice()))
			t.row("Credit:", priceText(b.GetCreditPrice()))
			t.row("Total:", priceText(b.GetTotalPrice()))
			if err := t.flush(); err != nil {
				return err
			}
			fmt.Fprintln(w)
			return usageTables(w, res.Msg.GetUsage())
		})
	})
	addProfileFlag(cmd, &profile)
	return cmd
}

func newBillPDFCommand() *cobra.Command {
	var profile, file string
	cmd := fileCommand(&cobra.Command{
		Use:   "pdf BILL [-o FILE]",
		Short: "Save a bill's PDF invoice",
		Long: `Save a bill's invoice as a PDF file: -o FILE, "-" for standard output, or
bill-NUMBER.pdf in the current directory. (Here -o names the file; the
command has no output format.)`,
		Example: `  gpcore bill pdf 2026-000042 -o invoice.pdf`,
		Args:    cobra.ExactArgs(1),
	}, func(ctx context.Context, c *call, args []string) error {
		profileID, billID, err := c.billRef(ctx, profile, args[0])
		if err != nil {
			return err
		}
		res, err := c.cloud.GetBillingProfileBillPdf(ctx, connect.NewRequest(&cloudv1.GetBillingProfileBillPdfRequest{Id: profileID, BillId: billID}))
		if err != nil {
			return err
		}
		pdf := res.Msg.GetPdf().GetBytes()
		if !bytes.HasPrefix(pdf, pdfMagic) {
			return fmt.Errorf("the server's invoice is not a PDF document (%s, %d bytes)", res.Msg.GetPdf().GetMimeType(), len(pdf))
		}
		if file == "-" {
			_, err := c.out.Write(pdf)
			return err
		}
		if file == "" {
			number, err := c.billNumber(ctx, profileID, billID)
			if err != nil {
				return err
			}
			file = "bill-" + number + ".pdf"
		}
		if err := writeFileAtomic(file, pdf); err != nil {
			return err
		}
		_, err = fmt.Fprintf(c.out, "Saved the invoice to %s (%d bytes).\n", file, len(pdf))
		return err
	})
	addProfileFlag(cmd, &profile)
	cmd.Flags().StringVarP(&file, "output-file", "o", "", `file to write the PDF to; "-" is standard output (default: bill-NUMBER.pdf)`)
	return cmd
}

// writeFileAtomic writes data to path through a temporary file in the same
// directory, so that path is never left half written.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// billTable writes bills as a table.
func billTable(w io.Writer, bills ...*cloudv1.Bill) error {
	t := newTable(w, "NUMBER", "ID", "STATUS", "NET", "TAX", "TOTAL", "ISSUED")
	for _, b := range bills {
		t.row(b.GetNumber(), b.GetId(), enumName(b.GetStatus()), priceText(b.GetNetPrice()), priceText(b.GetTaxPrice()),
			priceText(b.GetTotalPrice()), when(b.GetIssuedAt()))
	}
	return t.flush()
}

// billedTo names the buyer of a bill: the company, else the profile's
// name, with its VAT id.
func billedTo(p *cloudv1.BillingProfile) string {
	who := p.GetName()
	if p.GetCompany().GetName() != "" {
		who = p.GetCompany().GetName()
	}
	if vat := p.GetCompany().GetVatId(); vat != "" {
		who += " (VAT id " + vat + ")"
	}
	return who
}

// bills returns every bill of a billing profile, all pages.
func (c *call) bills(ctx context.Context, profileID string) ([]*cloudv1.Bill, error) {
	return allPages(ctx, func(ctx context.Context, p *typev1.PaginationRequest) ([]*cloudv1.Bill, *typev1.PaginationResponse, error) {
		res, err := c.cloud2.ListBillingProfileBills(ctx, connect.NewRequest(&cloudv2.ListBillingProfileBillsRequest{Id: profileID, Pagination: p}))
		if err != nil {
			return nil, nil, err
		}
		return res.Msg.GetBills(), res.Msg.GetPagination(), nil
	})
}

// billRef returns the id of the billing profile profileRef names (see
// billingProfile) and the id of its bill ref names: an id or a number.
func (c *call) billRef(ctx context.Context, profileRef, ref string) (string, string, error) {
	p, err := c.billingProfile(ctx, profileRef)
	if err != nil {
		return "", "", err
	}
	list := func(ctx context.Context) ([]*cloudv1.Bill, error) { return c.bills(ctx, p.GetId()) }
	id, err := resolve(ctx, ref, "bill", list, (*cloudv1.Bill).GetId, (*cloudv1.Bill).GetNumber)
	return p.GetId(), id, err
}

// billNumber returns the number of a bill of a billing profile.
func (c *call) billNumber(ctx context.Context, profileID, billID string) (string, error) {
	res, err := c.cloud.GetBillingProfileBillDetails(ctx, connect.NewRequest(&cloudv1.GetBillingProfileBillDetailsRequest{Id: profileID, BillId: billID}))
	if err != nil {
		return "", err
	}
	return res.Msg.GetBill().GetNumber(), nil
}
