// Command gpcore is the gpcore binary: the control plane (`gpcore serve`), its
// database migrations (`gpcore migrate`) and, later, the agents and the CLI.
// This package only parses flags and calls internal/app.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRootCommand().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "gpcore:", err)
		os.Exit(1)
	}
}
