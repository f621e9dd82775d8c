package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gpcore/gpcore/internal/cli"
	"github.com/gpcore/gpcore/internal/version"
)

// envPrefix is the prefix of the environment variable that stands for each flag:
// --data-dir is GPCORE_DATA_DIR.
const envPrefix = "GPCORE_"

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "gpcore",
		Short:         "gpcore, a self-hostable bare-metal cloud serving the GPCORE API",
		Version:       version.String(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newServeCommand(), newMigrateCommand(), newAdminCommand(), &cobra.Command{
		Use:   "version",
		Short: "Print the version of this binary",
		Args:  cobra.NoArgs,
		Run:   func(cmd *cobra.Command, _ []string) { cmd.Println(version.String()) },
	})
	root.AddCommand(cli.Commands(bindEnv)...)
	return root
}

// envName is the environment variable that sets the flag called name.
func envName(name string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// bindEnv appends the environment variable's name to every flag's help and,
// before the command runs, gives each flag not set on the command line the
// value of its environment variable. Flags win over the environment.
func bindEnv(cmd *cobra.Command) {
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		f.Usage = fmt.Sprintf("%s [env %s]", f.Usage, envName(f.Name))
	})
	prev := cmd.PreRunE
	cmd.PreRunE = func(cmd *cobra.Command, args []string) error {
		var err error
		cmd.Flags().VisitAll(func(f *pflag.Flag) {
			if err != nil || f.Changed {
				return
			}
			if v, ok := os.LookupEnv(envName(f.Name)); ok {
				if serr := f.Value.Set(v); serr != nil {
					err = fmt.Errorf("environment variable %s=%q: %w", envName(f.Name), v, serr)
				}
			}
		})
		if err == nil && prev != nil {
			err = prev(cmd, args)
		}
		return err
	}
}
