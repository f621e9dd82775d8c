package cloudv1_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"connectrpc.com/connect"

	authv1 "github.com/gpcore/gpcore/gen/gpcore/api/auth/v1"
	"github.com/gpcore/gpcore/gen/gpcore/api/auth/v1/authv1connect"
	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	"github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1/cloudv1connect"
	"github.com/gpcore/gpcore/internal/testserver"
)

// invite invites identifier to a project as the client's user.
func invite(c cloudv1connect.CloudServiceClient, projectID, identifier string) (*cloudv1.ProjectMember, error) {
	res, err := c.InviteMemberToProject(context.Background(), connect.NewRequest(&cloudv1.InviteMemberToProjectRequest{
		Id: projectID, Identifier: identifier,
	}))
	if err != nil {
		return nil, err
	}
	return res.Msg.GetMember(), nil
}

// join accepts or rejects the client's user's invite to a project.
func join(c cloudv1connect.CloudServiceClient, projectID string, accept bool) error {
	_, err := c.JoinProject(context.Background(), connect.NewRequest(&cloudv1.JoinProjectRequest{Id: projectID, Accept: accept}))
	return err
}

// leave leaves a project as the client's user.
func leave(c cloudv1connect.CloudServiceClient, projectID string) error {
	_, err := c.LeaveProject(context.Background(), connect.NewRequest(&cloudv1.LeaveProjectRequest{Id: projectID}))
	return err
}

// remove removes userID from a project as the client's user.
func remove(c cloudv1connect.CloudServiceClient, projectID, userID string) error {
	_, err := c.RemoveMemberFromProject(context.Background(), connect.NewRequest(&cloudv1.RemoveMemberFromProjectRequest{
		Id: projectID, UserId: userID,
	}))
	return err
}

// addMember makes member a confirmed member of owner's project: invited by
// e-mail address, accepted.
func addMember(t *testing.T, s *testserver.Server, owner, member testserver.User, projectID string) {
	t.Helper()
	if _, err := invite(s.Cloud(owner.Token), projectID, member.Email); err != nil {
		t.Fatalf("invite %s: %v", member.Email, err)
	}
	if err := join(s.Cloud(member.Token), projectID, true); err != nil {
		t.Fatalf("%s joining: %v", member.Email, err)
	}
}

// memberOf returns userID's membership as listed in p.
func memberOf(p *cloudv1.Project, userID string) *cloudv1.ProjectMember {
	for _, m := range p.GetMembers() {
		if m.GetUser().GetId() == userID {
			return m
		}
	}
	return nil
}

func TestInviteAndAccept(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	owner, invitee := s.Register(t), s.Register(t)
	oc, ic := s.Cloud(owner.Token), s.Cloud(invitee.Token, connect.WithGRPC())
	p := s.CreateProject(t, owner.Token, "Team")

	m, err := invite(oc, p.GetId(), "  "+strings.ToUpper(invitee.Email)+" ")
	if err != nil {
		t.Fatal(err)
	}
	if m.GetUser().GetId() != invitee.ID || m.GetRole() != cloudv1.ProjectMemberRole_PROJECT_MEMBER_ROLE_MEMBER ||
		m.GetConfirmed() || m.GetDefault() {
		t.Fatalf("invite = %v, want a pending MEMBER", m)
	}

	// A pending invite lists the project as an invite, and shows nothing of it.
	l := listProjects(t, ic)
	if len(l.GetProjects()) != 0 || len(l.GetInvites()) != 1 {
		t.Fatalf("invitee lists %v and invites %v", l.GetProjects(), l.GetInvites())
	}
	if inv := l.GetInvites()[0]; inv.GetId() != p.GetId() || inv.GetProject().GetName() != "Team" || inv.GetCreatedAt() == nil {
		t.Fatalf("invite = %v", inv)
	}
	_, err = ic.GetProject(context.Background(), connect.NewRequest(&cloudv1.GetProjectRequest{Id: p.GetId()}))
	testserver.WantCode(t, err, connect.CodeNotFound, "")

	// Inviting again, by address or by id, is refused.
	_, err = invite(oc, p.GetId(), invitee.Email)
	testserver.WantCode(t, err, connect.CodeAlreadyExists, "identifier")
	_, err = invite(oc, p.GetId(), invitee.ID)
	testserver.WantCode(t, err, connect.CodeAlreadyExists, "identifier")

	if err := join(ic, p.GetId(), true); err != nil {
		t.Fatal(err)
	}
	got := memberOf(getProject(t, ic, p.GetId()), invitee.ID)
	if !got.GetConfirmed() || !got.GetDefault() || got.GetRole() != cloudv1.ProjectMemberRole_PROJECT_MEMBER_ROLE_MEMBER {
		t.Fatalf("member after accepting = %v, want a confirmed MEMBER with the project as first (default) project", got)
	}
	if l := listProjects(t, ic); len(l.GetProjects()) != 1 || len(l.GetInvites()) != 0 {
		t.Fatalf("after joining: projects %v, invites %v", projectNames(l.GetProjects()), l.GetInvites())
	}
	testserver.WantCode(t, join(ic, p.GetId(), true), connect.CodeFailedPrecondition, "")
	_, err = invite(oc, p.GetId(), invitee.ID)
	testserver.WantCode(t, err, connect.CodeAlreadyExists, "identifier")
}

func TestRejectInvite(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	owner, invitee := s.Register(t), s.Register(t)
	oc, ic := s.Cloud(owner.Token, connect.WithGRPC()), s.Cloud(invitee.Token)
	p := s.CreateProject(t, owner.Token, "Team")
	if _, err := invite(oc, p.GetId(), invitee.ID); err != nil {
		t.Fatal(err)
	}
	if err := join(ic, p.GetId(), false); err != nil {
		t.Fatal(err)
	}
	if l := listProjects(t, ic); len(l.GetInvites()) != 0 || len(l.GetProjects()) != 0 {
		t.Fatalf("after rejecting: %v", l)
	}
	if memberOf(getProject(t, oc, p.GetId()), invitee.ID) != nil {
		t.Fatal("the rejected invite is still listed among the members")
	}
	testserver.WantCode(t, join(ic, p.GetId(), true), connect.CodeNotFound, "")
	// A rejected invite can be made again.
	if _, err := invite(oc, p.GetId(), invitee.Email); err != nil {
		t.Fatalf("inviting again after a rejection: %v", err)
	}
}

func TestInviteRefusals(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	owner, member := s.Register(t), s.Register(t)
	p := s.CreateProject(t, owner.Token, "Team")
	addMember(t, s, owner, member, p.GetId())
	oc := s.Cloud(owner.Token)
	for _, tc := range []struct {
		name      string
		c         cloudv1connect.CloudServiceClient
		id, ident string
		code      connect.Code
		field     string
	}{
		{"unknown e-mail address", oc, p.GetId(), "nobody@example.com", connect.CodeNotFound, "identifier"},
		{"unknown user id", oc, p.GetId(), "6a0c1a3e-39a4-4d16-9d4e-2d0f0b7c2f11", connect.CodeNotFound, "identifier"},
		{"a member already", oc, p.GetId(), member.Email, connect.CodeAlreadyExists, "identifier"},
		{"neither address nor id", oc, p.GetId(), "bob", connect.CodeInvalidArgument, "identifier"},
		{"no identifier", oc, p.GetId(), " ", connect.CodeInvalidArgument, "identifier"},
		{"project not a UUID", oc, "team", "nobody@example.com", connect.CodeInvalidArgument, "id"},
		{"not the owner", s.Cloud(member.Token), p.GetId(), owner.Email, connect.CodePermissionDenied, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := invite(tc.c, tc.id, tc.ident)
			testserver.WantCode(t, err, tc.code, tc.field)
		})
	}
}

func TestServiceAccountJoinsAtOnce(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	owner := s.Register(t)
	ctx := context.Background()
	auth := authv1connect.NewAuthServiceClient(testserver.HTTPClient(), s.URL, testserver.ClientOptions(owner.Token)...)
	created, err := auth.CreateClient(ctx, connect.NewRequest(&authv1.CreateClientRequest{Name: "deploy bot"}))
	if err != nil {
		t.Fatal(err)
	}
	client := created.Msg.GetClient()
	p := s.CreateProject(t, owner.Token, "Team")

	m, err := invite(s.Cloud(owner.Token), p.GetId(), client.GetServiceAccount().GetId())
	if err != nil {
		t.Fatal(err)
	}
	if !m.GetConfirmed() || m.GetUser().GetType() != cloudv1.UserType_USER_TYPE_SERVICE_ACCOUNT ||
		m.GetRole() != cloudv1.ProjectMemberRole_PROJECT_MEMBER_ROLE_MEMBER {
		t.Fatalf("service account membership = %v, want a confirmed MEMBER at once", m)
	}

	status, tr := s.PostToken(t, url.Values{
		"grant_type": {"client_credentials"}, "client_id": {client.GetId()}, "client_secret": {client.GetSecret()},
	})
	if status != http.StatusOK {
		t.Fatalf("client_credentials: %d %s %s", status, tr.Error, tr.Description)
	}
	bot := s.Cloud(tr.AccessToken, connect.WithGRPC())
	if got := memberOf(getProject(t, bot, p.GetId()), client.GetServiceAccount().GetId()); !got.GetDefault() {
		t.Fatalf("the service account's membership = %v, want its first project as default", got)
	}
}

// TestServiceAccountOfAnother: Alice cannot add Bob's OAuth client's service
// account to her project (nor make it the bot's default project), and
// cannot add her own once its client is deleted; both are told exactly what
// an unknown user id gets, over Connect and gRPC.
func TestServiceAccountOfAnother(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	alice, bob := s.Register(t), s.Register(t)
	ctx := context.Background()
	newClient := func(u testserver.User, name string) *authv1.Client {
		t.Helper()
		auth := authv1connect.NewAuthServiceClient(testserver.HTTPClient(), s.URL, testserver.ClientOptions(u.Token)...)
		res, err := auth.CreateClient(ctx, connect.NewRequest(&authv1.CreateClientRequest{Name: name}))
		if err != nil {
			t.Fatal(err)
		}
		return res.Msg.GetClient()
	}
	bobsBot := newClient(bob, "bob's bot")
	doomed := newClient(alice, "doomed bot")
	auth := authv1connect.NewAuthServiceClient(testserver.HTTPClient(), s.URL, testserver.ClientOptions(alice.Token)...)
	if _, err := auth.DeleteClient(ctx, connect.NewRequest(&authv1.DeleteClientRequest{Id: doomed.GetId()})); err != nil {
		t.Fatal(err)
	}
	p := s.CreateProject(t, alice.Token, "Alice's")
	const unknown = "6a0c1a3e-39a4-4d16-9d4e-2d0f0b7c2f11"

	for _, proto := range cloudProtocols {
		ac := s.Cloud(alice.Token, proto.opts...)
		_, errUnknown := invite(ac, p.GetId(), unknown)
		testserver.WantCode(t, errUnknown, connect.CodeNotFound, "identifier")
		for _, id := range []string{bobsBot.GetServiceAccount().GetId(), doomed.GetServiceAccount().GetId()} {
			_, err := invite(ac, p.GetId(), id)
			testserver.WantCode(t, err, connect.CodeNotFound, "identifier")
			if got, want := strings.ReplaceAll(err.Error(), id, unknown), errUnknown.Error(); got != want {
				t.Errorf("%s: inviting %s is refused with %q, an unknown id with %q", proto.name, id, err, errUnknown)
			}
		}
	}
	if got := getProject(t, s.Cloud(alice.Token), p.GetId()).GetMembers(); len(got) != 1 {
		t.Fatalf("members = %v, want alice alone", got)
	}
	status, tr := s.PostToken(t, url.Values{
		"grant_type": {"client_credentials"}, "client_id": {bobsBot.GetId()}, "client_secret": {bobsBot.GetSecret()},
	})
	if status != http.StatusOK {
		t.Fatalf("client_credentials: %d %s %s", status, tr.Error, tr.Description)
	}
	if l := listProjects(t, s.Cloud(tr.AccessToken)); len(l.GetProjects()) != 0 {
		t.Fatalf("bob's bot lists %v", projectNames(l.GetProjects()))
	}
}

func TestLeaveProject(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	owner, member, pending, stranger := s.Register(t), s.Register(t), s.Register(t), s.Register(t)
	oc, mc := s.Cloud(owner.Token), s.Cloud(member.Token, connect.WithGRPC())
	home := s.CreateProject(t, owner.Token, "Home")
	team := s.CreateProject(t, owner.Token, "Team")
	addMember(t, s, owner, member, team.GetId())
	if _, err := invite(oc, team.GetId(), pending.Email); err != nil {
		t.Fatal(err)
	}

	// Team is the member's first, so default, project.
	testserver.WantCode(t, leave(mc, team.GetId()), connect.CodeFailedPrecondition, "")
	testserver.WantCode(t, leave(oc, home.GetId()), connect.CodeFailedPrecondition, "")
	testserver.WantCode(t, leave(oc, team.GetId()), connect.CodeFailedPrecondition, "") // the last owner
	testserver.WantCode(t, leave(s.Cloud(pending.Token), team.GetId()), connect.CodeNotFound, "")
	testserver.WantCode(t, leave(s.Cloud(stranger.Token), team.GetId()), connect.CodeNotFound, "")
	testserver.WantCode(t, leave(mc, "team"), connect.CodeInvalidArgument, "id")

	own := s.CreateProject(t, member.Token, "Mine")
	if _, err := mc.ChangeDefaultProject(context.Background(), connect.NewRequest(&cloudv1.ChangeDefaultProjectRequest{Id: own.GetId()})); err != nil {
		t.Fatal(err)
	}
	if err := leave(mc, team.GetId()); err != nil {
		t.Fatalf("leaving a project that is not the default: %v", err)
	}
	_, err := mc.GetProject(context.Background(), connect.NewRequest(&cloudv1.GetProjectRequest{Id: team.GetId()}))
	testserver.WantCode(t, err, connect.CodeNotFound, "")
	if memberOf(getProject(t, oc, team.GetId()), member.ID) != nil {
		t.Fatal("the member who left is still listed")
	}
}

func TestRemoveMember(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	owner, member, pending := s.Register(t), s.Register(t), s.Register(t)
	oc, mc := s.Cloud(owner.Token, connect.WithGRPC()), s.Cloud(member.Token)
	team := s.CreateProject(t, owner.Token, "Team")
	addMember(t, s, owner, member, team.GetId())
	if _, err := invite(oc, team.GetId(), pending.Email); err != nil {
		t.Fatal(err)
	}

	testserver.WantCode(t, remove(mc, team.GetId(), owner.ID), connect.CodePermissionDenied, "")
	testserver.WantCode(t, remove(oc, team.GetId(), owner.ID), connect.CodeFailedPrecondition, "") // yourself, the owner
	testserver.WantCode(t, remove(oc, team.GetId(), "6a0c1a3e-39a4-4d16-9d4e-2d0f0b7c2f11"), connect.CodeNotFound, "user_id")
	testserver.WantCode(t, remove(oc, team.GetId(), "bob"), connect.CodeInvalidArgument, "user_id")

	// Removing an invitee withdraws the invite.
	if err := remove(oc, team.GetId(), pending.ID); err != nil {
		t.Fatal(err)
	}
	if l := listProjects(t, s.Cloud(pending.Token)); len(l.GetInvites()) != 0 {
		t.Fatalf("the withdrawn invite is still listed: %v", l.GetInvites())
	}

	if err := remove(oc, team.GetId(), member.ID); err != nil {
		t.Fatal(err)
	}
	_, err := mc.GetProject(context.Background(), connect.NewRequest(&cloudv1.GetProjectRequest{Id: team.GetId()}))
	testserver.WantCode(t, err, connect.CodeNotFound, "")
	if l := listProjects(t, mc); len(l.GetProjects()) != 0 {
		t.Fatalf("the removed member still lists %v", projectNames(l.GetProjects()))
	}
	testserver.WantCode(t, remove(oc, team.GetId(), member.ID), connect.CodeNotFound, "user_id")
	if got := getProject(t, oc, team.GetId()).GetMembers(); len(got) != 1 || got[0].GetUser().GetId() != owner.ID {
		t.Fatalf("members = %v, want the owner alone", got)
	}
}
