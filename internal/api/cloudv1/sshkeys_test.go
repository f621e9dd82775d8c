package cloudv1_test

import (
	"context"
	"encoding/base64"
	"math/big"
	"slices"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"golang.org/x/crypto/ssh"
	"google.golang.org/protobuf/proto"

	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	"github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1/cloudv1connect"
	typev1 "github.com/gpcore/gpcore/gen/gpcore/type/v1"
	"github.com/gpcore/gpcore/internal/sshkey/sshkeytest"
	"github.com/gpcore/gpcore/internal/testserver"
)

// createKey adds the key line as name for the client's user.
func createKey(c cloudv1connect.CloudServiceClient, name, line string) (*typev1.SSHKey, error) {
	res, err := c.CreateUserSSHKey(context.Background(), connect.NewRequest(&cloudv1.CreateUserSSHKeyRequest{Name: name, PublicKey: line}))
	if err != nil {
		return nil, err
	}
	return res.Msg.GetSshKey(), nil
}

// userKeys lists the client's user's keys, the first page.
func userKeys(t *testing.T, c cloudv1connect.CloudServiceClient) *cloudv1.ListUserSSHKeysResponse {
	t.Helper()
	res, err := c.ListUserSSHKeys(context.Background(), connect.NewRequest(&cloudv1.ListUserSSHKeysRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	return res.Msg
}

// fingerprint is the SHA256 fingerprint of a key line, as x/crypto computes it.
func fingerprint(t *testing.T, line string) string {
	t.Helper()
	pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	return ssh.FingerprintSHA256(pub)
}

func TestCreateUserSSHKeys(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	for _, p := range cloudProtocols {
		t.Run(p.name, func(t *testing.T) {
			user := s.Register(t)
			c := s.Cloud(user.Token, p.opts...)
			ed := sshkeytest.Ed25519(t, "alice@laptop  work key")
			for _, tc := range []struct {
				name, line string
				typ        typev1.SSHKeyType
			}{
				{"laptop", ed, typev1.SSHKeyType_SSH_KEY_TYPE_ED25519},
				{"ecdsa", sshkeytest.ECDSA(t, ""), typev1.SSHKeyType_SSH_KEY_TYPE_ECDSA},
				{"rsa", sshkeytest.RSA(t, 2048, "old box"), typev1.SSHKeyType_SSH_KEY_TYPE_RSA},
			} {
				// Surrounding white space and a CRLF line end are tolerated.
				k, err := createKey(c, " "+tc.name+" ", "  "+tc.line+"\r\n")
				if err != nil {
					t.Fatalf("%s: %v", tc.name, err)
				}
				if k.GetId() == "" || k.GetName() != tc.name || k.GetType() != tc.typ ||
					k.GetPublicKey() != tc.line || k.GetFingerprint() != fingerprint(t, tc.line) {
					t.Fatalf("%s stored as %v, want type %v, the line %q and its fingerprint", tc.name, k, tc.typ, tc.line)
				}
			}
			keys := userKeys(t, c).GetSshKeys()
			var names []string
			for _, k := range keys {
				names = append(names, k.GetName())
			}
			if !slices.Equal(names, []string{"laptop", "ecdsa", "rsa"}) {
				t.Fatalf("keys = %v, want the three, oldest first", names)
			}
			if !strings.HasSuffix(keys[0].GetPublicKey(), " alice@laptop  work key") {
				t.Fatalf("the comment lost its spaces: %q", keys[0].GetPublicKey())
			}
		})
	}
}

func TestCreateUserSSHKeyRefusals(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	user := s.Register(t)
	c := s.Cloud(user.Token)
	ed := sshkeytest.Ed25519(t, "first")
	if _, err := createKey(c, "first", ed); err != nil {
		t.Fatal(err)
	}
	edFields := strings.Fields(sshkeytest.Ed25519(t, ""))
	// A DSA key as ssh-keygen -t dsa wrote them (p, q, g, y); x/crypto can
	// no longer make one.
	dsa := "ssh-dss " + base64.StdEncoding.EncodeToString(ssh.Marshal(struct {
		Name       string
		P, Q, G, Y *big.Int
	}{"ssh-dss", new(big.Int).Lsh(big.NewInt(1), 1023), new(big.Int).Lsh(big.NewInt(1), 159), big.NewInt(2), big.NewInt(3)})) + " old@host"
	for _, tc := range []struct {
		name, keyName, line string
		code                connect.Code
		field               string
	}{
		{"junk", "junk", "this is not a key", connect.CodeInvalidArgument, "public_key"},
		{"empty", "empty", "  ", connect.CodeInvalidArgument, "public_key"},
		{"short RSA", "short", sshkeytest.RSA(t, 1024, "weak"), connect.CodeInvalidArgument, "public_key"},
		{"DSA", "old", dsa, connect.CodeInvalidArgument, "public_key"},
		{"authorized_keys options", "options",
			`restrict,command="echo a, b",from="10.0.0.1" ` + sshkeytest.Ed25519(t, "c"), connect.CodeInvalidArgument, "public_key"},
		{"type word does not match", "mismatch", "ssh-rsa " + edFields[1] + " liar", connect.CodeInvalidArgument, "public_key"},
		{"broken base64", "broken", "ssh-ed25519 AAAA!!!! x", connect.CodeInvalidArgument, "public_key"},
		{"same key twice", "again", ed, connect.CodeAlreadyExists, "public_key"},
		{"same key, other comment", "again", strings.TrimSuffix(ed, "first") + "second", connect.CodeAlreadyExists, "public_key"},
		{"no name", " ", sshkeytest.Ed25519(t, ""), connect.CodeInvalidArgument, "name"},
		{"long name", strings.Repeat("n", 65), sshkeytest.Ed25519(t, ""), connect.CodeInvalidArgument, "name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := createKey(c, tc.keyName, tc.line)
			testserver.WantCode(t, err, tc.code, tc.field)
		})
	}
	if keys := userKeys(t, c).GetSshKeys(); len(keys) != 1 {
		t.Fatalf("%d keys after the refusals, want 1", len(keys))
	}
	// The DSA refusal says why and what to do, as docs/concepts.md tells.
	if _, err := createKey(c, "old", dsa); err == nil || !strings.Contains(err.Error(), "DSA (ssh-dss) key") ||
		!strings.Contains(err.Error(), "ssh-keygen -t ed25519") {
		t.Fatalf("DSA key refused with %v", err)
	}
}

func TestListAndDeleteUserSSHKeys(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	user := s.Register(t)
	c := s.Cloud(user.Token, connect.WithGRPC())
	ctx := context.Background()
	var ids []string
	for _, name := range []string{"a", "b", "c"} {
		k, err := createKey(c, name, sshkeytest.Ed25519(t, name))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, k.GetId())
	}
	res, err := c.ListUserSSHKeys(ctx, connect.NewRequest(&cloudv1.ListUserSSHKeysRequest{
		Pagination: &typev1.PaginationRequest{Page: 2, Limit: proto.Int32(2)},
	}))
	if err != nil {
		t.Fatal(err)
	}
	if keys := res.Msg.GetSshKeys(); len(keys) != 1 || keys[0].GetName() != "c" || res.Msg.GetTotal() != 3 ||
		res.Msg.GetPagination().GetTotal() != 2 || res.Msg.GetPagination().GetLimit() != 2 {
		t.Fatalf("page 2 of 2 = %v", res.Msg)
	}
	if p := userKeys(t, c).GetPagination(); p.GetLimit() != 100 {
		t.Fatalf("default limit = %d, want 100", p.GetLimit())
	}

	del := func(id string) error {
		_, err := c.DeleteUserSSHKey(ctx, connect.NewRequest(&cloudv1.DeleteUserSSHKeyRequest{Id: id}))
		return err
	}
	if err := del(ids[1]); err != nil {
		t.Fatal(err)
	}
	testserver.WantCode(t, del(ids[1]), connect.CodeNotFound, "")
	testserver.WantCode(t, del("6a0c1a3e-39a4-4d16-9d4e-2d0f0b7c2f11"), connect.CodeNotFound, "")
	testserver.WantCode(t, del("b"), connect.CodeInvalidArgument, "id")
	if keys := userKeys(t, c).GetSshKeys(); len(keys) != 2 || keys[0].GetId() != ids[0] || keys[1].GetId() != ids[2] {
		t.Fatalf("keys after deleting b = %v", keys)
	}
}

func TestListProjectSSHKeys(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	owner, member, pending, stranger := s.Register(t), s.Register(t), s.Register(t), s.Register(t)
	team := s.CreateProject(t, owner.Token, "Team")
	addMember(t, s, owner, member, team.GetId())
	if _, err := invite(s.Cloud(owner.Token), team.GetId(), pending.Email); err != nil {
		t.Fatal(err)
	}
	keyOf := map[string]string{}
	for _, u := range []testserver.User{owner, member, pending, stranger} {
		k, err := createKey(s.Cloud(u.Token), "key", sshkeytest.Ed25519(t, u.Email))
		if err != nil {
			t.Fatal(err)
		}
		keyOf[u.ID] = k.GetId()
	}

	res, err := s.Cloud(member.Token, connect.WithGRPC()).ListProjectSSHKeys(context.Background(),
		connect.NewRequest(&cloudv1.ListProjectSSHKeysRequest{Id: team.GetId()}))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, k := range res.Msg.GetKeys() {
		got[k.GetUser().GetId()] = k.GetSshKey().GetId()
		if k.GetUser().GetEmail() == "" || !strings.HasSuffix(k.GetSshKey().GetPublicKey(), " "+k.GetUser().GetEmail()) {
			t.Fatalf("key %v is listed with the owner %v", k.GetSshKey(), k.GetUser())
		}
	}
	if len(got) != 2 || got[owner.ID] != keyOf[owner.ID] || got[member.ID] != keyOf[member.ID] || res.Msg.GetTotal() != 2 {
		t.Fatalf("project keys by owner = %v, want the owner's and the member's only", got)
	}
	for _, outsider := range []testserver.User{pending, stranger} {
		_, err := s.Cloud(outsider.Token).ListProjectSSHKeys(context.Background(),
			connect.NewRequest(&cloudv1.ListProjectSSHKeysRequest{Id: team.GetId()}))
		testserver.WantCode(t, err, connect.CodeNotFound, "")
	}
}
