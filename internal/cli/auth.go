package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"strings"

	"connectrpc.com/connect"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	authv1 "github.com/gpcore/gpcore/gen/gpcore/api/auth/v1"
)

// defaultServer is where `gpcore serve` listens by default.
const defaultServer = "http://127.0.0.1:8080"

// maxSecretBytes bounds a password or client secret read from standard input.
const maxSecretBytes = 64 << 10

// loginFlags are the flags of login.
type loginFlags struct {
	server, email, clientID, clientSecret string
	passwordStdin                         bool
}

func newLoginCommand() *cobra.Command {
	var lf loginFlags
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Sign in and keep the session in your config directory",
		Long: `Sign in to a gpcore server with your e-mail address and password (the
OpenID Connect password grant of the gpcore-cli client), or as a machine with
an OAuth client's id and secret (client_credentials grant).

The session is kept in <config dir>/gpcore/credentials.json ($XDG_CONFIG_HOME
or ~/.config on Linux) with mode 0600: the server, the access token and the
refresh token (a machine's client secret instead). Later commands talk to that
server, and renew an expired access token on their own; each renewal replaces
the stored pair. Their --server (GPCORE_SERVER) does not choose another
server: it makes sure they talk to this one, refusing any other.

The password is asked for without echo; scripts pipe it in with
--password-stdin.`,
		Example: `  gpcore login --server https://gpcore.example.com --email ada@example.com
  printf '%s' "$PASSWORD" | gpcore login --email ada@example.com --password-stdin
  GPCORE_CLIENT_ID=... GPCORE_CLIENT_SECRET=... gpcore login`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return describeFor(cmd, login(cmd, lf)) },
	}
	f := cmd.Flags()
	f.StringVar(&lf.server, "server", defaultServer, "base URL of the gpcore server")
	f.StringVar(&lf.email, "email", "", "your e-mail address; asked for when missing")
	f.BoolVar(&lf.passwordStdin, "password-stdin", false, "read the password (or the client secret) from standard input")
	f.StringVar(&lf.clientID, "client-id", "", "sign a machine in as this OAuth client (client_credentials grant)")
	f.StringVar(&lf.clientSecret, "client-secret", "", "the OAuth client's secret; asked for when missing (prefer the environment variable to the flag)")
	return cmd
}

// login signs in as lf says and keeps the session.
func login(cmd *cobra.Command, lf loginFlags) error {
	s, err := startSignIn(cmd, lf.server)
	if err != nil {
		return err
	}
	if lf.clientID != "" {
		err = s.clientCredentials(lf.clientID, lf.clientSecret, lf.passwordStdin)
	} else {
		err = s.password(lf.email, lf.passwordStdin)
	}
	if err != nil {
		return err
	}
	return s.finish()
}

func newRegisterCommand() *cobra.Command {
	var (
		server, email, firstName, lastName string
		passwordStdin                      bool
	)
	cmd := &cobra.Command{
		Use:   "register",
		Short: "Create an account and sign in to it",
		Long: `Create an account on a gpcore server (AuthService.Register) and keep its
session as ` + "`gpcore login`" + ` does. The password is asked for twice without
echo; scripts pipe it in with --password-stdin.`,
		Example: `  gpcore register --server https://gpcore.example.com --email ada@example.com --first-name Ada --last-name Lovelace`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := startSignIn(cmd, server)
			if err == nil {
				err = s.register(&authv1.RegisterRequest{Email: email, FirstName: firstName, LastName: lastName}, passwordStdin)
			}
			return describeFor(cmd, err)
		},
	}
	f := cmd.Flags()
	f.StringVar(&server, "server", defaultServer, "base URL of the gpcore server")
	f.StringVar(&email, "email", "", "your e-mail address; asked for when missing")
	f.StringVar(&firstName, "first-name", "", "your first name")
	f.StringVar(&lastName, "last-name", "", "your last name")
	f.BoolVar(&passwordStdin, "password-stdin", false, "read the password from standard input")
	return cmd
}

func newLogoutCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "logout",
		Short: "Forget the session kept by login",
		Long: `Delete the credentials file that login wrote. The tokens are not revoked on
the server: a copy of the refresh token made elsewhere stays valid until it
expires.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path, err := credentialsPath()
			if err != nil {
				return err
			}
			creds, err := loadCredentials(path)
			if errors.Is(err, errNotSignedIn) {
				fmt.Fprintln(cmd.OutOrStdout(), "Not signed in.")
				return nil
			}
			if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("delete the credentials: %w", err)
			}
			if creds != nil {
				fmt.Fprintf(cmd.OutOrStdout(), "Signed out of %s.\n", creds.Server)
			} else {
				fmt.Fprintln(cmd.OutOrStdout(), "Deleted unreadable credentials.")
			}
			return nil
		},
	}
}

func newWhoamiCommand() *cobra.Command {
	return apiCommand(&cobra.Command{
		Use:   "whoami",
		Short: "Show the signed-in account (AuthService.GetUser)",
		Args:  cobra.NoArgs,
	}, func(ctx context.Context, c *call, _ []string) error {
		res, err := c.auth.GetUser(ctx, connect.NewRequest(&authv1.GetUserRequest{}))
		if err != nil {
			return err
		}
		u := res.Msg.GetUser()
		return c.print(res.Msg, func(w io.Writer) error {
			t := newTable(w)
			t.row("ID:", u.GetId())
			t.row("E-mail:", u.GetEmail())
			t.row("Name:", u.GetFullName())
			t.row("Type:", enumName(u.GetType()))
			t.row("Confirmed:", yesNo(u.GetConfirmed()))
			t.row("Server:", c.session.server())
			return t.flush()
		})
	})
}

// signIn is a login or register in progress: the command, where the
// credentials will be kept, and the credentials being made.
type signIn struct {
	cmd   *cobra.Command
	path  string
	web   *http.Client
	creds *Credentials
}

// startSignIn finds the server's token endpoint and where the credentials
// will be kept.
func startSignIn(cmd *cobra.Command, rawServer string) (*signIn, error) {
	server, err := serverURL(rawServer)
	if err != nil {
		return nil, err
	}
	path, err := credentialsPath()
	if err != nil {
		return nil, err
	}
	web := webClient()
	tokenURL, err := discoverTokenURL(cmd.Context(), web, server)
	if err != nil {
		return nil, err
	}
	return &signIn{cmd: cmd, path: path, web: web, creds: &Credentials{Server: server, TokenURL: tokenURL, ClientID: publicClientID}}, nil
}

// password signs a person in with the password grant.
func (s *signIn) password(email string, fromStdin bool) error {
	email, err := askEmail(s.cmd, email, fromStdin)
	if err != nil {
		return err
	}
	password, err := readSecret(s.cmd, "Password: ", fromStdin)
	if err != nil {
		return err
	}
	tok, err := s.creds.passwordGrant(s.cmd.Context(), s.web, email, password)
	if err != nil {
		return err
	}
	s.creds.setToken(tok)
	return nil
}

// clientCredentials signs a machine in as OAuth client id; the secret is
// kept to renew the token with.
func (s *signIn) clientCredentials(id, secret string, fromStdin bool) error {
	if secret == "" {
		var err error
		if secret, err = readSecret(s.cmd, "Client secret: ", fromStdin); err != nil {
			return err
		}
	}
	s.creds.ClientID, s.creds.ClientSecret = id, secret
	tok, err := s.creds.newToken(s.cmd.Context(), s.web)
	if err != nil {
		return err
	}
	s.creds.setToken(tok)
	return nil
}

// register creates the account req describes and keeps its session. The
// refresh token Register returns is traded at once for a pair from the token
// endpoint, which says when the access token expires.
func (s *signIn) register(req *authv1.RegisterRequest, fromStdin bool) error {
	var err error
	if req.Email, err = askEmail(s.cmd, req.GetEmail(), fromStdin); err != nil {
		return err
	}
	if req.Password, err = readSecret(s.cmd, "Password: ", fromStdin); err != nil {
		return err
	}
	if !fromStdin {
		again, err := readSecret(s.cmd, "Password again: ", false)
		if err != nil {
			return err
		}
		if again != req.GetPassword() {
			return errors.New("the passwords differ")
		}
	}
	var anonymous callOptions
	res, err := anonymous.dial(s.cmd, s.web, s.creds.Server, nil).auth.Register(s.cmd.Context(), connect.NewRequest(req))
	if err != nil {
		return err
	}
	s.creds.RefreshToken = res.Msg.GetTokens().GetRefreshToken()
	tok, err := s.creds.newToken(s.cmd.Context(), s.web)
	if err != nil {
		return err
	}
	s.creds.setToken(tok)
	return s.finish()
}

// finish asks the server whose the new token is, keeps the account's id in
// the credentials, saves them and says who is signed in.
func (s *signIn) finish() error {
	var o callOptions
	c := o.dial(s.cmd, s.web, s.creds.Server, &session{path: s.path, web: s.web, creds: s.creds})
	res, err := c.auth.GetUser(s.cmd.Context(), connect.NewRequest(&authv1.GetUserRequest{}))
	if err != nil {
		return err
	}
	u := res.Msg.GetUser()
	s.creds.UserID = u.GetId()
	if err := s.creds.save(s.path); err != nil {
		return err
	}
	who := u.GetEmail()
	if who == "" {
		who = u.GetUsername() + " (" + enumName(u.GetType()) + ")"
	}
	_, err = fmt.Fprintf(s.cmd.OutOrStdout(), "Signed in to %s as %s.\n", s.creds.Server, who)
	return err
}

// askEmail returns email, or asks for it on the terminal when it is empty.
func askEmail(cmd *cobra.Command, email string, secretFromStdin bool) (string, error) {
	if email != "" {
		return email, nil
	}
	if _, ok := terminal(cmd); !ok || secretFromStdin {
		return "", errors.New("--email is required")
	}
	fmt.Fprint(cmd.ErrOrStderr(), "E-mail: ")
	line, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
	if email = strings.TrimSpace(line); email == "" {
		return "", fmt.Errorf("no e-mail address given (%v)", err)
	}
	return email, nil
}

// readSecret reads a password or client secret: all of standard input,
// without its final line break, when fromStdin; otherwise from the terminal
// without echo, after prompt.
func readSecret(cmd *cobra.Command, prompt string, fromStdin bool) (string, error) {
	if fromStdin {
		return stdinSecret(cmd.InOrStdin())
	}
	fd, ok := terminal(cmd)
	if !ok {
		return "", errors.New("standard input is not a terminal to ask on: pipe the secret in with --password-stdin")
	}
	fmt.Fprint(cmd.ErrOrStderr(), prompt)
	b, err := term.ReadPassword(fd)
	fmt.Fprintln(cmd.ErrOrStderr())
	if err != nil {
		return "", fmt.Errorf("read from the terminal: %w", err)
	}
	return string(b), nil
}

// stdinSecret reads a secret given with --password-stdin: all of in,
// without its final line break.
func stdinSecret(in io.Reader) (string, error) {
	b, err := io.ReadAll(io.LimitReader(in, maxSecretBytes))
	if err != nil {
		return "", fmt.Errorf("read standard input: %w", err)
	}
	secret := strings.TrimRight(string(b), "\r\n")
	if secret == "" {
		return "", errors.New("standard input is empty: --password-stdin wants the secret there")
	}
	return secret, nil
}

// terminal returns the file descriptor of the command's standard input when
// it is a terminal.
func terminal(cmd *cobra.Command) (int, bool) {
	f, ok := cmd.InOrStdin().(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return 0, false
	}
	return int(f.Fd()), true
}
