package billing_test

import (
	"strings"
	"testing"

	"github.com/gpcore/gpcore/internal/billing"
	"github.com/gpcore/gpcore/internal/catalog"
	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/identity"
	"github.com/gpcore/gpcore/internal/pagination"
	"github.com/gpcore/gpcore/internal/project"
)

func page(number, limit int32) pagination.Page {
	return pagination.Page{Number: number, Limit: limit}
}

func TestCreateProfile(t *testing.T) {
	t.Parallel()
	e := newEnv(t, billing.Config{})
	ada := e.person(t, "ada@example.com")
	in := company()
	in.CountryCode, in.VATID, in.BillingEmail, in.State = " de ", "de 123.456.789", " Billing@Example.COM ", "Berlin"
	p := e.profile(t, ada.ID, in)
	want := billing.Profile{
		ID: p.ID, UserID: ada.ID, Name: "Ada Lovelace", Company: "Analytical Engines GmbH", VATID: "DE123456789",
		CountryCode: "DE", State: "Berlin", Street: "Hauptstraße 1", City: "Berlin", Postcode: "10115",
		BillingEmail: "billing@example.com", TaxRate: 1900, DefaultPlanCode: billing.PlanGPCore,
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
	}
	if p != want || p.CreatedAt.IsZero() {
		t.Fatalf("CreateProfile = %+v,\nwant %+v", p, want)
	}

	// A user with a default plan code of their own gives it to new profiles.
	if _, err := e.db.NewUpdate().TableExpr("users").Set("default_plan_code = ?", "enterprise").
		Where("id = ?", ada.ID).Exec(t.Context()); err != nil {
		t.Fatal(err)
	}
	if p := e.profile(t, ada.ID, company()); p.DefaultPlanCode != "enterprise" {
		t.Errorf("DefaultPlanCode = %q, want the owner's %q", p.DefaultPlanCode, "enterprise")
	}
}

func TestProfileTaxRates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		seller string
		in     func(*billing.ProfileInput)
		want   catalog.TaxRate
	}{
		{"German company", "", func(*billing.ProfileInput) {}, 1900},
		{"French company: reverse charge", "", func(in *billing.ProfileInput) { in.CountryCode, in.VATID = "FR", "FR12345678901" }, 0},
		{"French company, French seller", "FR", func(in *billing.ProfileInput) { in.CountryCode, in.VATID = "FR", "FR12345678901" }, 2000},
		{"French consumer", "", func(in *billing.ProfileInput) { in.CountryCode, in.Company, in.VATID = "FR", "", "" }, 2000},
		{"French company without VAT id", "", func(in *billing.ProfileInput) { in.CountryCode, in.VATID = "FR", "" }, 2000},
		{"Swiss company", "", func(in *billing.ProfileInput) { in.CountryCode, in.VATID = "CH", "CHE-123.456.789 MWST" }, 0},
		{"Swiss consumer", "", func(in *billing.ProfileInput) { in.CountryCode, in.Company, in.VATID = "CH", "", "" }, 810},
		{"US company", "", func(in *billing.ProfileInput) { in.CountryCode, in.VATID = "US", "" }, 0},
		{"US company with an unchecked tax id", "", func(in *billing.ProfileInput) { in.CountryCode, in.VATID = "US", "12-3456789" }, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := billing.Config{}
			if tt.seller != "" {
				cfg.TaxRule = billing.VATRule{SellerCountry: tt.seller}
			}
			e := newEnv(t, cfg)
			u := e.person(t, "u@example.com")
			e.tag(t, u.ID, identity.TagNoCompany)
			in := company()
			tt.in(&in)
			if p := e.profile(t, u.ID, in); p.TaxRate != tt.want {
				t.Errorf("TaxRate = %d, want %d", p.TaxRate, tt.want)
			}
		})
	}
}

func TestProfileRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t, billing.Config{})
	ada := e.person(t, "ada@example.com")
	free := e.person(t, "free@example.com")
	e.tag(t, free.ID, identity.TagNoCompany)
	long := strings.Repeat("x", 201)
	tests := []struct {
		name   string
		userID string
		in     func(*billing.ProfileInput)
		field  string
		text   string
	}{
		{"no name", ada.ID, func(in *billing.ProfileInput) { in.Name = "  " }, "name", "required"},
		{"name too long", ada.ID, func(in *billing.ProfileInput) { in.Name = long }, "name", "at most 100"},
		{"control character", ada.ID, func(in *billing.ProfileInput) { in.City = "Ber\x00lin" }, "city", "control"},
		{"no country", ada.ID, func(in *billing.ProfileInput) { in.CountryCode = "" }, "country_code", "required"},
		{"unknown country", ada.ID, func(in *billing.ProfileInput) { in.CountryCode = "XX" }, "country_code", "ListCountries"},
		{"country not in the catalog", ada.ID, func(in *billing.ProfileInput) { in.CountryCode, in.VATID = "PT", "PT123456789" }, "country_code", "not one of"},
		{"bad VAT id", ada.ID, func(in *billing.ProfileInput) { in.VATID = "DE12345" }, "vat_id", "DE999999999"},
		{"no company", ada.ID, func(in *billing.ProfileInput) { in.Company, in.VATID = "", "" }, "company", "NO_COMPANY"},
		{"company without VAT id", ada.ID, func(in *billing.ProfileInput) { in.VATID = "" }, "vat_id", "required for a company in DE"},
		{"VAT id without company", free.ID, func(in *billing.ProfileInput) { in.Company = "" }, "company", "required with a VAT id"},
		{"no street", ada.ID, func(in *billing.ProfileInput) { in.Street = "" }, "street", "required"},
		{"street too long", ada.ID, func(in *billing.ProfileInput) { in.Street = long }, "street", "at most 200"},
		{"no city", ada.ID, func(in *billing.ProfileInput) { in.City = "" }, "city", "required"},
		{"no postcode", ada.ID, func(in *billing.ProfileInput) { in.Postcode = "" }, "postcode", "required"},
		{"postcode too long", ada.ID, func(in *billing.ProfileInput) { in.Postcode = strings.Repeat("1", 21) }, "postcode", "at most 20"},
		{"state too long", ada.ID, func(in *billing.ProfileInput) { in.State = long }, "state", "at most 100"},
		{"no billing e-mail", ada.ID, func(in *billing.ProfileInput) { in.BillingEmail = "" }, "billing_email", "required"},
		{"bad billing e-mail", ada.ID, func(in *billing.ProfileInput) { in.BillingEmail = "Ada <ada@example.com>" }, "billing_email", "not an e-mail"},
		{"billing e-mail without a domain", ada.ID, func(in *billing.ProfileInput) { in.BillingEmail = "billing@localhost" }, "billing_email", "no internet domain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := company()
			tt.in(&in)
			_, err := e.billing.CreateProfile(t.Context(), tt.userID, in)
			wantFault(t, err, fault.KindInvalidArgument, tt.field, tt.text)
		})
	}
	if l, total, err := e.billing.ListProfiles(t.Context(), ada.ID, page(1, 10)); err != nil || total != 0 || len(l) != 0 {
		t.Fatalf("refusals left profiles: %v, %d, %v", l, total, err)
	}

	// Allowed: a company outside the VAT id countries without one, and a
	// consumer with NO_COMPANY.
	us := company()
	us.CountryCode, us.VATID = "US", ""
	e.profile(t, ada.ID, us)
	consumer := company()
	consumer.Company, consumer.VATID = "", ""
	if p := e.profile(t, free.ID, consumer); p.Company != "" || p.VATID != "" {
		t.Errorf("consumer profile = %+v", p)
	}
}

func TestUpdateProfile(t *testing.T) {
	t.Parallel()
	e := newEnv(t, billing.Config{})
	ada := e.person(t, "ada@example.com")
	bob := e.person(t, "bob@example.com")
	p := e.profile(t, ada.ID, company())
	if _, err := e.billing.ChangeDefaultPlanCode(t.Context(), p.ID, billing.PlanFree); err != nil {
		t.Fatal(err)
	}

	in := billing.ProfileInput{
		Name: "Ada King", Company: "Engines SARL", VATID: "FRAB123456789", CountryCode: "fr",
		Street: "1 rue de Rivoli", City: "Paris", Postcode: "75001", BillingEmail: "factures@example.fr",
	}
	got, err := e.billing.UpdateProfile(t.Context(), ada.ID, p.ID, in)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "Ada King" || got.Company != "Engines SARL" || got.VATID != "FRAB123456789" || got.CountryCode != "FR" ||
		got.State != "" || got.TaxRate != 0 || got.DefaultPlanCode != billing.PlanFree ||
		!got.CreatedAt.Equal(p.CreatedAt) || !got.UpdatedAt.After(p.UpdatedAt) {
		t.Fatalf("UpdateProfile = %+v", got)
	}

	_, err = e.billing.UpdateProfile(t.Context(), bob.ID, p.ID, in)
	wantFault(t, err, fault.KindNotFound, "", "not found")
	_, err = e.billing.UpdateProfile(t.Context(), ada.ID, "7d0b5d6e-1d2a-4a61-9d59-2f1c2a0c0a11", in)
	wantFault(t, err, fault.KindNotFound, "", "not found")
	in.VATID = "FR123"
	_, err = e.billing.UpdateProfile(t.Context(), ada.ID, p.ID, in)
	wantFault(t, err, fault.KindInvalidArgument, "vat_id", "FRXX999999999")
}

func TestListProfiles(t *testing.T) {
	t.Parallel()
	e := newEnv(t, billing.Config{})
	ada := e.person(t, "ada@example.com")
	bob := e.person(t, "bob@example.com")
	var ids []string
	for range 3 {
		ids = append(ids, e.profile(t, ada.ID, company()).ID)
	}
	e.profile(t, bob.ID, company())

	l, total, err := e.billing.ListProfiles(t.Context(), ada.ID, page(2, 2))
	if err != nil || total != 3 || len(l) != 1 || l[0].ID != ids[2] {
		t.Fatalf("page 2 = %+v, %d, %v; want the third of 3", l, total, err)
	}
	l, _, _ = e.billing.ListProfiles(t.Context(), ada.ID, page(1, 10))
	for i, p := range l {
		if p.ID != ids[i] || p.UserID != ada.ID {
			t.Errorf("profile %d = %s of %s, want %s", i, p.ID, p.UserID, ids[i])
		}
	}
}

func TestDeleteProfile(t *testing.T) {
	t.Parallel()
	e := newEnv(t, billing.Config{})
	ada := e.person(t, "ada@example.com")
	bob := e.person(t, "bob@example.com")
	p := e.profile(t, ada.ID, company())
	other := e.profile(t, ada.ID, company())
	e.card(t, ada.ID, p.ID, "tok_visa")
	shop := e.project(t, ada.ID, "Shop", p.ID)

	err := e.billing.DeleteProfile(t.Context(), bob.ID, p.ID)
	wantFault(t, err, fault.KindNotFound, "", "not found")
	err = e.billing.DeleteProfile(t.Context(), ada.ID, p.ID)
	wantFault(t, err, fault.KindFailedPrecondition, "", "used by 1 project")

	if _, err := e.projects.Update(t.Context(), ada.ID, shop.ID, project.UpdateInput{BillingProfileID: &other.ID}); err != nil {
		t.Fatal(err)
	}
	if err := e.billing.DeleteProfile(t.Context(), ada.ID, p.ID); err != nil {
		t.Fatalf("DeleteProfile of an unused profile: %v", err)
	}
	if n, err := e.db.NewSelect().TableExpr("credit_cards").Count(t.Context()); err != nil || n != 0 {
		t.Errorf("credit cards left: %d, %v", n, err)
	}
	_, _, err = e.billing.ListCards(t.Context(), ada.ID, p.ID, page(1, 10))
	wantFault(t, err, fault.KindNotFound, "", "not found")
	err = e.billing.DeleteProfile(t.Context(), ada.ID, p.ID)
	wantFault(t, err, fault.KindNotFound, "", "not found")
}
