package identity

import (
	"errors"
	"strings"
	"testing"

	"github.com/gpcore/gpcore/internal/fault"
)

func TestCheckPassword(t *testing.T) {
	const email = "jane.doe@example.com"
	tests := []struct {
		name     string
		password string
		reason   string // "" means accepted
	}{
		{"letters and digits", "correcthorse42", ""},
		{"lower and upper", "CorrectHorseBattery", ""},
		{"digits and symbols", "1234-5678-90", ""},
		{"non-ASCII letters and space", "Straße über alles", ""},
		{"exactly minimum", "abcdefghi1", ""},
		{"exactly maximum", strings.Repeat("a1", MaxPasswordLength/2), ""},
		{"empty", "", "too short"},
		{"one short", "abcdefgh1", "too short"},
		{"one long", strings.Repeat("a1", MaxPasswordLength/2) + "b", "too long"},
		{"only lower", "abcdefghijkl", "only one kind"},
		{"only digits", "123456789012", "only one kind"},
		{"only upper", "ABCDEFGHIJKL", "only one kind"},
		{"only symbols", "!!!!????....", "only one kind"},
		{"the e-mail address", "Jane.Doe@Example.com", "the e-mail address"},
		{"invalid UTF-8", "abcdefghij\xff", "not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkPassword(tt.password, email)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("checkPassword(%q) = %v, want nil", tt.password, err)
				}
				return
			}
			var fe *fault.Error
			if !errors.As(err, &fe) || fe.Kind != fault.KindInvalidArgument || fe.Field != "password" {
				t.Fatalf("checkPassword(%q) = %v, want InvalidArgument on field password", tt.password, err)
			}
			if !strings.Contains(fe.Message, tt.reason) || !strings.Contains(fe.Message, PasswordRule) {
				t.Fatalf("message %q does not give reason %q and the rule", fe.Message, tt.reason)
			}
		})
	}
}

func TestCheckPasswordRefusesLocalPart(t *testing.T) {
	err := checkPassword("Jane.Doe.1234", "jane.doe.1234@example.com")
	if err == nil || !strings.Contains(err.Error(), "the e-mail address") {
		t.Fatalf("checkPassword(local part) = %v, want refusal", err)
	}
}

func TestHashSecret(t *testing.T) {
	hash := hashSecret("s3cret-Passw0rd")
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q is not an argon2id PHC string with the default parameters", hash)
	}
	if other := hashSecret("s3cret-Passw0rd"); other == hash {
		t.Fatalf("two hashes of one secret are equal: salt not random")
	}
	for _, tt := range []struct {
		secret string
		want   bool
	}{
		{"s3cret-Passw0rd", true},
		{"s3cret-passw0rd", false},
		{"", false},
	} {
		got, err := verifySecret(hash, tt.secret)
		if err != nil || got != tt.want {
			t.Errorf("verifySecret(hash, %q) = %v, %v; want %v, nil", tt.secret, got, err, tt.want)
		}
	}
}

func TestVerifySecretMalformed(t *testing.T) {
	good := hashSecret("x")
	parts := strings.Split(good, "$")
	for _, hash := range []string{
		"",
		"plain",
		"$2a$10$abcdefghijklmnopqrstuu", // bcrypt
		strings.Replace(good, "argon2id", "argon2i", 1),
		strings.Replace(good, "v=19", "v=16", 1),
		strings.Replace(good, "m=19456", "m=0", 1),
		strings.Join(append(parts[:4:4], "!!", parts[5]), "$"),
		strings.Join(append(parts[:5:5], ""), "$"),
	} {
		if _, err := verifySecret(hash, "x"); !errors.Is(err, errMalformedHash) {
			t.Errorf("verifySecret(%q) error = %v, want errMalformedHash", hash, err)
		}
	}
}

func TestNewSecret(t *testing.T) {
	a, b := newSecret(), newSecret()
	if len(a) != 43 || strings.ContainsAny(a, "+/=") {
		t.Fatalf("newSecret() = %q, want 43 base64url characters", a)
	}
	if a == b {
		t.Fatalf("two secrets are equal")
	}
}
