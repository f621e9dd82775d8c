package sshkey_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/sshkey"
)

// comment has inner runs of spaces that must survive.
const comment = "alice@laptop  work key 2025"

// keygen runs the real ssh-keygen with args in a temporary directory and
// returns the public key line it wrote.
func keygen(t *testing.T, args ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "id")
	args = append([]string{"-q", "-N", "", "-C", comment, "-f", path}, args...)
	if out, err := exec.Command(sshKeygen(t), args...).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	pub, err := os.ReadFile(path + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	return string(pub)
}

// sshKeygen returns the path of ssh-keygen; the tests need the real one.
func sshKeygen(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("ssh-keygen")
	if err != nil {
		t.Fatalf("these tests compare with OpenSSH's ssh-keygen, which is not installed: %v", err)
	}
	return path
}

// keygenFingerprint returns what `ssh-keygen -l -E sha256 -f` says of the
// public key line: its size in bits and its fingerprint.
func keygenFingerprint(t *testing.T, line string) (bits int, fingerprint string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "key.pub")
	if err := os.WriteFile(path, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(sshKeygen(t), "-l", "-E", "sha256", "-f", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ssh-keygen -lf: %v\n%s", err, out)
	}
	// "256 SHA256:... comment (ED25519)"
	fields := strings.Fields(string(out))
	if len(fields) < 2 {
		t.Fatalf("ssh-keygen -lf printed %q", out)
	}
	bits, err = strconv.Atoi(fields[0])
	if err != nil {
		t.Fatalf("ssh-keygen -lf printed %q: %v", out, err)
	}
	return bits, fields[1]
}

// skEd25519Line builds a sk-ssh-ed25519@openssh.com public key line; such keys
// live on hardware tokens, so ssh-keygen cannot make one here.
func skEd25519Line(t *testing.T) string {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	blob := ssh.Marshal(struct {
		Name        string
		KeyBytes    []byte
		Application string
	}{ssh.KeyAlgoSKED25519, pub, "ssh:"})
	return marshalLine(t, blob)
}

// skECDSALine builds a sk-ecdsa-sha2-nistp256@openssh.com public key line.
func skECDSALine(t *testing.T) string {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	point, err := priv.PublicKey.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	blob := ssh.Marshal(struct {
		Name        string
		Curve       string
		KeyBytes    []byte
		Application string
	}{ssh.KeyAlgoSKECDSA256, "nistp256", point, "ssh:"})
	return marshalLine(t, blob)
}

// marshalLine checks that x/crypto reads blob and returns it as a line with
// the test comment.
func marshalLine(t *testing.T, blob []byte) string {
	t.Helper()
	pub, err := ssh.ParsePublicKey(blob)
	if err != nil {
		t.Fatalf("constructed key: %v", err)
	}
	return strings.TrimSuffix(string(ssh.MarshalAuthorizedKey(pub)), "\n") + " " + comment + "\n"
}

func TestParseAcceptsRealKeys(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		line     func(t *testing.T) string
		typ      sshkey.Type
		algo     string
		wantBits int
	}{
		{"rsa 2048", func(t *testing.T) string { return keygen(t, "-t", "rsa", "-b", "2048") }, sshkey.TypeRSA, "ssh-rsa", 2048},
		{"rsa 4096", func(t *testing.T) string { return keygen(t, "-t", "rsa", "-b", "4096") }, sshkey.TypeRSA, "ssh-rsa", 4096},
		{"ecdsa 256", func(t *testing.T) string { return keygen(t, "-t", "ecdsa", "-b", "256") }, sshkey.TypeECDSA, "ecdsa-sha2-nistp256", 256},
		{"ecdsa 384", func(t *testing.T) string { return keygen(t, "-t", "ecdsa", "-b", "384") }, sshkey.TypeECDSA, "ecdsa-sha2-nistp384", 384},
		{"ecdsa 521", func(t *testing.T) string { return keygen(t, "-t", "ecdsa", "-b", "521") }, sshkey.TypeECDSA, "ecdsa-sha2-nistp521", 521},
		{"ed25519", func(t *testing.T) string { return keygen(t, "-t", "ed25519") }, sshkey.TypeEd25519, "ssh-ed25519", 256},
		{"sk-ed25519", skEd25519Line, sshkey.TypeEd25519, "sk-ssh-ed25519@openssh.com", 256},
		{"sk-ecdsa", skECDSALine, sshkey.TypeECDSA, "sk-ecdsa-sha2-nistp256@openssh.com", 256},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			line := tc.line(t)
			bits, fingerprint := keygenFingerprint(t, line)
			if bits != tc.wantBits {
				t.Fatalf("ssh-keygen says %d bits, want %d", bits, tc.wantBits)
			}
			canonical := strings.TrimSpace(line)

			for _, variant := range []struct{ name, line string }{
				{"as written", line},
				{"surrounding white space", " \t\n" + canonical + " \t \n\n"},
				{"CRLF", canonical + "\r\n"},
				{"tabs between fields", strings.Replace(strings.Replace(canonical, " ", "\t", 1), " ", "\t\t", 1)},
			} {
				key, err := sshkey.Parse(variant.line)
				if err != nil {
					t.Fatalf("%s: Parse: %v", variant.name, err)
				}
				want := sshkey.Key{
					Type:          tc.typ,
					Algorithm:     tc.algo,
					Bits:          bits,
					Fingerprint:   fingerprint,
					Comment:       comment,
					AuthorizedKey: canonical,
				}
				if key != want {
					t.Fatalf("%s: Parse = %+v\nwant %+v", variant.name, key, want)
				}
			}
		})
	}
}

func TestParseWithoutComment(t *testing.T) {
	t.Parallel()
	fields := strings.Fields(keygen(t, "-t", "ed25519"))
	line := fields[0] + " " + fields[1]
	key, err := sshkey.Parse(line + "  \r\n")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if key.Comment != "" || key.AuthorizedKey != line {
		t.Fatalf("Parse = %+v, want no comment and line %q", key, line)
	}
}

func TestParseRefusals(t *testing.T) {
	t.Parallel()
	ed := strings.TrimSpace(keygen(t, "-t", "ed25519"))
	edFields := strings.Fields(ed)
	edData := edFields[1]
	rsa1024 := keygen(t, "-t", "rsa", "-b", "1024")
	if bits, _ := keygenFingerprint(t, rsa1024); bits != 1024 {
		t.Fatalf("ssh-keygen made a %d-bit key, want 1024", bits)
	}
	edBlob, err := base64.StdEncoding.DecodeString(edData)
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString

	// A DSA key as ssh-keygen -t dsa wrote them (x/crypto can no longer
	// make one): p, q, g, y.
	dsaBlob := ssh.Marshal(struct {
		Name       string
		P, Q, G, Y *big.Int
	}{"ssh-dss", new(big.Int).Lsh(big.NewInt(1), 1023), new(big.Int).Lsh(big.NewInt(1), 159), big.NewInt(2), big.NewInt(3)})

	// An RSA key past OpenSSH's 16384-bit limit.
	hugeRSA := ssh.Marshal(struct {
		Name string
		E, N *big.Int
	}{"ssh-rsa", big.NewInt(65537), new(big.Int).Add(new(big.Int).Lsh(big.NewInt(1), 16400), big.NewInt(1))})

	for _, tc := range []struct {
		name, line string
		// reason is a part of the refusal's message.
		reason string
	}{
		{"empty", "", "is empty"},
		{"blank", " \r\n\t ", "is empty"},
		{"junk", "hello world", `starts with "hello"`},
		{"unknown type", "ssh-foo " + edData + " x", `starts with "ssh-foo"`},
		{"key data only", edData + " comment", "no key type in front of the key data"},
		{"type only", "ssh-ed25519", "no key data"},
		{"bad base64", "ssh-ed25519 AAAA%%%% x", "not valid base64"},
		{"truncated base64", "ssh-ed25519 " + edData[:len(edData)-1] + " x", "not valid base64"},
		{"truncated key", "ssh-ed25519 " + b64(edBlob[:len(edBlob)-3]), "not a valid ssh-ed25519 key"},
		{"trailing junk in key", "ssh-ed25519 " + b64(append(edBlob[:len(edBlob):len(edBlob)], 0, 0, 0, 1, 'x')), "not a valid ssh-ed25519 key"},
		{"not a key blob", "ssh-ed25519 " + b64([]byte{0xff, 0xff, 0xff, 0xff, 1}), "not an SSH public key"},
		{"type mismatch", "ssh-rsa " + edData + " x", `says "ssh-rsa" but its key data holds a "ssh-ed25519" key`},
		{"ecdsa curve mismatch", "ecdsa-sha2-nistp384 " + strings.Fields(keygen(t, "-t", "ecdsa", "-b", "256"))[1], `holds a "ecdsa-sha2-nistp256" key`},
		{"rsa 1024", rsa1024, "1024-bit RSA key"},
		{"rsa over 16384 bits", "ssh-rsa " + b64(hugeRSA), "rsa modulus too large"},
		{"dsa", "ssh-dss " + b64(dsaBlob) + " old", "DSA (ssh-dss) key"},
		{"certificate", certificateLine(t), "certificate"},
		{"ml-dsa", "ssh-mldsa-65 " + edData, `unsupported key type "ssh-mldsa-65"`},
		{"private key", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n", "private key"},
		{"rfc 4716", "---- BEGIN SSH2 PUBLIC KEY ----\nAAAAC3NzaC1lZDI1NTE5\n---- END SSH2 PUBLIC KEY ----", "RFC 4716"},
		{"two keys", ed + "\n" + ed, "several lines"},
		{"control character in comment", ed + " bell\x07", "control character"},
		{"invalid utf-8", ed + " \xff\xfe", "UTF-8"},
		{"too long", ed + " " + strings.Repeat("x", sshkey.MaxLineLength), "bytes long"},
		{"options", `restrict,command="echo hi",from="10.0.0.0/8" ` + ed, `options (restrict,command="echo hi",from="10.0.0....)`},
		{"single-word option", "restrict " + ed, `options (restrict)`},
		{"no-pty option", "no-pty\t" + ed, "paste the line from the key type \"ssh-ed25519\" onwards"},
		{"quoted key type in options", `command="ssh-rsa AAAA, x" ` + ed, "authorized_keys options"},
		{"escaped quote in options", `command="echo \"a b\" c",no-pty ` + ed, "authorized_keys options"},
		{"options before a dsa key", `from="h" ssh-dss ` + b64(dsaBlob), "authorized_keys options"},
		{"options before junk", `from="h a" junk AAAA`, `followed by "junk", which is no supported key type`},
		{"options alone", `from="10.0.0.1"`, `followed by "", which is no supported key type`},
		{"unterminated quote", `command="echo hi ` + ed, "unterminated quote"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			key, err := sshkey.Parse(tc.line)
			if err == nil {
				t.Fatalf("Parse(%q) = %+v, want a refusal", tc.line, key)
			}
			var fe *fault.Error
			if !errors.As(err, &fe) || fe.Kind != fault.KindInvalidArgument || fe.Field != "public_key" {
				t.Fatalf("Parse(%q) error = %v, want fault.Invalid on public_key", tc.line, err)
			}
			if !strings.Contains(fe.Message, tc.reason) {
				t.Fatalf("Parse(%q) error = %q, want it to contain %q", tc.line, fe.Message, tc.reason)
			}
		})
	}
}

// certificateLine returns an OpenSSH user certificate line.
func certificateLine(t *testing.T) string {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	cert := &ssh.Certificate{Key: key, CertType: ssh.UserCert, KeyId: "alice", ValidPrincipals: []string{"alice"}, ValidBefore: ssh.CertTimeInfinity}
	if err := cert.SignCert(rand.Reader, signer); err != nil {
		t.Fatal(err)
	}
	return string(ssh.MarshalAuthorizedKey(cert))
}

// FuzzParse checks that Parse never panics, that every refusal is a
// fault.Invalid on public_key, and that an accepted key's normal form parses
// to the same key.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"",
		"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKmLq8Q2Rcv2dGQ4zN2gP6cM7X4tqH1YBv3L9e1xv3QW alice  laptop",
		"ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ== x",
		`restrict,command="echo hi",from="10.0.0.0/8" ssh-ed25519 AAAA comment`,
		`command="a \" b" ssh-rsa`,
		"ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABB",
		"ssh-dss AAAAB3NzaC1kc3M=",
		"\r\n ssh-ed25519\tAAAA\r\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, line string) {
		key, err := sshkey.Parse(line)
		if err != nil {
			var fe *fault.Error
			if !errors.As(err, &fe) || fe.Kind != fault.KindInvalidArgument || fe.Field != "public_key" {
				t.Fatalf("Parse(%q) error = %v, want fault.Invalid on public_key", line, err)
			}
			return
		}
		if !strings.HasPrefix(key.Fingerprint, "SHA256:") || key.Bits <= 0 {
			t.Fatalf("Parse(%q) = %+v", line, key)
		}
		again, err := sshkey.Parse(key.AuthorizedKey)
		if err != nil {
			t.Fatalf("normal form %q of %q refused: %v", key.AuthorizedKey, line, err)
		}
		if again != key {
			t.Fatalf("normal form parses to %+v, want %+v", again, key)
		}
	})
}
