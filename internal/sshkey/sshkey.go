// Package sshkey reads the OpenSSH public key lines users paste (the content
// of an id_*.pub file) and tells what they hold: the key family and exact
// algorithm, its size, its SHA256 fingerprint as `ssh-keygen -lf` prints it,
// and the line in normal form. Parsing is done for real with
// golang.org/x/crypto/ssh: the base64 data is decoded and the key inside is
// checked, not just the first word.
//
// Accepted: ssh-rsa of 2048 bits or more (up to 16384, OpenSSH's own limit),
// ecdsa-sha2-nistp256, -nistp384 and -nistp521, ssh-ed25519, and the
// security-key forms sk-ecdsa-sha2-nistp256@openssh.com and
// sk-ssh-ed25519@openssh.com, which map to the ECDSA and ED25519 families.
//
// Refused, each with a reason that names what to do instead (a fault.Invalid
// error on the field "public_key"):
//
//   - DSA (ssh-dss). The API's SSHKeyType has SSH_KEY_TYPE_DSA, but DSA keys
//     are fixed at 1024 bits, OpenSSH has disabled them since 7.0 (2015) and
//     removed them in 10.0, so a node would not accept one anyway. Type
//     therefore has no DSA value and SSH_KEY_TYPE_DSA is never produced.
//   - RSA keys shorter than 2048 bits.
//   - Lines with authorized_keys options in front (`restrict,command="..."
//     ssh-ed25519 AAAA...`). The options are recognised as options (they are
//     scanned with their quoting, so quoted spaces and commas never make a
//     word of them look like the key type) and the line is refused rather
//     than stored without them: dropping from="..." or command="..." in
//     silence would let the key do more on the nodes it is installed on than
//     the user asked for.
//   - A type word that does not match the algorithm inside the key data.
//   - Certificates, ML-DSA keys, private keys, the RFC 4716 "SSH2" format,
//     several lines, and anything that is not valid base64 key data.
//
// Surrounding white space, including a CRLF line end, is ignored; the comment
// is kept whole, inner spaces included. It must be valid UTF-8 without
// control characters other than tab.
package sshkey

import (
	"crypto/rsa"
	"encoding/base64"
	"encoding/binary"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/ssh"

	"github.com/gpcore/gpcore/internal/fault"
)

// Field is the request field every refusal names.
const Field = "public_key"

// Size limits.
const (
	// MinRSABits is the smallest RSA modulus accepted.
	MinRSABits = 2048
	// MaxLineLength bounds a key line in bytes; OpenSSH bounds a public key
	// blob at 16 KiB as well, and the largest RSA key it makes (16384 bits)
	// takes under 3 KiB.
	MaxLineLength = 16 << 10
)

// Type is the family of a key, as the API's SSHKeyType enum names it.
type Type string

// The key families. There is no DSA: DSA keys are refused (see the package
// documentation).
const (
	TypeRSA     Type = "RSA"
	TypeECDSA   Type = "ECDSA"
	TypeEd25519 Type = "ED25519"
)

// Key is a parsed, accepted public key.
type Key struct {
	// Type is the key family; security-key (-sk) algorithms map to their base
	// family.
	Type Type
	// Algorithm is the exact key algorithm, e.g. "ssh-ed25519" or
	// "sk-ecdsa-sha2-nistp256@openssh.com".
	Algorithm string
	// Bits is the key size as `ssh-keygen -l` reports it: the RSA modulus
	// length, the ECDSA curve size, 256 for Ed25519.
	Bits int
	// Fingerprint is the SHA256 fingerprint in `ssh-keygen -lf` form:
	// "SHA256:" and the unpadded base64 of the digest.
	Fingerprint string
	// Comment is everything after the key data, trimmed; it may be empty.
	Comment string
	// AuthorizedKey is the line in normal form, ready for an authorized_keys
	// file: "algorithm base64" and, when there is one, " comment".
	AuthorizedKey string
}

// algorithms maps each accepted algorithm to its family and, where the size is
// fixed, its size in bits (RSA's comes from the key).
var algorithms = map[string]struct {
	typ  Type
	bits int
}{
	ssh.KeyAlgoRSA:        {TypeRSA, 0},
	ssh.KeyAlgoECDSA256:   {TypeECDSA, 256},
	ssh.KeyAlgoECDSA384:   {TypeECDSA, 384},
	ssh.KeyAlgoECDSA521:   {TypeECDSA, 521},
	ssh.KeyAlgoSKECDSA256: {TypeECDSA, 256},
	ssh.KeyAlgoED25519:    {TypeEd25519, 256},
	ssh.KeyAlgoSKED25519:  {TypeEd25519, 256},
}

// supportedList names the accepted algorithms in refusals.
const supportedList = "ssh-ed25519, ecdsa-sha2-nistp256/384/521, ssh-rsa (2048 bits or more), " +
	"sk-ssh-ed25519@openssh.com or sk-ecdsa-sha2-nistp256@openssh.com"

// example shows the expected shape in refusals.
const example = `"ssh-ed25519 AAAA... comment"`

func invalid(format string, args ...any) error {
	return fault.Invalid(Field, format, args...)
}

// Parse reads one OpenSSH public key line, "algorithm base64 [comment]", and
// returns the key, or a fault.Invalid error on Field that says why the line is
// refused.
func Parse(line string) (Key, error) {
	if len(line) > MaxLineLength {
		return Key{}, invalid("is %d bytes long, more than the %d a public key line may have", len(line), MaxLineLength)
	}
	line = strings.TrimSpace(line)
	switch {
	case line == "":
		return Key{}, invalid("is empty: paste an OpenSSH public key line such as %s", example)
	case strings.HasPrefix(line, "-----BEGIN ") && strings.Contains(line, "PRIVATE KEY"):
		return Key{}, invalid("looks like a private key: paste the public key (the .pub file) instead, and never share the private key")
	case strings.HasPrefix(line, "---- BEGIN SSH2 PUBLIC KEY"):
		return Key{}, invalid("is in the RFC 4716 (SSH2) format: convert it with `ssh-keygen -i -f FILE` and paste the result")
	case strings.ContainsAny(line, "\r\n"):
		return Key{}, invalid("has several lines: paste exactly one key line")
	case !utf8.ValidString(line):
		return Key{}, invalid("is not valid UTF-8")
	}

	algo, rest := cutField(line)
	if !isKeyTypeWord(algo) {
		return Key{}, refuseWithoutType(line)
	}
	switch {
	case algo == ssh.InsecureKeyAlgoDSA:
		return Key{}, invalid("is a DSA (ssh-dss) key: DSA keys are limited to 1024 bits and OpenSSH has disabled them " +
			"since version 7.0; create an Ed25519 key with `ssh-keygen -t ed25519` and paste its .pub file")
	case isCertificate(algo):
		return Key{}, invalid("is an OpenSSH certificate (%s): paste the plain public key instead", algo)
	}
	known, ok := algorithms[algo]
	if !ok {
		return Key{}, invalid("has the unsupported key type %q; supported are %s", algo, supportedList)
	}

	data, comment := cutField(rest)
	if data == "" {
		return Key{}, invalid("has no key data after the key type %q", algo)
	}
	blob, err := base64.StdEncoding.Strict().DecodeString(data)
	if err != nil {
		return Key{}, invalid("key data after %q is not valid base64", algo)
	}
	inner, ok := blobAlgorithm(blob)
	if !ok {
		return Key{}, invalid("key data is not an SSH public key")
	}
	if inner != algo {
		return Key{}, invalid("says %q but its key data holds a %q key: the key type word must match the key", algo, abbreviate(inner))
	}
	pub, err := ssh.ParsePublicKey(blob)
	if err != nil {
		return Key{}, invalid("key data is not a valid %s key: %s", algo, strings.TrimPrefix(err.Error(), "ssh: "))
	}
	if err := checkComment(comment); err != nil {
		return Key{}, err
	}

	bits := known.bits
	if known.typ == TypeRSA {
		bits = pub.(ssh.CryptoPublicKey).CryptoPublicKey().(*rsa.PublicKey).N.BitLen()
		if bits < MinRSABits {
			return Key{}, invalid("is a %d-bit RSA key; RSA keys need at least %d bits: create one with "+
				"`ssh-keygen -t rsa -b 4096`, or better an Ed25519 key with `ssh-keygen -t ed25519`", bits, MinRSABits)
		}
	}

	normal := strings.TrimSuffix(string(ssh.MarshalAuthorizedKey(pub)), "\n")
	if comment != "" {
		normal += " " + comment
	}
	return Key{
		Type:          known.typ,
		Algorithm:     algo,
		Bits:          bits,
		Fingerprint:   ssh.FingerprintSHA256(pub),
		Comment:       comment,
		AuthorizedKey: normal,
	}, nil
}

// cutField splits s at its first run of spaces or tabs: the first field and
// the rest with its leading blanks removed.
func cutField(s string) (field, rest string) {
	i := strings.IndexAny(s, " \t")
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.TrimLeft(s[i:], " \t")
}

// isKeyTypeWord reports whether w names a public key algorithm OpenSSH or
// x/crypto know, accepted or not. Only such a word is read as the key type;
// anything else in front is taken for authorized_keys options.
func isKeyTypeWord(w string) bool {
	if _, ok := algorithms[w]; ok {
		return true
	}
	switch w {
	case ssh.InsecureKeyAlgoDSA, ssh.KeyAlgoMLDSA44, ssh.KeyAlgoMLDSA65, ssh.KeyAlgoMLDSA87, "ssh-xmss@openssh.com":
		return true
	}
	return isCertificate(w)
}

// isCertificate reports whether w is an OpenSSH certificate type.
func isCertificate(w string) bool {
	return strings.Contains(w, "-cert-v01@")
}

// refuseWithoutType explains why line, whose first word is no key type, is
// refused: it starts with authorized_keys options, or it lacks a key type, or
// its type is unknown.
func refuseWithoutType(line string) error {
	opts, rest, ok := cutOptions(line)
	if !ok {
		return invalid("starts with authorized_keys options that have an unterminated quote")
	}
	next, _ := cutField(rest)
	if isKeyTypeWord(next) {
		return invalid("starts with authorized_keys options (%s): gpcore stores bare keys and cannot apply options, "+
			"so paste the line from the key type %q onwards", abbreviate(opts), next)
	}
	if strings.ContainsAny(opts, `=,"`) {
		return invalid("has authorized_keys options followed by %q, which is no supported key type; supported are %s",
			abbreviate(next), supportedList)
	}
	if strings.HasPrefix(opts, "AAAA") {
		return invalid("has no key type in front of the key data: paste the whole line, such as %s", example)
	}
	return invalid("starts with %q, which is no supported key type; supported are %s", abbreviate(opts), supportedList)
}

// cutOptions splits an authorized_keys options field off the front of line,
// as sshd reads it: the field ends at the first space or tab outside double
// quotes, and a backslash inside quotes escapes a quote. ok is false when a
// quote is not closed.
func cutOptions(line string) (opts, rest string, ok bool) {
	quoted := false
	for i := 0; i < len(line); i++ {
		switch c := line[i]; {
		case c == '\\' && quoted && i+1 < len(line) && line[i+1] == '"':
			i++
		case c == '"':
			quoted = !quoted
		case (c == ' ' || c == '\t') && !quoted:
			return line[:i], strings.TrimLeft(line[i:], " \t"), true
		}
	}
	return line, "", !quoted
}

// blobAlgorithm reads the algorithm name that starts every SSH public key
// blob (RFC 4253, section 6.6): a uint32 length and that many bytes.
func blobAlgorithm(blob []byte) (string, bool) {
	if len(blob) < 4 {
		return "", false
	}
	n := binary.BigEndian.Uint32(blob)
	if n == 0 || uint64(n) > uint64(len(blob)-4) {
		return "", false
	}
	return string(blob[4 : 4+n]), true
}

// checkComment refuses comments that could not be stored or shown safely.
func checkComment(c string) error {
	for _, r := range c {
		if r != '\t' && unicode.IsControl(r) {
			return invalid("comment contains the control character %U", r)
		}
	}
	return nil
}

// maxQuoted bounds how much of the user's input a refusal quotes.
const maxQuoted = 40

// abbreviate shortens s for quoting in a message.
func abbreviate(s string) string {
	if len(s) <= maxQuoted {
		return s
	}
	cut := maxQuoted
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}
