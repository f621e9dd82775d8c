package project_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/identity"
	"github.com/gpcore/gpcore/internal/pagination"
	"github.com/gpcore/gpcore/internal/project"
	"github.com/gpcore/gpcore/internal/store"
	"github.com/gpcore/gpcore/internal/store/storetest"
)

// clock is a test clock that moves one second on every reading, so that
// everything written gets its own time.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(time.Second)
	return c.now
}

// env is a project service on a fresh database, with the identity service
// that makes its users.
type env struct {
	db       *store.DB
	projects *project.Service
	identity *identity.Service
}

// newEnv returns an env whose project service is configured by cfg (its
// clock is always the test clock).
func newEnv(t *testing.T, cfg project.Config) *env {
	t.Helper()
	db := storetest.New(t)
	clk := &clock{now: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	ids, err := identity.New(db, identity.Config{Now: clk.Now})
	if err != nil {
		t.Fatalf("identity.New: %v", err)
	}
	cfg.Now = clk.Now
	projects, err := project.New(db, cfg)
	if err != nil {
		t.Fatalf("project.New: %v", err)
	}
	return &env{db: db, projects: projects, identity: ids}
}

// person registers a person with the e-mail address email.
func (e *env) person(t *testing.T, email string) identity.User {
	t.Helper()
	u, err := e.identity.Register(t.Context(), identity.RegisterInput{
		Email: email, Password: "Correct-Horse-42", FirstName: "Test", LastName: strings.Split(email, "@")[0],
	})
	if err != nil {
		t.Fatalf("Register(%q): %v", email, err)
	}
	return u
}

// serviceAccount creates an OAuth client owned by owner and returns its
// service account.
func (e *env) serviceAccount(t *testing.T, owner identity.User) identity.User {
	t.Helper()
	c, _, err := e.identity.CreateClient(t.Context(), owner.ID, "agent", "")
	if err != nil {
		t.Fatalf("CreateClient: %v", err)
	}
	return c.ServiceAccount
}

// create creates a project named name for userID.
func (e *env) create(t *testing.T, userID, name string) project.Project {
	t.Helper()
	p, err := e.projects.Create(t.Context(), userID, project.CreateInput{Name: name})
	if err != nil {
		t.Fatalf("Create(%q): %v", name, err)
	}
	return p
}

// get returns the project as userID sees it.
func (e *env) get(t *testing.T, userID, projectID string) project.Project {
	t.Helper()
	p, err := e.projects.Get(t.Context(), userID, projectID)
	if err != nil {
		t.Fatalf("Get(%s): %v", projectID, err)
	}
	return p
}

// invite invites identifier to projectID as userID.
func (e *env) invite(t *testing.T, userID, projectID, identifier string) project.Member {
	t.Helper()
	m, err := e.projects.Invite(t.Context(), userID, projectID, identifier)
	if err != nil {
		t.Fatalf("Invite(%q): %v", identifier, err)
	}
	return m
}

// join accepts userID's invite to projectID.
func (e *env) join(t *testing.T, userID, projectID string) {
	t.Helper()
	if err := e.projects.Join(t.Context(), userID, projectID, true); err != nil {
		t.Fatalf("Join(%s): %v", projectID, err)
	}
}

// logs returns the whole log of projectID, newest first, as userID sees it.
func (e *env) logs(t *testing.T, userID, projectID string) []string {
	t.Helper()
	l, err := e.projects.ListLogs(t.Context(), userID, projectID, project.LogQuery{}, page(1, 100))
	if err != nil {
		t.Fatalf("ListLogs: %v", err)
	}
	var out []string
	for _, entry := range l.Entries {
		out = append(out, entry.Message)
	}
	return out
}

// logCount counts the log entries of projectID in the database.
func (e *env) logCount(t *testing.T, projectID string) int {
	t.Helper()
	n, err := e.db.NewSelect().TableExpr("project_logs").Where("project_id = ?", projectID).Count(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

// exec runs a statement on the database, for setting up states the API
// cannot reach.
func (e *env) exec(t *testing.T, query string, args ...any) {
	t.Helper()
	if _, err := e.db.ExecContext(t.Context(), query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// defaultProject returns the id of userID's default project, "" if none,
// straight from the database.
func (e *env) defaultProject(t *testing.T, userID string) string {
	t.Helper()
	var ids []string
	if err := e.db.NewSelect().TableExpr("project_members").Column("project_id").
		Where("user_id = ?", userID).Where("is_default").
		Scan(t.Context(), &ids); err != nil {
		t.Fatal(err)
	}
	if len(ids) > 1 {
		t.Fatalf("user %s has %d default projects", userID, len(ids))
	}
	if len(ids) == 0 {
		return ""
	}
	return ids[0]
}

// member returns userID's membership in p.
func member(p project.Project, userID string) (project.Member, bool) {
	for _, m := range p.Members {
		if m.User.ID == userID {
			return m, true
		}
	}
	return project.Member{}, false
}

// page resolves a page request with a large default limit.
func page(number, limit int32) pagination.Page {
	p, err := pagination.Request{Page: number, Limit: limit}.Resolve(100)
	if err != nil {
		panic(err)
	}
	return p
}

// wantFault fails the test unless err is a fault error of kind (on field,
// when field is not empty) whose message contains text.
func wantFault(t *testing.T, err error, kind fault.Kind, field, text string) {
	t.Helper()
	var fe *fault.Error
	if !errors.As(err, &fe) || fe.Kind != kind || (field != "" && fe.Field != field) {
		t.Fatalf("error = %v, want fault kind %d on field %q", err, kind, field)
	}
	if !strings.Contains(fe.Message, text) {
		t.Fatalf("error = %q, want it to contain %q", fe.Message, text)
	}
}

// fakeBilling is a BillingState with the billing profiles and cards the
// test gives it.
type fakeBilling struct {
	profiles map[string]string // profile id -> user id
	cards    map[string]string // card id -> profile id
	defaults map[string]string // profile id -> the card its bills are charged to
	locks    []project.LockReason
}

func (f fakeBilling) UseCard(ctx context.Context, tx bun.Tx, userID, profileID, cardID string) (string, bool, error) {
	if err := f.CheckProfile(ctx, tx, userID, profileID); err != nil {
		return "", false, err
	}
	if f.cards[cardID] != profileID {
		return "", false, &fault.Error{Kind: fault.KindNotFound, Field: "credit_card_id", Message: "no such card"}
	}
	if f.defaults[profileID] == cardID {
		return "card " + cardID, false, nil
	}
	f.defaults[profileID] = cardID
	return "card " + cardID, true, nil
}

func (f fakeBilling) CheckProfile(_ context.Context, _ bun.IDB, userID, profileID string) error {
	if f.profiles[profileID] != userID {
		return &fault.Error{Kind: fault.KindNotFound, Field: "billing_address_id", Message: "no such billing profile"}
	}
	return nil
}

// PlanCode is "plan-" and the profile's id.
func (f fakeBilling) PlanCode(_ context.Context, _ bun.IDB, profileID string) (string, error) {
	return "plan-" + profileID, nil
}

func (f fakeBilling) Locks(_ context.Context, _ bun.IDB, _, billingProfileID string) ([]project.LockReason, error) {
	if billingProfileID == "" {
		return []project.LockReason{project.LockMissingPaymentProfile}, nil
	}
	return f.locks, nil
}

// fakeGuard blocks deletion of the projects it lists, reading them through
// the deleting transaction.
type fakeGuard struct {
	reason map[string]string
}

func (g fakeGuard) DeletionBlocker(ctx context.Context, db bun.IDB, projectID string) (string, error) {
	// Prove that db is the deleting transaction: the project row is there.
	n, err := db.NewSelect().TableExpr("projects").Where("id = ?", projectID).Count(ctx)
	if err != nil || n != 1 {
		return "", errors.Join(err, errors.New("guard does not see the project"))
	}
	return g.reason[projectID], nil
}
