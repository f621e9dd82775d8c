package identity

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/store"
)

// UserType tells people from the service accounts behind OAuth clients.
type UserType string

// The user types, as stored.
const (
	UserTypeUser           UserType = "USER"
	UserTypeServiceAccount UserType = "SERVICE_ACCOUNT"
)

// Tag is a flag an operator sets on an account: the reference's UserTag
// without its USER_TAG_ prefix.
type Tag string

// The tags.
const (
	TagNoCompany              Tag = "NO_COMPANY"
	TagNoCreditCard           Tag = "NO_CREDIT_CARD"
	TagAccessToCloudProviders Tag = "ACCESS_TO_CLOUD_PROVIDERS"
)

// User is an account: a person or a service account.
type User struct {
	ID string
	// Email is lower-cased; empty for service accounts.
	Email string
	// Username is not unique: the e-mail address for people who registered,
	// "service-account-<client id>" for service accounts.
	Username  string
	FirstName string
	LastName  string
	FullName  string
	Type      UserType
	// Confirmed is true once the e-mail address is confirmed.
	Confirmed bool
	// Locked accounts cannot sign in.
	Locked bool
	// Timezone is an IANA time zone name; it sets the billing periods.
	Timezone  string
	NodeLimit int
	// Roles are realm roles (sorted), e.g. OperatorRoles.
	Roles []string
	// Number is the unique customer number, e.g. "C100001".
	Number          string
	DefaultPlanCode string
	// Tags are sorted.
	Tags []Tag
	// LastLoginAt is zero until the first password sign-in.
	LastLoginAt time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// userRow is a users row.
type userRow struct {
	bun.BaseModel `bun:"table:users"`

	ID              string    `bun:"id,pk"`
	Email           string    `bun:"email,nullzero"`
	Username        string    `bun:"username"`
	FirstName       string    `bun:"first_name"`
	LastName        string    `bun:"last_name"`
	FullName        string    `bun:"full_name"`
	PasswordHash    string    `bun:"password_hash,nullzero"`
	Type            string    `bun:"type"`
	Confirmed       bool      `bun:"confirmed"`
	Locked          bool      `bun:"locked"`
	Timezone        string    `bun:"timezone"`
	NodeLimit       int       `bun:"node_limit"`
	Number          string    `bun:"number"`
	DefaultPlanCode string    `bun:"default_plan_code"`
	LastLoginAt     time.Time `bun:"last_login_at,nullzero"`
	CreatedAt       time.Time `bun:"created_at"`
	UpdatedAt       time.Time `bun:"updated_at"`
}

// userRoleRow is a user_roles row.
type userRoleRow struct {
	bun.BaseModel `bun:"table:user_roles"`

	UserID string `bun:"user_id,pk"`
	Role   string `bun:"role,pk"`
}

// userTagRow is a user_tags row.
type userTagRow struct {
	bun.BaseModel `bun:"table:user_tags"`

	UserID string `bun:"user_id,pk"`
	Tag    Tag    `bun:"tag,pk"`
}

// RegisterInput is what a person gives to sign up.
type RegisterInput struct {
	Email     string
	Password  string
	FirstName string
	LastName  string
}

// maxNameLength bounds first and last names, in characters.
const maxNameLength = 100

// Register creates a person's account (type USER, unconfirmed, no roles),
// queues the mail with its e-mail confirmation link and returns it. Refusals are fault errors naming the field: InvalidArgument for
// "email", "password" (see PasswordRule), "first_name" and "last_name";
// AlreadyExists for an "email" that has an account, whatever its case.
func (s *Service) Register(ctx context.Context, in RegisterInput) (User, error) {
	email, err := normalizeEmail(in.Email)
	if err != nil {
		return User{}, err
	}
	if err := checkPassword(in.Password, email); err != nil {
		return User{}, err
	}
	first, err := checkText("first_name", in.FirstName, maxNameLength, false)
	if err != nil {
		return User{}, err
	}
	last, err := checkText("last_name", in.LastName, maxNameLength, false)
	if err != nil {
		return User{}, err
	}
	row := s.newUserRow(UserTypeUser)
	row.Email = email
	row.Username = email
	row.FirstName, row.LastName = first, last
	row.FullName = strings.TrimSpace(first + " " + last)
	row.PasswordHash = hashSecret(in.Password)

	err = s.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := insertUser(ctx, tx, &row, nil); err != nil {
			return err
		}
		return s.queueConfirmation(ctx, tx, row, row.CreatedAt)
	})
	if store.IsUniqueViolation(err) {
		return User{}, &fault.Error{Kind: fault.KindAlreadyExists, Field: "email",
			Message: fmt.Sprintf("an account with e-mail address %q exists already", email)}
	}
	if err != nil {
		return User{}, fmt.Errorf("identity: register: %w", err)
	}
	s.mailQueued()
	return row.user(nil, nil), nil
}

// errBadCredentials is the one answer to a wrong e-mail address or password,
// so the two cannot be told apart.
var errBadCredentials = fault.Unauthenticated("invalid e-mail address or password")

// Authenticate checks a person's e-mail address and password (the OAuth
// password grant) and records the sign-in in LastLoginAt. A wrong address or
// password, or a service account, is fault.Unauthenticated with one message;
// a locked account is fault.Unauthenticated saying so, told only to someone
// who knows the password. An unknown address costs as much time as a wrong
// password.
func (s *Service) Authenticate(ctx context.Context, email, password string) (User, error) {
	var row userRow
	err := s.db.NewSelect().Model(&row).
		Where("email = ?", strings.ToLower(strings.TrimSpace(email))).
		Where("type = ?", string(UserTypeUser)).
		Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		_, _ = verifySecret(s.dummyHash(), password)
		return User{}, errBadCredentials
	}
	if err != nil {
		return User{}, fmt.Errorf("identity: authenticate: %w", err)
	}
	ok, err := verifySecret(row.PasswordHash, password)
	if err != nil {
		return User{}, fmt.Errorf("identity: authenticate user %s: %w", row.ID, err)
	}
	if !ok {
		return User{}, errBadCredentials
	}
	if row.Locked {
		return User{}, fault.Unauthenticated("the account is locked")
	}
	now := s.now()
	if err := s.change(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewUpdate().Model((*userRow)(nil)).
			Set("last_login_at = ?", now).
			Where("id = ?", row.ID).
			Exec(ctx); err != nil {
			return err
		}
		return s.publishUser(ctx, tx, row.ID, false)
	}); err != nil {
		return User{}, fmt.Errorf("identity: record sign-in of user %s: %w", row.ID, err)
	}
	row.LastLoginAt = now
	return loadDetails(ctx, s.db.DB, row)
}

// GetUser returns the account with the given id, fault.NotFound if there is
// none.
func (s *Service) GetUser(ctx context.Context, id string) (User, error) {
	var row userRow
	err := s.db.NewSelect().Model(&row).Where("id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fault.NotFound("user", id)
	}
	if err != nil {
		return User{}, fmt.Errorf("identity: get user %s: %w", id, err)
	}
	return loadDetails(ctx, s.db.DB, row)
}

// errNotEmpty ends EnsureOperator's transaction when accounts exist already.
var errNotEmpty = errors.New("users exist")

// EnsureOperator creates the first operator account when there is no account
// at all: a confirmed person with Config.OperatorEmail, username "admin",
// OperatorRoles and a random password. It returns created true with the
// e-mail address and password, for the caller to show once; otherwise created
// is false and nothing changes.
//
// It is safe for replicas that start together on one database: the check and
// the insert run in one transaction that first takes the customer-number
// counter row, so the second replica waits for the first and then sees its
// account.
func (s *Service) EnsureOperator(ctx context.Context) (created bool, email, password string, err error) {
	// Every start but the first finds accounts: answer that without hashing a
	// password (argon2id costs tens of milliseconds and megabytes).
	exists, err := s.db.NewSelect().Model((*userRow)(nil)).Exists(ctx)
	if err != nil {
		return false, "", "", fmt.Errorf("identity: look for accounts: %w", err)
	}
	if exists {
		return false, "", "", nil
	}
	password = rand.Text() // 26 characters of A-Z and 2-7: 130 random bits
	row := s.newUserRow(UserTypeUser)
	row.Email = s.cfg.OperatorEmail
	row.Username = "admin"
	row.FirstName, row.LastName, row.FullName = "gpcore", "Operator", "gpcore Operator"
	row.PasswordHash = hashSecret(password)
	row.Confirmed = true

	err = s.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		number, err := nextCustomerNumber(ctx, tx)
		if err != nil {
			return err
		}
		n, err := tx.NewSelect().Model((*userRow)(nil)).Count(ctx)
		if err != nil {
			return fmt.Errorf("count users: %w", err)
		}
		if n > 0 {
			return errNotEmpty
		}
		row.Number = number
		return insertUserRow(ctx, tx, &row, OperatorRoles)
	})
	switch {
	case errors.Is(err, errNotEmpty):
		return false, "", "", nil
	case err != nil:
		return false, "", "", fmt.Errorf("identity: create operator: %w", err)
	}
	return true, row.Email, password, nil
}

// newUserRow returns a row of the given type with a new id, the configured
// defaults and the current time; the caller fills in the rest.
func (s *Service) newUserRow(typ UserType) userRow {
	now := s.now()
	return userRow{
		ID:        uuid.NewString(),
		Type:      string(typ),
		Timezone:  s.cfg.DefaultTimezone,
		NodeLimit: s.cfg.DefaultNodeLimit,
		CreatedAt: now,
		UpdatedAt: now,
	}
}

// insertUser gives row the next customer number and inserts it with roles.
func insertUser(ctx context.Context, tx bun.Tx, row *userRow, roles []string) error {
	number, err := nextCustomerNumber(ctx, tx)
	if err != nil {
		return err
	}
	row.Number = number
	return insertUserRow(ctx, tx, row, roles)
}

// insertUserRow inserts row, which has its customer number, and its roles.
func insertUserRow(ctx context.Context, tx bun.Tx, row *userRow, roles []string) error {
	if _, err := tx.NewInsert().Model(row).Exec(ctx); err != nil {
		return fmt.Errorf("insert user: %w", err)
	}
	if len(roles) == 0 {
		return nil
	}
	rows := make([]userRoleRow, len(roles))
	for i, r := range roles {
		rows[i] = userRoleRow{UserID: row.ID, Role: r}
	}
	if _, err := tx.NewInsert().Model(&rows).Exec(ctx); err != nil {
		return fmt.Errorf("insert roles: %w", err)
	}
	return nil
}

// loadDetails reads row's roles and tags and returns the User.
func loadDetails(ctx context.Context, db bun.IDB, row userRow) (User, error) {
	var roles []string
	if err := db.NewSelect().Table("user_roles").Column("role").
		Where("user_id = ?", row.ID).Order("role").
		Scan(ctx, &roles); err != nil {
		return User{}, fmt.Errorf("identity: roles of user %s: %w", row.ID, err)
	}
	var tags []Tag
	if err := db.NewSelect().Table("user_tags").Column("tag").
		Where("user_id = ?", row.ID).Order("tag").
		Scan(ctx, &tags); err != nil {
		return User{}, fmt.Errorf("identity: tags of user %s: %w", row.ID, err)
	}
	return row.user(roles, tags), nil
}

// loadUsers reads the accounts ids with their roles and tags, by id; ids
// that do not exist are missing from the map.
func loadUsers(ctx context.Context, db bun.IDB, ids []string) (map[string]User, error) {
	users := make(map[string]User, len(ids))
	if len(ids) == 0 {
		return users, nil
	}
	var rows []userRow
	if err := db.NewSelect().Model(&rows).Where("id IN (?)", bun.In(ids)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("read users: %w", err)
	}
	var roles []userRoleRow
	if err := db.NewSelect().Model(&roles).Where("user_id IN (?)", bun.In(ids)).Order("user_id", "role").Scan(ctx); err != nil {
		return nil, fmt.Errorf("read roles: %w", err)
	}
	var tags []userTagRow
	if err := db.NewSelect().Model(&tags).Where("user_id IN (?)", bun.In(ids)).Order("user_id", "tag").Scan(ctx); err != nil {
		return nil, fmt.Errorf("read tags: %w", err)
	}
	rolesOf := map[string][]string{}
	for _, r := range roles {
		rolesOf[r.UserID] = append(rolesOf[r.UserID], r.Role)
	}
	tagsOf := map[string][]Tag{}
	for _, t := range tags {
		tagsOf[t.UserID] = append(tagsOf[t.UserID], t.Tag)
	}
	for _, r := range rows {
		users[r.ID] = r.user(rolesOf[r.ID], tagsOf[r.ID])
	}
	return users, nil
}

// user maps the row and its roles and tags to a User.
func (r userRow) user(roles []string, tags []Tag) User {
	u := User{
		ID:              r.ID,
		Email:           r.Email,
		Username:        r.Username,
		FirstName:       r.FirstName,
		LastName:        r.LastName,
		FullName:        r.FullName,
		Type:            UserType(r.Type),
		Confirmed:       r.Confirmed,
		Locked:          r.Locked,
		Timezone:        r.Timezone,
		NodeLimit:       r.NodeLimit,
		Roles:           roles,
		Number:          r.Number,
		DefaultPlanCode: r.DefaultPlanCode,
		Tags:            tags,
		CreatedAt:       r.CreatedAt.UTC(),
		UpdatedAt:       r.UpdatedAt.UTC(),
	}
	if !r.LastLoginAt.IsZero() {
		u.LastLoginAt = r.LastLoginAt.UTC()
	}
	return u
}

// maxEmailLength is the longest address SMTP can carry (RFC 5321 path limit
// less the angle brackets).
const maxEmailLength = 254

// normalizeEmail checks that s, less surrounding spaces, is one bare e-mail
// address ("a@example.com": no display name, no list) and returns it
// lower-cased; the error names the field "email".
func normalizeEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", fault.Invalid("email", "an e-mail address is required")
	}
	if len(s) > maxEmailLength {
		return "", fault.Invalid("email", "longer than %d bytes", maxEmailLength)
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Name != "" || addr.Address != s {
		return "", fault.Invalid("email", "%q is not an e-mail address like name@example.com", s)
	}
	if !HasInternetDomain(s) {
		return "", fault.Invalid("email", "%q has no internet domain after the @, as in name@example.com", s)
	}
	return strings.ToLower(s), nil
}

// HasInternetDomain tells whether a syntactically valid e-mail address
// names a domain that mail can reach it at from the internet: not one of a
// single label (name@localhost) nor an address literal (name@[192.0.2.1]).
func HasInternetDomain(address string) bool {
	domain := address[strings.LastIndexByte(address, '@')+1:]
	return !strings.HasPrefix(domain, "[") && strings.Contains(strings.TrimSuffix(domain, "."), ".")
}

// checkText trims a name or description and checks its length and its
// characters: no control characters, except line breaks and tabs when
// multiline. The error names field.
func checkText(field, s string, maxLen int, multiline bool) (string, error) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) {
		return "", fault.Invalid(field, "not valid UTF-8")
	}
	if utf8.RuneCountInString(s) > maxLen {
		return "", fault.Invalid(field, "longer than %d characters", maxLen)
	}
	if strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\t'))
	}) {
		return "", fault.Invalid(field, "contains control characters")
	}
	return s, nil
}

// lockUser reads the account id and locks its row until tx ends; a missing
// account is NotFound.
func lockUser(ctx context.Context, tx bun.Tx, id string) (userRow, error) {
	var row userRow
	err := store.ForUpdate(tx.NewSelect().Model(&row).Where("id = ?", id)).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return userRow{}, fault.NotFound("user", id)
	}
	if err != nil {
		return userRow{}, fmt.Errorf("lock user %s: %w", id, err)
	}
	return row, nil
}
