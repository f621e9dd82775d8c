package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"connectrpc.com/connect"
	"github.com/spf13/cobra"

	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	typev1 "github.com/gpcore/gpcore/gen/gpcore/type/v1"
)

func newDatacenterCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "datacenter",
		Aliases: []string{"datacenters", "dc"},
		Short:   "Datacenters: where nodes can be ordered",
		Long: `The datacenters of the catalog. A DATACENTER argument or --datacenter flag
takes a datacenter's id, short code (fra1) or name.`,
		Args: cobra.NoArgs,
	}
	var pf pageFlags
	list := listCommand("List the datacenters, those coming soon included", &pf, func(ctx context.Context, c *call) error {
		res, err := c.cloud.ListDatacenters(ctx, connect.NewRequest(&cloudv1.ListDatacentersRequest{Pagination: pf.request()}))
		if err != nil {
			return err
		}
		return c.printPage(res.Msg, func(w io.Writer) error {
			t := newTable(w, "ID", "SHORT", "NAME", "REGION", "COUNTRY", "STATUS")
			for _, dc := range res.Msg.GetDatacenters() {
				t.row(dc.GetId(), dc.GetShort(), dc.GetName(), dc.GetRegion().GetName(), dc.GetRegion().GetCountryCode(), upperName(dc.GetStatus()))
			}
			return t.flush()
		})
	})
	cmd.AddCommand(list)
	return cmd
}

func newFlavourCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "flavour",
		Aliases: []string{"flavours", "flavor", "flavors"},
		Short:   "Flavours: the kinds of server a datacenter offers, with prices",
		Args:    cobra.NoArgs,
	}
	var (
		project, datacenter string
		soldOut             bool
		pf                  pageFlags
	)
	list := listCommand("List the flavours a datacenter offers, priced in the project's currency", &pf, func(ctx context.Context, c *call) error {
		projectID, err := c.projectID(ctx, project)
		if err != nil {
			return err
		}
		dcID, err := c.datacenterID(ctx, datacenter)
		if err != nil {
			return err
		}
		res, err := c.cloud.ListProjectFlavours(ctx, connect.NewRequest(&cloudv1.ListProjectFlavoursRequest{
			Id: projectID, DatacenterId: dcID, IncludeSoldOut: soldOut, Pagination: pf.request(),
		}))
		if err != nil {
			return err
		}
		return c.printPage(res.Msg, func(w io.Writer) error {
			t := newTable(w, "ID", "NAME", "CPU", "MEMORY", "DISK", "NETWORK", "PER HOUR", "PER MONTH", "AVAILABILITY")
			for _, f := range res.Msg.GetFlavours() {
				t.row(f.GetId(), f.GetName(), f.GetCpu(), f.GetMemory(), f.GetDisk(), f.GetNetwork(),
					priceText(f.GetPricePerHour()), priceText(f.GetPricePerMonth()), enumName(f.GetAvailability()))
			}
			return t.flush()
		})
	})
	addProjectFlag(list, &project)
	list.Flags().StringVar(&datacenter, "datacenter", "", "datacenter id, short code or name (required)")
	list.Flags().BoolVar(&soldOut, "include-sold-out", false, "list the flavours without free servers too")
	list.Use = "list --datacenter DATACENTER"
	cmd.AddCommand(list)
	return cmd
}

func newImageCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "image",
		Aliases: []string{"images"},
		Short:   "Images: the operating systems nodes are installed with",
		Long: `The public images, by operating system. An --image flag takes an image's
id, alias (debian-12) or name.`,
		Args: cobra.NoArgs,
	}
	var pf pageFlags
	list := listCommand("List the public images by operating system", &pf, func(ctx context.Context, c *call) error {
		res, err := c.cloud.ListPublicImages(ctx, connect.NewRequest(&cloudv1.ListPublicImagesRequest{Pagination: pf.request()}))
		if err != nil {
			return err
		}
		return c.printPage(res.Msg, func(w io.Writer) error {
			t := newTable(w, "ID", "ALIAS", "NAME", "OPERATING SYSTEM", "LOGIN", "AUTHENTICATION", "AVAILABLE")
			for _, os := range res.Msg.GetOperatingSystems() {
				for _, img := range os.GetImages() {
					t.row(img.GetId(), img.GetAlias(), img.GetName(), os.GetName(), img.GetUsername(),
						authTypes(img.GetAuthenticationTypes()), yesNo(img.GetAvailable()))
				}
			}
			return t.flush()
		})
	})
	cmd.AddCommand(list)
	return cmd
}

// authTypes shows the ways an image lets root log in: "ssh, password".
func authTypes(types []cloudv1.AuthenticationType) string {
	names := make([]string, len(types))
	for i, a := range types {
		names[i] = enumName(a)
	}
	return strings.Join(names, ", ")
}

// priceText shows a price as the server formatted it, else as its amount in
// minor units and currency.
func priceText(p *typev1.Price) string {
	switch {
	case p == nil:
		return ""
	case p.GetFormatted() != "":
		return p.GetFormatted()
	}
	return fmt.Sprintf("%d %s (minor units)", p.GetAmount(), p.GetCurrency())
}

// datacenterID returns the id of the datacenter ref names: an id, a short
// code or a name.
func (c *call) datacenterID(ctx context.Context, ref string) (string, error) {
	if ref == "" {
		return "", errors.New("--datacenter is required: `gpcore datacenter list` shows them")
	}
	list := func(ctx context.Context) ([]*cloudv1.Datacenter, error) {
		return allPages(ctx, func(ctx context.Context, p *typev1.PaginationRequest) ([]*cloudv1.Datacenter, *typev1.PaginationResponse, error) {
			res, err := c.cloud.ListDatacenters(ctx, connect.NewRequest(&cloudv1.ListDatacentersRequest{Pagination: p}))
			if err != nil {
				return nil, nil, err
			}
			return res.Msg.GetDatacenters(), res.Msg.GetPagination(), nil
		})
	}
	return resolve(ctx, ref, "datacenter", list, (*cloudv1.Datacenter).GetId, (*cloudv1.Datacenter).GetShort, (*cloudv1.Datacenter).GetName)
}

// flavourID returns the id of the flavour ref names (an id or a name) among
// those the datacenter offers the project, sold out or not; datacenterRef
// is how the caller named the datacenter, for errors.
func (c *call) flavourID(ctx context.Context, projectID, datacenterID, datacenterRef, ref string) (string, error) {
	list := func(ctx context.Context) ([]*cloudv1.Flavour, error) {
		return allPages(ctx, func(ctx context.Context, p *typev1.PaginationRequest) ([]*cloudv1.Flavour, *typev1.PaginationResponse, error) {
			res, err := c.cloud.ListProjectFlavours(ctx, connect.NewRequest(&cloudv1.ListProjectFlavoursRequest{
				Id: projectID, DatacenterId: datacenterID, IncludeSoldOut: true, Pagination: p,
			}))
			if err != nil {
				return nil, nil, err
			}
			return res.Msg.GetFlavours(), res.Msg.GetPagination(), nil
		})
	}
	return lookup[*cloudv1.Flavour]{kind: "flavour", scope: "in datacenter " + datacenterRef, list: list,
		id: (*cloudv1.Flavour).GetId, names: []func(*cloudv1.Flavour) string{(*cloudv1.Flavour).GetName}}.resolve(ctx, ref)
}

// imageID returns the id of the public image ref names: an id, an alias or
// a name.
func (c *call) imageID(ctx context.Context, ref string) (string, error) {
	list := func(ctx context.Context) ([]*cloudv1.BasicImage, error) {
		systems, err := allPages(ctx, func(ctx context.Context, p *typev1.PaginationRequest) ([]*cloudv1.OperatingSystem, *typev1.PaginationResponse, error) {
			res, err := c.cloud.ListPublicImages(ctx, connect.NewRequest(&cloudv1.ListPublicImagesRequest{Pagination: p}))
			if err != nil {
				return nil, nil, err
			}
			return res.Msg.GetOperatingSystems(), res.Msg.GetPagination(), nil
		})
		var images []*cloudv1.BasicImage
		for _, os := range systems {
			images = append(images, os.GetImages()...)
		}
		return images, err
	}
	return resolve(ctx, ref, "image", list, (*cloudv1.BasicImage).GetId, (*cloudv1.BasicImage).GetAlias, (*cloudv1.BasicImage).GetName)
}
