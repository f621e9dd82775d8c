package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/spf13/cobra"

	authv1 "github.com/gpcore/gpcore/gen/gpcore/api/auth/v1"
	"github.com/gpcore/gpcore/gen/gpcore/api/auth/v1/authv1connect"
	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	"github.com/gpcore/gpcore/internal/testserver"
)

func TestRegisterLoginWhoamiLogout(t *testing.T) {
	srv := testserver.Start(t)
	ada := registered(t, srv, "ada")

	// The session is private: the file 0600, its directory 0700.
	for path, want := range map[string]os.FileMode{ada.credentialsFile(): 0o600, filepath.Dir(ada.credentialsFile()): 0o700} {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Mode().Perm(); got != want {
			t.Errorf("%s has mode %v, want %v", path, got, want)
		}
	}
	c := ada.creds()
	if c.Server != srv.URL || c.TokenURL != srv.TokenEndpoint() || c.ClientID != publicClientID ||
		c.UserID == "" || c.RefreshToken == "" || !c.fresh(time.Now()) {
		t.Fatalf("credentials after register = %+v", c)
	}

	wantLines(t, ada.run("whoami"), []string{"E-mail:", ada.email}, []string{"ID:", c.UserID},
		[]string{"Name:", "Ada Tester"}, []string{"Server:", srv.URL})
	if got := decode(t, ada.run("whoami", "-o", "json"), &authv1.GetUserResponse{}); got.GetUser().GetEmail() != ada.email {
		t.Fatalf("whoami -o json user = %v", got.GetUser())
	}

	if out := ada.run("logout"); !strings.Contains(out, "Signed out of "+srv.URL) {
		t.Fatalf("logout said %q", out)
	}
	if _, err := os.Stat(ada.credentialsFile()); !os.IsNotExist(err) {
		t.Fatalf("credentials file after logout: %v", err)
	}
	ada.fails("not signed in: run `gpcore login`", "whoami")
	if out := ada.run("logout"); !strings.Contains(out, "Not signed in.") {
		t.Fatalf("second logout said %q", out)
	}

	_, err := ada.try("wrong password", "login", "--server", srv.URL, "--email", ada.email, "--password-stdin")
	if err == nil || !strings.Contains(err.Error(), "sign-in refused: invalid_grant") {
		t.Fatalf("login with a wrong password: %v", err)
	}
	ada.fails("--email is required", "login", "--server", srv.URL, "--password-stdin")
	ada.fails("not a terminal", "login", "--server", srv.URL, "--email", ada.email)
	ada.fails("a gpcore server?", "login", "--server", srv.URL+"/nothing-here", "--email", ada.email)

	out := ada.runIn(ada.password+"\n", "login", "--server", srv.URL+"/", "--email", ada.email, "--password-stdin")
	if !strings.Contains(out, "Signed in to "+srv.URL+" as "+ada.email) {
		t.Fatalf("login said %q", out)
	}
	wantLines(t, ada.run("whoami"), []string{"E-mail:", ada.email})
}

// TestServerFlag: a signed-in command's --server must be the session's
// server; another is refused before anything is sent to either.
func TestServerFlag(t *testing.T) {
	srv := testserver.Start(t)
	ada := registered(t, srv, "ada")

	wantLines(t, ada.run("whoami", "--server", srv.URL), []string{"Server:", srv.URL})
	ada.run("project", "list", "--server", srv.URL+"/")
	ada.fails("--server (GPCORE_SERVER) is http://127.0.0.1:1, but you are signed in to "+srv.URL+
		": sign in there with `gpcore login --server http://127.0.0.1:1`, or leave --server out", "node", "list", "--server", "http://127.0.0.1:1")
	ada.fails(`--server "127.0.0.1:1" is not an http:// or https:// URL`, "node", "list", "--server", "127.0.0.1:1")
}

// TestSessionRenewal: an expired access token is renewed before the call, a
// refused one after it; each renewal rotates the stored pair; a session that
// cannot be renewed says to log in again.
func TestSessionRenewal(t *testing.T) {
	srv := testserver.Start(t)
	ada := registered(t, srv, "ada")

	renewed := func(before *Credentials) {
		t.Helper()
		wantLines(t, ada.run("whoami"), []string{"E-mail:", ada.email})
		after := ada.creds()
		if after.AccessToken == before.AccessToken || after.RefreshToken == before.RefreshToken || !after.fresh(time.Now()) {
			t.Fatalf("credentials not renewed: before %+v, after %+v", before, after)
		}
	}

	expired := ada.creds()
	expired.Expiry = time.Now().Add(-time.Minute)
	ada.setCreds(expired)
	renewed(expired)

	refused := ada.creds()
	refused.AccessToken = "not-a-token"
	ada.setCreds(refused)
	renewed(refused)

	dead := ada.creds()
	dead.Expiry, dead.RefreshToken = time.Now().Add(-time.Minute), "spent"
	ada.setCreds(dead)
	ada.fails("run `gpcore login` again", "whoami")
	ada.fails("invalid_grant", "project", "list")
}

// TestStreamWithoutSession: a stream whose session cannot be renewed fails
// with the reason before anything is sent.
func TestStreamWithoutSession(t *testing.T) {
	srv := testserver.Start(t)
	ada := registered(t, srv, "ada")
	creds := ada.creds()
	creds.Expiry, creds.RefreshToken = time.Now().Add(-time.Minute), "spent"
	ada.setCreds(creds)
	web := webClient()
	var o callOptions
	c := o.dial(&cobra.Command{}, web, srv.URL, &session{path: ada.credentialsFile(), web: web, creds: creds})
	_, err := c.cloud.SubscribeNotifications(t.Context(), connect.NewRequest(&cloudv1.SubscribeNotificationsRequest{}))
	if err == nil || !strings.Contains(err.Error(), "run `gpcore login` again") {
		t.Fatalf("SubscribeNotifications with a dead session: %v", err)
	}
}

// TestConcurrentRenewal: two processes renew the same stored session at
// once; refresh tokens are used once, so the second takes the first's
// credentials from the file instead of failing.
func TestConcurrentRenewal(t *testing.T) {
	srv := testserver.Start(t)
	ada := registered(t, srv, "ada")
	expired := ada.creds()
	expired.Expiry = time.Now().Add(-time.Minute)
	ada.setCreds(expired)

	first, second := ada.creds(), ada.creds()
	s1 := &session{path: ada.credentialsFile(), web: webClient(), creds: first}
	s2 := &session{path: ada.credentialsFile(), web: webClient(), creds: second}
	t1, err := s1.token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t2, err := s2.token(t.Context())
	if err != nil {
		t.Fatalf("second renewal with the spent refresh token: %v", err)
	}
	if t1 != t2 || ada.creds().AccessToken != t1 {
		t.Fatal("the second process did not take the first's renewed token")
	}
}

// TestClientCredentialsLogin: a machine signs in as an OAuth client and
// renews its token with the client's secret.
func TestClientCredentialsLogin(t *testing.T) {
	srv := testserver.Start(t)
	ada := registered(t, srv, "ada")
	auth := authv1connect.NewAuthServiceClient(testserver.HTTPClient(), srv.URL, testserver.ClientOptions(srv.PasswordToken(t, ada.email, ada.password))...)
	res, err := auth.CreateClient(t.Context(), connect.NewRequest(&authv1.CreateClientRequest{Name: "ci"}))
	if err != nil {
		t.Fatal(err)
	}
	client := res.Msg.GetClient()

	robot := newPerson(t, srv, "robot")
	out := robot.runIn(client.GetSecret(), "login", "--server", srv.URL, "--client-id", client.GetId(), "--password-stdin")
	if !strings.Contains(out, "Signed in to "+srv.URL+" as ") || !strings.Contains(out, "(service_account)") {
		t.Fatalf("client login said %q", out)
	}
	wantLines(t, robot.run("whoami"), []string{"ID:", client.GetServiceAccount().GetId()}, []string{"Type:", "service_account"})

	c := robot.creds()
	if c.ClientID != client.GetId() || c.ClientSecret != client.GetSecret() || c.RefreshToken != "" {
		t.Fatalf("machine credentials = %+v", c)
	}
	c.Expiry = time.Now().Add(-time.Minute)
	robot.setCreds(c)
	robot.run("whoami")
	if after := robot.creds(); after.AccessToken == c.AccessToken || !after.fresh(time.Now()) {
		t.Fatalf("machine token not renewed: %+v", after)
	}

	robot.fails("sign-in refused: invalid_client", "login", "--server", srv.URL, "--client-id", client.GetId(), "--client-secret", "wrong")
}

// TestCredentialsSaveIsPrivate: save makes the credentials directory 0700,
// the missing parents included, restricts one that exists with wider
// permissions, and writes the file 0600 even over an old one that others
// could read.
func TestCredentialsSaveIsPrivate(t *testing.T) {
	t.Parallel()
	mode := func(t *testing.T, path string) os.FileMode {
		t.Helper()
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return st.Mode().Perm()
	}
	c := &Credentials{Server: "http://127.0.0.1:8080", TokenURL: "http://127.0.0.1:8080/token", AccessToken: "a", RefreshToken: "r"}

	t.Run("new", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "config", "gpcore", "credentials.json")
		if err := c.save(path); err != nil {
			t.Fatal(err)
		}
		for p, want := range map[string]os.FileMode{path: 0o600, filepath.Dir(path): 0o700, filepath.Dir(filepath.Dir(path)): 0o700} {
			if got := mode(t, p); got != want {
				t.Errorf("%s has mode %v, want %v", p, got, want)
			}
		}
	})
	t.Run("wide open", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "gpcore")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, 0o777); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "credentials.json")
		if err := os.WriteFile(path, []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := c.save(path); err != nil {
			t.Fatal(err)
		}
		if got := mode(t, dir); got != 0o700 {
			t.Errorf("directory mode %v after save, want 0700", got)
		}
		if got := mode(t, path); got != 0o600 {
			t.Errorf("file mode %v after save, want 0600", got)
		}
		got, err := loadCredentials(path)
		if err != nil || *got != *c {
			t.Fatalf("loadCredentials = %+v, %v; want %+v", got, err, c)
		}
		if entries, err := os.ReadDir(dir); err != nil || len(entries) != 1 {
			t.Fatalf("directory holds %v, %v; want the credentials alone", entries, err)
		}
	})
}
