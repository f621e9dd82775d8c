package project

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/uptrace/bun"

	"github.com/gpcore/gpcore/internal/notify"
)

// Audience returns the ids of a project's confirmed members, in id order:
// the users who hear of changes to what belongs to the project (the
// Audience of a notify.Event). Other domains call it inside the transaction
// (db) that makes the change, so the audience is the membership the change
// was made under. A project that does not exist has no audience.
func (s *Service) Audience(ctx context.Context, db bun.IDB, projectID string) ([]string, error) {
	var ids []string
	if err := db.NewSelect().Model((*memberRow)(nil)).Column("user_id").
		Where("project_id = ?", projectID).Where("confirmed").
		OrderExpr("user_id").
		Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("project: audience of %s: %w", projectID, err)
	}
	return ids, nil
}

// UserAudience returns, in id order, the users who see the account userID:
// the account itself and the confirmed members of every project it belongs
// to or is invited to (a project's members see its pending invitees in its
// member list). They hear of changes to the account; the identity domain
// calls it (through identity.Config.Audience) inside the transaction that
// makes the change, and the notification stream calls it when it decides
// who may see the change.
func UserAudience(ctx context.Context, db bun.IDB, userID string) ([]string, error) {
	var ids []string
	if err := db.NewSelect().TableExpr("project_members AS mine").
		Join("JOIN project_members AS fellow ON fellow.project_id = mine.project_id").
		ColumnExpr("DISTINCT fellow.user_id").
		Where("mine.user_id = ?", userID).Where("fellow.confirmed").
		Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("project: audience of user %s: %w", userID, err)
	}
	ids = append(ids, userID)
	slices.Sort(ids)
	return slices.Compact(ids), nil
}

// UserViewers returns UserAudience as it is now: the users who may see the
// account userID, for the notification stream to decide who may see a
// change to it.
func (s *Service) UserViewers(ctx context.Context, userID string) ([]string, error) {
	return UserAudience(ctx, s.db.DB, userID)
}

// changes collects the projects a transaction changed, to publish as part
// of it.
type changes struct {
	// projects holds, by project id, the users to tell besides the
	// project's confirmed members when the transaction ends: invitees, and
	// those who lost the project (they left, were removed, were refused or
	// the project is gone).
	projects map[string][]string
}

// project records that the project id changed; also are users besides its
// members to tell.
func (c *changes) project(id string, also ...string) {
	if id == "" {
		return
	}
	if c.projects == nil {
		c.projects = map[string][]string{}
	}
	c.projects[id] = append(c.projects[id], also...)
}

// change runs fn in a transaction and publishes, as part of it, the changes
// fn recorded: a notify.KindProject event per project, to its confirmed
// members as the transaction leaves them and to the users fn named. Without
// a hub (Config.Hub nil) it publishes nothing.
func (s *Service) change(ctx context.Context, fn func(ctx context.Context, tx bun.Tx, ch *changes) error) error {
	hub := s.cfg.Hub
	inTx := s.db.InTx
	if hub != nil {
		inTx = hub.InTx
	}
	return inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var ch changes
		if err := fn(ctx, tx, &ch); err != nil {
			return err
		}
		if hub == nil || len(ch.projects) == 0 {
			return nil
		}
		events := make([]notify.Event, 0, len(ch.projects))
		for _, id := range slices.Sorted(maps.Keys(ch.projects)) {
			audience, err := s.Audience(ctx, tx, id)
			if err != nil {
				return err
			}
			events = append(events, notify.Event{Kind: notify.KindProject, ID: id, ProjectID: id,
				Audience: append(audience, ch.projects[id]...)})
		}
		if err := hub.PublishTx(ctx, tx, events...); err != nil {
			return fmt.Errorf("publish project changes: %w", err)
		}
		return nil
	})
}
