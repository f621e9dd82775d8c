package project_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/identity"
	"github.com/gpcore/gpcore/internal/project"
)

func TestInvitePerson(t *testing.T) {
	t.Parallel()
	e := newEnv(t, project.Config{})
	alice := e.person(t, "alice@example.com")
	bob := e.person(t, "bob@example.com")
	carol := e.person(t, "carol@example.com")
	p := e.create(t, alice.ID, "Shop")

	// By e-mail address, in any case and with spaces around.
	m := e.invite(t, alice.ID, p.ID, "  Bob@Example.COM ")
	wantUser := project.User{ID: bob.ID, Username: bob.Username, FullName: bob.FullName, Email: bob.Email, Type: identity.UserTypeUser}
	if m.User != wantUser || m.Role != project.RoleMember || m.Confirmed || m.Default || m.CreatedAt.IsZero() {
		t.Fatalf("Invite = %+v, want a pending MEMBER %+v", m, wantUser)
	}
	// By user id.
	if m := e.invite(t, alice.ID, p.ID, carol.ID); m.User.ID != carol.ID || m.Confirmed {
		t.Fatalf("Invite by id = %+v", m)
	}
	// An invite grants nothing yet.
	if ok, err := e.projects.IsMember(t.Context(), p.ID, bob.ID); err != nil || ok {
		t.Fatalf("IsMember(invitee) = %v, %v, want false", ok, err)
	}
	logs := e.logs(t, alice.ID, p.ID)
	if logs[0] != "invited carol@example.com" || logs[1] != "invited bob@example.com" {
		t.Fatalf("log = %q", logs)
	}
}

func TestInviteServiceAccount(t *testing.T) {
	t.Parallel()
	e := newEnv(t, project.Config{})
	alice := e.person(t, "alice@example.com")
	sa := e.serviceAccount(t, alice)
	first := e.create(t, alice.ID, "Shop")
	second := e.create(t, alice.ID, "Lab")

	m := e.invite(t, alice.ID, first.ID, sa.ID)
	if m.User.ID != sa.ID || m.User.Type != identity.UserTypeServiceAccount || m.User.Email != "" ||
		m.Role != project.RoleMember || !m.Confirmed || !m.Default {
		t.Fatalf("Invite(service account) = %+v, want a confirmed default MEMBER", m)
	}
	if ok, err := e.projects.IsMember(t.Context(), first.ID, sa.ID); err != nil || !ok {
		t.Fatalf("IsMember(service account) = %v, %v, want true", ok, err)
	}
	if m := e.invite(t, alice.ID, second.ID, sa.ID); !m.Confirmed || m.Default {
		t.Fatalf("second Invite(service account) = %+v, want confirmed, not default", m)
	}
	if got := e.defaultProject(t, sa.ID); got != first.ID {
		t.Fatalf("service account default = %q, want %s", got, first.ID)
	}
	if logs := e.logs(t, alice.ID, first.ID); logs[0] != "added the service account "+sa.Username {
		t.Fatalf("newest log entry = %q", logs[0])
	}
	// It can see the project like any member.
	if got := e.get(t, sa.ID, first.ID); len(got.Members) != 2 {
		t.Fatalf("members seen by the service account = %+v", got.Members)
	}
}

// TestInviteOthersServiceAccount: a service account is its client's owner's
// to add. Anyone else inviting it, even by its exact id, is told exactly
// what an unknown id gets; so is its owner once the client is deleted (its
// account locked). Nothing is written.
func TestInviteOthersServiceAccount(t *testing.T) {
	t.Parallel()
	e := newEnv(t, project.Config{})
	alice := e.person(t, "alice@example.com")
	bob := e.person(t, "bob@example.com")
	bobsBot := e.serviceAccount(t, bob)
	c, _, err := e.identity.CreateClient(t.Context(), alice.ID, "doomed", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.identity.DeleteClient(t.Context(), alice.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	locked := c.ServiceAccount
	p := e.create(t, alice.ID, "Shop")
	logs := e.logCount(t, p.ID)
	const unknown = "4b1c7a57-2f44-4c40-9d3c-3f1f0b9f6e01"
	_, errUnknown := e.projects.Invite(t.Context(), alice.ID, p.ID, unknown)
	wantFault(t, errUnknown, fault.KindNotFound, "identifier", "not found")

	for name, id := range map[string]string{"another's": bobsBot.ID, "a deleted client's": locked.ID} {
		t.Run(name, func(t *testing.T) {
			_, err := e.projects.Invite(t.Context(), alice.ID, p.ID, id)
			wantFault(t, err, fault.KindNotFound, "identifier", "not found")
			if got, want := strings.ReplaceAll(err.Error(), id, unknown), errUnknown.Error(); got != want {
				t.Fatalf("Invite(%s) = %q, an unknown id gets %q", id, got, want)
			}
			if ok, err := e.projects.IsMember(t.Context(), p.ID, id); err != nil || ok {
				t.Fatalf("IsMember = %v, %v, want false", ok, err)
			}
			if got := e.defaultProject(t, id); got != "" {
				t.Fatalf("the service account got the default project %s", got)
			}
		})
	}
	if got := e.logCount(t, p.ID); got != logs {
		t.Fatalf("refused invites wrote %d log entries", got-logs)
	}
	// Bob adds his own bot to his own project.
	bobs := e.create(t, bob.ID, "Bob's")
	if m := e.invite(t, bob.ID, bobs.ID, bobsBot.ID); !m.Confirmed {
		t.Fatalf("bob adding his own service account = %+v", m)
	}
}

func TestInviteRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t, project.Config{})
	alice := e.person(t, "alice@example.com")
	bob := e.person(t, "bob@example.com")
	carol := e.person(t, "carol@example.com")
	dave := e.person(t, "dave@example.com")
	p := e.create(t, alice.ID, "Shop")
	other := e.create(t, dave.ID, "Dave's")
	e.invite(t, alice.ID, p.ID, bob.Email)
	e.join(t, bob.ID, p.ID)
	e.invite(t, alice.ID, p.ID, carol.Email)
	logs := e.logCount(t, p.ID)

	for _, tc := range []struct {
		name       string
		caller     string
		project    string
		identifier string
		kind       fault.Kind
		field      string
		text       string
	}{
		{"empty identifier", alice.ID, p.ID, "  ", fault.KindInvalidArgument, "identifier", "required"},
		{"neither e-mail nor id", alice.ID, p.ID, "bob", fault.KindInvalidArgument, "identifier", `got "bob"`},
		{"unknown e-mail", alice.ID, p.ID, "nobody@example.com", fault.KindNotFound, "identifier", `"nobody@example.com" not found`},
		{"unknown id", alice.ID, p.ID, "4b1c7a57-2f44-4c40-9d3c-3f1f0b9f6e01", fault.KindNotFound, "identifier", "not found"},
		{"member already", alice.ID, p.ID, "BOB@example.com", fault.KindAlreadyExists, "identifier", "bob@example.com is a member"},
		{"invited already", alice.ID, p.ID, carol.ID, fault.KindAlreadyExists, "identifier", "carol@example.com is invited"},
		{"the owner", alice.ID, p.ID, alice.Email, fault.KindAlreadyExists, "identifier", "is a member"},
		{"member, not owner", bob.ID, p.ID, dave.Email, fault.KindPermissionDenied, "", "only the project owner may invite members"},
		{"pending invitee", carol.ID, p.ID, dave.Email, fault.KindNotFound, "", "not found"},
		{"stranger", dave.ID, p.ID, dave.Email, fault.KindNotFound, "", "not found"},
		{"owner of another project", alice.ID, other.ID, bob.Email, fault.KindNotFound, "", "not found"},
		{"no such project", alice.ID, "4b1c7a57-2f44-4c40-9d3c-3f1f0b9f6e01", bob.Email, fault.KindNotFound, "", "not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.projects.Invite(t.Context(), tc.caller, tc.project, tc.identifier)
			wantFault(t, err, tc.kind, tc.field, tc.text)
		})
	}
	if got := e.logCount(t, p.ID); got != logs {
		t.Fatalf("refused invites wrote %d log entries", got-logs)
	}
}

func TestJoin(t *testing.T) {
	t.Parallel()
	e := newEnv(t, project.Config{})
	alice := e.person(t, "alice@example.com")
	bob := e.person(t, "bob@example.com")
	shop := e.create(t, alice.ID, "Shop")
	lab := e.create(t, alice.ID, "Lab")
	e.invite(t, alice.ID, shop.ID, bob.Email)
	e.invite(t, alice.ID, lab.ID, bob.Email)

	// Rejecting deletes the invite.
	if err := e.projects.Join(t.Context(), bob.ID, lab.ID, false); err != nil {
		t.Fatalf("Join(reject): %v", err)
	}
	if _, ok := member(e.get(t, alice.ID, lab.ID), bob.ID); ok {
		t.Fatal("the rejected invite is still there")
	}
	if logs := e.logs(t, alice.ID, lab.ID); logs[0] != "declined the invitation" {
		t.Fatalf("newest log entry = %q", logs[0])
	}
	err := e.projects.Join(t.Context(), bob.ID, lab.ID, true)
	wantFault(t, err, fault.KindNotFound, "", "not found")

	// Accepting makes a confirmed MEMBER; his first project is his default.
	e.join(t, bob.ID, shop.ID)
	m, _ := member(e.get(t, bob.ID, shop.ID), bob.ID)
	if m.Role != project.RoleMember || !m.Confirmed || !m.Default || !m.UpdatedAt.After(m.CreatedAt) {
		t.Fatalf("membership after Join = %+v", m)
	}
	if logs := e.logs(t, bob.ID, shop.ID); logs[0] != "joined the project" {
		t.Fatalf("newest log entry = %q", logs[0])
	}
	if l, _ := e.projects.List(t.Context(), bob.ID, "", page(1, 10)); len(l.Invites) != 0 || l.Total != 1 {
		t.Fatalf("bob's list after joining = %+v", l)
	}

	for _, tc := range []struct {
		name    string
		caller  string
		project string
		accept  bool
		kind    fault.Kind
		text    string
	}{
		{"member already", bob.ID, shop.ID, true, fault.KindFailedPrecondition, "a member of the project already"},
		{"owner rejecting", alice.ID, shop.ID, false, fault.KindFailedPrecondition, "a member of the project already"},
		{"not invited", bob.ID, lab.ID, true, fault.KindNotFound, "not found"},
		{"no such project", bob.ID, "4b1c7a57-2f44-4c40-9d3c-3f1f0b9f6e01", true, fault.KindNotFound, "not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := e.projects.Join(t.Context(), tc.caller, tc.project, tc.accept)
			wantFault(t, err, tc.kind, "", tc.text)
		})
	}
}

func TestJoinKeepsExistingDefault(t *testing.T) {
	t.Parallel()
	e := newEnv(t, project.Config{})
	alice := e.person(t, "alice@example.com")
	bob := e.person(t, "bob@example.com")
	shop := e.create(t, alice.ID, "Shop")
	bobs := e.create(t, bob.ID, "Bob's")
	e.invite(t, alice.ID, shop.ID, bob.ID)
	e.join(t, bob.ID, shop.ID)
	if got := e.defaultProject(t, bob.ID); got != bobs.ID {
		t.Fatalf("bob's default = %s, want his own %s", got, bobs.ID)
	}
}

func TestLeave(t *testing.T) {
	t.Parallel()
	e := newEnv(t, project.Config{})
	alice := e.person(t, "alice@example.com")
	bob := e.person(t, "bob@example.com")
	carol := e.person(t, "carol@example.com")
	e.create(t, alice.ID, "Home")
	shop := e.create(t, alice.ID, "Shop")
	bobs := e.create(t, bob.ID, "Bob's")
	e.invite(t, alice.ID, shop.ID, bob.Email)
	e.join(t, bob.ID, shop.ID)
	e.invite(t, alice.ID, shop.ID, carol.Email)

	err := e.projects.Leave(t.Context(), alice.ID, shop.ID)
	wantFault(t, err, fault.KindFailedPrecondition, "", "last owner")
	err = e.projects.Leave(t.Context(), carol.ID, shop.ID)
	wantFault(t, err, fault.KindNotFound, "", "not found")
	err = e.projects.Leave(t.Context(), carol.ID, bobs.ID)
	wantFault(t, err, fault.KindNotFound, "", "not found")

	if err := e.projects.ChangeDefault(t.Context(), bob.ID, shop.ID); err != nil {
		t.Fatal(err)
	}
	err = e.projects.Leave(t.Context(), bob.ID, shop.ID)
	wantFault(t, err, fault.KindFailedPrecondition, "", "default project")

	if err := e.projects.ChangeDefault(t.Context(), bob.ID, bobs.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.projects.Leave(t.Context(), bob.ID, shop.ID); err != nil {
		t.Fatalf("Leave: %v", err)
	}
	if ok, _ := e.projects.IsMember(t.Context(), shop.ID, bob.ID); ok {
		t.Fatal("bob is still a member after leaving")
	}
	_, err = e.projects.Get(t.Context(), bob.ID, shop.ID)
	wantFault(t, err, fault.KindNotFound, "", "not found")
	if logs := e.logs(t, alice.ID, shop.ID); logs[0] != "left the project" {
		t.Fatalf("newest log entry = %q", logs[0])
	}

	// With a second owner (no API makes one yet), an owner may leave.
	e.invite(t, alice.ID, shop.ID, bob.Email)
	e.join(t, bob.ID, shop.ID)
	e.exec(t, "UPDATE project_members SET role = 'OWNER' WHERE project_id = ? AND user_id = ?", shop.ID, bob.ID)
	if err := e.projects.Leave(t.Context(), bob.ID, shop.ID); err != nil {
		t.Fatalf("Leave(second owner): %v", err)
	}
}

func TestRemoveMember(t *testing.T) {
	t.Parallel()
	e := newEnv(t, project.Config{})
	alice := e.person(t, "alice@example.com")
	bob := e.person(t, "bob@example.com")
	carol := e.person(t, "carol@example.com")
	dave := e.person(t, "dave@example.com")
	erin := e.person(t, "erin@example.com")
	shop := e.create(t, alice.ID, "Shop")
	e.invite(t, alice.ID, shop.ID, bob.Email)
	e.join(t, bob.ID, shop.ID)
	e.invite(t, alice.ID, shop.ID, carol.Email)
	e.invite(t, alice.ID, shop.ID, dave.Email)
	e.join(t, dave.ID, shop.ID)
	davesOld := e.create(t, dave.ID, "Dave old")
	e.create(t, dave.ID, "Dave new")
	if e.defaultProject(t, dave.ID) != shop.ID {
		t.Fatal("dave's default is not the shop he joined first")
	}

	for _, tc := range []struct {
		name   string
		caller string
		target string
		kind   fault.Kind
		field  string
		text   string
	}{
		{"member, not owner", bob.ID, dave.ID, fault.KindPermissionDenied, "", "only the project owner may remove members"},
		{"pending invitee", carol.ID, bob.ID, fault.KindNotFound, "", `project "`},
		{"yourself", alice.ID, alice.ID, fault.KindFailedPrecondition, "", "cannot remove yourself"},
		{"not a member", alice.ID, erin.ID, fault.KindNotFound, "user_id", "project member"},
		{"unknown user", alice.ID, "4b1c7a57-2f44-4c40-9d3c-3f1f0b9f6e01", fault.KindNotFound, "user_id", "project member"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := e.projects.RemoveMember(t.Context(), tc.caller, shop.ID, tc.target)
			wantFault(t, err, tc.kind, tc.field, tc.text)
			var fe *fault.Error
			if tc.field == "" && errors.As(err, &fe) && fe.Field != "" {
				t.Fatalf("error %v names the field %q", err, fe.Field)
			}
		})
	}

	// Withdrawing an invite.
	if err := e.projects.RemoveMember(t.Context(), alice.ID, shop.ID, carol.ID); err != nil {
		t.Fatalf("RemoveMember(invitee): %v", err)
	}
	if l, _ := e.projects.List(t.Context(), carol.ID, "", page(1, 10)); len(l.Invites) != 0 {
		t.Fatalf("carol's invites = %+v, want none", l.Invites)
	}
	// Removing a member whose default it was moves their default.
	if err := e.projects.RemoveMember(t.Context(), alice.ID, shop.ID, dave.ID); err != nil {
		t.Fatalf("RemoveMember: %v", err)
	}
	if got := e.defaultProject(t, dave.ID); got != davesOld.ID {
		t.Fatalf("dave's default = %q, want his oldest remaining %s", got, davesOld.ID)
	}
	if ok, _ := e.projects.IsMember(t.Context(), shop.ID, dave.ID); ok {
		t.Fatal("dave is still a member")
	}
	logs := e.logs(t, alice.ID, shop.ID)
	if logs[0] != "removed dave@example.com from the project" || logs[1] != "withdrew the invitation of carol@example.com" {
		t.Fatalf("log = %q", logs[:2])
	}

	// An owner cannot be removed (a second owner has no API yet).
	e.exec(t, "UPDATE project_members SET role = 'OWNER' WHERE project_id = ? AND user_id = ?", shop.ID, bob.ID)
	err := e.projects.RemoveMember(t.Context(), alice.ID, shop.ID, bob.ID)
	wantFault(t, err, fault.KindFailedPrecondition, "", "owner cannot be removed")
}

func TestSchemaKeepsInvariants(t *testing.T) {
	t.Parallel()
	e := newEnv(t, project.Config{})
	alice := e.person(t, "alice@example.com")
	bob := e.person(t, "bob@example.com")
	first := e.create(t, alice.ID, "First")
	second := e.create(t, alice.ID, "Second")
	e.invite(t, alice.ID, first.ID, bob.Email)

	for _, tc := range []struct{ name, query string }{
		{"two defaults", "UPDATE project_members SET is_default = TRUE WHERE project_id = '" + second.ID + "'"},
		{"pending owner", "UPDATE project_members SET role = 'OWNER' WHERE user_id = '" + bob.ID + "'"},
		{"pending default", "UPDATE project_members SET is_default = TRUE WHERE user_id = '" + bob.ID + "'"},
		{"short name", "UPDATE projects SET name = 'ab' WHERE id = '" + first.ID + "'"},
		{"long name", "UPDATE projects SET name = '" + strings.Repeat("n", 65) + "' WHERE id = '" + first.ID + "'"},
		{"currency", "UPDATE projects SET currency = 'GBP' WHERE id = '" + first.ID + "'"},
		{"unknown user", "INSERT INTO project_members (project_id, user_id, role, confirmed, is_default, created_at, updated_at) " +
			"VALUES ('" + second.ID + "', 'nobody', 'MEMBER', TRUE, FALSE, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := e.db.ExecContext(t.Context(), tc.query); err == nil {
				t.Fatalf("%s succeeded, want a constraint violation", tc.query)
			}
		})
	}
}
