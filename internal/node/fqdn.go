package node

import (
	"errors"
	"fmt"
	"strings"
)

// Limits of host names (RFC 1035 section 2.3.4, RFC 1123 section 2.1).
const (
	// MaxFQDNLength is the longest name, in characters, without the
	// trailing dot.
	MaxFQDNLength = 253
	// MaxLabelLength is the longest label (the parts between dots).
	MaxLabelLength = 63
)

// NormalizeFQDN checks a node's host name and returns its normal form, the
// form nodes are stored, compared and shown in:
//
//   - each label (the parts between dots) is 1 to MaxLabelLength letters,
//     digits and hyphens, and neither starts nor ends with a hyphen (RFC 1123
//     allows a leading digit);
//   - the name is at most MaxFQDNLength characters;
//   - it is fully qualified: at least two labels, a host and its domain
//     ("web1.example.net", "web1.example"); a single label such as "web1"
//     or "localhost" names no domain;
//   - the last label (the top-level domain) is not all digits: RFC 1123
//     section 2.1 says a valid host name can never have the dotted-decimal
//     form #.#.#.#, so "1.2.3.4" is an address, not a name;
//   - one trailing dot, the root of an absolute name, is accepted and
//     dropped;
//   - upper case is folded to lower case, since DNS names compare without
//     case: "Web1.Example.NET." is "web1.example.net".
func NormalizeFQDN(name string) (string, error) {
	name = strings.TrimSuffix(name, ".")
	if name == "" {
		return "", errors.New("a host name is required")
	}
	if len(name) > MaxFQDNLength {
		return "", fmt.Errorf("longer than %d characters", MaxFQDNLength)
	}
	for _, c := range []byte(name) {
		if c >= 0x80 {
			// Checked before folding: strings.ToLower maps some non-ASCII
			// letters (the Kelvin sign) to ASCII ones.
			return "", errors.New("only ASCII letters, digits, hyphens and dots are allowed")
		}
	}
	name = strings.ToLower(name)
	for label := range strings.SplitSeq(name, ".") {
		if err := checkLabel(label); err != nil {
			return "", err
		}
	}
	if !strings.Contains(name, ".") {
		return "", fmt.Errorf("one label is not a fully qualified domain name: give the host and its domain, as in %s.example.net", name)
	}
	if tld := name[strings.LastIndexByte(name, '.')+1:]; allDigits(tld) {
		return "", fmt.Errorf("the last label %q is all digits: a host name never has the form of an IPv4 address (RFC 1123 section 2.1)", tld)
	}
	return name, nil
}

// allDigits reports whether label is made of decimal digits only.
func allDigits(label string) bool {
	for _, c := range []byte(label) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// checkLabel checks one lower-cased label of a host name.
func checkLabel(label string) error {
	switch {
	case label == "":
		return errors.New("empty label (two dots in a row, or a leading dot)")
	case len(label) > MaxLabelLength:
		return fmt.Errorf("label %q is longer than %d characters", label, MaxLabelLength)
	case label[0] == '-' || label[len(label)-1] == '-':
		return fmt.Errorf("label %q starts or ends with a hyphen", label)
	}
	for _, c := range []byte(label) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return fmt.Errorf("label %q has a character other than letters, digits and hyphens", label)
		}
	}
	return nil
}
