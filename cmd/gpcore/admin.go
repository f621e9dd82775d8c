package main

import (
	"github.com/spf13/cobra"

	"github.com/gpcore/gpcore/internal/app"
)

func newAdminCommand() *cobra.Command {
	admin := &cobra.Command{
		Use:   "admin",
		Short: "Operator tasks done on the database directly, with or without servers running",
		Long: `Operator tasks that the API has no call for, done on the database directly:
give them the same --database (or --data-dir) as gpcore serve. They work with
servers running on the database or without. They never create or migrate it
(a --data-dir without a database is refused): run them with the binary the
servers run (a database whose schema is older or newer than the binary's is
refused).`,
	}
	credit := &cobra.Command{
		Use:   "credit",
		Short: "Credit of billing profiles, taken off their next bills",
		Long: `Credit is money the operator owes a customer (for an outage, as a goodwill
gesture): it belongs to a billing profile, in one currency, and the profile's
next bills in that currency take it off their totals, as much of each bill's
gross amount as is left (the bill's credit_price). The API has no call to give
credit; these commands do.`,
	}
	credit.AddCommand(newCreditGrantCommand(), newCreditListCommand())
	admin.AddCommand(credit)
	return admin
}

func newCreditGrantCommand() *cobra.Command {
	var cfg app.Config
	var reason string
	cmd := &cobra.Command{
		Use:   "grant BILLING_PROFILE AMOUNT CURRENCY --reason TEXT",
		Short: "Give a billing profile credit",
		Long: `Give the billing profile BILLING_PROFILE (its id) credit of AMOUNT (major units,
e.g. 25.00) in CURRENCY (EUR or USD). --reason says why, for the ledger.`,
		Example: `  gpcore admin credit grant 3f1c...e9 25.00 EUR --reason "outage of 3 May"`,
		Args:    cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			return app.GrantCredit(cmd.Context(), cfg, args[0], args[1], args[2], reason, cmd.OutOrStdout())
		},
	}
	addStorageFlags(cmd, &cfg)
	cmd.Flags().StringVar(&reason, "reason", "", "why the customer is owed the credit (required)")
	bindEnv(cmd)
	return cmd
}

func newCreditListCommand() *cobra.Command {
	var cfg app.Config
	cmd := &cobra.Command{
		Use:   "list BILLING_PROFILE",
		Short: "Show a billing profile's credit: what is left, every grant and use",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return app.ListCredit(cmd.Context(), cfg, args[0], cmd.OutOrStdout())
		},
	}
	addStorageFlags(cmd, &cfg)
	bindEnv(cmd)
	return cmd
}
