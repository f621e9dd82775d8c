package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/gpcore/gpcore/internal/testserver"
)

// TestCLIFlagsFromEnvironment: the user CLI's flags have GPCORE_*
// environment variables too, as serve's do.
func TestCLIFlagsFromEnvironment(t *testing.T) {
	srv := testserver.Start(t)
	user := srv.Register(t)
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	t.Setenv("GPCORE_SERVER", srv.URL)
	t.Setenv("GPCORE_EMAIL", user.Email)
	t.Setenv("GPCORE_PASSWORD_STDIN", "true")

	run := func(stdin string, args ...string) string {
		t.Helper()
		cmd := newRootCommand()
		var out strings.Builder
		cmd.SetOut(&out)
		cmd.SetIn(strings.NewReader(stdin))
		cmd.SetArgs(args)
		if err := cmd.ExecuteContext(t.Context()); err != nil {
			t.Fatalf("gpcore %s: %v", strings.Join(args, " "), err)
		}
		return out.String()
	}
	if out := run(user.Password, "login"); !strings.Contains(out, "Signed in to "+srv.URL+" as "+user.Email) {
		t.Fatalf("login from the environment said %q", out)
	}
	t.Setenv("GPCORE_OUTPUT", "json")
	if out := run("", "whoami"); !strings.Contains(out, `"email": "`+user.Email+`"`) {
		t.Fatalf("whoami with GPCORE_OUTPUT=json said %q", out)
	}
}
