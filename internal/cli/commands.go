package cli

import "github.com/spf13/cobra"

// Commands returns the user CLI's commands, for the gpcore root command:
// login, logout, whoami, register; project, member, ssh-key; datacenter,
// flavour, image; node; billing-profile, payment, bill and usage. bind is
// called on every command that runs, once its flags are declared; cmd/gpcore
// passes the function that gives each flag its GPCORE_* environment variable
// (--server is GPCORE_SERVER).
func Commands(bind func(*cobra.Command)) []*cobra.Command {
	cmds := []*cobra.Command{
		newLoginCommand(), newLogoutCommand(), newWhoamiCommand(), newRegisterCommand(),
		newProjectCommand(), newMemberCommand(), newSSHKeyCommand(),
		newDatacenterCommand(), newFlavourCommand(), newImageCommand(), newNodeCommand(),
		newBillingProfileCommand(), newPaymentCommand(), newBillCommand(), newUsageCommand(),
	}
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Runnable() {
			bind(c)
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	for _, c := range cmds {
		walk(c)
	}
	return cmds
}
