package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode"

	"connectrpc.com/connect"
	"github.com/spf13/cobra"
	"golang.org/x/crypto/ssh"

	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	typev1 "github.com/gpcore/gpcore/gen/gpcore/type/v1"
)

// maxKeyFileBytes bounds an SSH public key file; the longest keys (RSA 16384)
// are a few kilobytes.
const maxKeyFileBytes = 64 << 10

func newSSHKeyCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ssh-key",
		Short: "Your SSH public keys: list, add, delete",
		Long: `Your SSH public keys, installed on the nodes of your projects. A KEY
argument is a key's id or its name. ` + "`gpcore project ssh-keys`" + ` lists the keys of all
members of a project.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newSSHKeyListCommand(), newSSHKeyAddCommand(), newSSHKeyDeleteCommand())
	return cmd
}

func newSSHKeyListCommand() *cobra.Command {
	var pf pageFlags
	cmd := listCommand("List your SSH keys", &pf, func(ctx context.Context, c *call) error {
		res, err := c.cloud.ListUserSSHKeys(ctx, connect.NewRequest(&cloudv1.ListUserSSHKeysRequest{Pagination: pf.request()}))
		if err != nil {
			return err
		}
		return c.printPage(res.Msg, func(w io.Writer) error { return sshKeyTable(w, res.Msg.GetSshKeys()...) })
	})
	return cmd
}

func newSSHKeyAddCommand() *cobra.Command {
	var name string
	cmd := apiCommand(&cobra.Command{
		Use:   "add [FILE|-]",
		Short: "Add an SSH public key from a file (e.g. ~/.ssh/id_ed25519.pub) or standard input",
		Long: `Add an SSH public key, one line in OpenSSH's format ("ssh-ed25519 AAAA...
comment"), read from FILE or, for "-" or no FILE, from standard input. The
key's name is --name, else the key's comment, else the file's name (cut to
64 characters, tabs as spaces).`,
		Example: `  gpcore ssh-key add ~/.ssh/id_ed25519.pub
  ssh-add -L | head -n 1 | gpcore ssh-key add --name laptop`,
		Args: cobra.MaximumNArgs(1),
	}, func(ctx context.Context, c *call, args []string) error {
		path := optionalArg(args)
		line, err := readKeyFile(path, c.in)
		if err != nil {
			return err
		}
		if name == "" {
			name = keyName(line, path)
		}
		res, err := c.cloud.CreateUserSSHKey(ctx, connect.NewRequest(&cloudv1.CreateUserSSHKeyRequest{Name: name, PublicKey: line}))
		if err != nil {
			return err
		}
		return c.print(res.Msg, func(w io.Writer) error { return sshKeyTable(w, res.Msg.GetSshKey()) })
	})
	cmd.Flags().StringVar(&name, "name", "", "the key's name (default: its comment, else the file's name)")
	return cmd
}

func newSSHKeyDeleteCommand() *cobra.Command {
	return apiCommand(&cobra.Command{
		Use:     "delete KEY",
		Aliases: []string{"rm"},
		Short:   "Delete one of your SSH keys",
		Args:    cobra.ExactArgs(1),
	}, func(ctx context.Context, c *call, args []string) error {
		id, err := resolve(ctx, args[0], "SSH key", c.allSSHKeys, (*typev1.SSHKey).GetId, (*typev1.SSHKey).GetName)
		if err != nil {
			return err
		}
		res, err := c.cloud.DeleteUserSSHKey(ctx, connect.NewRequest(&cloudv1.DeleteUserSSHKeyRequest{Id: id}))
		if err != nil {
			return err
		}
		return c.done(res.Msg, "Deleted SSH key %s.", args[0])
	})
}

// sshKeyTable writes keys as a table.
func sshKeyTable(w io.Writer, keys ...*typev1.SSHKey) error {
	t := newTable(w, "ID", "NAME", "TYPE", "FINGERPRINT")
	for _, k := range keys {
		t.row(k.GetId(), k.GetName(), enumName(k.GetType()), k.GetFingerprint())
	}
	return t.flush()
}

// allSSHKeys returns every SSH key of the caller, all pages.
func (c *call) allSSHKeys(ctx context.Context) ([]*typev1.SSHKey, error) {
	return allPages(ctx, func(ctx context.Context, p *typev1.PaginationRequest) ([]*typev1.SSHKey, *typev1.PaginationResponse, error) {
		res, err := c.cloud.ListUserSSHKeys(ctx, connect.NewRequest(&cloudv1.ListUserSSHKeysRequest{Pagination: p}))
		if err != nil {
			return nil, nil, err
		}
		return res.Msg.GetSshKeys(), res.Msg.GetPagination(), nil
	})
}

// readKeyFile reads the key file at path, or stdin for "" and "-". The
// server checks the key; this only reads it.
func readKeyFile(path string, stdin io.Reader) (string, error) {
	r, from := stdin, "standard input"
	if path != "" && path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return "", fmt.Errorf("read the key: %w", err)
		}
		defer f.Close()
		r, from = f, path
	}
	b, err := io.ReadAll(io.LimitReader(r, maxKeyFileBytes+1))
	switch {
	case err != nil:
		return "", fmt.Errorf("read the key from %s: %w", from, err)
	case len(b) > maxKeyFileBytes:
		return "", fmt.Errorf("%s is larger than an SSH public key can be", from)
	case strings.TrimSpace(string(b)) == "":
		return "", fmt.Errorf("%s holds no key", from)
	}
	return string(b), nil
}

// maxKeyNameLength is the longest key name the server takes, in characters
// (keyring.MaxNameLength).
const maxKeyNameLength = 64

// keyName is the name a key gets without --name: its comment, else the
// file's name without ".pub", made a name the server takes (validName); ""
// when neither exists (the server then asks for a name).
func keyName(line, path string) string {
	if _, comment, _, _, err := ssh.ParseAuthorizedKey([]byte(line)); err == nil {
		if name := validName(comment); name != "" {
			return name
		}
	}
	if path == "" || path == "-" {
		return ""
	}
	return validName(strings.TrimSuffix(filepath.Base(path), ".pub"))
}

// validName makes s a key name the server takes: valid UTF-8, control
// characters (a comment's tabs) as spaces, trimmed, and at most
// maxKeyNameLength characters, a longer one cut and ended with "…".
func validName(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s))
	if r := []rune(s); len(r) > maxKeyNameLength {
		s = strings.TrimSpace(string(r[:maxKeyNameLength-1])) + "…"
	}
	return s
}
