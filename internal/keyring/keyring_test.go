package keyring_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/identity"
	"github.com/gpcore/gpcore/internal/keyring"
	"github.com/gpcore/gpcore/internal/pagination"
	"github.com/gpcore/gpcore/internal/project"
	"github.com/gpcore/gpcore/internal/sshkey"
	"github.com/gpcore/gpcore/internal/sshkey/sshkeytest"
	"github.com/gpcore/gpcore/internal/store/storetest"
)

// env is a keyring on a fresh database with the services that make its users
// and projects.
type env struct {
	keys     *keyring.Service
	projects *project.Service
	identity *identity.Service
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db := storetest.New(t)
	ids, err := identity.New(db, identity.Config{})
	if err != nil {
		t.Fatal(err)
	}
	projects, err := project.New(db, project.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return &env{keys: keyring.New(db, projects), projects: projects, identity: ids}
}

// person registers a person named name.
func (e *env) person(t *testing.T, name string) string {
	t.Helper()
	u, err := e.identity.Register(t.Context(), identity.RegisterInput{
		Email: name + "@example.com", Password: "Correct-Horse-42", FirstName: "Test", LastName: name,
	})
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

// addKey stores a fresh Ed25519 key for userID and returns it.
func (e *env) addKey(t *testing.T, userID, name string) keyring.Key {
	t.Helper()
	k, err := e.keys.Create(t.Context(), userID, name, sshkeytest.Ed25519(t, name+" comment"))
	if err != nil {
		t.Fatalf("Create(%q): %v", name, err)
	}
	return k
}

func page(number, limit int32) pagination.Page {
	p, err := pagination.Request{Page: number, Limit: limit}.Resolve(keyring.PageLimit)
	if err != nil {
		panic(err)
	}
	return p
}

// wantFault fails the test unless err is a fault of kind on field.
func wantFault(t *testing.T, err error, kind fault.Kind, field string) {
	t.Helper()
	var fe *fault.Error
	if !errors.As(err, &fe) || fe.Kind != kind || fe.Field != field {
		t.Fatalf("error = %v, want fault kind %d on field %q", err, kind, field)
	}
}

func TestCreateStoresTheParsedKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice := e.person(t, "alice")
	line := sshkeytest.Ed25519(t, "alice@laptop  work key")
	k, err := e.keys.Create(t.Context(), alice, "  laptop  ", "\r\n "+line+"\r\n")
	if err != nil {
		t.Fatal(err)
	}
	want, err := sshkey.Parse(line)
	if err != nil {
		t.Fatal(err)
	}
	if k.Name != "laptop" || k.UserID != alice || k.Type != sshkey.TypeEd25519 ||
		k.Fingerprint != want.Fingerprint || k.PublicKey != want.AuthorizedKey || k.Comment != "alice@laptop  work key" {
		t.Fatalf("key = %+v, want the parsed %+v named laptop", k, want)
	}
	keys, total, err := e.keys.List(t.Context(), alice, page(1, 0))
	if err != nil || total != 1 || len(keys) != 1 || keys[0] != k {
		t.Fatalf("List = %+v, %d, %v; want the stored key", keys, total, err)
	}
}

func TestCreateRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice := e.person(t, "alice")
	line := sshkeytest.Ed25519(t, "first")
	if _, err := e.keys.Create(t.Context(), alice, "first", line); err != nil {
		t.Fatal(err)
	}
	sameKeyOtherComment := strings.TrimSuffix(line, "first") + "second"
	for _, tc := range []struct {
		name, keyName, line string
		kind                fault.Kind
		field               string
	}{
		{"no name", " ", sshkeytest.Ed25519(t, ""), fault.KindInvalidArgument, "name"},
		{"long name", strings.Repeat("n", keyring.MaxNameLength+1), sshkeytest.Ed25519(t, ""), fault.KindInvalidArgument, "name"},
		{"control character in name", "a\tb", sshkeytest.Ed25519(t, ""), fault.KindInvalidArgument, "name"},
		{"junk", "junk", "not a key", fault.KindInvalidArgument, sshkey.Field},
		{"same key", "again", line, fault.KindAlreadyExists, sshkey.Field},
		{"same key, other comment", "again", sameKeyOtherComment, fault.KindAlreadyExists, sshkey.Field},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.keys.Create(t.Context(), alice, tc.keyName, tc.line)
			wantFault(t, err, tc.kind, tc.field)
		})
	}
	if _, total, _ := e.keys.List(t.Context(), alice, page(1, 0)); total != 1 {
		t.Fatalf("alice has %d keys after the refusals, want 1", total)
	}

	// Another user may hold the same key.
	bob := e.person(t, "bob")
	if _, err := e.keys.Create(t.Context(), bob, "shared", line); err != nil {
		t.Fatalf("bob adding alice's public key: %v", err)
	}
}

func TestListPagesOldestFirst(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice := e.person(t, "alice")
	var names []string
	for _, n := range []string{"one", "two", "three"} {
		e.addKey(t, alice, n)
		names = append(names, n)
	}
	var got []string
	for p := int32(1); p <= 2; p++ {
		keys, total, err := e.keys.List(t.Context(), alice, page(p, 2))
		if err != nil || total != 3 {
			t.Fatalf("List page %d: total %d, %v", p, total, err)
		}
		for _, k := range keys {
			got = append(got, k.Name)
		}
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Fatalf("pages hold %v, want %v", got, names)
	}
}

func TestDeleteOwnKeysOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice, bob := e.person(t, "alice"), e.person(t, "bob")
	k := e.addKey(t, alice, "laptop")
	wantFault(t, e.keys.Delete(t.Context(), bob, k.ID), fault.KindNotFound, "")
	wantFault(t, e.keys.Delete(t.Context(), alice, "00000000-0000-4000-8000-000000000000"), fault.KindNotFound, "")
	if err := e.keys.Delete(t.Context(), alice, k.ID); err != nil {
		t.Fatal(err)
	}
	wantFault(t, e.keys.Delete(t.Context(), alice, k.ID), fault.KindNotFound, "")
}

func TestProjectKeysAreTheConfirmedMembersKeys(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	alice, bob, carol, dave := e.person(t, "alice"), e.person(t, "bob"), e.person(t, "carol"), e.person(t, "dave")
	p, err := e.projects.Create(ctx, alice, project.CreateInput{Name: "shared"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.projects.Invite(ctx, alice, p.ID, "bob@example.com"); err != nil {
		t.Fatal(err)
	}
	if err := e.projects.Join(ctx, bob, p.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := e.projects.Invite(ctx, alice, p.ID, "carol@example.com"); err != nil { // pending
		t.Fatal(err)
	}
	aliceKey, bobKey := e.addKey(t, alice, "alice"), e.addKey(t, bob, "bob")
	carolKey, daveKey := e.addKey(t, carol, "carol"), e.addKey(t, dave, "dave")

	keys, total, err := e.keys.ListProject(ctx, bob, p.ID, page(1, 0))
	if err != nil || total != 2 || len(keys) != 2 {
		t.Fatalf("ListProject = %+v, %d, %v; want alice's and bob's keys", keys, total, err)
	}
	if keys[0].Key != aliceKey || keys[0].Owner.ID != alice || keys[0].Owner.Email != "alice@example.com" ||
		keys[1].Key != bobKey || keys[1].Owner.ID != bob {
		t.Fatalf("ListProject = %+v, want alice's key then bob's, with their owners", keys)
	}
	for _, outsider := range []string{carol, dave} {
		_, _, err := e.keys.ListProject(ctx, outsider, p.ID, page(1, 0))
		wantFault(t, err, fault.KindNotFound, "")
	}

	got, err := e.keys.KeysForProject(ctx, p.ID, []string{bobKey.ID, aliceKey.ID, bobKey.ID})
	if err != nil || len(got) != 2 || got[0] != bobKey || got[1] != aliceKey {
		t.Fatalf("KeysForProject = %+v, %v; want bob's key then alice's, once each", got, err)
	}
	if got, err := e.keys.KeysForProject(ctx, p.ID, nil); err != nil || len(got) != 0 {
		t.Fatalf("KeysForProject(none) = %+v, %v", got, err)
	}
	for name, id := range map[string]string{
		"pending invitee's key": carolKey.ID,
		"outsider's key":        daveKey.ID,
		"unknown key":           "00000000-0000-4000-8000-000000000000",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := e.keys.KeysForProject(ctx, p.ID, []string{aliceKey.ID, id})
			wantFault(t, err, fault.KindInvalidArgument, keyring.KeyIDsField)
		})
	}
}
