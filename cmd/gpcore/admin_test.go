package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	paymentv1 "github.com/gpcore/gpcore/gen/gpcore/api/payment/v1"
	"github.com/gpcore/gpcore/internal/app"
	"github.com/gpcore/gpcore/internal/testserver"
)

// TestAdminCredit: gpcore admin credit grant and list work on the database
// of a running server, named by the same flags and variables as serve's,
// and refuse bad arguments by name.
func TestAdminCredit(t *testing.T) {
	var dataDir, database string
	srv := testserver.Start(t, func(c *app.Config) { dataDir, database = c.DataDir, c.Database })
	u := srv.Register(t)
	company := "Example Inc."
	profile := srv.PayingProfile(t, u, &paymentv1.CreateBillingProfileRequest{
		Name: "Ops", Company: &company, CountryCode: "US", Street: "1 Main St", City: "Springfield",
		Postcode: "12345", BillingEmail: "billing@example.com",
	}).GetId()
	t.Setenv("GPCORE_DATA_DIR", dataDir)
	t.Setenv("GPCORE_DATABASE", database)
	t.Setenv("GPCORE_LOG_LEVEL", "warn")
	run := func(args ...string) (string, error) {
		t.Helper()
		cmd := newRootCommand()
		var out strings.Builder
		cmd.SetOut(&out)
		cmd.SetErr(&out)
		cmd.SetArgs(append([]string{"admin", "credit"}, args...))
		err := cmd.ExecuteContext(t.Context())
		return out.String(), err
	}

	if out, err := run("list", profile); err != nil || !strings.Contains(out, "has never had credit") {
		t.Fatalf("credit list of a new profile: %q, %v", out, err)
	}
	out, err := run("grant", profile, "12.50", "USD", "--reason", "outage of 3 May")
	if err != nil || !strings.Contains(out, "Granted $12.50 of credit to billing profile "+profile+" (outage of 3 May).") ||
		!strings.Contains(out, "Its credit in USD is now $12.50") {
		t.Fatalf("credit grant: %q, %v", out, err)
	}
	if out, err := run("grant", profile, "0.50", "USD", "--reason", "goodwill"); err != nil || !strings.Contains(out, "now $13.00") {
		t.Fatalf("second credit grant: %q, %v", out, err)
	}
	out, err = run("list", profile)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"$13.00 left", "$12.50", "granted: outage of 3 May", "granted: goodwill"} {
		if !strings.Contains(out, want) {
			t.Errorf("credit list lacks %q:\n%s", want, out)
		}
	}

	emptyDB := t.TempDir()
	if err := os.WriteFile(filepath.Join(emptyDB, "gpcore.db"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"grant", profile, "12.50", "GBP", "--reason", "x"}, `CURRENCY "GBP"`},
		{[]string{"grant", profile, "12.505", "EUR", "--reason", "x"}, `AMOUNT "12.505"`},
		{[]string{"grant", "--reason", "x", "--", profile, "-1", "EUR"}, `AMOUNT "-1"`},
		{[]string{"grant", profile, "0", "EUR", "--reason", "x"}, "amount: must be more than zero"},
		{[]string{"grant", profile, "1", "EUR"}, "--reason: required"},
		{[]string{"grant", "6f0b0c8e-7c1e-4b8e-9d55-2b8c1f0e9a11", "1", "EUR", "--reason", "x"}, "not found"},
		{[]string{"grant", profile, "1"}, "accepts 3 arg(s)"},
		{[]string{"list", "6f0b0c8e-7c1e-4b8e-9d55-2b8c1f0e9a11"}, "not found"},
		// A database that was never migrated is not migrated by admin.
		{[]string{"list", profile, "--data-dir", emptyDB, "--database", ""}, "migrate it first"},
	} {
		if out, err := run(tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("credit %s: %q, %v; want an error with %q", strings.Join(tc.args, " "), out, err, tc.want)
		}
	}
	// The refusals granted nothing.
	if out, _ := run("list", profile); !strings.Contains(out, "$13.00 left") {
		t.Errorf("credit list after the refusals:\n%s", out)
	}
}

// TestAdminCreatesNoDatabase: an admin command given a data directory
// without a database refuses, saying how to make one, and creates neither
// the directory nor the database (serve and migrate do).
func TestAdminCreatesNoDatabase(t *testing.T) {
	parent := t.TempDir()
	for _, dir := range []string{filepath.Join(parent, "missing"), parent} {
		for _, args := range [][]string{
			{"admin", "credit", "list", "6f0b0c8e-7c1e-4b8e-9d55-2b8c1f0e9a11"},
			{"admin", "credit", "grant", "6f0b0c8e-7c1e-4b8e-9d55-2b8c1f0e9a11", "1", "EUR", "--reason", "x"},
		} {
			cmd := newRootCommand()
			cmd.SetOut(io.Discard)
			cmd.SetArgs(append(args, "--data-dir", dir, "--database", "", "--log-level", "warn"))
			err := cmd.ExecuteContext(t.Context())
			want := "no gpcore database in " + dir + " (start gpcore serve or run gpcore migrate with this --data-dir first)"
			if err == nil || err.Error() != want {
				t.Errorf("gpcore %s --data-dir %s: %v, want %q", strings.Join(args[:3], " "), dir, err, want)
			}
		}
	}
	if entries, err := os.ReadDir(parent); err != nil || len(entries) != 0 {
		t.Fatalf("the admin commands left %v (%v) in %s, want nothing", entries, err, parent)
	}
}
