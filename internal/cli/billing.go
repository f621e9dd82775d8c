package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	"github.com/spf13/cobra"

	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	paymentv1 "github.com/gpcore/gpcore/gen/gpcore/api/payment/v1"
	typev1 "github.com/gpcore/gpcore/gen/gpcore/type/v1"
)

func newBillingProfileCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "billing-profile",
		Aliases: []string{"billing-profiles"},
		Short:   "Billing profiles: who pays for projects, where bills go",
		Long: `A billing profile is a company (or, for accounts allowed to, a person) that
pays for projects: address, country, VAT id and the address bills are sent
to. It holds the payment cards (` + "`gpcore payment card`" + `) and gets the bills
(` + "`gpcore bill`" + `). A PROFILE argument or --billing-profile flag takes a
profile's id, name or company name; left out, it is your only profile.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newBillingProfileListCommand(), newBillingProfileGetCommand(), newBillingProfileCreateCommand(),
		newBillingProfileUpdateCommand(), newBillingProfileDeleteCommand())
	return cmd
}

func newBillingProfileListCommand() *cobra.Command {
	var pf pageFlags
	cmd := listCommand("List your billing profiles", &pf, func(ctx context.Context, c *call) error {
		res, err := c.payment.ListBillingProfiles(ctx, connect.NewRequest(&paymentv1.ListBillingProfilesRequest{Pagination: pf.request()}))
		if err != nil {
			return err
		}
		return c.printPage(res.Msg, func(w io.Writer) error { return profileTable(w, res.Msg.GetBillingProfiles()...) })
	})
	return cmd
}

func newBillingProfileGetCommand() *cobra.Command {
	return apiCommand(&cobra.Command{
		Use:   "get [PROFILE]",
		Short: "Show a billing profile with its address and tax rate",
		Args:  cobra.MaximumNArgs(1),
	}, func(ctx context.Context, c *call, args []string) error {
		p, err := c.billingProfile(ctx, optionalArg(args))
		if err != nil {
			return err
		}
		return c.print(p, func(w io.Writer) error {
			t := newTable(w)
			t.row("ID:", p.GetId())
			t.row("Name:", p.GetName())
			t.row("Company:", p.GetCompany().GetName())
			t.row("VAT id:", p.GetCompany().GetVatId())
			t.row("Street:", p.GetStreet())
			t.row("City:", strings.TrimSpace(p.GetPostcode()+" "+p.GetCity()))
			t.row("State:", p.GetState())
			t.row("Country:", p.GetCountryCode())
			t.row("Billing e-mail:", p.GetBillingEmail())
			t.row("Tax rate:", fmt.Sprintf("%g%%", p.GetTaxRate()))
			t.row("Created:", when(p.GetCreatedAt()))
			return t.flush()
		})
	})
}

// profileFlags are the fields of a billing profile as create and update
// take them.
type profileFlags struct {
	name, company, vatID, country, state, street, city, postcode, email string
}

// addTo declares the flags on cmd; required says which create needs.
func (f *profileFlags) addTo(cmd *cobra.Command, required bool) {
	fl := cmd.Flags()
	need := ""
	if required {
		need = " (required)"
	}
	fl.StringVar(&f.name, "name", "", "the profile's name, e.g. the contact person's"+need)
	fl.StringVar(&f.company, "company", "", "company name; required unless your account may bill a person")
	fl.StringVar(&f.vatID, "vat-id", "", "the company's VAT id (DE123456789), where the country has VAT ids")
	fl.StringVar(&f.country, "country", "", "ISO 3166-1 country code (DE, FR, US, ...)"+need)
	fl.StringVar(&f.state, "state", "", "state or province, where the country has them")
	fl.StringVar(&f.street, "street", "", "street and number"+need)
	fl.StringVar(&f.city, "city", "", "city"+need)
	fl.StringVar(&f.postcode, "postcode", "", "postal code"+need)
	fl.StringVar(&f.email, "billing-email", "", "where bills are sent"+need)
}

// optional is s as an optional proto field: nil when empty.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func newBillingProfileCreateCommand() *cobra.Command {
	var f profileFlags
	cmd := apiCommand(&cobra.Command{
		Use:   "create",
		Short: "Create a billing profile",
		Example: `  gpcore billing-profile create --name "Ada Lovelace" --company "Analytical Engines Ltd" \
    --vat-id DE123456789 --street "Hauptstr. 1" --postcode 10115 --city Berlin --country DE \
    --billing-email billing@example.com`,
		Args: cobra.NoArgs,
	}, func(ctx context.Context, c *call, _ []string) error {
		res, err := c.payment.CreateBillingProfile(ctx, connect.NewRequest(&paymentv1.CreateBillingProfileRequest{
			Name: f.name, Company: optional(f.company), VatId: optional(f.vatID), CountryCode: f.country,
			State: optional(f.state), Street: f.street, City: f.city, Postcode: f.postcode, BillingEmail: f.email,
		}))
		if err != nil {
			return err
		}
		return c.print(res.Msg, func(w io.Writer) error { return profileTable(w, res.Msg.GetBillingProfile()) })
	})
	f.addTo(cmd, true)
	return cmd
}

func newBillingProfileUpdateCommand() *cobra.Command {
	var (
		f   profileFlags
		cmd *cobra.Command
	)
	cmd = apiCommand(&cobra.Command{
		Use:   "update PROFILE",
		Short: "Change fields of a billing profile; the others keep their values",
		Long: `Change the fields of a billing profile given as flags; the others keep their
values. An empty value clears an optional field: --vat-id "".`,
		Args: cobra.ExactArgs(1),
	}, func(ctx context.Context, c *call, args []string) error {
		p, err := c.billingProfile(ctx, args[0])
		if err != nil {
			return err
		}
		req := &paymentv1.UpdateBillingProfileRequest{
			Id: p.GetId(), Name: p.GetName(), CountryCode: p.GetCountryCode(), State: p.State, Street: p.GetStreet(),
			City: p.GetCity(), Postcode: p.GetPostcode(), BillingEmail: p.GetBillingEmail(),
		}
		if p.GetCompany() != nil {
			req.Company, req.VatId = optional(p.GetCompany().GetName()), p.GetCompany().VatId
		}
		changed := 0
		set := func(flag string, apply func()) {
			if cmd.Flags().Changed(flag) {
				apply()
				changed++
			}
		}
		set("name", func() { req.Name = f.name })
		set("company", func() { req.Company = optional(f.company) })
		set("vat-id", func() { req.VatId = optional(f.vatID) })
		set("country", func() { req.CountryCode = f.country })
		set("state", func() { req.State = optional(f.state) })
		set("street", func() { req.Street = f.street })
		set("city", func() { req.City = f.city })
		set("postcode", func() { req.Postcode = f.postcode })
		set("billing-email", func() { req.BillingEmail = f.email })
		if changed == 0 {
			return errors.New("nothing to change: give the fields to change as flags (--city, --vat-id, ...)")
		}
		res, err := c.payment.UpdateBillingProfile(ctx, connect.NewRequest(req))
		if err != nil {
			return err
		}
		return c.print(res.Msg, func(w io.Writer) error { return profileTable(w, res.Msg.GetBillingProfile()) })
	})
	f.addTo(cmd, false)
	return cmd
}

func newBillingProfileDeleteCommand() *cobra.Command {
	var yes bool
	cmd := apiCommand(&cobra.Command{
		Use:     "delete PROFILE",
		Aliases: []string{"rm"},
		Short:   "Delete a billing profile no project uses",
		Long:    `Delete a billing profile no project uses, with its cards. Asks for confirmation unless --yes.`,
		Args:    cobra.ExactArgs(1),
	}, func(ctx context.Context, c *call, args []string) error {
		p, err := c.billingProfile(ctx, args[0])
		if err != nil {
			return err
		}
		if !yes {
			if err := c.confirm(fmt.Sprintf("delete billing profile %s (%s) with its cards", p.GetName(), p.GetId())); err != nil {
				return err
			}
		}
		res, err := c.payment.DeleteBillingProfile(ctx, connect.NewRequest(&paymentv1.DeleteBillingProfileRequest{Id: p.GetId()}))
		if err != nil {
			return err
		}
		return c.done(res.Msg, "Deleted billing profile %s.", args[0])
	})
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "delete without asking")
	return cmd
}

// profileTable writes billing profiles as a table.
func profileTable(w io.Writer, profiles ...*cloudv1.BillingProfile) error {
	t := newTable(w, "ID", "NAME", "COMPANY", "VAT ID", "COUNTRY", "CITY", "BILLING E-MAIL", "TAX")
	for _, p := range profiles {
		t.row(p.GetId(), p.GetName(), p.GetCompany().GetName(), p.GetCompany().GetVatId(), p.GetCountryCode(),
			p.GetCity(), p.GetBillingEmail(), fmt.Sprintf("%g%%", p.GetTaxRate()))
	}
	return t.flush()
}

// addProfileFlag declares --billing-profile on cmd.
func addProfileFlag(cmd *cobra.Command, profile *string) {
	cmd.Flags().StringVar(profile, "billing-profile", "", "billing profile id, name or company name (default: your only profile)")
}

// billingProfileID returns the id of the billing profile ref names: an id
// as it is (the server checks it), else see billingProfile; "" stays "".
func (c *call) billingProfileID(ctx context.Context, ref string) (string, error) {
	if ref == "" || uuid.Validate(ref) == nil {
		return ref, nil
	}
	p, err := c.billingProfile(ctx, ref)
	return p.GetId(), err
}

// billingProfile returns the caller's billing profile ref names: an id, a
// name or a company name; "" is the caller's only profile.
func (c *call) billingProfile(ctx context.Context, ref string) (*cloudv1.BillingProfile, error) {
	profiles, err := allPages(ctx, func(ctx context.Context, p *typev1.PaginationRequest) ([]*cloudv1.BillingProfile, *typev1.PaginationResponse, error) {
		res, err := c.payment.ListBillingProfiles(ctx, connect.NewRequest(&paymentv1.ListBillingProfilesRequest{Pagination: p}))
		if err != nil {
			return nil, nil, err
		}
		return res.Msg.GetBillingProfiles(), res.Msg.GetPagination(), nil
	})
	if err != nil {
		return nil, err
	}
	if ref == "" {
		switch len(profiles) {
		case 0:
			return nil, errors.New("you have no billing profile: create one with `gpcore billing-profile create`")
		case 1:
			return profiles[0], nil
		}
		return nil, fmt.Errorf("you have %d billing profiles: say which with --billing-profile", len(profiles))
	}
	list := func(context.Context) ([]*cloudv1.BillingProfile, error) { return profiles, nil }
	id, err := resolve(ctx, ref, "billing profile", list, (*cloudv1.BillingProfile).GetId, (*cloudv1.BillingProfile).GetName,
		func(p *cloudv1.BillingProfile) string { return p.GetCompany().GetName() })
	if err != nil {
		return nil, err
	}
	for _, p := range profiles {
		if p.GetId() == id {
			return p, nil
		}
	}
	return nil, fmt.Errorf("you have no billing profile with the id %s", id)
}
