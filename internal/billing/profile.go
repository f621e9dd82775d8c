package billing

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/gpcore/gpcore/internal/catalog"
	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/identity"
	"github.com/gpcore/gpcore/internal/pagination"
)

// Default (and maximum) page sizes of the list calls, large enough that a
// request without a limit gets everything one customer has.
const (
	ProfilesPageLimit  = 100
	CardsPageLimit     = 100
	PlanCodesPageLimit = 1000
)

// Limits on billing profile fields, in characters.
const (
	MaxNameLength     = 100
	MaxStateLength    = 100
	MaxStreetLength   = 200
	MaxCityLength     = 100
	MaxPostcodeLength = 20
	MaxEmailLength    = 254
)

// Profile is a billing profile: who pays, and where the bills go.
type Profile struct {
	ID string
	// UserID is the owner, the user who created the profile; no one else
	// sees or uses it.
	UserID string
	// Name is the name of the person the bills are addressed to.
	Name string
	// Company is the company's name, empty for a consumer.
	Company string
	// VATID is the company's VAT identification number, normalised (see
	// NormalizeVATID); empty when there is none.
	VATID string
	// CountryCode is an ISO 3166-1 alpha-2 code of the catalog's countries.
	CountryCode string
	// State is optional.
	State        string
	Street       string
	City         string
	Postcode     string
	BillingEmail string
	// TaxRate is the VAT rate the profile's bills carry, from the country,
	// the VAT id and the tax rule (Config.TaxRule); computed when the profile
	// is read, so a changed rule or catalog rate applies at once.
	TaxRate catalog.TaxRate
	// DefaultPlanCode is the plan projects billed to the profile subscribe
	// to (see ChangeDefaultPlanCode).
	DefaultPlanCode string
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// ProfileInput is what a billing profile is made of, on creation and on
// update alike (an update replaces every field).
type ProfileInput struct {
	// Name is required.
	Name string
	// Company is required unless the owner has the tag NO_COMPANY.
	Company string
	// VATID is required for a company in a country whose VAT id syntax
	// gpcore checks (the EU, GB, CH, NO) unless the owner has the tag
	// NO_COMPANY; it needs a company. Spaces, dots, dashes and the country
	// prefix are optional.
	VATID string
	// CountryCode must be one of the catalog's countries (ListCountries);
	// case does not matter.
	CountryCode string
	// State is optional.
	State string
	// Street, City and Postcode are required.
	Street   string
	City     string
	Postcode string
	// BillingEmail is required: the address bills are sent to.
	BillingEmail string
}

// profileRow is a billing_profiles row, with its country's VAT rate when
// read through selectProfiles.
type profileRow struct {
	bun.BaseModel `bun:"table:billing_profiles,alias:bp"`

	ID                string    `bun:"id,pk"`
	UserID            string    `bun:"user_id"`
	Name              string    `bun:"name"`
	CompanyName       string    `bun:"company_name"`
	VATID             string    `bun:"vat_id"`
	CountryCode       string    `bun:"country_code"`
	State             string    `bun:"state"`
	Street            string    `bun:"street"`
	City              string    `bun:"city"`
	Postcode          string    `bun:"postcode"`
	BillingEmail      string    `bun:"billing_email"`
	DefaultPlanCode   string    `bun:"default_plan_code"`
	PaymentProvider   string    `bun:"payment_provider,nullzero"`
	PaymentCustomerID string    `bun:"payment_customer_id,nullzero"`
	CreatedAt         time.Time `bun:"created_at"`
	UpdatedAt         time.Time `bun:"updated_at"`

	CountryTaxRateBP int32 `bun:"country_tax_rate_bp,scanonly"`
}

// customerAt returns the profile's customer at provider, "" when it has
// none there (no card setup yet, or one at a provider no longer configured).
func (r profileRow) customerAt(p Provider) string {
	if r.PaymentProvider != p.Name() {
		return ""
	}
	return r.PaymentCustomerID
}

// selectProfiles selects billing profiles with their country's VAT rate.
func selectProfiles(db bun.IDB, rows any) *bun.SelectQuery {
	return db.NewSelect().Model(rows).
		ColumnExpr("bp.*").
		ColumnExpr("c.tax_rate_bp AS country_tax_rate_bp").
		Join("JOIN countries AS c ON c.code = bp.country_code")
}

// profile converts a row read through selectProfiles.
func (s *Service) profile(r profileRow) Profile {
	return Profile{
		ID:           r.ID,
		UserID:       r.UserID,
		Name:         r.Name,
		Company:      r.CompanyName,
		VATID:        r.VATID,
		CountryCode:  r.CountryCode,
		State:        r.State,
		Street:       r.Street,
		City:         r.City,
		Postcode:     r.Postcode,
		BillingEmail: r.BillingEmail,
		TaxRate: s.cfg.TaxRule.TaxRate(TaxCustomer{
			Country:     r.CountryCode,
			CountryRate: catalog.TaxRate(r.CountryTaxRateBP),
			Business:    r.CompanyName != "" && r.VATID != "" && hasVATIDSyntax(r.CountryCode),
		}),
		DefaultPlanCode: r.DefaultPlanCode,
		CreatedAt:       r.CreatedAt,
		UpdatedAt:       r.UpdatedAt,
	}
}

// CreateProfile creates a billing profile owned by userID and returns it.
// Its default plan code is the owner's (users.default_plan_code) when they
// have one, Config.DefaultPlanCode otherwise. Refusals are InvalidArgument
// naming the field (see ProfileInput).
func (s *Service) CreateProfile(ctx context.Context, userID string, in ProfileInput) (Profile, error) {
	var id string
	err := s.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var owner struct {
			DefaultPlanCode string `bun:"default_plan_code"`
		}
		err := tx.NewSelect().TableExpr("users").Column("default_plan_code").Where("id = ?", userID).Scan(ctx, &owner)
		if noRows(err) {
			return fault.NotFound("user", userID)
		}
		if err != nil {
			return fmt.Errorf("load owner: %w", err)
		}
		row, err := s.checkInput(ctx, tx, userID, in)
		if err != nil {
			return err
		}
		now := s.now()
		row.ID = uuid.NewString()
		row.UserID = userID
		row.DefaultPlanCode = s.cfg.DefaultPlanCode
		if owner.DefaultPlanCode != "" {
			row.DefaultPlanCode = owner.DefaultPlanCode
		}
		row.CreatedAt, row.UpdatedAt = now, now
		if _, err := tx.NewInsert().Model(&row).Exec(ctx); err != nil {
			return fmt.Errorf("insert profile: %w", err)
		}
		id = row.ID
		return nil
	})
	if err != nil {
		return Profile{}, wrap("create profile", err)
	}
	return s.loadProfile(ctx, s.db.DB, id)
}

// UpdateProfile replaces every field of userID's billing profile id with in
// and returns it; the default plan code and the cards stay. Refusals:
// NotFound for a profile that is not the caller's, InvalidArgument naming
// the field (see ProfileInput).
func (s *Service) UpdateProfile(ctx context.Context, userID, id string, in ProfileInput) (Profile, error) {
	err := s.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		old, err := lockOwnProfile(ctx, tx, userID, id, "NO KEY UPDATE")
		if err != nil {
			return err
		}
		row, err := s.checkInput(ctx, tx, userID, in)
		if err != nil {
			return err
		}
		row.ID, row.UserID = old.ID, old.UserID
		row.DefaultPlanCode = old.DefaultPlanCode
		row.PaymentProvider, row.PaymentCustomerID = old.PaymentProvider, old.PaymentCustomerID
		row.CreatedAt, row.UpdatedAt = old.CreatedAt, s.now()
		if _, err := tx.NewUpdate().Model(&row).WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("update profile: %w", err)
		}
		return nil
	})
	if err != nil {
		return Profile{}, wrap("update profile", err)
	}
	return s.loadProfile(ctx, s.db.DB, id)
}

// DeleteProfile deletes userID's billing profile id with its cards, and then
// the customer at the payment provider; its paid bills stay the owner's.
// Refusals: NotFound for a profile that is not the caller's,
// FailedPrecondition while a project uses it or a bill of it is unpaid.
func (s *Service) DeleteProfile(ctx context.Context, userID, id string) error {
	var customerRef string
	err := s.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		row, err := lockOwnProfile(ctx, tx, userID, id, "UPDATE")
		if err != nil {
			return err
		}
		n, err := projectsUsing(ctx, tx, id)
		if err != nil {
			return err
		}
		if n > 0 {
			return fault.Precondition("the billing profile is used by %d project(s): link them to another billing profile first", n)
		}
		unpaid, err := unpaidBills(ctx, tx, id)
		if err != nil {
			return err
		}
		if unpaid > 0 {
			return fault.Precondition("the billing profile has %d unpaid bill(s)", unpaid)
		}
		if _, err := tx.NewDelete().Model((*profileRow)(nil)).Where("id = ?", id).Exec(ctx); err != nil {
			return fmt.Errorf("delete profile: %w", err)
		}
		customerRef = row.customerAt(s.cfg.Provider)
		return nil
	})
	if err != nil {
		return wrap("delete profile", err)
	}
	if customerRef != "" {
		// The profile is gone whatever the provider says; a customer left
		// behind there holds nothing gpcore will charge.
		if err := s.cfg.Provider.RemoveCustomer(ctx, customerRef); err != nil {
			s.log.ErrorContext(ctx, "billing: remove the deleted profile's customer at the payment provider",
				"provider", s.cfg.Provider.Name(), "customer", customerRef, "billing_profile", id, "err", err)
		}
	}
	return nil
}

// ListProfiles returns page p of userID's billing profiles, oldest first,
// and how many there are.
func (s *Service) ListProfiles(ctx context.Context, userID string, p pagination.Page) ([]Profile, int64, error) {
	var rows []profileRow
	total, err := selectProfiles(s.db.DB, &rows).
		Where("bp.user_id = ?", userID).
		OrderExpr("bp.created_at, bp.id").
		Limit(int64(p.Limit)).Offset(p.Offset()).
		ScanAndCount(ctx)
	if err != nil {
		return nil, 0, wrap("list profiles", err)
	}
	out := make([]Profile, len(rows))
	for i, r := range rows {
		out[i] = s.profile(r)
	}
	return out, int64(total), nil
}

// loadProfile reads profile id.
func (s *Service) loadProfile(ctx context.Context, db bun.IDB, id string) (Profile, error) {
	var row profileRow
	err := selectProfiles(db, &row).Where("bp.id = ?", id).Scan(ctx)
	if noRows(err) {
		return Profile{}, fault.NotFound("billing profile", id)
	}
	if err != nil {
		return Profile{}, fmt.Errorf("billing: load profile %s: %w", id, err)
	}
	return s.profile(row), nil
}

// lockOwnProfile locks userID's billing profile id in lock mode (see
// lockRow) and returns it; NotFound when it does not exist or belongs to
// someone else, so ids cannot be probed.
func lockOwnProfile(ctx context.Context, tx bun.Tx, userID, id, mode string) (profileRow, error) {
	var row profileRow
	err := lockRow(tx.NewSelect().Model(&row).Where("id = ?", id), mode).Scan(ctx)
	if noRows(err) || (err == nil && row.UserID != userID) {
		return profileRow{}, fault.NotFound("billing profile", id)
	}
	if err != nil {
		return profileRow{}, fmt.Errorf("lock profile %s: %w", id, err)
	}
	return row, nil
}

// projectsUsing counts the projects billed to profile id.
func projectsUsing(ctx context.Context, db bun.IDB, id string) (int64, error) {
	n, err := db.NewSelect().TableExpr("projects").Where("billing_profile_id = ?", id).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count projects of profile %s: %w", id, err)
	}
	return n, nil
}

// hasTag reports whether userID has tag.
func hasTag(ctx context.Context, db bun.IDB, userID string, tag identity.Tag) (bool, error) {
	ok, err := db.NewSelect().TableExpr("user_tags").
		Where("user_id = ?", userID).Where("tag = ?", string(tag)).
		Exists(ctx)
	if err != nil {
		return false, fmt.Errorf("read tag %s of user %s: %w", tag, userID, err)
	}
	return ok, nil
}

// checkInput checks in for a profile of userID and returns the row fields it
// sets, normalised.
func (s *Service) checkInput(ctx context.Context, db bun.IDB, userID string, in ProfileInput) (profileRow, error) {
	var row profileRow
	var err error
	if row.Name, err = checkText("name", in.Name, MaxNameLength, true); err != nil {
		return row, err
	}
	row.CountryCode = strings.ToUpper(strings.TrimSpace(in.CountryCode))
	if row.CountryCode == "" {
		return row, fault.Invalid("country_code", "is required")
	}
	known, err := db.NewSelect().TableExpr("countries").Where("code = ?", row.CountryCode).Exists(ctx)
	if err != nil {
		return row, fmt.Errorf("look up country: %w", err)
	}
	if !known {
		return row, fault.Invalid("country_code", "%q is not one of the countries customers may do business from (see ListCountries)", in.CountryCode)
	}
	if row.CompanyName, err = checkText("company", in.Company, MaxNameLength, false); err != nil {
		return row, err
	}
	var checked bool
	if row.VATID, checked, err = NormalizeVATID(row.CountryCode, in.VATID); err != nil {
		return row, err
	}
	if row.VATID != "" && row.CompanyName == "" {
		return row, fault.Invalid("company", "is required with a VAT id")
	}
	noCompany, err := hasTag(ctx, db, userID, identity.TagNoCompany)
	if err != nil {
		return row, err
	}
	if !noCompany {
		if row.CompanyName == "" {
			return row, fault.Invalid("company", "is required: billing profiles are for companies (an operator can exempt an account with the tag NO_COMPANY)")
		}
		if !checked && hasVATIDSyntax(row.CountryCode) {
			return row, fault.Invalid("vat_id", "is required for a company in %s (want the form %s)", row.CountryCode, vatExamples[row.CountryCode])
		}
	}
	if row.State, err = checkText("state", in.State, MaxStateLength, false); err != nil {
		return row, err
	}
	if row.Street, err = checkText("street", in.Street, MaxStreetLength, true); err != nil {
		return row, err
	}
	if row.City, err = checkText("city", in.City, MaxCityLength, true); err != nil {
		return row, err
	}
	if row.Postcode, err = checkText("postcode", in.Postcode, MaxPostcodeLength, true); err != nil {
		return row, err
	}
	if row.BillingEmail, err = checkEmail(in.BillingEmail); err != nil {
		return row, err
	}
	return row, nil
}

// checkText trims s and refuses, as InvalidArgument naming field, an empty
// value when required, invalid UTF-8, more than maxLen characters and control
// characters.
func checkText(field, s string, maxLen int, required bool) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "" && required:
		return "", fault.Invalid(field, "is required")
	case !utf8.ValidString(s):
		return "", fault.Invalid(field, "is not valid UTF-8")
	case utf8.RuneCountInString(s) > maxLen:
		return "", fault.Invalid(field, "must be at most %d characters long, got %d", maxLen, utf8.RuneCountInString(s))
	case strings.ContainsFunc(s, unicode.IsControl):
		return "", fault.Invalid(field, "must not contain control characters")
	}
	return s, nil
}

// checkEmail returns the trimmed, lower-cased billing e-mail address, or
// InvalidArgument naming "billing_email".
func checkEmail(raw string) (string, error) {
	s := strings.ToLower(strings.TrimSpace(raw))
	if s == "" {
		return "", fault.Invalid("billing_email", "is required")
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" || len(s) > MaxEmailLength {
		return "", fault.Invalid("billing_email", "%q is not an e-mail address like name@example.com", raw)
	}
	if !identity.HasInternetDomain(s) {
		return "", fault.Invalid("billing_email", "%q has no internet domain after the @, as in name@example.com", raw)
	}
	return s, nil
}
