package project_test

import (
	"slices"
	"testing"

	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/project"
)

func TestListLogs(t *testing.T) {
	t.Parallel()
	e := newEnv(t, project.Config{})
	alice := e.person(t, "alice@example.com")
	bob := e.person(t, "bob@example.com")
	carol := e.person(t, "carol@example.com")
	sa := e.serviceAccount(t, alice)
	p := e.create(t, alice.ID, "Shop")
	e.invite(t, alice.ID, p.ID, bob.Email)
	e.join(t, bob.ID, p.ID)
	e.invite(t, alice.ID, p.ID, sa.ID)
	// Entries other domains write, such as a system action without a user.
	for _, entry := range []struct{ user, message string }{
		{bob.ID, "ordered the node Ünïcode-1 (MÜLLER-rack)"},
		{"", "node web-1 installed"},
		{bob.ID, "ordered 100% more nodes_now"},
	} {
		if err := e.projects.Log(t.Context(), e.db.DB, p.ID, entry.user, entry.message); err != nil {
			t.Fatalf("Log: %v", err)
		}
	}

	all := []string{
		"ordered 100% more nodes_now",
		"node web-1 installed",
		"ordered the node Ünïcode-1 (MÜLLER-rack)",
		"added the service account " + sa.Username,
		"joined the project",
		"invited bob@example.com",
		`created the project "Shop"`,
	}
	for _, tc := range []struct {
		name  string
		q     project.LogQuery
		page  int32
		limit int32
		want  []string
		total int64
	}{
		{"everything, newest first", project.LogQuery{}, 1, 10, all, 7},
		{"first page", project.LogQuery{}, 1, 3, all[:3], 7},
		{"third page", project.LogQuery{}, 3, 3, all[6:], 7},
		{"past the end", project.LogQuery{}, 4, 3, nil, 7},
		{"one term, any case", project.LogQuery{Search: "ORDERED"}, 1, 10, []string{all[0], all[2]}, 2},
		{"terms are ANDed", project.LogQuery{Search: " ordered   rack "}, 1, 10, []string{all[2]}, 1},
		{"non-ASCII ignores case", project.LogQuery{Search: "müller üNÏCODE"}, 1, 10, []string{all[2]}, 1},
		{"percent is literal", project.LogQuery{Search: "100%"}, 1, 10, []string{all[0]}, 1},
		{"underscore is literal", project.LogQuery{Search: "nodes_now"}, 1, 10, []string{all[0]}, 1},
		{"wildcards match nothing else", project.LogQuery{Search: "%_%"}, 1, 10, nil, 0},
		{"one user", project.LogQuery{UserID: bob.ID}, 1, 10, []string{all[0], all[2], all[4]}, 3},
		{"user and search", project.LogQuery{UserID: bob.ID, Search: "joined"}, 1, 10, []string{all[4]}, 1},
		{"user and search, no match", project.LogQuery{UserID: alice.ID, Search: "ordered"}, 1, 10, nil, 0},
		{"unknown user", project.LogQuery{UserID: "4b1c7a57-2f44-4c40-9d3c-3f1f0b9f6e01"}, 1, 10, nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := e.projects.ListLogs(t.Context(), alice.ID, p.ID, tc.q, page(tc.page, tc.limit))
			if err != nil {
				t.Fatalf("ListLogs: %v", err)
			}
			var got []string
			for _, entry := range l.Entries {
				got = append(got, entry.Message)
			}
			if !slices.Equal(got, tc.want) || l.Total != tc.total {
				t.Fatalf("ListLogs = %q (total %d), want %q (total %d)", got, l.Total, tc.want, tc.total)
			}
			// The users are all of the log's, whatever the query, by
			// username.
			var users []string
			for _, u := range l.Users {
				users = append(users, u.ID)
			}
			if want := []string{alice.ID, bob.ID}; !slices.Equal(users, want) {
				t.Fatalf("users = %q, want %q", users, want)
			}
		})
	}

	l, err := e.projects.ListLogs(t.Context(), bob.ID, p.ID, project.LogQuery{Search: "installed"}, page(1, 10))
	if err != nil || len(l.Entries) != 1 {
		t.Fatalf("ListLogs = %+v, %v", l, err)
	}
	if entry := l.Entries[0]; entry.User != (project.User{}) || entry.ID == "" || entry.CreatedAt.IsZero() {
		t.Fatalf("system entry = %+v, want no user", entry)
	}
	l, err = e.projects.ListLogs(t.Context(), bob.ID, p.ID, project.LogQuery{Search: "joined"}, page(1, 10))
	if err != nil || len(l.Entries) != 1 || l.Entries[0].User.ID != bob.ID || l.Entries[0].User.Email != bob.Email {
		t.Fatalf("ListLogs = %+v, %v, want bob's entry with bob", l, err)
	}

	// Non-members and invitees cannot read the log.
	e.invite(t, alice.ID, p.ID, carol.Email)
	_, err = e.projects.ListLogs(t.Context(), carol.ID, p.ID, project.LogQuery{}, page(1, 10))
	wantFault(t, err, fault.KindNotFound, "", "not found")
}

func TestLogOutlivesItsUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t, project.Config{})
	alice := e.person(t, "alice@example.com")
	bob := e.person(t, "bob@example.com")
	p := e.create(t, alice.ID, "Shop")
	e.invite(t, alice.ID, p.ID, bob.Email)
	e.join(t, bob.ID, p.ID)
	e.exec(t, "DELETE FROM users WHERE id = ?", bob.ID)

	l, err := e.projects.ListLogs(t.Context(), alice.ID, p.ID, project.LogQuery{Search: "joined"}, page(1, 10))
	if err != nil || len(l.Entries) != 1 {
		t.Fatalf("ListLogs = %+v, %v", l, err)
	}
	if l.Entries[0].User != (project.User{}) {
		t.Fatalf("entry of a deleted user = %+v, want no user", l.Entries[0])
	}
	if len(l.Users) != 1 || l.Users[0].ID != alice.ID {
		t.Fatalf("users = %+v, want alice alone", l.Users)
	}
	if got := e.get(t, alice.ID, p.ID); len(got.Members) != 1 {
		t.Fatalf("members = %+v, want alice alone", got.Members)
	}
}

func TestRefusalsWriteNoLog(t *testing.T) {
	t.Parallel()
	guard := fakeGuard{reason: map[string]string{}}
	e := newEnv(t, project.Config{DeletionGuards: []project.DeletionGuard{guard}})
	alice := e.person(t, "alice@example.com")
	bob := e.person(t, "bob@example.com")
	e.create(t, alice.ID, "Home")
	p := e.create(t, alice.ID, "Shop")
	e.invite(t, alice.ID, p.ID, bob.Email)
	e.join(t, bob.ID, p.ID)
	guard.reason[p.ID] = "it still has nodes"
	before := e.logCount(t, p.ID)

	short := "x"
	for name, err := range map[string]error{
		"update": func() error {
			_, err := e.projects.Update(t.Context(), alice.ID, p.ID, project.UpdateInput{Name: &short})
			return err
		}(),
		"delete":        e.projects.Delete(t.Context(), alice.ID, p.ID),
		"leave default": e.projects.Leave(t.Context(), bob.ID, p.ID),
		"remove":        e.projects.RemoveMember(t.Context(), bob.ID, p.ID, alice.ID),
		"invite":        func() error { _, err := e.projects.Invite(t.Context(), alice.ID, p.ID, bob.Email); return err }(),
		"join":          e.projects.Join(t.Context(), bob.ID, p.ID, true),
	} {
		if err == nil {
			t.Errorf("%s succeeded, want a refusal", name)
		}
	}
	if got := e.logCount(t, p.ID); got != before {
		t.Fatalf("refusals wrote %d log entries", got-before)
	}
}
