package cli

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/gpcore/gpcore/internal/testserver"
)

// person is someone using the CLI against a test server, with a home and
// config directory of their own.
type person struct {
	t               *testing.T
	srv             *testserver.Server
	email, password string
	home            string
}

// newPerson returns someone who has not signed up yet; name starts their
// e-mail address.
func newPerson(t *testing.T, srv *testserver.Server, name string) *person {
	return &person{
		t:        t,
		srv:      srv,
		email:    fmt.Sprintf("%s-%s@example.com", name, strings.ToLower(rand.Text()[:8])),
		password: "correct horse battery " + name,
		home:     t.TempDir(),
	}
}

// registered returns a new person who has signed up with `gpcore register`.
func registered(t *testing.T, srv *testserver.Server, name string) *person {
	p := newPerson(t, srv, name)
	out := p.runIn(p.password, "register", "--server", srv.URL, "--email", p.email,
		"--first-name", strings.ToUpper(name[:1])+name[1:], "--last-name", "Tester", "--password-stdin")
	if want := "Signed in to " + srv.URL + " as " + p.email + "."; !strings.Contains(out, want) {
		t.Fatalf("register said %q, want %q", out, want)
	}
	return p
}

// try runs `gpcore args...` in-process as p, with stdin as standard input,
// and returns what it wrote to standard output and its error.
func (p *person) try(stdin string, args ...string) (string, error) {
	p.t.Helper()
	p.t.Setenv("HOME", p.home)
	p.t.Setenv("XDG_CONFIG_HOME", filepath.Join(p.home, ".config"))
	root := &cobra.Command{Use: "gpcore", SilenceUsage: true, SilenceErrors: true}
	root.AddCommand(Commands(func(*cobra.Command) {})...)
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetIn(strings.NewReader(stdin))
	root.SetArgs(args)
	err := root.ExecuteContext(p.t.Context())
	return out.String(), err
}

// run is try without standard input, failing the test on an error.
func (p *person) run(args ...string) string { return p.runIn("", args...) }

// runIn is try, failing the test on an error.
func (p *person) runIn(stdin string, args ...string) string {
	p.t.Helper()
	out, err := p.try(stdin, args...)
	if err != nil {
		p.t.Fatalf("gpcore %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// fails runs `gpcore args...` and fails the test unless it fails with an
// error that contains want.
func (p *person) fails(want string, args ...string) {
	p.t.Helper()
	out, err := p.try("", args...)
	if err == nil || !strings.Contains(err.Error(), want) {
		p.t.Fatalf("gpcore %s = %v (output %q), want an error containing %q", strings.Join(args, " "), err, out, want)
	}
}

// credentialsFile is where p's credentials are kept.
func (p *person) credentialsFile() string {
	return filepath.Join(p.home, ".config", "gpcore", "credentials.json")
}

// creds reads p's credentials.
func (p *person) creds() *Credentials {
	p.t.Helper()
	c, err := loadCredentials(p.credentialsFile())
	if err != nil {
		p.t.Fatal(err)
	}
	return c
}

// setCreds replaces p's credentials.
func (p *person) setCreds(c *Credentials) {
	p.t.Helper()
	if err := c.save(p.credentialsFile()); err != nil {
		p.t.Fatal(err)
	}
}

// decode parses the JSON output of a command into msg.
func decode[M proto.Message](t *testing.T, out string, msg M) M {
	t.Helper()
	if err := protojson.Unmarshal([]byte(out), msg); err != nil {
		t.Fatalf("output is not the answer's JSON: %v\n%s", err, out)
	}
	return msg
}

// wantLines fails the test unless out has a line that contains all of
// words, for each words.
func wantLines(t *testing.T, out string, lines ...[]string) {
	t.Helper()
	for _, words := range lines {
		found := false
		for line := range strings.SplitSeq(out, "\n") {
			found = found || containsAll(line, words)
		}
		if !found {
			t.Errorf("no line has all of %q in:\n%s", words, out)
		}
	}
}

// containsAll reports whether s contains every word.
func containsAll(s string, words []string) bool {
	for _, w := range words {
		if !strings.Contains(s, w) {
			return false
		}
	}
	return true
}

// keygen makes a key pair with the real ssh-keygen and returns the path of
// its public key file.
func keygen(t *testing.T, comment string, args ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "id")
	args = append([]string{"-q", "-N", "", "-C", comment, "-f", path}, args...)
	if out, err := exec.Command("ssh-keygen", args...).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return path + ".pub"
}

// keygenFingerprint is what `ssh-keygen -l` says the key file's SHA256
// fingerprint is.
func keygenFingerprint(t *testing.T, pubFile string) string {
	t.Helper()
	out, err := exec.Command("ssh-keygen", "-l", "-E", "sha256", "-f", pubFile).Output()
	if err != nil {
		t.Fatalf("ssh-keygen -l %s: %v", pubFile, err)
	}
	return strings.Fields(string(out))[1]
}

// readFile returns the file's content.
func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
