package project

import (
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/identity"
)

// Role is a member's role in a project.
type Role string

// The roles, as stored.
const (
	RoleOwner  Role = "OWNER"
	RoleMember Role = "MEMBER"
)

// Environment is the deprecated project environment, still stored and
// returned. The zero value is "unspecified".
type Environment string

// The environments, as stored.
const (
	EnvironmentUnspecified Environment = ""
	EnvironmentDevelopment Environment = "DEVELOPMENT"
	EnvironmentStaging     Environment = "STAGING"
	EnvironmentProduction  Environment = "PRODUCTION"
)

// Currency is the ISO 4217 code of the currency a project is billed in.
type Currency string

// The currencies the API knows.
const (
	CurrencyEUR Currency = "EUR"
	CurrencyUSD Currency = "USD"
)

// LockReason is why a project may not order new resources.
type LockReason string

// The lock reasons: the reference's ProjectLockReason without its prefix.
const (
	LockMissingBillingProfile LockReason = "MISSING_BILLING_PROFILE"
	LockMissingPaymentProfile LockReason = "MISSING_PAYMENT_PROFILE"
	LockMissingSubscription   LockReason = "MISSING_SUBSCRIPTION"
	LockSubscriptionNotActive LockReason = "SUBSCRIPTION_NOT_ACTIVE"
)

// Limits on project fields, in characters.
const (
	MinNameLength        = 3
	MaxNameLength        = 64
	MaxDescriptionLength = 1000
	MaxAvatarURLLength   = 2048
)

// Default (and largest) page sizes of the list calls, for the API layer.
const (
	// ProjectsPageLimit is the default page of List, in projects.
	ProjectsPageLimit = 100
	// LogsPageLimit is the default page of ListLogs, in entries.
	LogsPageLimit = 100
)

// User is the reference's BasicUser: who a member or a log entry's author is.
type User struct {
	ID string
	// Username is the e-mail address of a person, "service-account-<client
	// id>" for a service account.
	Username string
	FullName string
	// Email is empty for service accounts.
	Email string
	Type  identity.UserType
}

// Member is a user's membership of a project, or a pending invite when
// Confirmed is false.
type Member struct {
	User User
	Role Role
	// Confirmed is false while the invite has not been accepted.
	Confirmed bool
	// Default is true when this is the user's default project.
	Default   bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Project is a project with its members and pending invitees.
type Project struct {
	ID          string
	Name        string
	Description string
	Environment Environment
	AvatarURL   string
	Currency    Currency
	// BillingProfileID is empty when no billing profile is linked.
	BillingProfileID string
	// PlanCode is the plan the project subscribed to when it was first
	// linked to a billing profile: that profile's default plan code then
	// (BillingState.PlanCode). It stays, whatever becomes of the profile's
	// default or of the link; empty while the project never had a billing
	// profile.
	PlanCode string
	// Members are the confirmed members and the pending invitees, oldest
	// first.
	Members   []Member
	CreatedAt time.Time
	UpdatedAt time.Time
}

// checkCurrency refuses a currency the API cannot express.
func checkCurrency(c Currency) error {
	switch c {
	case CurrencyEUR, CurrencyUSD:
		return nil
	}
	return fmt.Errorf("unsupported currency %q: want EUR or USD", c)
}

// checkName returns the trimmed name or a fault naming the field "name".
func checkName(name string) (string, error) {
	name, err := checkText("name", name, MaxNameLength, false)
	if err != nil {
		return "", err
	}
	if n := utf8.RuneCountInString(name); n < MinNameLength {
		return "", fault.Invalid("name", "must be %d to %d characters long, got %d", MinNameLength, MaxNameLength, n)
	}
	return name, nil
}

// checkText trims s and refuses, as a fault naming field, invalid UTF-8, more
// than maxLen characters and control characters (but for line breaks and
// tabs in multiline text, whose CRLF line breaks, as browsers send a
// textarea's, become LF).
func checkText(field, s string, maxLen int, multiline bool) (string, error) {
	if multiline {
		s = strings.ReplaceAll(s, "\r\n", "\n")
	}
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) {
		return "", fault.Invalid(field, "is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(s); n > maxLen {
		return "", fault.Invalid(field, "must be at most %d characters long, got %d", maxLen, n)
	}
	if strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\t'))
	}) {
		return "", fault.Invalid(field, "must not contain control characters")
	}
	return s, nil
}

// checkEnvironment refuses an unknown environment.
func checkEnvironment(e Environment) error {
	switch e {
	case EnvironmentUnspecified, EnvironmentDevelopment, EnvironmentStaging, EnvironmentProduction:
		return nil
	}
	return fault.Invalid("environment", "unknown environment %q", e)
}

// checkAvatarURL returns the trimmed URL, which must be empty or an absolute
// http or https URL.
func checkAvatarURL(raw string) (string, error) {
	raw, err := checkText("avatar_url", raw, MaxAvatarURLLength, false)
	if err != nil || raw == "" {
		return raw, err
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fault.Invalid("avatar_url", "must be an absolute http or https URL")
	}
	return raw, nil
}

// projectRow is a projects row.
type projectRow struct {
	bun.BaseModel `bun:"table:projects,alias:p"`

	ID               string    `bun:"id,pk"`
	Name             string    `bun:"name"`
	NameLower        string    `bun:"name_lower"`
	Description      string    `bun:"description"`
	Environment      string    `bun:"environment"`
	AvatarURL        string    `bun:"avatar_url"`
	Currency         string    `bun:"currency"`
	BillingProfileID string    `bun:"billing_profile_id,nullzero"`
	PlanCode         string    `bun:"plan_code,nullzero"`
	CreatedAt        time.Time `bun:"created_at"`
	UpdatedAt        time.Time `bun:"updated_at"`
}

func (r projectRow) project(members []Member) Project {
	return Project{
		ID:               r.ID,
		Name:             r.Name,
		Description:      r.Description,
		Environment:      Environment(r.Environment),
		AvatarURL:        r.AvatarURL,
		Currency:         Currency(r.Currency),
		BillingProfileID: r.BillingProfileID,
		PlanCode:         r.PlanCode,
		Members:          members,
		CreatedAt:        r.CreatedAt.UTC(),
		UpdatedAt:        r.UpdatedAt.UTC(),
	}
}

// memberRow is a project_members row.
type memberRow struct {
	bun.BaseModel `bun:"table:project_members,alias:pm"`

	ProjectID string    `bun:"project_id,pk"`
	UserID    string    `bun:"user_id,pk"`
	Role      string    `bun:"role"`
	Confirmed bool      `bun:"confirmed"`
	IsDefault bool      `bun:"is_default"`
	CreatedAt time.Time `bun:"created_at"`
	UpdatedAt time.Time `bun:"updated_at"`
}

// userColumns selects a User from the users table aliased "u".
const userColumns = "u.id AS user_id, u.username AS user_username, u.full_name AS user_full_name, " +
	"u.email AS user_email, u.type AS user_type"

// userCols receives userColumns.
type userCols struct {
	UserID       string `bun:"user_id"`
	UserUsername string `bun:"user_username"`
	UserFullName string `bun:"user_full_name"`
	UserEmail    string `bun:"user_email,nullzero"`
	UserType     string `bun:"user_type"`
}

func (c userCols) user() User {
	return User{
		ID:       c.UserID,
		Username: c.UserUsername,
		FullName: c.UserFullName,
		Email:    c.UserEmail,
		Type:     identity.UserType(c.UserType),
	}
}

// label names a user in log messages: people by e-mail address, service
// accounts by username.
func (u User) label() string {
	if u.Email != "" {
		return u.Email
	}
	return u.Username
}
