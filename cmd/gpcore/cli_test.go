package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/gpcore/gpcore/internal/testserver"
)

// TestCLIFlagsFromEnvironment: the user CLI's flags have GPCORE_*
// environment variables too, as serve's do, GPCORE_SERVER among them.
func TestCLIFlagsFromEnvironment(t *testing.T) {
	srv := testserver.Start(t)
	user := srv.Register(t)
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	t.Setenv("GPCORE_SERVER", srv.URL)
	t.Setenv("GPCORE_EMAIL", user.Email)
	t.Setenv("GPCORE_PASSWORD_STDIN", "true")

	try := func(stdin string, args ...string) (string, error) {
		t.Helper()
		cmd := newRootCommand()
		var out strings.Builder
		cmd.SetOut(&out)
		cmd.SetIn(strings.NewReader(stdin))
		cmd.SetArgs(args)
		err := cmd.ExecuteContext(t.Context())
		return out.String(), err
	}
	run := func(stdin string, args ...string) string {
		t.Helper()
		out, err := try(stdin, args...)
		if err != nil {
			t.Fatalf("gpcore %s: %v", strings.Join(args, " "), err)
		}
		return out
	}
	if out := run(user.Password, "login"); !strings.Contains(out, "Signed in to "+srv.URL+" as "+user.Email) {
		t.Fatalf("login from the environment said %q", out)
	}
	t.Setenv("GPCORE_OUTPUT", "json")
	if out := run("", "whoami"); !strings.Contains(out, `"email": "`+user.Email+`"`) {
		t.Fatalf("whoami with GPCORE_OUTPUT=json said %q", out)
	}
	// GPCORE_SERVER is the server every signed-in command must be talking
	// to: another is refused, never swapped silently for the session's.
	t.Setenv("GPCORE_SERVER", "http://127.0.0.1:1")
	if out, err := try("", "node", "list"); err == nil || !strings.Contains(err.Error(), "is http://127.0.0.1:1, but you are signed in to "+srv.URL) {
		t.Fatalf("node list with GPCORE_SERVER naming another server: %q, %v", out, err)
	}
}
