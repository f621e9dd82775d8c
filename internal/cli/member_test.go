package cli

import (
	"strings"
	"testing"

	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	"github.com/gpcore/gpcore/internal/testserver"
)

// TestInviteJoinBetweenTwoPeople: an owner invites, the invitee sees the
// invite, joins, is removed, is invited again and rejects, joins and leaves.
func TestInviteJoinBetweenTwoPeople(t *testing.T) {
	srv := testserver.Start(t)
	ada, bob := registered(t, srv, "ada"), registered(t, srv, "bob")
	ada.run("project", "create", "home")
	shared := decode(t, ada.run("project", "create", "shared", "-o", "json"), &cloudv1.CreateProjectResponse{}).GetProject()
	bob.run("project", "create", "bobs")

	wantLines(t, ada.run("member", "invite", bob.email, "--project", "shared"), []string{bob.email, "member", "invited"})
	wantLines(t, bob.run("project", "list"), []string{"Pending invites"}, []string{"PROJECT ID", "NAME", "INVITED"}, []string{shared.GetId(), "shared"})
	invites := decode(t, bob.run("project", "list", "-o", "json"), &cloudv1.ListProjectsResponse{}).GetInvites()
	if len(invites) != 1 || invites[0].GetProject().GetId() != shared.GetId() {
		t.Fatalf("bob's invites = %v", invites)
	}
	ada.fails("already_exists", "member", "invite", bob.email, "--project", "shared")
	ada.fails("not_found", "member", "invite", "nobody@example.com", "--project", shared.GetId())

	if out := bob.run("member", "join", "shared"); !strings.Contains(out, "Joined project shared.") {
		t.Fatalf("member join said %q", out)
	}
	wantLines(t, ada.run("member", "list", "--project", "shared"), []string{ada.email, "owner", "member"}, []string{bob.email, "member", "member"})
	wantLines(t, bob.run("project", "list"), []string{shared.GetId(), "shared", "member"})
	bob.fails("permission_denied", "member", "invite", "someone@example.com", "--project", "shared")

	if out := ada.run("member", "remove", bob.email, "--project", "shared"); !strings.Contains(out, "Removed "+bob.email+" from project shared.") {
		t.Fatalf("member remove said %q", out)
	}
	bob.fails(`no project named "shared"`, "project", "get", "shared")

	ada.run("member", "invite", bob.email, "--project", "shared")
	if out := bob.run("member", "reject", "shared"); !strings.Contains(out, "Declined the invite to project shared.") {
		t.Fatalf("member reject said %q", out)
	}
	bob.fails(`no pending invite named "shared"`, "member", "join", "shared")

	ada.run("member", "invite", bob.email, "--project", "shared")
	bob.run("member", "join", shared.GetId())
	if out := bob.run("member", "leave", "shared"); !strings.Contains(out, "Left project shared.") {
		t.Fatalf("member leave said %q", out)
	}
	if got := decode(t, ada.run("member", "list", "--project", "shared", "-o", "json"), &cloudv1.GetProjectResponse{}).GetProject().GetMembers(); len(got) != 1 {
		t.Fatalf("members after bob left: %v", got)
	}

	// Bob is in the log, though no longer a member.
	logs := decode(t, ada.run("project", "logs", "shared", "--user", bob.email, "-o", "json"), &cloudv1.ListProjectLogsResponse{}).GetLogs()
	if len(logs) == 0 || logs[0].GetMessage() != "left the project" {
		t.Fatalf("project logs --user %s = %v", bob.email, logs)
	}
	for _, l := range logs {
		if l.GetUser().GetEmail() != bob.email {
			t.Fatalf("project logs --user %s shows %v", bob.email, l)
		}
	}
	ada.fails(`no user named "nobody@example.com"`, "project", "logs", "shared", "--user", "nobody@example.com")
}
