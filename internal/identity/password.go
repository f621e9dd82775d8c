package identity

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/gpcore/gpcore/internal/fault"
)

// Password length bounds, in characters (runes).
const (
	MinPasswordLength = 10
	MaxPasswordLength = 128
)

// PasswordRule states the password rule; every refusal of a password quotes it.
const PasswordRule = "a password must be 10 to 128 characters long, mix at least two kinds of " +
	"characters (lower-case letters, upper-case letters, digits, other characters) and must not " +
	"be the e-mail address or the part of it before the @"

// checkPassword applies PasswordRule to password for the (lower-cased) e-mail
// address email; the error names the field "password".
func checkPassword(password, email string) error {
	refuse := func(reason string) error {
		return fault.Invalid("password", "%s: %s", reason, PasswordRule)
	}
	if !utf8.ValidString(password) {
		return refuse("not valid UTF-8")
	}
	n := utf8.RuneCountInString(password)
	switch {
	case n < MinPasswordLength:
		return refuse("too short")
	case n > MaxPasswordLength:
		return refuse("too long")
	}
	if CharacterKinds(password) < 2 {
		return refuse("only one kind of character")
	}
	local, _, _ := strings.Cut(email, "@")
	if p := strings.ToLower(password); p == email || p == local {
		return refuse("the e-mail address")
	}
	return nil
}

// CharacterKinds is how many kinds of characters s mixes, of four:
// lower-case letters, upper-case letters, digits and other characters.
func CharacterKinds(s string) int {
	var lower, upper, digit, other bool
	for _, r := range s {
		switch {
		case unicode.IsLower(r):
			lower = true
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsDigit(r):
			digit = true
		default:
			other = true
		}
	}
	kinds := 0
	for _, has := range []bool{lower, upper, digit, other} {
		if has {
			kinds++
		}
	}
	return kinds
}

// argon2id parameters for new hashes: the OWASP Password Storage Cheat Sheet's
// first recommendation (19 MiB, two passes, one lane). Stored hashes carry
// their own parameters, so these can be raised without breaking old hashes.
const (
	argonMemoryKiB = 19 * 1024
	argonTime      = 2
	argonThreads   = 1
	argonSaltLen   = 16
	argonKeyLen    = 32
)

var errMalformedHash = errors.New("identity: malformed password hash")

// hashSecret hashes a password or client secret with argon2id into the PHC
// string format: $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>.
func hashSecret(secret string) string {
	salt := make([]byte, argonSaltLen)
	_, _ = rand.Read(salt) // crypto/rand.Read never fails
	key := argon2.IDKey([]byte(secret), salt, argonTime, argonMemoryKiB, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, argonMemoryKiB, argonTime, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// verifySecret reports whether secret matches hash, a string made by
// hashSecret. The comparison is constant-time.
func verifySecret(hash, secret string) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return false, errMalformedHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errMalformedHash
	}
	var memory, passes uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &memory, &passes, &threads); err != nil ||
		memory == 0 || passes == 0 || threads == 0 {
		return false, errMalformedHash
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, errMalformedHash
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false, errMalformedHash
	}
	got := argon2.IDKey([]byte(secret), salt, passes, memory, threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// newSecret returns 32 random bytes, base64url-encoded without padding
// (43 characters): client secrets and e-mail confirmation tokens.
func newSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}
