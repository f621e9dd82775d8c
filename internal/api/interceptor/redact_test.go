package interceptor

import (
	"encoding/json"
	"net/http"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	_ "github.com/gpcore/gpcore/gen/gpcore/api/admin/v1"
	authv1 "github.com/gpcore/gpcore/gen/gpcore/api/auth/v1"
	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	_ "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v2"
	_ "github.com/gpcore/gpcore/gen/gpcore/api/gateway/v1"
	_ "github.com/gpcore/gpcore/gen/gpcore/api/metadata/v1"
	_ "github.com/gpcore/gpcore/gen/gpcore/api/network/v1"
	_ "github.com/gpcore/gpcore/gen/gpcore/api/payment/v1"
)

// secretName is what a field name that holds a secret looks like.
var secretName = regexp.MustCompile(`password|secret|token|private_?key|passphrase|credential`)

// TestSecretFieldsAreRedacted walks every message of our protos: a string or
// bytes field whose name says it holds a secret must be marked
// [debug_redact = true], so that the audit log never stores it.
func TestSecretFieldsAreRedacted(t *testing.T) {
	var unmarked []string
	marked := 0
	protoregistry.GlobalFiles.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		if !strings.HasPrefix(fd.Path(), "gpcore/") {
			return true
		}
		var walk func(protoreflect.MessageDescriptors)
		walk = func(msgs protoreflect.MessageDescriptors) {
			for i := range msgs.Len() {
				md := msgs.Get(i)
				walk(md.Messages())
				for j := range md.Fields().Len() {
					f := md.Fields().Get(j)
					if isSecret(f) {
						marked++
						continue
					}
					if (f.Kind() == protoreflect.StringKind || f.Kind() == protoreflect.BytesKind) && secretName.MatchString(string(f.Name())) {
						unmarked = append(unmarked, string(f.FullName()))
					}
				}
			}
		}
		walk(fd.Messages())
		return true
	})
	if len(unmarked) > 0 {
		slices.Sort(unmarked)
		t.Errorf("secret-looking fields without [debug_redact = true]; mark them in proto/ and run make generate:\n  %s", strings.Join(unmarked, "\n  "))
	}
	if marked == 0 {
		t.Errorf("no field is marked [debug_redact = true]: the protos are not loaded")
	}
}

// TestRequestJSON: secrets are redacted at any depth, in the copy only; the
// rest of the request is kept.
func TestRequestJSON(t *testing.T) {
	register := &authv1.RegisterRequest{Email: "a@example.com", Password: "hunter2hunter2", FirstName: "A"}
	got := string(requestJSON(register))
	if strings.Contains(got, "hunter2") || !strings.Contains(got, `"password":"`+Redacted+`"`) || !strings.Contains(got, "a@example.com") {
		t.Errorf("RegisterRequest = %s", got)
	}
	if register.GetPassword() != "hunter2hunter2" {
		t.Errorf("the request itself was changed")
	}

	nested := &authv1.RegisterResponse{Tokens: &cloudv1.AccessTokenPair{AccessToken: "eyJ.access", RefreshToken: "eyJ.refresh"}}
	got = string(requestJSON(nested))
	if strings.Contains(got, "eyJ") {
		t.Errorf("nested tokens kept: %s", got)
	}

	optional := "s3cr3t-root-pw"
	list := &cloudv1.CreateNodeRequest{ProjectId: "p", Password: &optional}
	got = string(requestJSON(list))
	if strings.Contains(got, optional) || !strings.Contains(got, `"projectId":"p"`) {
		t.Errorf("CreateNodeRequest = %s", got)
	}

	plain := &cloudv1.GetProjectRequest{Id: "p-1"}
	var back map[string]string
	if err := json.Unmarshal(requestJSON(plain), &back); err != nil || back["id"] != "p-1" {
		t.Errorf("GetProjectRequest = %s (%v)", requestJSON(plain), err)
	}

	big := &cloudv1.CreateUserSSHKeyRequest{Name: "k", PublicKey: strings.Repeat("A", maxPayload)}
	if got := string(requestJSON(big)); !strings.Contains(got, "@omitted") || len(got) > 200 {
		t.Errorf("a request over the limit = %.200s", got)
	}
}

func TestValidRequestID(t *testing.T) {
	for id, want := range map[string]bool{
		"":                                      false,
		"0d9f5a3e-6d1b-4c8e-9f7a-2b1c3d4e5f60":  true,
		"req_01HF3Z:abc.def+/=":                 true,
		strings.Repeat("a", MaxRequestIDLength): true,
		strings.Repeat("a", MaxRequestIDLength+1): false,
		"has space": false,
		"new\nline": false,
		"ünïcode":   false,
		"<script>":  false,
	} {
		if got := validRequestID(id); got != want {
			t.Errorf("validRequestID(%q) = %v, want %v", id, got, want)
		}
	}
}

func TestClientIP(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	tests := []struct {
		name    string
		peer    string
		xff     []string
		proxies []netip.Prefix
		want    string
	}{
		{"no proxies: the header is ignored", "203.0.113.7:5000", []string{"198.51.100.1"}, nil, "203.0.113.7"},
		{"untrusted peer: the header is ignored", "203.0.113.7:5000", []string{"198.51.100.1"}, proxies, "203.0.113.7"},
		{"trusted peer, one hop", "10.1.2.3:5000", []string{"198.51.100.1"}, proxies, "198.51.100.1"},
		{"forged left part is skipped", "10.1.2.3:5000", []string{"1.2.3.4, 198.51.100.1, 10.9.9.9"}, proxies, "198.51.100.1"},
		{"several header lines", "10.1.2.3:5000", []string{"1.2.3.4", "198.51.100.1"}, proxies, "198.51.100.1"},
		{"every hop a proxy", "10.1.2.3:5000", []string{"10.0.0.9, 10.0.0.8"}, proxies, "10.0.0.9"},
		{"trusted peer, no header", "10.1.2.3:5000", nil, proxies, "10.1.2.3"},
		{"junk stops the walk at the last proxy", "10.1.2.3:5000", []string{"198.51.100.1, junk, 10.0.0.5"}, proxies, "10.0.0.5"},
		{"hop with a port", "10.1.2.3:5000", []string{"198.51.100.1:4711"}, proxies, "198.51.100.1"},
		{"IPv6 peer and hops", "[fd00::1]:443", []string{"2001:db8::5, fd00::2"}, proxies, "2001:db8::5"},
		{"IPv4-mapped peer", "[::ffff:10.1.2.3]:5000", []string{"198.51.100.1"}, proxies, "198.51.100.1"},
		{"peer without a port", "unix-socket", nil, proxies, "unix-socket"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := clientIP(tt.peer, tt.xff, tt.proxies); got != tt.want {
				t.Errorf("clientIP(%q, %q) = %q, want %q", tt.peer, tt.xff, got, tt.want)
			}
		})
	}
}

func TestUserAgent(t *testing.T) {
	long := strings.Repeat("a", maxUserAgent-1) + "é"
	for ua, want := range map[string]string{
		"curl/8":              "curl/8",
		long:                  long[:maxUserAgent-1],
		long[:maxUserAgent-1]: long[:maxUserAgent-1],
	} {
		if got := userAgent(http.Header{"User-Agent": {ua}}); got != want {
			t.Errorf("userAgent(%d bytes) = %d bytes, want %d", len(ua), len(got), len(want))
		}
	}
}
