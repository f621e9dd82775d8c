package project

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/notify"
	"github.com/gpcore/gpcore/internal/pagination"
	"github.com/gpcore/gpcore/internal/store"
)

// Config tunes the service; the zero value is usable.
type Config struct {
	// Currency is the currency of new projects (CurrencyEUR if empty).
	Currency Currency
	// DeletionGuards are asked before a project is deleted. The node and
	// billing domains add theirs when their tables exist; until then nothing
	// can stand in the way, so none is the right default.
	DeletionGuards []DeletionGuard
	// Billing answers for billing profiles, payment methods and
	// subscriptions (NoBilling if nil).
	Billing BillingState
	// Hub carries the change notifications: every transaction that changes
	// a project publishes to it (notify.KindProject). Nil publishes
	// nothing, for tools and tests without subscribers.
	Hub *notify.Hub
	// Now is the clock (time.Now if nil).
	Now func() time.Time
}

// Service manages projects, members, invites and project logs.
type Service struct {
	db  *store.DB
	cfg Config
}

// New returns a Service on db, which must be migrated. It checks cfg and
// fills in the defaults.
func New(db *store.DB, cfg Config) (*Service, error) {
	if cfg.Currency == "" {
		cfg.Currency = CurrencyEUR
	}
	if err := checkCurrency(cfg.Currency); err != nil {
		return nil, fmt.Errorf("project: %w", err)
	}
	for i, g := range cfg.DeletionGuards {
		if g == nil {
			return nil, fmt.Errorf("project: deletion guard %d is nil", i)
		}
	}
	if cfg.Billing == nil {
		cfg.Billing = NoBilling{}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{db: db, cfg: cfg}, nil
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC() }

// CreateInput is what a new project is made of.
type CreateInput struct {
	// Name is required; see MinNameLength and MaxNameLength.
	Name string
	// Description is deprecated but still stored.
	Description string
	// Environment is deprecated but still stored.
	Environment Environment
	// BillingProfileID optionally links a billing profile the caller may use.
	BillingProfileID string
}

// Create creates a project with userID as its OWNER and returns it. It
// becomes the user's default project when they have none, that is when it is
// their first. Linked to a billing profile, it subscribes to that profile's
// plan (Project.PlanCode). Refusals are fault errors naming the field: InvalidArgument
// for "name", "description" and "environment"; whatever BillingState says of
// "billing_address_id".
func (s *Service) Create(ctx context.Context, userID string, in CreateInput) (Project, error) {
	name, err := checkName(in.Name)
	if err != nil {
		return Project{}, err
	}
	description, err := checkText("description", in.Description, MaxDescriptionLength, true)
	if err != nil {
		return Project{}, err
	}
	if err := checkEnvironment(in.Environment); err != nil {
		return Project{}, err
	}
	profileID := strings.TrimSpace(in.BillingProfileID)
	now := s.now()
	row := projectRow{
		ID:               uuid.NewString(),
		Name:             name,
		NameLower:        strings.ToLower(name),
		Description:      description,
		Environment:      string(in.Environment),
		Currency:         string(s.cfg.Currency),
		BillingProfileID: profileID,
		CreatedAt:        now,
		UpdatedAt:        now,
	}
	err = s.change(ctx, func(ctx context.Context, tx bun.Tx, ch *changes) error {
		if err := lockUsers(ctx, tx, userID); err != nil {
			return err
		}
		if profileID != "" {
			if err := s.cfg.Billing.CheckProfile(ctx, tx, userID, profileID); err != nil {
				return err
			}
			plan, err := s.cfg.Billing.PlanCode(ctx, tx, profileID)
			if err != nil {
				return err
			}
			row.PlanCode = plan
		}
		if _, err := tx.NewInsert().Model(&row).Exec(ctx); err != nil {
			return fmt.Errorf("insert project: %w", err)
		}
		owner := memberRow{ProjectID: row.ID, UserID: userID, Role: string(RoleOwner), Confirmed: true,
			CreatedAt: now, UpdatedAt: now}
		if _, err := tx.NewInsert().Model(&owner).Exec(ctx); err != nil {
			return fmt.Errorf("insert owner: %w", err)
		}
		ch.project(row.ID)
		if err := ensureDefault(ctx, tx, ch, userID, now); err != nil {
			return err
		}
		return s.log(ctx, tx, row.ID, userID, fmt.Sprintf("created the project %q", name))
	})
	if err != nil {
		return Project{}, wrap("create", err)
	}
	return s.load(ctx, s.db.DB, row.ID)
}

// Listing is one page of a user's projects, with all their pending invites.
type Listing struct {
	// Projects are the page's projects, the default project first, then the
	// oldest first.
	Projects []Project
	// Invites are every pending invite of the user, oldest first; they are
	// not paged.
	Invites []Invite
	// Total is the number of projects over all pages.
	Total int64
}

// Invite is a pending invite to a project. The project id identifies it: a
// user has at most one invite per project.
type Invite struct {
	ProjectID        string
	ProjectName      string
	ProjectAvatarURL string
	// CreatedAt is when the user was invited.
	CreatedAt time.Time
}

// List returns page of the projects userID is a confirmed member of and all
// their pending invites. A non-empty search keeps the projects whose name
// contains every space-separated term, ignoring case.
func (s *Service) List(ctx context.Context, userID, search string, page pagination.Page) (Listing, error) {
	var rows []projectRow
	q := s.db.NewSelect().Model(&rows).
		Join("JOIN project_members AS pm ON pm.project_id = p.id").
		Where("pm.user_id = ?", userID).
		Where("pm.confirmed")
	for _, pattern := range likePatterns(search) {
		q = q.Where("p.name_lower LIKE ? ESCAPE '"+likeEscape+"'", pattern)
	}
	total, err := q.OrderExpr("pm.is_default DESC, p.created_at, p.id").
		Limit(int64(page.Limit)).Offset(int64(page.Offset())).
		ScanAndCount(ctx)
	if err != nil {
		return Listing{}, fmt.Errorf("project: list projects of user %s: %w", userID, err)
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	members, err := loadMembers(ctx, s.db.DB, ids...)
	if err != nil {
		return Listing{}, fmt.Errorf("project: list projects of user %s: %w", userID, err)
	}
	out := Listing{Projects: make([]Project, len(rows)), Total: total}
	for i, r := range rows {
		out.Projects[i] = r.project(members[r.ID])
	}

	var invites []struct {
		ProjectID        string    `bun:"project_id"`
		ProjectName      string    `bun:"project_name"`
		ProjectAvatarURL string    `bun:"project_avatar_url"`
		CreatedAt        time.Time `bun:"created_at"`
	}
	err = s.db.NewSelect().
		TableExpr("project_members AS pm").
		Join("JOIN projects AS p ON p.id = pm.project_id").
		ColumnExpr("p.id AS project_id, p.name AS project_name, p.avatar_url AS project_avatar_url, pm.created_at").
		Where("pm.user_id = ?", userID).
		Where("NOT pm.confirmed").
		OrderExpr("pm.created_at, p.id").
		Scan(ctx, &invites)
	if err != nil {
		return Listing{}, fmt.Errorf("project: list invites of user %s: %w", userID, err)
	}
	for _, inv := range invites {
		out.Invites = append(out.Invites, Invite{
			ProjectID:        inv.ProjectID,
			ProjectName:      inv.ProjectName,
			ProjectAvatarURL: inv.ProjectAvatarURL,
			CreatedAt:        inv.CreatedAt.UTC(),
		})
	}
	return out, nil
}

// Get returns the project if userID is a confirmed member of it, and
// fault.NotFound otherwise.
func (s *Service) Get(ctx context.Context, userID, projectID string) (Project, error) {
	if _, err := requireMember(ctx, s.db.DB, projectID, userID); err != nil {
		return Project{}, err
	}
	return s.load(ctx, s.db.DB, projectID)
}

// Changed returns a project for a change notification: as its members see
// it, to be shown to whoever may see it now (Project.Member says who that
// is: its confirmed members, and its invitees what an invite shows), so that
// one read serves every subscriber. It checks no caller; a project that is
// gone is fault.NotFound.
func (s *Service) Changed(ctx context.Context, projectID string) (Project, error) {
	return s.load(ctx, s.db.DB, projectID)
}

// Currency returns the currency of the project projectID, fault.NotFound
// if there is none. It checks no caller: it is for reads made once for all
// who may see them, such as the node domain's change notifications.
func (s *Service) Currency(ctx context.Context, projectID string) (Currency, error) {
	var cur string
	err := s.db.NewSelect().Model((*projectRow)(nil)).Column("currency").Where("id = ?", projectID).Scan(ctx, &cur)
	if errors.Is(err, sql.ErrNoRows) {
		return "", errProjectNotFound(projectID)
	}
	if err != nil {
		return "", fmt.Errorf("project: currency of %s: %w", projectID, err)
	}
	return Currency(cur), nil
}

// Member returns userID's membership of p, confirmed or a pending invite;
// ok is false when userID is neither.
func (p Project) Member(userID string) (Member, bool) {
	for _, m := range p.Members {
		if m.User.ID == userID {
			return m, true
		}
	}
	return Member{}, false
}

// IsMember reports whether userID is a confirmed member of projectID; a
// pending invite does not count. Other domains ask it before they show or
// change anything that belongs to a project.
func (s *Service) IsMember(ctx context.Context, projectID, userID string) (bool, error) {
	m, ok, err := membership(ctx, s.db.DB, projectID, userID)
	if err != nil {
		return false, fmt.Errorf("project: membership of user %s in %s: %w", userID, projectID, err)
	}
	return ok && m.Confirmed, nil
}

// UpdateInput says which fields of a project to change; nil fields stay.
type UpdateInput struct {
	Name        *string
	Description *string
	Environment *Environment
	// AvatarURL is an absolute http or https URL, or empty for none.
	AvatarURL *string
	// BillingProfileID links another billing profile the caller may use; a
	// linked profile can be replaced but not removed.
	BillingProfileID *string
	// CreditCardID names a card of the project's billing profile (the one
	// BillingProfileID links, when both are set) to charge the project's
	// bills to; see BillingState.UseCard.
	CreditCardID *string
}

// Update sets the non-nil fields of in on a project userID is a confirmed
// member of (any member, not only the OWNER), and returns the project. An
// update that changes nothing writes nothing. A project linked to its first
// billing profile subscribes to that profile's plan; one that had a profile
// keeps its plan.
// Refusals are fault errors: NotFound for a non-member; InvalidArgument naming
// "name", "description", "environment", "avatar_url", "billing_address_id" or
// "credit_card_id"; whatever BillingState says of "billing_address_id";
// NotFound naming "credit_card_id" when the project has no billing profile,
// or its profile no such card that the caller may use.
func (s *Service) Update(ctx context.Context, userID, projectID string, in UpdateInput) (Project, error) {
	var edits []string
	err := s.change(ctx, func(ctx context.Context, tx bun.Tx, ch *changes) error {
		row, err := lockProject(ctx, tx, projectID)
		if err != nil {
			return err
		}
		if _, err := requireMember(ctx, tx, projectID, userID); err != nil {
			return err
		}
		if in.Name != nil {
			name, err := checkName(*in.Name)
			if err != nil {
				return err
			}
			if name != row.Name {
				edits = append(edits, fmt.Sprintf("name from %q to %q", row.Name, name))
				row.Name, row.NameLower = name, strings.ToLower(name)
			}
		}
		if in.Description != nil {
			description, err := checkText("description", *in.Description, MaxDescriptionLength, true)
			if err != nil {
				return err
			}
			if description != row.Description {
				edits = append(edits, "description")
				row.Description = description
			}
		}
		if in.Environment != nil {
			if err := checkEnvironment(*in.Environment); err != nil {
				return err
			}
			if env := string(*in.Environment); env != row.Environment {
				edits = append(edits, "environment to "+cmp.Or(env, "unspecified"))
				row.Environment = env
			}
		}
		if in.AvatarURL != nil {
			avatar, err := checkAvatarURL(*in.AvatarURL)
			if err != nil {
				return err
			}
			if avatar != row.AvatarURL {
				edits = append(edits, "avatar")
				row.AvatarURL = avatar
			}
		}
		profileChanged := false
		if in.BillingProfileID != nil {
			profileID := strings.TrimSpace(*in.BillingProfileID)
			if profileID == "" {
				return fault.Invalid("billing_address_id", "a linked billing profile can be replaced but not removed")
			}
			if profileID != row.BillingProfileID {
				// UseCard checks the profile itself (one lock, taken once).
				if in.CreditCardID == nil {
					if err := s.cfg.Billing.CheckProfile(ctx, tx, userID, profileID); err != nil {
						return err
					}
				}
				edits = append(edits, "billing profile")
				row.BillingProfileID, profileChanged = profileID, true
				if row.PlanCode == "" {
					plan, err := s.cfg.Billing.PlanCode(ctx, tx, profileID)
					if err != nil {
						return err
					}
					row.PlanCode = plan
				}
			}
		}
		if in.CreditCardID != nil {
			change, err := s.useCard(ctx, tx, userID, row.BillingProfileID, *in.CreditCardID, profileChanged)
			if err != nil {
				return err
			}
			if change != "" {
				// The card is billing's to keep; the project's row gets
				// only its updated_at.
				edits = append(edits, change)
			}
		}
		if len(edits) == 0 {
			return nil
		}
		row.UpdatedAt = s.now()
		if _, err := tx.NewUpdate().Model(&row).WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("update project: %w", err)
		}
		ch.project(projectID)
		return s.log(ctx, tx, projectID, userID, "changed the "+strings.Join(edits, ", the "))
	})
	if err != nil {
		return Project{}, wrap("update", err)
	}
	return s.load(ctx, s.db.DB, projectID)
}

// useCard has the bills of a project billed to profileID charged to cardID
// (BillingState.UseCard) and returns the change for the log, "" when there
// is none. profileChanged says whether the request links profileID just now;
// when it does not, a profile the caller may not use means a card they may
// not use.
func (s *Service) useCard(ctx context.Context, tx bun.Tx, userID, profileID, cardID string, profileChanged bool) (string, error) {
	cardID = strings.TrimSpace(cardID)
	if cardID == "" {
		return "", fault.Invalid("credit_card_id", "must name a credit card of the project's billing profile")
	}
	notFound := &fault.Error{Kind: fault.KindNotFound, Field: "credit_card_id",
		Message: fmt.Sprintf("credit card %q not found", cardID)}
	if profileID == "" {
		notFound.Message += ": the project has no billing profile"
		return "", notFound
	}
	card, changed, err := s.cfg.Billing.UseCard(ctx, tx, userID, profileID, cardID)
	var fe *fault.Error
	if !profileChanged && errors.As(err, &fe) && fe.Kind == fault.KindNotFound && fe.Field == "billing_address_id" {
		return "", notFound
	}
	if err != nil || !changed {
		return "", err
	}
	return "credit card to " + card, nil
}

// Delete deletes a project with its memberships, invites and log. Refusals
// are fault errors: NotFound for a non-member, PermissionDenied for a member
// who is not the OWNER, FailedPrecondition when it is the default project of
// any of its members (the caller or another: every user with a project keeps
// exactly one default) or a DeletionGuard reports something left in it.
func (s *Service) Delete(ctx context.Context, userID, projectID string) error {
	err := s.change(ctx, func(ctx context.Context, tx bun.Tx, ch *changes) error {
		if _, err := lockProject(ctx, tx, projectID); err != nil {
			return err
		}
		if _, err := requireOwner(ctx, tx, projectID, userID, "delete the project"); err != nil {
			return err
		}
		var memberIDs, inviteeIDs []string
		if err := tx.NewSelect().Model((*memberRow)(nil)).Column("user_id").
			Where("project_id = ?", projectID).Where("confirmed").
			Scan(ctx, &memberIDs); err != nil {
			return fmt.Errorf("list members: %w", err)
		}
		if err := tx.NewSelect().Model((*memberRow)(nil)).Column("user_id").
			Where("project_id = ?", projectID).Where("NOT confirmed").
			Scan(ctx, &inviteeIDs); err != nil {
			return fmt.Errorf("list invitees: %w", err)
		}
		// Lock the members' user rows, so that no default flag moves to
		// this project (ensureDefault after a removal elsewhere) between the
		// check and the deletion.
		if err := lockUsers(ctx, tx, memberIDs...); err != nil {
			return err
		}
		if err := refuseDefaultOf(ctx, tx, projectID, userID); err != nil {
			return err
		}
		var blockers []string
		for _, g := range s.cfg.DeletionGuards {
			reason, err := g.DeletionBlocker(ctx, tx, projectID)
			if err != nil {
				return fmt.Errorf("deletion guard: %w", err)
			}
			if reason != "" {
				blockers = append(blockers, reason)
			}
		}
		if len(blockers) > 0 {
			return fault.Precondition("the project cannot be deleted: %s", strings.Join(blockers, "; "))
		}
		if _, err := tx.NewDelete().Model((*projectRow)(nil)).Where("id = ?", projectID).Exec(ctx); err != nil {
			return fmt.Errorf("delete project: %w", err)
		}
		// Its members and invitees lose it.
		ch.project(projectID, append(memberIDs, inviteeIDs...)...)
		return nil
	})
	return wrap("delete", err)
}

// maxNamedMembers bounds how many members a refusal names.
const maxNamedMembers = 5

// refuseDefaultOf returns a FailedPrecondition when projectID is the default
// project of any member, naming them (the caller as "your"), and nil
// otherwise. The caller holds the members' user locks.
func refuseDefaultOf(ctx context.Context, tx bun.Tx, projectID, userID string) error {
	var users []userCols
	if err := tx.NewSelect().TableExpr("project_members AS pm").
		Join("JOIN users AS u ON u.id = pm.user_id").
		ColumnExpr(userColumns).
		Where("pm.project_id = ?", projectID).Where("pm.is_default").
		OrderExpr("pm.created_at, pm.user_id").
		Scan(ctx, &users); err != nil {
		return fmt.Errorf("list default members: %w", err)
	}
	if len(users) == 0 {
		return nil
	}
	if slices.ContainsFunc(users, func(u userCols) bool { return u.UserID == userID }) {
		return fault.Precondition("the project is your default project and cannot be deleted: make another project your default first")
	}
	var names []string
	for _, u := range users[:min(len(users), maxNamedMembers)] {
		names = append(names, u.user().label())
	}
	if len(users) > maxNamedMembers {
		names = append(names, fmt.Sprintf("and %d more", len(users)-maxNamedMembers))
	}
	return fault.Precondition("the project is the default project of %s and cannot be deleted: "+
		"they must make another project their default first, or be removed from this one", strings.Join(names, ", "))
}

// ChangeDefault makes projectID the default project of userID, who must be a
// confirmed member (fault.NotFound otherwise); the flag leaves the previous
// default project in the same transaction.
func (s *Service) ChangeDefault(ctx context.Context, userID, projectID string) error {
	err := s.change(ctx, func(ctx context.Context, tx bun.Tx, ch *changes) error {
		if _, err := lockProject(ctx, tx, projectID); err != nil {
			return err
		}
		if err := lockUsers(ctx, tx, userID); err != nil {
			return err
		}
		m, err := requireMember(ctx, tx, projectID, userID)
		if err != nil {
			return err
		}
		if m.IsDefault {
			return nil
		}
		// Both projects change: their member lists show who has them as
		// default.
		var previous []string
		if err := tx.NewSelect().Model((*memberRow)(nil)).Column("project_id").
			Where("user_id = ?", userID).Where("is_default").
			Scan(ctx, &previous); err != nil {
			return fmt.Errorf("read default: %w", err)
		}
		for _, id := range previous {
			ch.project(id)
		}
		ch.project(projectID)
		now := s.now()
		// Clear first: the one-default index is checked row by row.
		if _, err := tx.NewUpdate().Model((*memberRow)(nil)).
			Set("is_default = ?", false).Set("updated_at = ?", now).
			Where("user_id = ?", userID).Where("is_default").
			Exec(ctx); err != nil {
			return fmt.Errorf("clear default: %w", err)
		}
		if _, err := tx.NewUpdate().Model((*memberRow)(nil)).
			Set("is_default = ?", true).Set("updated_at = ?", now).
			Where("project_id = ?", projectID).Where("user_id = ?", userID).
			Exec(ctx); err != nil {
			return fmt.Errorf("set default: %w", err)
		}
		return s.log(ctx, tx, projectID, userID, "made the project their default project")
	})
	return wrap("change default", err)
}

// Locks returns the reasons the project may not order new resources right
// now, none when it may: LockMissingBillingProfile when no billing profile is
// linked, then what BillingState reports. userID must be a confirmed member
// (fault.NotFound otherwise).
func (s *Service) Locks(ctx context.Context, userID, projectID string) ([]LockReason, error) {
	if _, err := requireMember(ctx, s.db.DB, projectID, userID); err != nil {
		return nil, err
	}
	var row projectRow
	if err := s.db.NewSelect().Model(&row).Where("id = ?", projectID).Scan(ctx); err != nil {
		return nil, fmt.Errorf("project: load %s: %w", projectID, err)
	}
	var reasons []LockReason
	if row.BillingProfileID == "" {
		reasons = append(reasons, LockMissingBillingProfile)
	}
	billing, err := s.cfg.Billing.Locks(ctx, s.db.DB, projectID, row.BillingProfileID)
	if err != nil {
		return nil, fmt.Errorf("project: billing locks of %s: %w", projectID, err)
	}
	return append(reasons, billing...), nil
}

// load reads a project with its members.
func (s *Service) load(ctx context.Context, db bun.IDB, projectID string) (Project, error) {
	var row projectRow
	err := db.NewSelect().Model(&row).Where("id = ?", projectID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return Project{}, errProjectNotFound(projectID)
	}
	if err != nil {
		return Project{}, fmt.Errorf("project: load %s: %w", projectID, err)
	}
	members, err := loadMembers(ctx, db, projectID)
	if err != nil {
		return Project{}, fmt.Errorf("project: load %s: %w", projectID, err)
	}
	return row.project(members[projectID]), nil
}

// wrap returns fault errors as they are and gives other errors context.
func wrap(op string, err error) error {
	if err == nil || fault.KindOf(err) != fault.KindInternal {
		return err
	}
	return fmt.Errorf("project: %s: %w", op, err)
}
