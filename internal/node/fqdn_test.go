package node_test

import (
	"strings"
	"testing"

	"github.com/gpcore/gpcore/internal/node"
)

func TestNormalizeFQDN(t *testing.T) {
	label63 := strings.Repeat("a", 63)
	// 4 labels of 61 characters and one of 5: 4*62 + 5 = 253 characters.
	long253 := strings.Repeat(strings.Repeat("b", 61)+".", 4) + "ccccc"
	for _, tc := range []struct {
		in, want string
	}{
		{"web1.example.net", "web1.example.net"},
		{"Web1.Example.NET", "web1.example.net"},
		{"web1.example.net.", "web1.example.net"},
		{"WEB1.EXAMPLE.NET.", "web1.example.net"},
		{"web1.example", "web1.example"}, // two labels are enough
		{"a.b", "a.b"},
		{"3com.example", "3com.example"},   // RFC 1123 allows a leading digit
		{"1.2.3.example", "1.2.3.example"}, // numeric labels, but not the last
		{"web1.example1", "web1.example1"}, // a last label with a digit in it
		{"192.168.0.1.nip.io", "192.168.0.1.nip.io"},
		{"a-b.c-d.example", "a-b.c-d.example"},
		{label63 + ".example", label63 + ".example"},
		{long253, long253},
		{long253 + ".", long253},
	} {
		got, err := node.NormalizeFQDN(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("NormalizeFQDN(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{
		"",
		".",
		"web1..example.net",
		".web1.example.net",
		"web1.example.net..",
		"-web1.example.net",
		"web1-.example.net",
		"web_1.example.net",
		"web 1.example.net",
		"wéb1.example.net",
		"\u212Aeb.example.net", // KELVIN SIGN lower-cases to an ASCII k
		label63 + "a.example",
		long253 + "d",
		"web1.example.net/",
		// Fully qualified: a host and its domain, never a single label.
		"web",
		"web.",
		"Web1",
		"localhost",
		label63,
		// RFC 1123 section 2.1: never the dotted-decimal form, so the last
		// label is not all digits.
		"1.2.3.4",
		"1.2.3.4.",
		"123",
		"web1.example.123",
		"WEB.0",
		"0001.00",
	} {
		if got, err := node.NormalizeFQDN(in); err == nil {
			t.Errorf("NormalizeFQDN(%q) = %q, want an error", in, got)
		}
	}
}
