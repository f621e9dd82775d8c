package authv1_test

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"connectrpc.com/connect"

	authv1 "github.com/gpcore/gpcore/gen/gpcore/api/auth/v1"
	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	"github.com/gpcore/gpcore/internal/testserver"
)

var confirmLinkRE = regexp.MustCompile(`http://\S+/confirm-email\?token=[A-Za-z0-9_-]+`)

// followLink opens the confirmation link in the n-th mail to u, as a mail
// reader would, and returns the HTTP status and page.
func followLink(t *testing.T, s *testserver.Server, u testserver.User, n int) (int, string) {
	t.Helper()
	m := s.Mail.Wait(t, u.Email, n)
	link := confirmLinkRE.FindString(m.Body)
	if !strings.HasPrefix(link, s.URL+"/confirm-email?token=") {
		t.Fatalf("mail %d to %s has no link to this server:\n%s", n, u.Email, m.Body)
	}
	res, err := http.Get(link)
	if err != nil {
		t.Fatalf("GET %s: %v", link, err)
	}
	defer res.Body.Close()
	page, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read page: %v", err)
	}
	return res.StatusCode, string(page)
}

// confirmed reports the caller's confirmed flag from GetUser.
func confirmed(t *testing.T, api interface {
	GetUser(context.Context, *connect.Request[authv1.GetUserRequest]) (*connect.Response[authv1.GetUserResponse], error)
}) bool {
	t.Helper()
	me, err := api.GetUser(context.Background(), connect.NewRequest(&authv1.GetUserRequest{}))
	if err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	return me.Msg.GetUser().GetConfirmed()
}

// TestConfirmEmail: registering sends a confirmation mail; the caller asks
// for another, is rate-limited on the next, follows the link of the resent
// mail and is confirmed; then asking again is FailedPrecondition and either
// link says the address is confirmed already.
func TestConfirmEmail(t *testing.T) {
	s := testserver.Start(t)
	ctx := context.Background()
	for _, protocol := range []string{"connect", "grpc"} {
		t.Run(protocol, func(t *testing.T) {
			u := s.Register(t)
			api := authClient(s, protocol, u.Token)
			registration := s.Mail.Wait(t, u.Email, 1)
			if !strings.Contains(registration.Subject, "Confirm") {
				t.Fatalf("registration mail = %+v", registration)
			}
			if confirmed(t, api) {
				t.Fatal("a new account is confirmed")
			}

			if _, err := api.ResendConfirmEMail(ctx, connect.NewRequest(&authv1.ResendConfirmEMailRequest{})); err != nil {
				t.Fatalf("ResendConfirmEMail: %v", err)
			}
			_, err := api.ResendConfirmEMail(ctx, connect.NewRequest(&authv1.ResendConfirmEMailRequest{}))
			testserver.WantCode(t, err, connect.CodeResourceExhausted, "")

			status, page := followLink(t, s, u, 2)
			if status != http.StatusOK || !strings.Contains(page, u.Email+" is confirmed") {
				t.Fatalf("following the resent link: %d %s", status, page)
			}
			if !confirmed(t, api) {
				t.Fatal("GetUser does not show the account confirmed")
			}

			_, err = api.ResendConfirmEMail(ctx, connect.NewRequest(&authv1.ResendConfirmEMailRequest{}))
			testserver.WantCode(t, err, connect.CodeFailedPrecondition, "")
			for n := 1; n <= 2; n++ {
				if status, page := followLink(t, s, u, n); status != http.StatusOK || !strings.Contains(page, u.Email+" is already confirmed") {
					t.Fatalf("link of mail %d after confirmation: %d %s, want 200 saying the address is already confirmed", n, status, page)
				}
			}
			if got := len(s.Mail.To(u.Email)); got != 2 {
				t.Fatalf("%d mails sent to %s, want 2", got, u.Email)
			}
		})
	}
}

// TestResendConfirmEMailServiceAccount: a client's service account has no
// address to confirm.
func TestResendConfirmEMailServiceAccount(t *testing.T) {
	s := testserver.Start(t)
	ctx := context.Background()
	owner := s.Register(t)
	created, err := authClient(s, "connect", owner.Token).CreateClient(ctx, connect.NewRequest(&authv1.CreateClientRequest{Name: "agent"}))
	if err != nil {
		t.Fatalf("CreateClient: %v", err)
	}
	c := created.Msg.GetClient()
	_, tr := clientCredentials(t, s, c.GetId(), c.GetSecret())
	_, err = authClient(s, "connect", tr.AccessToken).ResendConfirmEMail(ctx, connect.NewRequest(&authv1.ResendConfirmEMailRequest{}))
	testserver.WantCode(t, err, connect.CodeFailedPrecondition, "")
}

// TestUpdateTimezone: every zone ListTimezones offers is accepted and shows
// in GetUser; anything else is InvalidArgument naming "timezone" and changes
// nothing.
func TestUpdateTimezone(t *testing.T) {
	s := testserver.Start(t)
	ctx := context.Background()
	for _, protocol := range []string{"connect", "grpc"} {
		t.Run(protocol, func(t *testing.T) {
			u := s.Register(t)
			var extra []connect.ClientOption
			if protocol == "grpc" {
				extra = append(extra, connect.WithGRPC())
			}
			cloud, auth := s.Cloud(u.Token, extra...), authClient(s, protocol, u.Token)
			timezone := func() string {
				t.Helper()
				me, err := auth.GetUser(ctx, connect.NewRequest(&authv1.GetUserRequest{}))
				if err != nil {
					t.Fatalf("GetUser: %v", err)
				}
				return me.Msg.GetUser().GetTimezone()
			}
			if tz := timezone(); tz != "UTC" {
				t.Fatalf("a new account's time zone is %q, want UTC", tz)
			}

			listed, err := cloud.ListTimezones(ctx, connect.NewRequest(&cloudv1.ListTimezonesRequest{}))
			if err != nil {
				t.Fatalf("ListTimezones: %v", err)
			}
			var codes []string
			for _, z := range listed.Msg.GetTimezones()[:3] {
				codes = append(codes, z.GetCode())
			}
			for _, code := range append(codes, "Europe/Berlin") {
				if _, err := cloud.UpdateTimezone(ctx, connect.NewRequest(&cloudv1.UpdateTimezoneRequest{Timezone: code})); err != nil {
					t.Fatalf("UpdateTimezone(%q): %v", code, err)
				}
				if tz := timezone(); tz != code {
					t.Fatalf("after UpdateTimezone(%q) GetUser says %q", code, tz)
				}
			}

			for _, bad := range []string{"", "Local", "CET", "Etc/GMT+1", "Europe/Kiev", "europe/berlin", "Mars/Olympus"} {
				_, err := cloud.UpdateTimezone(ctx, connect.NewRequest(&cloudv1.UpdateTimezoneRequest{Timezone: bad}))
				testserver.WantCode(t, err, connect.CodeInvalidArgument, "timezone")
			}
			if tz := timezone(); tz != "Europe/Berlin" {
				t.Fatalf("after refusals the time zone is %q, want Europe/Berlin", tz)
			}

			_, err = s.Cloud("", extra...).UpdateTimezone(ctx, connect.NewRequest(&cloudv1.UpdateTimezoneRequest{Timezone: "UTC"}))
			testserver.WantCode(t, err, connect.CodeUnauthenticated, "")
		})
	}
}
