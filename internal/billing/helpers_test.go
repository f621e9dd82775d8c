package billing_test

import (
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gpcore/gpcore/internal/billing"
	"github.com/gpcore/gpcore/internal/catalog"
	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/identity"
	"github.com/gpcore/gpcore/internal/project"
	"github.com/gpcore/gpcore/internal/store"
	"github.com/gpcore/gpcore/internal/store/storetest"
)

// clock is a test clock that moves one second on every reading, and as far
// as a test says with Add.
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

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Set moves the clock to t (forward or back).
func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// env is a billing service on a fresh database with the embedded catalog
// (its countries), the identity service that makes users and a project
// service whose BillingState is the billing service.
type env struct {
	db       *store.DB
	clock    *clock
	billing  *billing.Service
	identity *identity.Service
	projects *project.Service
}

// newEnv returns an env whose billing service is configured by cfg (its
// clock is always the test clock).
func newEnv(t *testing.T, cfg billing.Config) *env {
	t.Helper()
	db := storetest.New(t)
	if err := catalog.Seed(t.Context(), db, catalog.DefaultSeed()); err != nil {
		t.Fatalf("catalog.Seed: %v", err)
	}
	clk := &clock{now: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	ids, err := identity.New(db, identity.Config{Now: clk.Now})
	if err != nil {
		t.Fatalf("identity.New: %v", err)
	}
	cfg.Now = clk.Now
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	b, err := billing.New(db, cfg)
	if err != nil {
		t.Fatalf("billing.New: %v", err)
	}
	projects, err := project.New(db, project.Config{Billing: b, Now: clk.Now})
	if err != nil {
		t.Fatalf("project.New: %v", err)
	}
	return &env{db: db, clock: clk, billing: b, identity: ids, projects: projects}
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

// tag gives userID the tag, as an operator would.
func (e *env) tag(t *testing.T, userID string, tag identity.Tag) {
	t.Helper()
	if _, err := e.db.ExecContext(t.Context(),
		"INSERT INTO user_tags (user_id, tag) VALUES (?, ?)", userID, string(tag)); err != nil {
		t.Fatalf("tag %s: %v", tag, err)
	}
}

// company is a valid German company's profile input.
func company() billing.ProfileInput {
	return billing.ProfileInput{
		Name: "Ada Lovelace", Company: "Analytical Engines GmbH", VATID: "DE123456789", CountryCode: "DE",
		Street: "Hauptstraße 1", City: "Berlin", Postcode: "10115", BillingEmail: "billing@example.com",
	}
}

// profile creates a billing profile for userID.
func (e *env) profile(t *testing.T, userID string, in billing.ProfileInput) billing.Profile {
	t.Helper()
	p, err := e.billing.CreateProfile(t.Context(), userID, in)
	if err != nil {
		t.Fatalf("CreateProfile: %v", err)
	}
	return p
}

// card adds the test card token to userID's profile profileID.
func (e *env) card(t *testing.T, userID, profileID, token string) billing.Card {
	t.Helper()
	setup, err := e.billing.BeginCardSetup(t.Context(), userID, profileID)
	if err != nil {
		t.Fatalf("BeginCardSetup: %v", err)
	}
	c, err := e.billing.ConfirmTestCard(t.Context(), setup.ClientSecret, token)
	if err != nil {
		t.Fatalf("ConfirmTestCard(%s): %v", token, err)
	}
	return c
}

// project creates a project of userID billed to profileID ("" for none).
func (e *env) project(t *testing.T, userID, name, profileID string) project.Project {
	t.Helper()
	p, err := e.projects.Create(t.Context(), userID, project.CreateInput{Name: name, BillingProfileID: profileID})
	if err != nil {
		t.Fatalf("project Create(%q): %v", name, err)
	}
	return p
}

// wantFault fails unless err is a fault of kind, naming field (when not
// empty), whose message contains text.
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
