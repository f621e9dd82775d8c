package cli

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"connectrpc.com/connect"
	"github.com/spf13/cobra"

	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
)

func newUsageCommand() *cobra.Command {
	var (
		project   string
		totalOnly bool
	)
	cmd := apiCommand(&cobra.Command{
		Use:   "usage",
		Short: "Show what a project's nodes cost in the current billing period so far",
		Long: `Show what a project's nodes cost in the current billing period (a calendar
month in the billing profile owner's time zone) so far: per flavour and
billing period, with the units (hours, months, cores) and the nodes, and the
total. --total shows the total alone.`,
		Args: cobra.NoArgs,
	}, func(ctx context.Context, c *call, _ []string) error {
		projectID, err := c.projectID(ctx, project)
		if err != nil {
			return err
		}
		res, err := c.cloud.GetProjectUsage(ctx, connect.NewRequest(&cloudv1.GetProjectUsageRequest{Id: projectID, Detailed: !totalOnly}))
		if err != nil {
			return err
		}
		return c.print(res.Msg, func(w io.Writer) error { return usageTables(w, res.Msg.GetUsage()) })
	})
	addProjectFlag(cmd, &project)
	cmd.Flags().BoolVar(&totalOnly, "total", false, "show the total alone")
	return cmd
}

// usageTables writes a usage report: its flavour usages and their nodes,
// then the total.
func usageTables(w io.Writer, u *cloudv1.ProjectUsage) error {
	if len(u.GetFlavourUsages()) > 0 {
		t := newTable(w, "FLAVOUR", "PERIOD", "UNITS", "UNIT", "TOTAL")
		for _, f := range u.GetFlavourUsages() {
			t.row(f.GetFlavour().GetName(), enumName(f.GetPeriod()), strconv.FormatFloat(f.GetUnits(), 'f', -1, 64),
				enumName(f.GetUnitType()), priceText(f.GetTotal()))
		}
		if err := t.flush(); err != nil {
			return err
		}
		fmt.Fprintln(w)
		t = newTable(w, "FLAVOUR", "NODE ID", "NODE", "FROM", "TO")
		for _, f := range u.GetFlavourUsages() {
			for _, n := range f.GetNodeUsages() {
				t.row(f.GetFlavour().GetName(), n.GetId(), n.GetName(), when(n.GetStartedAt()), when(n.GetEndedAt()))
			}
		}
		if err := t.flush(); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}
	_, err := fmt.Fprintf(w, "Total: %s\n", priceText(u.GetTotal()))
	return err
}
