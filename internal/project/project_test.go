package project_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/identity"
	"github.com/gpcore/gpcore/internal/project"
)

func TestNewRefusesBadConfig(t *testing.T) {
	t.Parallel()
	db := newEnv(t, project.Config{}).db
	if _, err := project.New(db, project.Config{Currency: "GBP"}); err == nil {
		t.Error("New accepted currency GBP")
	}
	if _, err := project.New(db, project.Config{DeletionGuards: []project.DeletionGuard{nil}}); err == nil {
		t.Error("New accepted a nil deletion guard")
	}
}

func TestCreate(t *testing.T) {
	t.Parallel()
	e := newEnv(t, project.Config{})
	alice := e.person(t, "alice@example.com")

	first, err := e.projects.Create(t.Context(), alice.ID, project.CreateInput{
		Name:        "  Web shop  ",
		Description: "the shop\nand its\tdatabase",
		Environment: project.EnvironmentProduction,
	})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if first.ID == "" || first.Name != "Web shop" || first.Description != "the shop\nand its\tdatabase" ||
		first.Environment != project.EnvironmentProduction || first.Currency != project.CurrencyEUR ||
		first.BillingProfileID != "" || first.AvatarURL != "" || first.CreatedAt.IsZero() || !first.CreatedAt.Equal(first.UpdatedAt) {
		t.Fatalf("Create = %+v", first)
	}
	if len(first.Members) != 1 {
		t.Fatalf("members = %+v, want the owner", first.Members)
	}
	owner := first.Members[0]
	wantUser := project.User{ID: alice.ID, Username: alice.Username, FullName: alice.FullName, Email: alice.Email, Type: identity.UserTypeUser}
	if owner.User != wantUser || owner.Role != project.RoleOwner || !owner.Confirmed || !owner.Default {
		t.Fatalf("owner = %+v, want confirmed default OWNER %+v", owner, wantUser)
	}
	if got := e.get(t, alice.ID, first.ID); got.Name != first.Name || len(got.Members) != 1 {
		t.Fatalf("Get = %+v, want %+v", got, first)
	}

	// Only the first project becomes the default.
	second := e.create(t, alice.ID, "Lab")
	if m, _ := member(second, alice.ID); m.Default || m.Role != project.RoleOwner {
		t.Fatalf("second project membership = %+v, want a non-default OWNER", m)
	}
	if got := e.defaultProject(t, alice.ID); got != first.ID {
		t.Fatalf("default project = %s, want the first %s", got, first.ID)
	}
	if logs := e.logs(t, alice.ID, first.ID); !slices.Equal(logs, []string{`created the project "Web shop"`}) {
		t.Fatalf("log = %q", logs)
	}
}

// TestDescriptionCRLF: a multi-line description with CRLF line breaks (as
// a browser's textarea sends it) is stored with LF, and its length is
// counted as stored.
func TestDescriptionCRLF(t *testing.T) {
	t.Parallel()
	e := newEnv(t, project.Config{})
	alice := e.person(t, "alice@example.com")
	p, err := e.projects.Create(t.Context(), alice.ID, project.CreateInput{Name: "Shop", Description: "the shop\r\nand its\tdatabase\r\n"})
	if err != nil {
		t.Fatalf("Create with a CRLF description: %v", err)
	}
	if p.Description != "the shop\nand its\tdatabase" {
		t.Fatalf("description = %q", p.Description)
	}
	long := strings.Repeat("abc\r\n", 250) // 1250 characters sent, 999 stored
	got, err := e.projects.Update(t.Context(), alice.ID, p.ID, project.UpdateInput{Description: &long})
	if err != nil {
		t.Fatalf("Update with a long CRLF description: %v", err)
	}
	if want := strings.TrimSpace(strings.Repeat("abc\n", 250)); got.Description != want {
		t.Fatalf("description = %q, want %q", got.Description, want)
	}
	if again := e.get(t, alice.ID, p.ID); again.Description != got.Description {
		t.Fatalf("stored description = %q", again.Description)
	}
}

func TestCreateCurrency(t *testing.T) {
	t.Parallel()
	e := newEnv(t, project.Config{Currency: project.CurrencyUSD})
	alice := e.person(t, "alice@example.com")
	if p := e.create(t, alice.ID, "Dollars"); p.Currency != project.CurrencyUSD {
		t.Fatalf("currency = %q, want USD", p.Currency)
	}
}

func TestCreateRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t, project.Config{})
	alice := e.person(t, "alice@example.com")
	for _, tc := range []struct {
		name  string
		in    project.CreateInput
		field string
		text  string
	}{
		{"no name", project.CreateInput{Name: "   "}, "name", "must be 3 to 64 characters long, got 0"},
		{"short name", project.CreateInput{Name: " ab "}, "name", "got 2"},
		{"short name in runes", project.CreateInput{Name: "ää"}, "name", "got 2"},
		{"long name", project.CreateInput{Name: strings.Repeat("n", 65)}, "name", "at most 64"},
		{"line break in name", project.CreateInput{Name: "web\nshop"}, "name", "control characters"},
		{"CRLF in name", project.CreateInput{Name: "web\r\nshop"}, "name", "control characters"},
		{"lone CR in description", project.CreateInput{Name: "Web", Description: "a\rb"}, "description", "control characters"},
		{"invalid UTF-8 name", project.CreateInput{Name: "web\xffshop"}, "name", "UTF-8"},
		{"long description", project.CreateInput{Name: "Web", Description: strings.Repeat("d", 1001)}, "description", "at most 1000"},
		{"control character in description", project.CreateInput{Name: "Web", Description: "a\x00b"}, "description", "control characters"},
		{"unknown environment", project.CreateInput{Name: "Web", Environment: "TESTING"}, "environment", "unknown environment"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.projects.Create(t.Context(), alice.ID, tc.in)
			wantFault(t, err, fault.KindInvalidArgument, tc.field, tc.text)
		})
	}
	// Without the billing domain there is no billing profile to link.
	_, err := e.projects.Create(t.Context(), alice.ID, project.CreateInput{Name: "Web", BillingProfileID: "bp-1"})
	wantFault(t, err, fault.KindNotFound, "billing_address_id", `billing profile "bp-1" not found`)
	// Refusals leave nothing behind.
	if l, err := e.projects.List(t.Context(), alice.ID, "", page(1, 10)); err != nil || l.Total != 0 {
		t.Fatalf("List = %+v, %v, want no projects", l, err)
	}
	// Names at the bounds, counted in characters.
	for _, name := range []string{"Äbc", strings.Repeat("ü", 64)} {
		e.create(t, alice.ID, name)
	}
	// An unknown caller is not found.
	_, err = e.projects.Create(t.Context(), "4b1c7a57-2f44-4c40-9d3c-3f1f0b9f6e01", project.CreateInput{Name: "Ghost"})
	wantFault(t, err, fault.KindNotFound, "", "user")
}

func TestBillingProfile(t *testing.T) {
	t.Parallel()
	billing := fakeBilling{profiles: map[string]string{}}
	e := newEnv(t, project.Config{Billing: billing})
	alice := e.person(t, "alice@example.com")
	bob := e.person(t, "bob@example.com")
	billing.profiles["bp-alice"] = alice.ID
	billing.profiles["bp-alice-2"] = alice.ID
	billing.profiles["bp-bob"] = bob.ID

	_, err := e.projects.Create(t.Context(), alice.ID, project.CreateInput{Name: "Shop", BillingProfileID: "bp-bob"})
	wantFault(t, err, fault.KindNotFound, "billing_address_id", "no such billing profile")

	p, err := e.projects.Create(t.Context(), alice.ID, project.CreateInput{Name: "Shop", BillingProfileID: " bp-alice "})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if p.BillingProfileID != "bp-alice" || p.PlanCode != "plan-bp-alice" {
		t.Fatalf("billing profile = %q, plan %q, want bp-alice and its plan", p.BillingProfileID, p.PlanCode)
	}
	locks, err := e.projects.Locks(t.Context(), alice.ID, p.ID)
	if err != nil || len(locks) != 0 {
		t.Fatalf("Locks = %v, %v, want none", locks, err)
	}

	other := "bp-alice-2"
	// Another profile: the project keeps the plan it subscribed to.
	if p, err = e.projects.Update(t.Context(), alice.ID, p.ID, project.UpdateInput{BillingProfileID: &other}); err != nil ||
		p.BillingProfileID != other || p.PlanCode != "plan-bp-alice" {
		t.Fatalf("Update billing profile = %+v, %v", p, err)
	}
	// A project without a profile has no plan until its first profile.
	later := e.create(t, alice.ID, "Later")
	if later.PlanCode != "" {
		t.Fatalf("a project without a billing profile has the plan %q", later.PlanCode)
	}
	if later, err = e.projects.Update(t.Context(), alice.ID, later.ID, project.UpdateInput{BillingProfileID: &other}); err != nil ||
		later.PlanCode != "plan-bp-alice-2" {
		t.Fatalf("the first billing profile of a project: %+v, %v", later, err)
	}
	bobs := "bp-bob"
	_, err = e.projects.Update(t.Context(), alice.ID, p.ID, project.UpdateInput{BillingProfileID: &bobs})
	wantFault(t, err, fault.KindNotFound, "billing_address_id", "no such billing profile")
	none := " "
	_, err = e.projects.Update(t.Context(), alice.ID, p.ID, project.UpdateInput{BillingProfileID: &none})
	wantFault(t, err, fault.KindInvalidArgument, "billing_address_id", "replaced but not removed")
}

// TestUpdateCreditCard: UpdateInput.CreditCardID has the project's bills
// charged to a card of its billing profile, through BillingState.UseCard;
// a card the caller may not use is NotFound naming credit_card_id, and a
// refusal changes nothing.
func TestUpdateCreditCard(t *testing.T) {
	t.Parallel()
	billing := fakeBilling{profiles: map[string]string{}, cards: map[string]string{}, defaults: map[string]string{}}
	e := newEnv(t, project.Config{Billing: billing})
	alice := e.person(t, "alice@example.com")
	bob := e.person(t, "bob@example.com")
	billing.profiles["bp-alice"], billing.profiles["bp-alice-2"], billing.profiles["bp-bob"] = alice.ID, alice.ID, bob.ID
	billing.cards["visa"], billing.cards["amex"], billing.cards["other"] = "bp-alice", "bp-alice", "bp-alice-2"
	billing.cards["bobs"] = "bp-bob"
	billing.defaults["bp-alice"] = "visa"
	bare := e.create(t, alice.ID, "Bare")
	p, err := e.projects.Create(t.Context(), alice.ID, project.CreateInput{Name: "Shop", BillingProfileID: "bp-alice"})
	if err != nil {
		t.Fatal(err)
	}
	e.invite(t, alice.ID, p.ID, bob.Email)
	e.join(t, bob.ID, p.ID)

	if _, err := e.projects.Update(t.Context(), alice.ID, p.ID, project.UpdateInput{CreditCardID: ptr(" amex ")}); err != nil {
		t.Fatalf("Update credit card: %v", err)
	}
	if billing.defaults["bp-alice"] != "amex" {
		t.Fatalf("the profile's card = %q, want amex", billing.defaults["bp-alice"])
	}
	if logs := e.logs(t, alice.ID, p.ID); logs[0] != "changed the credit card to card amex" {
		t.Fatalf("newest log entry = %q", logs[0])
	}
	// The card in use already: nothing changes, nothing is logged.
	before := e.logCount(t, p.ID)
	if _, err := e.projects.Update(t.Context(), alice.ID, p.ID, project.UpdateInput{CreditCardID: ptr("amex")}); err != nil || e.logCount(t, p.ID) != before {
		t.Fatalf("repeated Update: %v, %d log entries, want %d", err, e.logCount(t, p.ID), before)
	}
	// A new profile and one of its cards at once: the card is the new profile's.
	got, err := e.projects.Update(t.Context(), alice.ID, p.ID, project.UpdateInput{BillingProfileID: ptr("bp-alice-2"), CreditCardID: ptr("other")})
	if err != nil || got.BillingProfileID != "bp-alice-2" || billing.defaults["bp-alice-2"] != "other" {
		t.Fatalf("Update profile and card = %+v, %v; card %q", got, err, billing.defaults["bp-alice-2"])
	}

	name := "Renamed"
	for _, tc := range []struct {
		name            string
		caller, project string
		in              project.UpdateInput
		kind            fault.Kind
		field           string
	}{
		{"another profile's card", alice.ID, p.ID, project.UpdateInput{Name: &name, CreditCardID: ptr("visa")}, fault.KindNotFound, "credit_card_id"},
		{"another user's card", alice.ID, p.ID, project.UpdateInput{CreditCardID: ptr("bobs")}, fault.KindNotFound, "credit_card_id"},
		{"unknown card", alice.ID, p.ID, project.UpdateInput{CreditCardID: ptr("nope")}, fault.KindNotFound, "credit_card_id"},
		{"a member, not the profile's owner", bob.ID, p.ID, project.UpdateInput{CreditCardID: ptr("other")}, fault.KindNotFound, "credit_card_id"},
		{"no billing profile", alice.ID, bare.ID, project.UpdateInput{CreditCardID: ptr("visa")}, fault.KindNotFound, "credit_card_id"},
		{"empty", alice.ID, p.ID, project.UpdateInput{CreditCardID: ptr(" ")}, fault.KindInvalidArgument, "credit_card_id"},
		{"another's profile with its card", alice.ID, p.ID, project.UpdateInput{BillingProfileID: ptr("bp-bob"), CreditCardID: ptr("bobs")}, fault.KindNotFound, "billing_address_id"},
		{"a profile with another's card", alice.ID, p.ID, project.UpdateInput{BillingProfileID: ptr("bp-alice"), CreditCardID: ptr("other")}, fault.KindNotFound, "credit_card_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.logCount(t, tc.project)
			_, err := e.projects.Update(t.Context(), tc.caller, tc.project, tc.in)
			wantFault(t, err, tc.kind, tc.field, "")
			if got := e.get(t, alice.ID, tc.project); got.Name == name || e.logCount(t, tc.project) != before {
				t.Fatalf("a refused update changed the project: %+v", got)
			}
		})
	}
	if got := e.get(t, alice.ID, p.ID); got.BillingProfileID != "bp-alice-2" || billing.defaults["bp-alice-2"] != "other" {
		t.Fatalf("after the refusals: profile %q, card %q", got.BillingProfileID, billing.defaults["bp-alice-2"])
	}
}

func TestLocks(t *testing.T) {
	t.Parallel()
	t.Run("without billing", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, project.Config{})
		alice := e.person(t, "alice@example.com")
		p := e.create(t, alice.ID, "Shop")
		locks, err := e.projects.Locks(t.Context(), alice.ID, p.ID)
		want := []project.LockReason{project.LockMissingBillingProfile, project.LockMissingPaymentProfile, project.LockMissingSubscription}
		if err != nil || !slices.Equal(locks, want) {
			t.Fatalf("Locks = %v, %v, want %v", locks, err, want)
		}
	})
	t.Run("billing reasons", func(t *testing.T) {
		t.Parallel()
		billing := fakeBilling{profiles: map[string]string{}, locks: []project.LockReason{project.LockSubscriptionNotActive}}
		e := newEnv(t, project.Config{Billing: billing})
		alice := e.person(t, "alice@example.com")
		billing.profiles["bp"] = alice.ID
		bare := e.create(t, alice.ID, "Bare")
		billed, err := e.projects.Create(t.Context(), alice.ID, project.CreateInput{Name: "Billed", BillingProfileID: "bp"})
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			id   string
			want []project.LockReason
		}{
			{bare.ID, []project.LockReason{project.LockMissingBillingProfile, project.LockMissingPaymentProfile}},
			{billed.ID, []project.LockReason{project.LockSubscriptionNotActive}},
		} {
			if locks, err := e.projects.Locks(t.Context(), alice.ID, tc.id); err != nil || !slices.Equal(locks, tc.want) {
				t.Fatalf("Locks = %v, %v, want %v", locks, err, tc.want)
			}
		}
	})
}

func TestGetShowsMembersAndInvitees(t *testing.T) {
	t.Parallel()
	e := newEnv(t, project.Config{})
	alice := e.person(t, "alice@example.com")
	bob := e.person(t, "bob@example.com")
	carol := e.person(t, "carol@example.com")
	p := e.create(t, alice.ID, "Shop")
	e.invite(t, alice.ID, p.ID, bob.Email)
	e.join(t, bob.ID, p.ID)
	e.invite(t, alice.ID, p.ID, carol.ID)

	got := e.get(t, bob.ID, p.ID)
	var summary []string
	for _, m := range got.Members {
		summary = append(summary, m.User.Email+" "+string(m.Role)+" "+map[bool]string{true: "confirmed", false: "pending"}[m.Confirmed])
	}
	want := []string{"alice@example.com OWNER confirmed", "bob@example.com MEMBER confirmed", "carol@example.com MEMBER pending"}
	if !slices.Equal(summary, want) {
		t.Fatalf("members = %q, want %q", summary, want)
	}
	// A pending invitee cannot see the project yet.
	_, err := e.projects.Get(t.Context(), carol.ID, p.ID)
	wantFault(t, err, fault.KindNotFound, "", "not found")
}

func TestList(t *testing.T) {
	t.Parallel()
	e := newEnv(t, project.Config{})
	alice := e.person(t, "alice@example.com")
	bob := e.person(t, "bob@example.com")

	shop := e.create(t, alice.ID, "Web Shop Prod")
	lab := e.create(t, alice.ID, "GPU lab")
	e.create(t, alice.ID, "Web shop staging")
	e.create(t, alice.ID, "100% uptime")
	// Bob's default comes first in his list, then the oldest first.
	e.create(t, bob.ID, "Bob's")
	secret := e.create(t, bob.ID, "Bob's secret")
	e.invite(t, alice.ID, shop.ID, bob.Email)
	e.join(t, bob.ID, shop.ID)
	e.invite(t, alice.ID, lab.ID, bob.Email)
	if err := e.projects.ChangeDefault(t.Context(), bob.ID, secret.ID); err != nil {
		t.Fatal(err)
	}

	names := func(l project.Listing) []string {
		var out []string
		for _, p := range l.Projects {
			out = append(out, p.Name)
		}
		return out
	}
	for _, tc := range []struct {
		name   string
		user   string
		search string
		page   int32
		limit  int32
		want   []string
		total  int64
	}{
		{"all of alice", alice.ID, "", 1, 10, []string{"Web Shop Prod", "GPU lab", "Web shop staging", "100% uptime"}, 4},
		{"first page", alice.ID, "", 1, 3, []string{"Web Shop Prod", "GPU lab", "Web shop staging"}, 4},
		{"second page", alice.ID, "", 2, 3, []string{"100% uptime"}, 4},
		{"past the end", alice.ID, "", 3, 3, nil, 4},
		{"search ignores case", alice.ID, "WEB", 1, 10, []string{"Web Shop Prod", "Web shop staging"}, 2},
		{"terms are ANDed", alice.ID, "shop  STAG", 1, 10, []string{"Web shop staging"}, 1},
		{"terms match anywhere", alice.ID, "lab gpu", 1, 10, []string{"GPU lab"}, 1},
		{"percent is literal", alice.ID, "0%", 1, 10, []string{"100% uptime"}, 1},
		{"underscore is literal", alice.ID, "web_shop", 1, 10, nil, 0},
		{"no match", alice.ID, "nothing", 1, 10, nil, 0},
		{"bob: default first", bob.ID, "", 1, 10, []string{"Bob's secret", "Web Shop Prod", "Bob's"}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := e.projects.List(t.Context(), tc.user, tc.search, page(tc.page, tc.limit))
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			if !slices.Equal(names(l), tc.want) || l.Total != tc.total {
				t.Fatalf("List = %q (total %d), want %q (total %d)", names(l), l.Total, tc.want, tc.total)
			}
		})
	}

	l, err := e.projects.List(t.Context(), bob.ID, "", page(1, 10))
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Invites) != 1 || l.Invites[0].ProjectID != lab.ID || l.Invites[0].ProjectName != "GPU lab" || l.Invites[0].CreatedAt.IsZero() {
		t.Fatalf("invites = %+v, want the one to GPU lab", l.Invites)
	}
	// Members come with each listed project.
	for _, p := range l.Projects {
		if _, ok := member(p, bob.ID); !ok {
			t.Fatalf("listed project %q lacks bob among its members %+v", p.Name, p.Members)
		}
	}
	if l, _ := e.projects.List(t.Context(), alice.ID, "", page(1, 10)); len(l.Invites) != 0 {
		t.Fatalf("alice's invites = %+v, want none", l.Invites)
	}
}

func TestUpdate(t *testing.T) {
	t.Parallel()
	e := newEnv(t, project.Config{})
	alice := e.person(t, "alice@example.com")
	bob := e.person(t, "bob@example.com")
	p := e.create(t, alice.ID, "Shop")
	e.invite(t, alice.ID, p.ID, bob.Email)
	e.join(t, bob.ID, p.ID)

	name, description, env, avatar := " Web Shop ", "all the shop", project.EnvironmentStaging, "https://cdn.example.com/a.png"
	// Any member may update, not only the owner.
	got, err := e.projects.Update(t.Context(), bob.ID, p.ID, project.UpdateInput{
		Name: &name, Description: &description, Environment: &env, AvatarURL: &avatar,
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if got.Name != "Web Shop" || got.Description != description || got.Environment != env || got.AvatarURL != avatar ||
		!got.UpdatedAt.After(p.UpdatedAt) || !got.CreatedAt.Equal(p.CreatedAt) || len(got.Members) != 2 {
		t.Fatalf("Update = %+v", got)
	}
	if again := e.get(t, alice.ID, p.ID); again.Name != "Web Shop" || again.Environment != env {
		t.Fatalf("Get after Update = %+v", again)
	}
	wantLog := `changed the name from "Shop" to "Web Shop", the description, the environment to STAGING, the avatar`
	if logs := e.logs(t, alice.ID, p.ID); logs[0] != wantLog {
		t.Fatalf("newest log entry = %q, want %q", logs[0], wantLog)
	}

	// Changing nothing writes nothing.
	before := e.logCount(t, p.ID)
	same, err := e.projects.Update(t.Context(), alice.ID, p.ID, project.UpdateInput{Name: &name, AvatarURL: &avatar})
	if err != nil || !same.UpdatedAt.Equal(got.UpdatedAt) || e.logCount(t, p.ID) != before {
		t.Fatalf("no-op Update = %+v, %v; log %d entries, want %d", same, err, e.logCount(t, p.ID), before)
	}
	// Clearing the deprecated fields and the avatar.
	empty, unspecified := "", project.EnvironmentUnspecified
	cleared, err := e.projects.Update(t.Context(), alice.ID, p.ID, project.UpdateInput{Description: &empty, Environment: &unspecified, AvatarURL: &empty})
	if err != nil || cleared.Description != "" || cleared.Environment != "" || cleared.AvatarURL != "" {
		t.Fatalf("clearing Update = %+v, %v", cleared, err)
	}
	if logs := e.logs(t, alice.ID, p.ID); logs[0] != "changed the description, the environment to unspecified, the avatar" {
		t.Fatalf("newest log entry = %q", logs[0])
	}

	for _, tc := range []struct {
		name  string
		in    project.UpdateInput
		field string
	}{
		{"short name", project.UpdateInput{Name: ptr("x")}, "name"},
		{"long description", project.UpdateInput{Description: ptr(strings.Repeat("d", 1001))}, "description"},
		{"unknown environment", project.UpdateInput{Environment: ptr(project.Environment("QA"))}, "environment"},
		{"relative avatar", project.UpdateInput{AvatarURL: ptr("/a.png")}, "avatar_url"},
		{"avatar scheme", project.UpdateInput{AvatarURL: ptr("javascript:alert(1)")}, "avatar_url"},
		{"long avatar", project.UpdateInput{AvatarURL: ptr("https://x.example/" + strings.Repeat("a", 2048))}, "avatar_url"},
		{"valid name, bad avatar", project.UpdateInput{Name: ptr("Renamed"), AvatarURL: ptr("ftp://x")}, "avatar_url"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.projects.Update(t.Context(), alice.ID, p.ID, tc.in)
			wantFault(t, err, fault.KindInvalidArgument, tc.field, "")
		})
	}
	// A refused update changes nothing, not even the fields that were fine.
	if got := e.get(t, alice.ID, p.ID); got.Name != "Web Shop" {
		t.Fatalf("name after refused updates = %q", got.Name)
	}
}

func ptr[T any](v T) *T { return &v }

func TestDelete(t *testing.T) {
	t.Parallel()
	guard := fakeGuard{reason: map[string]string{}}
	e := newEnv(t, project.Config{DeletionGuards: []project.DeletionGuard{guard}})
	alice := e.person(t, "alice@example.com")
	bob := e.person(t, "bob@example.com")
	home := e.create(t, alice.ID, "Home")
	shop := e.create(t, alice.ID, "Shop")
	e.invite(t, alice.ID, shop.ID, bob.Email)
	e.join(t, bob.ID, shop.ID)
	bobs := e.create(t, bob.ID, "Bob's")
	if err := e.projects.ChangeDefault(t.Context(), bob.ID, bobs.ID); err != nil {
		t.Fatal(err)
	}

	err := e.projects.Delete(t.Context(), bob.ID, shop.ID)
	wantFault(t, err, fault.KindPermissionDenied, "", "only the project owner may delete the project")
	err = e.projects.Delete(t.Context(), alice.ID, home.ID)
	wantFault(t, err, fault.KindFailedPrecondition, "", "your default project")
	guard.reason[shop.ID] = "it still has 2 nodes"
	err = e.projects.Delete(t.Context(), alice.ID, shop.ID)
	wantFault(t, err, fault.KindFailedPrecondition, "", "the project cannot be deleted: it still has 2 nodes")
	err = e.projects.Delete(t.Context(), alice.ID, "4b1c7a57-2f44-4c40-9d3c-3f1f0b9f6e01")
	wantFault(t, err, fault.KindNotFound, "", "not found")

	delete(guard.reason, shop.ID)
	if err := e.projects.Delete(t.Context(), alice.ID, shop.ID); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	_, err = e.projects.Get(t.Context(), alice.ID, shop.ID)
	wantFault(t, err, fault.KindNotFound, "", "not found")
	for _, table := range []string{"project_members", "project_logs"} {
		if n, err := e.db.NewSelect().TableExpr(table).Where("project_id = ?", shop.ID).Count(t.Context()); err != nil || n != 0 {
			t.Fatalf("%s rows left: %d, %v", table, n, err)
		}
	}
	if got := e.defaultProject(t, bob.ID); got != bobs.ID {
		t.Fatalf("bob's default = %q, want %s", got, bobs.ID)
	}
	if got := e.defaultProject(t, alice.ID); got != home.ID {
		t.Fatalf("alice's default = %q, want %s", got, home.ID)
	}
}

// TestDeleteRefusesAnyMembersDefault: a project that is another member's
// default project is not deleted, whether it is their only project or one
// they chose; the refusal names them and changes nothing. Once they have
// another default (or are removed), it can go.
func TestDeleteRefusesAnyMembersDefault(t *testing.T) {
	t.Parallel()
	e := newEnv(t, project.Config{})
	alice := e.person(t, "alice@example.com")
	bob := e.person(t, "bob@example.com")
	carol := e.person(t, "carol@example.com")
	e.create(t, alice.ID, "Home")
	shop := e.create(t, alice.ID, "Shop")
	bobsOld := e.create(t, bob.ID, "Bob old")
	e.create(t, bob.ID, "Bob new")
	for _, u := range []identity.User{bob, carol} {
		e.invite(t, alice.ID, shop.ID, u.Email)
		e.join(t, u.ID, shop.ID)
	}
	if err := e.projects.ChangeDefault(t.Context(), bob.ID, shop.ID); err != nil {
		t.Fatal(err)
	}
	// The shop is carol's only project, and bob's chosen default.
	logs := e.logCount(t, shop.ID)
	err := e.projects.Delete(t.Context(), alice.ID, shop.ID)
	wantFault(t, err, fault.KindFailedPrecondition, "", "the default project of bob@example.com, carol@example.com and cannot be deleted")
	if got := e.get(t, alice.ID, shop.ID); len(got.Members) != 3 || e.logCount(t, shop.ID) != logs {
		t.Fatalf("a refused deletion changed the project: %+v", got)
	}
	if e.defaultProject(t, bob.ID) != shop.ID || e.defaultProject(t, carol.ID) != shop.ID {
		t.Fatal("a refused deletion moved a default project")
	}

	// Bob moves his default; carol, whose only project it is, is removed.
	if err := e.projects.ChangeDefault(t.Context(), bob.ID, bobsOld.ID); err != nil {
		t.Fatal(err)
	}
	err = e.projects.Delete(t.Context(), alice.ID, shop.ID)
	wantFault(t, err, fault.KindFailedPrecondition, "", "the default project of carol@example.com and")
	if err := e.projects.RemoveMember(t.Context(), alice.ID, shop.ID, carol.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.projects.Delete(t.Context(), alice.ID, shop.ID); err != nil {
		t.Fatalf("Delete once nobody's default: %v", err)
	}
	if got := e.defaultProject(t, bob.ID); got != bobsOld.ID {
		t.Fatalf("bob's default = %q, want %s", got, bobsOld.ID)
	}
}

func TestChangeDefault(t *testing.T) {
	t.Parallel()
	e := newEnv(t, project.Config{})
	alice := e.person(t, "alice@example.com")
	bob := e.person(t, "bob@example.com")
	first := e.create(t, alice.ID, "First")
	second := e.create(t, alice.ID, "Second")
	bobs := e.create(t, bob.ID, "Bob's")
	invited := e.create(t, bob.ID, "Invited")
	e.invite(t, bob.ID, invited.ID, alice.Email)

	if err := e.projects.ChangeDefault(t.Context(), alice.ID, second.ID); err != nil {
		t.Fatalf("ChangeDefault: %v", err)
	}
	if got := e.defaultProject(t, alice.ID); got != second.ID {
		t.Fatalf("default = %s, want %s", got, second.ID)
	}
	if m, _ := member(e.get(t, alice.ID, first.ID), alice.ID); m.Default {
		t.Fatal("the old default project kept its flag")
	}
	if logs := e.logs(t, alice.ID, second.ID); logs[0] != "made the project their default project" {
		t.Fatalf("newest log entry = %q", logs[0])
	}
	// Again: nothing changes, nothing is logged.
	before := e.logCount(t, second.ID)
	if err := e.projects.ChangeDefault(t.Context(), alice.ID, second.ID); err != nil || e.logCount(t, second.ID) != before {
		t.Fatalf("repeated ChangeDefault: %v, log entries %d, want %d", err, e.logCount(t, second.ID), before)
	}

	for _, id := range []string{bobs.ID, invited.ID, "4b1c7a57-2f44-4c40-9d3c-3f1f0b9f6e01"} {
		err := e.projects.ChangeDefault(t.Context(), alice.ID, id)
		wantFault(t, err, fault.KindNotFound, "", "not found")
	}
	if got := e.defaultProject(t, alice.ID); got != second.ID {
		t.Fatalf("default after refusals = %s, want %s", got, second.ID)
	}
}
