package project

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/identity"
	"github.com/gpcore/gpcore/internal/store"
)

// Invite invites the user that identifier names, an e-mail address or a user
// id, to a project of which userID is the OWNER, and returns the new
// membership. A person gets a pending invite (Confirmed false) to accept or
// reject with Join; a service account joins at once as a confirmed MEMBER,
// and only the owner of its OAuth client may add it: anyone else's, and one
// whose client is deleted (its account locked), is an unknown user.
// Refusals are fault errors: InvalidArgument naming "identifier" when it is
// neither an e-mail address nor a user id; NotFound for a non-member;
// NotFound naming "identifier" for an unknown user; PermissionDenied for a
// member who is not the OWNER; AlreadyExists naming "identifier" when the
// user is a member or invited already.
func (s *Service) Invite(ctx context.Context, userID, projectID, identifier string) (Member, error) {
	where, arg, err := userLookup(identifier)
	if err != nil {
		return Member{}, err
	}
	var out Member
	err = s.change(ctx, func(ctx context.Context, tx bun.Tx, ch *changes) error {
		if _, err := lockProject(ctx, tx, projectID); err != nil {
			return err
		}
		if _, err := requireOwner(ctx, tx, projectID, userID, "invite members"); err != nil {
			return err
		}
		users, err := findUsers(ctx, tx, where, arg)
		if err != nil {
			return err
		}
		if len(users) == 0 {
			return errNoSuchInvitee(identifier)
		}
		invitee := users[0]
		if invitee.Type == identity.UserTypeServiceAccount {
			mine, err := ownsServiceAccount(ctx, tx, userID, invitee.ID)
			if err != nil {
				return err
			}
			if !mine {
				return errNoSuchInvitee(identifier)
			}
		}
		existing, ok, err := membership(ctx, tx, projectID, invitee.ID)
		if err != nil {
			return err
		}
		if ok && existing.Confirmed {
			return errInviteeExists("%s is a member of the project already", invitee.label())
		}
		if ok {
			return errInviteeExists("%s is invited to the project already", invitee.label())
		}

		now := s.now()
		row := memberRow{ProjectID: projectID, UserID: invitee.ID, Role: string(RoleMember), CreatedAt: now, UpdatedAt: now}
		message := "invited " + invitee.label()
		if invitee.Type == identity.UserTypeServiceAccount {
			if err := lockUsers(ctx, tx, invitee.ID); err != nil {
				return err
			}
			row.Confirmed = true
			message = "added the service account " + invitee.label()
		}
		if _, err := tx.NewInsert().Model(&row).Exec(ctx); err != nil {
			if store.IsUniqueViolation(err) {
				return errInviteeExists("%s is a member of the project or invited already", invitee.label())
			}
			return fmt.Errorf("insert member: %w", err)
		}
		// The member list changed; a person invited hears of it too.
		ch.project(projectID, invitee.ID)
		if row.Confirmed {
			if err := ensureDefault(ctx, tx, ch, invitee.ID, now); err != nil {
				return err
			}
			if err := tx.NewSelect().Model(&row).WherePK().Scan(ctx); err != nil {
				return fmt.Errorf("read member: %w", err)
			}
		}
		out = Member{User: invitee, Role: RoleMember, Confirmed: row.Confirmed, Default: row.IsDefault,
			CreatedAt: now, UpdatedAt: row.UpdatedAt.UTC()}
		return s.log(ctx, tx, projectID, userID, message)
	})
	if err != nil {
		return Member{}, wrap("invite", err)
	}
	return out, nil
}

// ownsServiceAccount reports whether userID owns the OAuth client whose
// service account is accountID, and that account is not locked. (A deleted
// client's row is gone and its account locked; identity.DeleteClient.)
func ownsServiceAccount(ctx context.Context, db bun.IDB, userID, accountID string) (bool, error) {
	ok, err := db.NewSelect().TableExpr("oauth_clients AS c").
		Join("JOIN users AS u ON u.id = c.service_account_user_id").
		Where("c.service_account_user_id = ?", accountID).
		Where("c.owner_user_id = ?", userID).
		Where("NOT u.locked").
		Exists(ctx)
	if err != nil {
		return false, fmt.Errorf("read the OAuth client of service account %s: %w", accountID, err)
	}
	return ok, nil
}

// userLookup turns an invite identifier into a condition on the users table
// aliased "u": an e-mail address (stored lower-cased) or a user id (a UUID).
func userLookup(identifier string) (where string, arg any, err error) {
	identifier = strings.TrimSpace(identifier)
	switch {
	case identifier == "":
		return "", nil, fault.Invalid("identifier", "an e-mail address or a user id is required")
	case strings.Contains(identifier, "@"):
		return "u.email = ?", strings.ToLower(identifier), nil
	}
	id, err := uuid.Parse(identifier)
	if err != nil {
		return "", nil, fault.Invalid("identifier", "must be an e-mail address or a user id (a UUID), got %q", abbreviate(identifier))
	}
	return "u.id = ?", id.String(), nil
}

// Join accepts (accept true) or rejects userID's pending invite to a project.
// Accepting makes the user a confirmed MEMBER, and the project their default
// if they have none; rejecting deletes the invite. Refusals are fault errors:
// NotFound when there is no such invite (nor project), FailedPrecondition
// when the user is a member already.
func (s *Service) Join(ctx context.Context, userID, projectID string, accept bool) error {
	err := s.change(ctx, func(ctx context.Context, tx bun.Tx, ch *changes) error {
		if _, err := lockProject(ctx, tx, projectID); err != nil {
			return err
		}
		if err := lockUsers(ctx, tx, userID); err != nil {
			return err
		}
		m, ok, err := membership(ctx, tx, projectID, userID)
		if err != nil {
			return err
		}
		if !ok {
			return errProjectNotFound(projectID)
		}
		if m.Confirmed {
			return fault.Precondition("you are a member of the project already")
		}
		// The member list changes, for the members and for the invitee.
		ch.project(projectID, userID)
		if !accept {
			if _, err := tx.NewDelete().Model(&m).WherePK().Exec(ctx); err != nil {
				return fmt.Errorf("delete invite: %w", err)
			}
			return s.log(ctx, tx, projectID, userID, "declined the invitation")
		}
		now := s.now()
		if _, err := tx.NewUpdate().Model((*memberRow)(nil)).
			Set("confirmed = ?", true).Set("updated_at = ?", now).
			Where("project_id = ?", projectID).Where("user_id = ?", userID).
			Exec(ctx); err != nil {
			return fmt.Errorf("accept invite: %w", err)
		}
		if err := ensureDefault(ctx, tx, ch, userID, now); err != nil {
			return err
		}
		return s.log(ctx, tx, projectID, userID, "joined the project")
	})
	return wrap("join", err)
}

// Leave ends userID's membership of a project. Refusals are fault errors:
// NotFound for a non-member (a pending invite is rejected with Join instead);
// FailedPrecondition when it is the user's default project or the user is its
// last owner.
func (s *Service) Leave(ctx context.Context, userID, projectID string) error {
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
			return fault.Precondition("the project is your default project: make another project your default before leaving it")
		}
		if Role(m.Role) == RoleOwner {
			owners, err := tx.NewSelect().Model((*memberRow)(nil)).
				Where("project_id = ?", projectID).Where("role = ?", string(RoleOwner)).Where("confirmed").
				Count(ctx)
			if err != nil {
				return fmt.Errorf("count owners: %w", err)
			}
			if owners <= 1 {
				return fault.Precondition("you are the project's last owner and cannot leave it: delete the project instead")
			}
		}
		if _, err := tx.NewDelete().Model(&m).WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("delete membership: %w", err)
		}
		ch.project(projectID, userID) // the leaver loses it
		return s.log(ctx, tx, projectID, userID, "left the project")
	})
	return wrap("leave", err)
}

// RemoveMember removes memberID from a project of which userID is the OWNER;
// removing a pending invitee withdraws the invite. If it was the removed
// member's default project, their oldest remaining project becomes the
// default. Refusals are fault errors: NotFound for a non-member caller;
// NotFound naming "user_id" for a memberID that is neither member nor
// invitee; PermissionDenied for a member who is not the OWNER;
// FailedPrecondition for removing yourself or an owner.
func (s *Service) RemoveMember(ctx context.Context, userID, projectID, memberID string) error {
	err := s.change(ctx, func(ctx context.Context, tx bun.Tx, ch *changes) error {
		if _, err := lockProject(ctx, tx, projectID); err != nil {
			return err
		}
		if _, err := requireOwner(ctx, tx, projectID, userID, "remove members"); err != nil {
			return err
		}
		if memberID == userID {
			return fault.Precondition("you cannot remove yourself from the project: leave it instead")
		}
		// Lock the member's user row before reading the membership, so that
		// its default flag cannot move meanwhile.
		if err := lockUsers(ctx, tx, memberID); err != nil {
			if fault.KindOf(err) == fault.KindNotFound {
				return errNoSuchMember(memberID)
			}
			return err
		}
		m, ok, err := membership(ctx, tx, projectID, memberID)
		if err != nil {
			return err
		}
		if !ok {
			return errNoSuchMember(memberID)
		}
		if Role(m.Role) == RoleOwner {
			return fault.Precondition("the project owner cannot be removed")
		}
		member, err := loadUser(ctx, tx, memberID)
		if err != nil {
			return err
		}
		if _, err := tx.NewDelete().Model(&m).WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("delete membership: %w", err)
		}
		ch.project(projectID, memberID) // the member or invitee loses it
		if m.IsDefault {
			if err := ensureDefault(ctx, tx, ch, memberID, s.now()); err != nil {
				return err
			}
		}
		message := "removed " + member.label() + " from the project"
		if !m.Confirmed {
			message = "withdrew the invitation of " + member.label()
		}
		return s.log(ctx, tx, projectID, userID, message)
	})
	return wrap("remove member", err)
}

// errNoSuchInvitee is the answer for an invite identifier that names no
// user.
func errNoSuchInvitee(identifier string) error {
	return &fault.Error{Kind: fault.KindNotFound, Field: "identifier",
		Message: fmt.Sprintf("user %q not found", abbreviate(strings.TrimSpace(identifier)))}
}

// errInviteeExists is the answer for inviting a member or invitee again.
func errInviteeExists(format string, args ...any) error {
	return &fault.Error{Kind: fault.KindAlreadyExists, Field: "identifier", Message: fmt.Sprintf(format, args...)}
}

// errNoSuchMember is the answer for removing a user who is neither member
// nor invitee.
func errNoSuchMember(memberID string) error {
	return &fault.Error{Kind: fault.KindNotFound, Field: "user_id", Message: fmt.Sprintf("project member %q not found", memberID)}
}

// maxQuoted bounds how much of a caller's input a refusal quotes.
const maxQuoted = 80

// abbreviate shortens s for quoting in a message.
func abbreviate(s string) string {
	r := []rune(s)
	if len(r) <= maxQuoted {
		return s
	}
	return string(r[:maxQuoted]) + "..."
}
