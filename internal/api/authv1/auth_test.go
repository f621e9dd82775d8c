package authv1_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"connectrpc.com/connect"

	authv1 "github.com/gpcore/gpcore/gen/gpcore/api/auth/v1"
	"github.com/gpcore/gpcore/gen/gpcore/api/auth/v1/authv1connect"
	"github.com/gpcore/gpcore/internal/testserver"
)

func TestRegisterThenSignIn(t *testing.T) {
	s := testserver.Start(t)
	ctx := context.Background()
	client := authv1connect.NewAuthServiceClient(testserver.H2CClient(), s.URL, connect.WithGRPC())
	res, err := client.Register(ctx, connect.NewRequest(&authv1.RegisterRequest{
		Email: "  Grace.Hopper@Example.COM ", Password: "compilers-2-cobol", FirstName: "Grace", LastName: "Hopper",
	}))
	if err != nil {
		t.Fatal(err)
	}
	user := res.Msg.GetUser()
	if user.GetEmail() != "grace.hopper@example.com" || user.GetFullName() != "Grace Hopper" || user.GetId() == "" {
		t.Errorf("registered user = %v", user)
	}
	if res.Msg.GetTokens().GetAccessToken() == "" || res.Msg.GetTokens().GetRefreshToken() == "" {
		t.Fatalf("register returned no token pair: %v", res.Msg.GetTokens())
	}

	// The returned token works, and so does one from the token endpoint.
	for name, token := range map[string]string{
		"register token": res.Msg.GetTokens().GetAccessToken(),
		"password grant": s.PasswordToken(t, "grace.hopper@example.com", "compilers-2-cobol"),
	} {
		signedIn := authv1connect.NewAuthServiceClient(testserver.HTTPClient(), s.URL, testserver.ClientOptions(token)...)
		me, err := signedIn.GetUser(ctx, connect.NewRequest(&authv1.GetUserRequest{}))
		if err != nil {
			t.Fatalf("%s: GetUser: %v", name, err)
		}
		if me.Msg.GetUser().GetId() != user.GetId() {
			t.Errorf("%s: GetUser = %s, want %s", name, me.Msg.GetUser().GetId(), user.GetId())
		}
	}

	// The refresh token from Register refreshes at the token endpoint.
	status, tr := s.PostToken(t, url.Values{
		"grant_type": {"refresh_token"}, "client_id": {"gpcore-cli"}, "refresh_token": {res.Msg.GetTokens().GetRefreshToken()},
	})
	if status != http.StatusOK || tr.AccessToken == "" {
		t.Fatalf("refresh: %d %s %s", status, tr.Error, tr.Description)
	}
}

func TestRegisterRefusals(t *testing.T) {
	s := testserver.Start(t)
	ctx := context.Background()
	client := authv1connect.NewAuthServiceClient(testserver.HTTPClient(), s.URL)
	existing := s.Register(t)
	tests := []struct {
		name  string
		req   *authv1.RegisterRequest
		code  connect.Code
		field string // expected in the message
	}{
		{"bad email", &authv1.RegisterRequest{Email: "not-an-address", Password: "long enough 123"}, connect.CodeInvalidArgument, "email"},
		{"single-label domain", &authv1.RegisterRequest{Email: "grace@localhost", Password: "long enough 123"}, connect.CodeInvalidArgument, "email"},
		{"address literal", &authv1.RegisterRequest{Email: "grace@[192.0.2.1]", Password: "long enough 123"}, connect.CodeInvalidArgument, "email"},
		{"display name email", &authv1.RegisterRequest{Email: "Ada <ada@example.com>", Password: "long enough 123"}, connect.CodeInvalidArgument, "email"},
		{"short password", &authv1.RegisterRequest{Email: "x1@example.com", Password: "short1"}, connect.CodeInvalidArgument, "password"},
		{"one character class", &authv1.RegisterRequest{Email: "x2@example.com", Password: "aaaaaaaaaaaaaaaa"}, connect.CodeInvalidArgument, "password"},
		{"duplicate email in other case", &authv1.RegisterRequest{Email: strings.ToUpper(existing.Email), Password: "long enough 123"}, connect.CodeAlreadyExists, "email"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := client.Register(ctx, connect.NewRequest(tt.req))
			if connect.CodeOf(err) != tt.code {
				t.Fatalf("err = %v, want %v", err, tt.code)
			}
			if !strings.Contains(err.Error(), tt.field) {
				t.Errorf("error %q does not name %q", err, tt.field)
			}
		})
	}
	// The password rule is stated in the refusal.
	_, err := client.Register(ctx, connect.NewRequest(&authv1.RegisterRequest{Email: "x3@example.com", Password: "short"}))
	if !strings.Contains(err.Error(), "10") {
		t.Errorf("password refusal %q does not state the rule", err)
	}
}

func TestGetUserNeedsAValidToken(t *testing.T) {
	s := testserver.Start(t)
	ctx := context.Background()
	for name, token := range map[string]string{
		"no token":      "",
		"garbage":       "not.a.jwt",
		"foreign token": forgedToken(t),
	} {
		t.Run(name, func(t *testing.T) {
			client := authv1connect.NewAuthServiceClient(testserver.HTTPClient(), s.URL, testserver.ClientOptions(token)...)
			_, err := client.GetUser(ctx, connect.NewRequest(&authv1.GetUserRequest{}))
			if connect.CodeOf(err) != connect.CodeUnauthenticated {
				t.Fatalf("err = %v, want Unauthenticated", err)
			}
		})
	}
}

// forgedToken is a token signed by another gpcore installation's key.
func forgedToken(t *testing.T) string {
	other := testserver.Start(t)
	return other.Register(t).Token
}
