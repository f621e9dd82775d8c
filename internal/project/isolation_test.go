package project_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/project"
)

// TestTwoUsersAreIsolated proves that user B can neither see, change nor
// guess anything of user A's projects: every operation that takes a project
// id answers B exactly as it answers for a project that does not exist.
func TestTwoUsersAreIsolated(t *testing.T) {
	t.Parallel()
	e := newEnv(t, project.Config{})
	a := e.person(t, "a@example.com")
	b := e.person(t, "b@example.com")
	aHome := e.create(t, a.ID, "A home")
	aShop := e.create(t, a.ID, "A shop")
	e.invite(t, a.ID, aShop.ID, e.serviceAccount(t, a).ID)
	bHome := e.create(t, b.ID, "B home")
	missing := "4b1c7a57-2f44-4c40-9d3c-3f1f0b9f6e01"
	before := e.get(t, a.ID, aShop.ID)
	beforeLog := e.logCount(t, aShop.ID)

	name := "Taken over"
	// Each operation as B, on a project id.
	ops := map[string]func(projectID string) error{
		"Get": func(id string) error { _, err := e.projects.Get(t.Context(), b.ID, id); return err },
		"Update": func(id string) error {
			_, err := e.projects.Update(t.Context(), b.ID, id, project.UpdateInput{Name: &name})
			return err
		},
		"Delete":        func(id string) error { return e.projects.Delete(t.Context(), b.ID, id) },
		"ChangeDefault": func(id string) error { return e.projects.ChangeDefault(t.Context(), b.ID, id) },
		"Invite": func(id string) error {
			_, err := e.projects.Invite(t.Context(), b.ID, id, b.Email)
			return err
		},
		"Join accept": func(id string) error { return e.projects.Join(t.Context(), b.ID, id, true) },
		"Join reject": func(id string) error { return e.projects.Join(t.Context(), b.ID, id, false) },
		"Leave":       func(id string) error { return e.projects.Leave(t.Context(), b.ID, id) },
		"RemoveMember": func(id string) error {
			return e.projects.RemoveMember(t.Context(), b.ID, id, a.ID)
		},
		"Locks": func(id string) error { _, err := e.projects.Locks(t.Context(), b.ID, id); return err },
		"ListLogs": func(id string) error {
			_, err := e.projects.ListLogs(t.Context(), b.ID, id, project.LogQuery{}, page(1, 10))
			return err
		},
	}
	for op, call := range ops {
		t.Run(op, func(t *testing.T) {
			for _, id := range []string{aHome.ID, aShop.ID} {
				err := call(id)
				wantFault(t, err, fault.KindNotFound, "", "not found")
				// The answer for A's project is the answer for no project,
				// apart from the id it repeats.
				ghost := call(missing)
				if strings.ReplaceAll(err.Error(), id, missing) != ghost.Error() || fault.KindOf(ghost) != fault.KindNotFound {
					t.Fatalf("%s on A's project says %q, on a missing one %q", op, err, ghost)
				}
			}
		})
	}

	if ok, err := e.projects.IsMember(t.Context(), aShop.ID, b.ID); err != nil || ok {
		t.Fatalf("IsMember(B in A's project) = %v, %v", ok, err)
	}
	l, err := e.projects.List(t.Context(), b.ID, "", page(1, 10))
	if err != nil || l.Total != 1 || len(l.Projects) != 1 || l.Projects[0].ID != bHome.ID || len(l.Invites) != 0 {
		t.Fatalf("B's list = %+v, %v, want B's project alone", l, err)
	}
	if l, _ := e.projects.List(t.Context(), b.ID, "A", page(1, 10)); l.Total != 0 {
		t.Fatalf("B's search finds %+v", l.Projects)
	}
	// Nothing of A's changed, and nothing was logged.
	if after := e.get(t, a.ID, aShop.ID); !reflect.DeepEqual(after, before) {
		t.Fatalf("A's project changed:\n%+v\nwas\n%+v", after, before)
	}
	if got := e.logCount(t, aShop.ID); got != beforeLog {
		t.Fatalf("B's attempts wrote %d log entries into A's project", got-beforeLog)
	}
	if e.defaultProject(t, a.ID) != aHome.ID || e.defaultProject(t, b.ID) != bHome.ID {
		t.Fatal("a default project moved")
	}
}

// TestConcurrentFirstProjects creates many projects at once for a user with
// none: all succeed and exactly one becomes the default.
func TestConcurrentFirstProjects(t *testing.T) {
	t.Parallel()
	e := newEnv(t, project.Config{})
	alice := e.person(t, "alice@example.com")
	const n = 12
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, errs[i] = e.projects.Create(t.Context(), alice.ID, project.CreateInput{Name: fmt.Sprintf("Project %d", i)})
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("Create: %v", err)
	}
	l, err := e.projects.List(t.Context(), alice.ID, "", page(1, 100))
	if err != nil || l.Total != n {
		t.Fatalf("List = %d projects, %v, want %d", l.Total, err, n)
	}
	defaults := 0
	for _, p := range l.Projects {
		if m, _ := member(p, alice.ID); m.Default {
			defaults++
		}
	}
	if defaults != 1 {
		t.Fatalf("%d default projects, want 1", defaults)
	}
}

// TestConcurrentInvites invites one person to one project from many
// goroutines: one invite, the rest AlreadyExists.
func TestConcurrentInvites(t *testing.T) {
	t.Parallel()
	e := newEnv(t, project.Config{})
	alice := e.person(t, "alice@example.com")
	bob := e.person(t, "bob@example.com")
	p := e.create(t, alice.ID, "Shop")
	const n = 12
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { _, errs[i] = e.projects.Invite(t.Context(), alice.ID, p.ID, bob.Email) })
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, fault.ErrAlreadyExists):
			t.Fatalf("Invite: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d invites succeeded, want 1", ok)
	}
}

// TestConcurrentDefaultChanges races default changes, joins, leaves,
// removals and project deletions that concern one user against each other:
// whatever the order, the user ends with exactly one default project, among
// those they belong to, and no call fails for want of locking.
func TestConcurrentDefaultChanges(t *testing.T) {
	t.Parallel()
	e := newEnv(t, project.Config{})
	alice := e.person(t, "alice@example.com")
	bob := e.person(t, "bob@example.com")
	const n = 6
	var bobs, alices []project.Project
	for i := range n {
		bobs = append(bobs, e.create(t, bob.ID, fmt.Sprintf("Bob %d", i)))
		p := e.create(t, alice.ID, fmt.Sprintf("Alice %d", i))
		e.invite(t, alice.ID, p.ID, bob.Email)
		alices = append(alices, p)
	}

	// NotFound and FailedPrecondition are answers the races may earn (a
	// removed invite, leaving the default project); anything else is not.
	var wg sync.WaitGroup
	errs := make(chan error, 5*n)
	for i := range n {
		wg.Go(func() { errs <- e.projects.ChangeDefault(t.Context(), bob.ID, bobs[i].ID) })
		wg.Go(func() {
			if err := e.projects.Join(t.Context(), bob.ID, alices[i].ID, true); err != nil {
				errs <- err
				return
			}
			errs <- e.projects.ChangeDefault(t.Context(), bob.ID, alices[i].ID)
		})
		wg.Go(func() { errs <- e.projects.RemoveMember(t.Context(), alice.ID, alices[i].ID, bob.ID) })
		wg.Go(func() { errs <- e.projects.Leave(t.Context(), bob.ID, alices[i].ID) })
		if i%2 == 1 {
			wg.Go(func() { errs <- e.projects.Delete(t.Context(), alice.ID, alices[i].ID) })
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil && !errors.Is(err, fault.ErrNotFound) && !errors.Is(err, fault.ErrFailedPrecondition) {
			t.Errorf("concurrent call: %v", err)
		}
	}
	def := e.defaultProject(t, bob.ID)
	if def == "" {
		t.Fatal("bob has no default project")
	}
	if ok, err := e.projects.IsMember(t.Context(), def, bob.ID); err != nil || !ok {
		t.Fatalf("bob's default %s is not one of his projects: %v", def, err)
	}
}

// TestConcurrentCrossRemovals has two owners remove each other from their
// projects at the same time. Each call locks the removed user and writes a
// log entry naming the remover, whose row the other call has locked: user
// locks must not conflict with foreign-key checks, or this deadlocks on
// PostgreSQL.
func TestConcurrentCrossRemovals(t *testing.T) {
	t.Parallel()
	e := newEnv(t, project.Config{})
	alice := e.person(t, "alice@example.com")
	bob := e.person(t, "bob@example.com")
	e.create(t, alice.ID, "Alice home")
	e.create(t, bob.ID, "Bob home")
	const n = 8
	var alices, bobs []project.Project
	for i := range n {
		a := e.create(t, alice.ID, fmt.Sprintf("Alice %d", i))
		e.invite(t, alice.ID, a.ID, bob.Email)
		e.join(t, bob.ID, a.ID)
		b := e.create(t, bob.ID, fmt.Sprintf("Bob %d", i))
		e.invite(t, bob.ID, b.ID, alice.Email)
		e.join(t, alice.ID, b.ID)
		alices, bobs = append(alices, a), append(bobs, b)
	}
	errs := make([]error, 2*n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[2*i] = e.projects.RemoveMember(t.Context(), alice.ID, alices[i].ID, bob.ID) })
		wg.Go(func() { errs[2*i+1] = e.projects.RemoveMember(t.Context(), bob.ID, bobs[i].ID, alice.ID) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("RemoveMember: %v", err)
	}
}
