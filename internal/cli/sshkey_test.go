package cli

import (
	"os"
	"strings"
	"testing"

	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	"github.com/gpcore/gpcore/internal/testserver"
)

// TestSSHKeyCommands: keys made by the real ssh-keygen are added from a file
// and from standard input, listed with ssh-keygen's fingerprints, shown in a
// project, and deleted by name.
func TestSSHKeyCommands(t *testing.T) {
	srv := testserver.Start(t)
	ada := registered(t, srv, "ada")
	ada.run("project", "create", "home")

	ed := keygen(t, "ada@laptop  work key", "-t", "ed25519")
	wantLines(t, ada.run("ssh-key", "add", ed), []string{"ID", "NAME", "TYPE", "FINGERPRINT"},
		[]string{"ada@laptop  work key", "ed25519", keygenFingerprint(t, ed)})
	ada.fails("already_exists", "ssh-key", "add", ed)

	rsa := keygen(t, "", "-t", "rsa", "-b", "3072")
	added := decode(t, ada.runIn(readFile(t, rsa), "ssh-key", "add", "--name", "build box", "-o", "json"), &cloudv1.CreateUserSSHKeyResponse{}).GetSshKey()
	if added.GetName() != "build box" || added.GetFingerprint() != keygenFingerprint(t, rsa) {
		t.Fatalf("ssh-key add from stdin = %v", added)
	}
	// Without --name or comment, the file's name.
	ecdsa := keygen(t, "", "-t", "ecdsa")
	wantLines(t, ada.run("ssh-key", "add", ecdsa), []string{"id", "ecdsa", keygenFingerprint(t, ecdsa)})

	// A comment longer than a name may be gives a name cut to 64 characters.
	long := strings.Repeat("very-long-comment-", 5) // 90 characters
	lk := keygen(t, long, "-t", "ed25519")
	cut := decode(t, ada.run("ssh-key", "add", lk, "-o", "json"), &cloudv1.CreateUserSSHKeyResponse{}).GetSshKey()
	if want := long[:63] + "…"; cut.GetName() != want {
		t.Fatalf("ssh-key add with a %d-character comment named it %q, want %q", len(long), cut.GetName(), want)
	}
	ada.run("ssh-key", "delete", cut.GetId())

	ada.fails("invalid_argument: public_key", "ssh-key", "add", "--name", "junk", keyFile(t, "ssh-ed25519 not-base64"))
	ada.fails("holds no key", "ssh-key", "add", keyFile(t, "\n"))

	keys := decode(t, ada.run("ssh-key", "list", "-o", "json"), &cloudv1.ListUserSSHKeysResponse{}).GetSshKeys()
	if len(keys) != 3 {
		t.Fatalf("ssh-key list -o json = %v", keys)
	}
	wantLines(t, ada.run("project", "ssh-keys"), []string{"ID", "NAME", "TYPE", "FINGERPRINT", "OWNER"},
		[]string{"build box", "rsa", added.GetFingerprint(), ada.email})

	if out := ada.run("ssh-key", "delete", "ada@laptop  work key"); !strings.Contains(out, "Deleted SSH key ada@laptop  work key.") {
		t.Fatalf("ssh-key delete said %q", out)
	}
	ada.run("ssh-key", "delete", added.GetId())
	ada.fails(`no SSH key named "build box"`, "ssh-key", "delete", "build box")
	list := ada.run("ssh-key", "list")
	if strings.Contains(list, "build box") || strings.Contains(list, "ed25519") || !strings.Contains(list, "ecdsa") {
		t.Fatalf("ssh-key list after the deletes:\n%s", list)
	}
}

// keyFile writes content to a key file and returns its path.
func keyFile(t *testing.T, content string) string {
	t.Helper()
	path := t.TempDir() + "/key.pub"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestValidName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"ada@laptop", "ada@laptop"},
		{"  work key  ", "work key"},
		{"ada\tlaptop", "ada laptop"},
		{strings.Repeat("x", 64), strings.Repeat("x", 64)},
		{strings.Repeat("x", 65), strings.Repeat("x", 63) + "…"},
		{strings.Repeat("é", 70), strings.Repeat("é", 63) + "…"},
		{strings.Repeat("x", 62) + " yz", strings.Repeat("x", 62) + "…"},
		{"bad\xffbyte", "bad\uFFFDbyte"},
		{"\t", ""},
	} {
		if got := validName(tc.in); got != tc.want {
			t.Errorf("validName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
