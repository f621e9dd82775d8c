package cloudv1_test

import (
	"context"
	"testing"
	"time"

	"connectrpc.com/connect"

	authv1 "github.com/gpcore/gpcore/gen/gpcore/api/auth/v1"
	"github.com/gpcore/gpcore/gen/gpcore/api/auth/v1/authv1connect"
	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	"github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1/cloudv1connect"
	"github.com/gpcore/gpcore/internal/testserver"
)

// until reads f's notifications, heartbeats aside, until one satisfies
// stop, and returns it. It fails t if one before it (or it) satisfies
// forbid (nil: anything goes), or if the stream ends or nothing comes.
// Delivery is in order, so a notification that stop waits for proves that
// whatever forbid names did not come before it, without waiting for a time.
func (f *feed) until(t *testing.T, what string, stop, forbid func(*cloudv1.Notification) bool) *cloudv1.Notification {
	t.Helper()
	timeout := time.NewTimer(nodeWait)
	defer timeout.Stop()
	for {
		select {
		case n := <-f.notes:
			if n.GetHeartbeat() != nil {
				continue
			}
			if forbid != nil && forbid(n) {
				t.Fatalf("got %v while waiting for %s", n, what)
			}
			if stop(n) {
				return n
			}
		case err := <-f.err:
			t.Fatalf("stream ended (%v) while waiting for %s", err, what)
		case <-timeout.C:
			t.Fatalf("no %s", what)
		}
	}
}

// awaitProject waits for a notification of project id that satisfies ok
// and returns the project it carries.
func (f *feed) awaitProject(t *testing.T, id, what string, ok func(*cloudv1.Project) bool) *cloudv1.Project {
	t.Helper()
	return f.until(t, what, func(n *cloudv1.Notification) bool {
		return n.GetProject().GetId() == id && ok(n.GetProject())
	}, nil).GetProject()
}

// awaitProjects waits until, for each project id in want, a notification
// satisfying want[id] has come, in whatever order.
func (f *feed) awaitProjects(t *testing.T, what string, want map[string]func(*cloudv1.Project) bool) {
	t.Helper()
	seen := map[string]bool{}
	f.until(t, what, func(n *cloudv1.Notification) bool {
		if ok := want[n.GetProject().GetId()]; ok != nil && ok(n.GetProject()) {
			seen[n.GetProject().GetId()] = true
		}
		return len(seen) == len(want)
	}, nil)
}

// ofProject names every notification of project id.
func ofProject(id string) func(*cloudv1.Notification) bool {
	return func(n *cloudv1.Notification) bool { return n.GetProject().GetId() == id }
}

// ofUser names every notification of the account id.
func ofUser(id string) func(*cloudv1.Notification) bool {
	return func(n *cloudv1.Notification) bool { return n.GetUser().GetId() == id }
}

// lost says a project notification is the one sent to someone who lost
// the project: its id and nothing else.
func lost(p *cloudv1.Project) bool {
	return p.GetName() == "" && len(p.GetMembers()) == 0 && p.GetCreatedAt() == nil
}

// setTimezone changes the time zone of the client's user.
func setTimezone(t *testing.T, c cloudv1connect.CloudServiceClient, tz string) {
	t.Helper()
	if _, err := c.UpdateTimezone(context.Background(), connect.NewRequest(&cloudv1.UpdateTimezoneRequest{Timezone: tz})); err != nil {
		t.Fatalf("UpdateTimezone(%s): %v", tz, err)
	}
}

// fence has u change their time zone and waits for u's own stream f to tell
// them, failing t if anything forbid names arrives before.
func fence(t *testing.T, s *testserver.Server, u testserver.User, f *feed, tz string, forbid func(*cloudv1.Notification) bool) {
	t.Helper()
	setTimezone(t, s.Cloud(u.Token), tz)
	f.until(t, u.Email+"'s time zone "+tz, func(n *cloudv1.Notification) bool {
		return n.GetUser().GetId() == u.ID && n.GetUser().GetTimezone() == tz
	}, forbid)
}

// TestProjectNotifications walks a project through every change of its own
// and of its membership and checks who hears what: members the whole
// project, an invitee what the invite shows, whoever lost it its id alone,
// and a stranger nothing.
func TestProjectNotifications(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	ctx := context.Background()
	alice, bob, carol := s.Register(t), s.Register(t), s.Register(t)
	ac, bc, cc := s.Cloud(alice.Token), s.Cloud(bob.Token, connect.WithGRPC()), s.Cloud(carol.Token)
	p := s.CreateProject(t, alice.Token, "Shared").GetId()
	s.CreateProject(t, bob.Token, "Bob's own") // bob's default, so that he may leave p
	fa, fb, fc := subscribe(t, ac), subscribe(t, bc), subscribe(t, cc)

	if _, err := ac.UpdateProject(ctx, connect.NewRequest(&cloudv1.UpdateProjectRequest{Id: p, Name: "Renamed"})); err != nil {
		t.Fatal(err)
	}
	fa.awaitProject(t, p, "the rename", func(p *cloudv1.Project) bool {
		return p.GetName() == "Renamed" && memberOf(p, alice.ID).GetDefault()
	})

	if _, err := invite(ac, p, bob.Email); err != nil {
		t.Fatal(err)
	}
	fa.awaitProject(t, p, "bob's invite", func(p *cloudv1.Project) bool {
		m := memberOf(p, bob.ID)
		return m != nil && !m.GetConfirmed()
	})
	invited := fb.until(t, "the invite", ofProject(p), nil).GetProject()
	if invited.GetName() != "Renamed" || len(invited.GetMembers()) != 0 || invited.GetCreatedAt() != nil {
		t.Fatalf("the invitee was shown %v, want the invite's view: id, name and avatar", invited)
	}

	if err := join(bc, p, true); err != nil {
		t.Fatal(err)
	}
	joined := func(p *cloudv1.Project) bool { return memberOf(p, bob.ID).GetConfirmed() }
	fa.awaitProject(t, p, "bob joining", joined)
	fb.awaitProject(t, p, "bob joining", joined)

	// A second project of alice's, with bob in it, to move alice's default
	// to and to delete.
	q := s.CreateProject(t, alice.Token, "Second").GetId()
	fa.awaitProject(t, q, "the new project", func(*cloudv1.Project) bool { return true })
	addMember(t, s, alice, bob, q)
	if _, err := ac.ChangeDefaultProject(ctx, connect.NewRequest(&cloudv1.ChangeDefaultProjectRequest{Id: q})); err != nil {
		t.Fatal(err)
	}
	notDefault := func(p *cloudv1.Project) bool { return !memberOf(p, alice.ID).GetDefault() }
	isDefault := func(p *cloudv1.Project) bool { return memberOf(p, alice.ID).GetDefault() }
	for _, f := range []*feed{fa, fb} {
		f.awaitProjects(t, "alice's default moving from p to q", map[string]func(*cloudv1.Project) bool{p: notDefault, q: isDefault})
	}

	// Carol has heard nothing of either project.
	strangers := func(n *cloudv1.Notification) bool { return ofProject(p)(n) || ofProject(q)(n) }
	fence(t, s, carol, fc, "Europe/Berlin", strangers)

	// An invite withdrawn, an invite rejected: carol learns she lost them.
	if _, err := invite(ac, p, carol.Email); err != nil {
		t.Fatal(err)
	}
	fc.awaitProject(t, p, "carol's invite", func(p *cloudv1.Project) bool { return p.GetName() == "Renamed" })
	if err := remove(ac, p, carol.ID); err != nil {
		t.Fatal(err)
	}
	fc.awaitProject(t, p, "the invite withdrawn", lost)
	if _, err := invite(ac, p, carol.Email); err != nil {
		t.Fatal(err)
	}
	fc.awaitProject(t, p, "carol's second invite", func(p *cloudv1.Project) bool { return p.GetName() == "Renamed" })
	if err := join(cc, p, false); err != nil {
		t.Fatal(err)
	}
	fc.awaitProject(t, p, "the invite rejected", lost)
	fa.awaitProject(t, p, "carol's rejection", func(p *cloudv1.Project) bool { return memberOf(p, carol.ID) == nil })

	// Bob leaves p; alice removes him from q; alice deletes q.
	if err := leave(bc, p); err != nil {
		t.Fatal(err)
	}
	fb.awaitProject(t, p, "bob leaving", lost)
	fa.awaitProject(t, p, "bob leaving", func(p *cloudv1.Project) bool { return memberOf(p, bob.ID) == nil })
	if err := remove(ac, q, bob.ID); err != nil {
		t.Fatal(err)
	}
	fb.awaitProject(t, q, "bob removed", lost)
	fa.awaitProject(t, q, "bob removed", func(p *cloudv1.Project) bool { return memberOf(p, bob.ID) == nil })
	if _, err := ac.ChangeDefaultProject(ctx, connect.NewRequest(&cloudv1.ChangeDefaultProjectRequest{Id: p})); err != nil {
		t.Fatal(err)
	}
	if _, err := ac.DeleteProject(ctx, connect.NewRequest(&cloudv1.DeleteProjectRequest{Id: q})); err != nil {
		t.Fatal(err)
	}
	fa.awaitProject(t, q, "q deleted", lost)
	// Bob, no longer in q, hears nothing of it or of p any more.
	fence(t, s, bob, fb, "Europe/Paris", strangers)
}

// TestProjectDeletionTellsMembers: every member of a deleted project, and
// its invitees, learn it is gone.
func TestProjectDeletionTellsMembers(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	alice, bob, carol := s.Register(t), s.Register(t), s.Register(t)
	s.CreateProject(t, alice.Token, "Default")
	p := s.CreateProject(t, alice.Token, "Doomed").GetId()
	addMember(t, s, alice, bob, p) // bob's first project: his default
	// A default project cannot be deleted: bob makes his own his default.
	own := s.CreateProject(t, bob.Token, "Bob's").GetId()
	if _, err := s.Cloud(bob.Token).ChangeDefaultProject(context.Background(), connect.NewRequest(&cloudv1.ChangeDefaultProjectRequest{Id: own})); err != nil {
		t.Fatal(err)
	}
	if _, err := invite(s.Cloud(alice.Token), p, carol.Email); err != nil {
		t.Fatal(err)
	}
	fb, fc := subscribe(t, s.Cloud(bob.Token)), subscribe(t, s.Cloud(carol.Token))
	if _, err := s.Cloud(alice.Token).DeleteProject(context.Background(), connect.NewRequest(&cloudv1.DeleteProjectRequest{Id: p})); err != nil {
		t.Fatal(err)
	}
	fb.awaitProject(t, p, "the deletion", lost)
	fc.awaitProject(t, p, "the deletion", lost)
}

// TestDefaultMovesOnRemoval: a member removed from their default project
// gets their oldest remaining project as default, and that project's
// members hear of it.
func TestDefaultMovesOnRemoval(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	alice, bob, carol := s.Register(t), s.Register(t), s.Register(t)
	first := s.CreateProject(t, alice.Token, "Alice's").GetId()
	addMember(t, s, alice, bob, first) // bob's first project: his default
	other := s.CreateProject(t, carol.Token, "Carol's").GetId()
	addMember(t, s, carol, bob, other)
	fc := subscribe(t, s.Cloud(carol.Token))
	if err := remove(s.Cloud(alice.Token), first, bob.ID); err != nil {
		t.Fatal(err)
	}
	fc.awaitProject(t, other, "bob's new default", func(p *cloudv1.Project) bool { return memberOf(p, bob.ID).GetDefault() })
}

// TestUserNotifications: the account's own streams get its changes whole;
// fellow members get what they see of it (a service account's new name),
// and nothing of its settings; a stranger gets nothing.
func TestUserNotifications(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	ctx := context.Background()
	alice, bob, carol := s.Register(t), s.Register(t), s.Register(t)
	p := s.CreateProject(t, alice.Token, "Team").GetId()
	addMember(t, s, alice, bob, p)
	fa, fa2, fb, fc := subscribe(t, s.Cloud(alice.Token)), subscribe(t, s.Cloud(alice.Token, connect.WithGRPC())), subscribe(t, s.Cloud(bob.Token)), subscribe(t, s.Cloud(carol.Token))

	setTimezone(t, s.Cloud(alice.Token), "Asia/Tokyo")
	for _, f := range []*feed{fa, fa2} {
		u := f.until(t, "alice's time zone", ofUser(alice.ID), nil).GetUser()
		if u.GetTimezone() != "Asia/Tokyo" || u.GetNumber() == "" || u.GetEmail() != alice.Email {
			t.Fatalf("alice was shown %v, want her whole account with the new time zone", u)
		}
	}
	// A time zone is not what fellow members see: bob hears nothing of it.
	fence(t, s, bob, fb, "Europe/Rome", ofUser(alice.ID))

	auth := authv1connect.NewAuthServiceClient(testserver.HTTPClient(), s.URL, testserver.ClientOptions(alice.Token)...)
	created, err := auth.CreateClient(ctx, connect.NewRequest(&authv1.CreateClientRequest{Name: "deploy bot"}))
	if err != nil {
		t.Fatal(err)
	}
	bot := created.Msg.GetClient()
	if _, err := invite(s.Cloud(alice.Token), p, bot.GetServiceAccount().GetId()); err != nil {
		t.Fatal(err)
	}
	if _, err := auth.UpdateClient(ctx, connect.NewRequest(&authv1.UpdateClientRequest{Id: bot.GetId(), Name: "release bot"})); err != nil {
		t.Fatal(err)
	}
	for _, f := range []*feed{fa, fb} {
		u := f.until(t, "the bot's new name", ofUser(bot.GetServiceAccount().GetId()), nil).GetUser()
		if u.GetFullName() != "release bot" || u.GetNumber() != "" || u.GetTimezone() != "" || u.GetCreatedAt() != nil {
			t.Fatalf("a fellow member was shown %v, want what a member list shows, with the new name", u)
		}
	}
	fence(t, s, carol, fc, "Europe/Madrid", func(n *cloudv1.Notification) bool {
		return ofUser(alice.ID)(n) || ofUser(bot.GetServiceAccount().GetId())(n) || ofProject(p)(n)
	})
}

// TestRemovedMemberHearsNoMoreNodes: a member hears of the project's nodes
// until removed, then learns of the removal and hears nothing more of them,
// not even of a node ordered and installed after it.
func TestRemovedMemberHearsNoMoreNodes(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	ctx := context.Background()
	alice, bob := s.Register(t), s.Register(t)
	s.CreateProject(t, bob.Token, "Bob's own")
	project := s.BilledProject(t, alice, "Nodes").GetId()
	addMember(t, s, alice, bob, project)
	ac := s.Cloud(alice.Token)
	fa, fb := subscribe(t, ac), subscribe(t, s.Cloud(bob.Token))
	created, err := ac.CreateNode(ctx, connect.NewRequest(orderS1(project, "watched.example")))
	if err != nil {
		t.Fatal(err)
	}
	nodeID := created.Msg.GetNodes()[0].GetId()
	fb.awaitStatus(t, nodeID, cloudv1.ServerProvisioningState_SERVER_PROVISIONING_STATE_ACTIVE)
	fa.awaitStatus(t, nodeID, cloudv1.ServerProvisioningState_SERVER_PROVISIONING_STATE_ACTIVE)

	if err := remove(ac, project, bob.ID); err != nil {
		t.Fatal(err)
	}
	fb.awaitProject(t, project, "the removal", lost)
	second, err := ac.CreateNode(ctx, connect.NewRequest(orderS1(project, "unseen.example")))
	if err != nil {
		t.Fatal(err)
	}
	fa.awaitStatus(t, second.Msg.GetNodes()[0].GetId(), cloudv1.ServerProvisioningState_SERVER_PROVISIONING_STATE_ACTIVE)
	// Everything after the removal's notification was published after it.
	fence(t, s, bob, fb, "Europe/Vienna", func(n *cloudv1.Notification) bool {
		return n.GetNode() != nil || n.GetServerLog() != nil
	})
}
