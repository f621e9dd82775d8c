package identity_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/identity"
	"github.com/gpcore/gpcore/internal/store"
	"github.com/gpcore/gpcore/internal/store/storetest"
)

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// newService returns a Service on a fresh database, with its clock.
func newService(t *testing.T) (*identity.Service, *store.DB, *clock) {
	t.Helper()
	return newServiceWith(t, identity.Config{})
}

// newServiceWith returns a Service configured with cfg on a fresh database,
// with its clock (which replaces cfg.Now).
func newServiceWith(t *testing.T, cfg identity.Config) (*identity.Service, *store.DB, *clock) {
	t.Helper()
	db := storetest.New(t)
	clk := newClock()
	cfg.Now = clk.Now
	svc, err := identity.New(db, cfg)
	if err != nil {
		t.Fatalf("identity.New: %v", err)
	}
	return svc, db, clk
}

// register registers email with a valid password and fails the test on error.
func register(t *testing.T, svc *identity.Service, email string) identity.User {
	t.Helper()
	u, err := svc.Register(t.Context(), identity.RegisterInput{Email: email, Password: "Correct-Horse-42"})
	if err != nil {
		t.Fatalf("Register(%q): %v", email, err)
	}
	return u
}

// wantFault fails the test unless err is a fault error of kind on field.
func wantFault(t *testing.T, err error, kind fault.Kind, field string) {
	t.Helper()
	var fe *fault.Error
	if !errors.As(err, &fe) || fe.Kind != kind || fe.Field != field {
		t.Fatalf("error = %v, want fault kind %d on field %q", err, kind, field)
	}
}

func TestRegister(t *testing.T) {
	svc, _, clk := newService(t)
	u, err := svc.Register(t.Context(), identity.RegisterInput{
		Email:     " Jane.Doe@Example.COM ",
		Password:  "Correct-Horse-42",
		FirstName: " Jane ",
		LastName:  "Doe",
	})
	if err != nil {
		t.Fatalf("Register: %v", err)
	}
	want := identity.User{
		ID:        u.ID,
		Email:     "jane.doe@example.com",
		Username:  "jane.doe@example.com",
		FirstName: "Jane",
		LastName:  "Doe",
		FullName:  "Jane Doe",
		Type:      identity.UserTypeUser,
		Timezone:  identity.DefaultTimezone,
		NodeLimit: identity.DefaultNodeLimit,
		Number:    "C100001",
		CreatedAt: clk.Now(),
		UpdatedAt: clk.Now(),
	}
	if fmt.Sprint(u) != fmt.Sprint(want) {
		t.Fatalf("Register =\n%+v\nwant\n%+v", u, want)
	}
	got, err := svc.GetUser(t.Context(), u.ID)
	if err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("GetUser =\n%+v\nwant\n%+v", got, want)
	}
	if u2 := register(t, svc, "second@example.com"); u2.Number != "C100002" {
		t.Fatalf("second customer number = %q, want C100002", u2.Number)
	}
}

func TestRegisterRefusals(t *testing.T) {
	svc, _, _ := newService(t)
	register(t, svc, "taken@example.com")
	const good = "Correct-Horse-42"
	tests := []struct {
		name  string
		in    identity.RegisterInput
		kind  fault.Kind
		field string
	}{
		{"no e-mail", identity.RegisterInput{Password: good}, fault.KindInvalidArgument, "email"},
		{"no at", identity.RegisterInput{Email: "jane.example.com", Password: good}, fault.KindInvalidArgument, "email"},
		{"display name", identity.RegisterInput{Email: "Jane <jane@example.com>", Password: good}, fault.KindInvalidArgument, "email"},
		{"two addresses", identity.RegisterInput{Email: "a@example.com, b@example.com", Password: good}, fault.KindInvalidArgument, "email"},
		{"too long", identity.RegisterInput{Email: strings.Repeat("a", 250) + "@x.io", Password: good}, fault.KindInvalidArgument, "email"},
		{"weak password", identity.RegisterInput{Email: "new@example.com", Password: "password"}, fault.KindInvalidArgument, "password"},
		{"e-mail as password", identity.RegisterInput{Email: "new.user.1@example.com", Password: "NEW.USER.1@EXAMPLE.COM"}, fault.KindInvalidArgument, "password"},
		{"control character in name", identity.RegisterInput{Email: "new@example.com", Password: good, FirstName: "a\nb"}, fault.KindInvalidArgument, "first_name"},
		{"long last name", identity.RegisterInput{Email: "new@example.com", Password: good, LastName: strings.Repeat("x", 101)}, fault.KindInvalidArgument, "last_name"},
		{"duplicate", identity.RegisterInput{Email: "taken@example.com", Password: good}, fault.KindAlreadyExists, "email"},
		{"duplicate in another case", identity.RegisterInput{Email: "Taken@Example.com", Password: good}, fault.KindAlreadyExists, "email"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := svc.Register(t.Context(), tt.in)
			wantFault(t, err, tt.kind, tt.field)
		})
	}
}

func TestRegisterConcurrently(t *testing.T) {
	svc, _, _ := newService(t)
	const n = 8
	var wg sync.WaitGroup
	sameErrs := make([]error, n)
	numbers := make([]string, n)
	for i := range n {
		wg.Go(func() {
			_, sameErrs[i] = svc.Register(t.Context(), identity.RegisterInput{Email: "race@example.com", Password: "Correct-Horse-42"})
		})
		wg.Go(func() {
			u, err := svc.Register(t.Context(), identity.RegisterInput{Email: fmt.Sprintf("user%d@example.com", i), Password: "Correct-Horse-42"})
			if err != nil {
				t.Errorf("Register user%d: %v", i, err)
			}
			numbers[i] = u.Number
		})
	}
	wg.Wait()
	created := 0
	for _, err := range sameErrs {
		switch {
		case err == nil:
			created++
		case errors.Is(err, fault.ErrAlreadyExists):
		default:
			t.Errorf("Register race@example.com: %v", err)
		}
	}
	if created != 1 {
		t.Errorf("%d registrations of one address succeeded, want 1", created)
	}
	seen := map[string]bool{}
	for _, num := range numbers {
		if seen[num] {
			t.Errorf("customer number %q handed out twice", num)
		}
		seen[num] = true
	}
}

func TestAuthenticate(t *testing.T) {
	svc, db, clk := newService(t)
	jane := register(t, svc, "jane@example.com")
	locked := register(t, svc, "locked@example.com")
	if _, err := db.NewUpdate().Table("users").Set("locked = ?", true).Where("id = ?", locked.ID).Exec(t.Context()); err != nil {
		t.Fatalf("lock user: %v", err)
	}
	clk.Add(time.Hour)

	tests := []struct {
		name     string
		email    string
		password string
		wantID   string
		wantMsg  string
	}{
		{"right", "jane@example.com", "Correct-Horse-42", jane.ID, ""},
		{"address in another case", " JANE@example.com", "Correct-Horse-42", jane.ID, ""},
		{"wrong password", "jane@example.com", "Correct-Horse-43", "", "invalid e-mail address or password"},
		{"unknown address", "nobody@example.com", "Correct-Horse-42", "", "invalid e-mail address or password"},
		{"locked, wrong password", "locked@example.com", "wrong", "", "invalid e-mail address or password"},
		{"locked", "locked@example.com", "Correct-Horse-42", "", "locked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := svc.Authenticate(t.Context(), tt.email, tt.password)
			if tt.wantID != "" {
				if err != nil || u.ID != tt.wantID {
					t.Fatalf("Authenticate = %v, %v; want user %s", u.ID, err, tt.wantID)
				}
				if !u.LastLoginAt.Equal(clk.Now()) {
					t.Fatalf("LastLoginAt = %v, want %v", u.LastLoginAt, clk.Now())
				}
				return
			}
			wantFault(t, err, fault.KindUnauthenticated, "")
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("error %q does not say %q", err, tt.wantMsg)
			}
		})
	}
	got, err := svc.GetUser(t.Context(), jane.ID)
	if err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	if !got.LastLoginAt.Equal(clk.Now()) || !got.UpdatedAt.Equal(jane.UpdatedAt) {
		t.Fatalf("after sign-in LastLoginAt = %v, UpdatedAt = %v; want %v, %v", got.LastLoginAt, got.UpdatedAt, clk.Now(), jane.UpdatedAt)
	}
}

func TestGetUserNotFound(t *testing.T) {
	svc, _, _ := newService(t)
	_, err := svc.GetUser(t.Context(), "0b6d9d1e-7a35-4a4e-9f5c-0f7f5d8f2d11")
	if !errors.Is(err, fault.ErrNotFound) {
		t.Fatalf("GetUser(unknown) = %v, want NotFound", err)
	}
}

func TestEnsureOperator(t *testing.T) {
	svc, _, _ := newService(t)
	created, email, password, err := svc.EnsureOperator(t.Context())
	if err != nil || !created {
		t.Fatalf("EnsureOperator = %v, %v; want created", created, err)
	}
	if email != identity.DefaultOperatorEmail || !regexp.MustCompile(`^[A-Z2-7]{26}$`).MatchString(password) {
		t.Fatalf("EnsureOperator credentials = %q, %q", email, password)
	}
	op, err := svc.Authenticate(t.Context(), email, password)
	if err != nil {
		t.Fatalf("operator cannot sign in: %v", err)
	}
	if got, want := strings.Join(op.Roles, ","), "admin,manage-payment,view-payment"; got != want {
		t.Fatalf("operator roles = %s, want %s", got, want)
	}
	if !op.Confirmed || op.Username != "admin" || op.Type != identity.UserTypeUser {
		t.Fatalf("operator = %+v", op)
	}
	created, email, password, err = svc.EnsureOperator(t.Context())
	if err != nil || created || email != "" || password != "" {
		t.Fatalf("second EnsureOperator = %v, %q, %q, %v; want nothing created", created, email, password, err)
	}
}

func TestEnsureOperatorNotOnUsedDatabase(t *testing.T) {
	svc, _, _ := newService(t)
	register(t, svc, "first@example.com")
	created, _, _, err := svc.EnsureOperator(t.Context())
	if err != nil || created {
		t.Fatalf("EnsureOperator with a user = %v, %v; want nothing created", created, err)
	}
}

// TestEnsureOperatorReplicas starts several "replicas" (services with
// different operator addresses) on one database at once: exactly one
// operator results.
func TestEnsureOperatorReplicas(t *testing.T) {
	db := storetest.New(t)
	const n = 4
	var wg sync.WaitGroup
	created := make([]bool, n)
	for i := range n {
		svc, err := identity.New(db, identity.Config{OperatorEmail: fmt.Sprintf("op%d@example.com", i)})
		if err != nil {
			t.Fatalf("identity.New: %v", err)
		}
		wg.Go(func() {
			var err error
			created[i], _, _, err = svc.EnsureOperator(context.WithoutCancel(t.Context()))
			if err != nil {
				t.Errorf("replica %d: EnsureOperator: %v", i, err)
			}
		})
	}
	wg.Wait()
	count := 0
	for _, c := range created {
		if c {
			count++
		}
	}
	users, err := db.NewSelect().Table("users").Count(t.Context())
	if err != nil {
		t.Fatalf("count users: %v", err)
	}
	if count != 1 || users != 1 {
		t.Fatalf("%d replicas created an operator, %d users exist; want 1 and 1", count, users)
	}
}
