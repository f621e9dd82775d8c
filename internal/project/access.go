package project

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/store"
)

// errProjectNotFound is the one answer for a project that does not exist and
// for one the caller may not see.
func errProjectNotFound(projectID string) error {
	return fault.NotFound("project", projectID)
}

// lockProject locks the project row until tx ends and returns it, or
// fault.NotFound. Operations that change a project's membership take it
// first, so they queue per project.
func lockProject(ctx context.Context, tx bun.Tx, projectID string) (projectRow, error) {
	var row projectRow
	err := store.ForUpdate(tx.NewSelect().Model(&row).Where("id = ?", projectID)).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return projectRow{}, errProjectNotFound(projectID)
	}
	if err != nil {
		return projectRow{}, fmt.Errorf("lock project %s: %w", projectID, err)
	}
	return row, nil
}

// lockUsers locks the users rows of ids, in id order, until tx ends, so that
// the default-project flags of those users change one transaction at a time.
// An id without a user is fault.NotFound.
//
// On PostgreSQL the lock is FOR NO KEY UPDATE rather than store.ForUpdate's
// FOR UPDATE: it excludes the other lockers just the same, but not the KEY
// SHARE locks that foreign-key checks take on users, so transactions that
// hold one user's lock and insert rows naming another user (a log entry, a
// membership) cannot deadlock with each other. On SQLite, as with ForUpdate,
// the transaction's write lock already excludes everyone else.
func lockUsers(ctx context.Context, tx bun.Tx, ids ...string) error {
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	if len(ids) == 0 {
		return nil
	}
	var found []string
	q := tx.NewSelect().TableExpr("users").Column("id").Where("id IN (?)", bun.In(ids)).OrderExpr("id")
	if q.Dialect().Name() == dialect.PG {
		q = q.For("NO KEY UPDATE")
	}
	if err := q.Scan(ctx, &found); err != nil {
		return fmt.Errorf("lock users: %w", err)
	}
	for _, id := range ids {
		if _, ok := slices.BinarySearch(found, id); !ok {
			return fault.NotFound("user", id)
		}
	}
	return nil
}

// membership returns userID's row in projectID, confirmed or pending; ok is
// false when there is none.
func membership(ctx context.Context, db bun.IDB, projectID, userID string) (row memberRow, ok bool, err error) {
	err = db.NewSelect().Model(&row).
		Where("project_id = ?", projectID).Where("user_id = ?", userID).
		Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return memberRow{}, false, nil
	}
	if err != nil {
		return memberRow{}, false, fmt.Errorf("read membership: %w", err)
	}
	return row, true, nil
}

// requireMember returns userID's confirmed membership of projectID; anyone
// else gets the same fault.NotFound as for a project that does not exist.
func requireMember(ctx context.Context, db bun.IDB, projectID, userID string) (memberRow, error) {
	m, ok, err := membership(ctx, db, projectID, userID)
	if err != nil {
		return memberRow{}, err
	}
	if !ok || !m.Confirmed {
		return memberRow{}, errProjectNotFound(projectID)
	}
	return m, nil
}

// requireOwner is requireMember for what only an OWNER may do (action, as in
// "delete the project"); other members get fault.PermissionDenied.
func requireOwner(ctx context.Context, db bun.IDB, projectID, userID, action string) (memberRow, error) {
	m, err := requireMember(ctx, db, projectID, userID)
	if err != nil {
		return memberRow{}, err
	}
	if Role(m.Role) != RoleOwner {
		return memberRow{}, fault.Denied("only the project owner may %s", action)
	}
	return m, nil
}

// ensureDefault gives userID a default project if they have none and belong
// to any: their oldest confirmed membership, which ch records as changed
// (its member list shows the flag). The caller holds the user's lock
// (lockUsers).
func ensureDefault(ctx context.Context, tx bun.Tx, ch *changes, userID string, now time.Time) error {
	n, err := tx.NewSelect().Model((*memberRow)(nil)).
		Where("user_id = ?", userID).Where("is_default").
		Count(ctx)
	if err != nil {
		return fmt.Errorf("read default project of user %s: %w", userID, err)
	}
	if n > 0 {
		return nil
	}
	var projectID string
	err = tx.NewSelect().Model((*memberRow)(nil)).Column("project_id").
		Where("user_id = ?", userID).Where("confirmed").
		OrderExpr("created_at, project_id").Limit(1).
		Scan(ctx, &projectID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("pick default project of user %s: %w", userID, err)
	}
	if _, err := tx.NewUpdate().Model((*memberRow)(nil)).
		Set("is_default = ?", true).Set("updated_at = ?", now).
		Where("project_id = ?", projectID).Where("user_id = ?", userID).
		Exec(ctx); err != nil {
		return fmt.Errorf("set default project of user %s: %w", userID, err)
	}
	ch.project(projectID)
	return nil
}

// loadMembers returns the members and pending invitees of the projects,
// oldest first, by project id.
func loadMembers(ctx context.Context, db bun.IDB, projectIDs ...string) (map[string][]Member, error) {
	out := make(map[string][]Member, len(projectIDs))
	if len(projectIDs) == 0 {
		return out, nil
	}
	var rows []struct {
		userCols
		ProjectID string    `bun:"project_id"`
		Role      string    `bun:"role"`
		Confirmed bool      `bun:"confirmed"`
		IsDefault bool      `bun:"is_default"`
		CreatedAt time.Time `bun:"created_at"`
		UpdatedAt time.Time `bun:"updated_at"`
	}
	err := db.NewSelect().
		TableExpr("project_members AS pm").
		Join("JOIN users AS u ON u.id = pm.user_id").
		ColumnExpr("pm.project_id, pm.role, pm.confirmed, pm.is_default, pm.created_at, pm.updated_at").
		ColumnExpr(userColumns).
		Where("pm.project_id IN (?)", bun.In(projectIDs)).
		OrderExpr("pm.created_at, pm.user_id").
		Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("load members: %w", err)
	}
	for _, r := range rows {
		out[r.ProjectID] = append(out[r.ProjectID], Member{
			User:      r.user(),
			Role:      Role(r.Role),
			Confirmed: r.Confirmed,
			Default:   r.IsDefault,
			CreatedAt: r.CreatedAt.UTC(),
			UpdatedAt: r.UpdatedAt.UTC(),
		})
	}
	return out, nil
}

// loadUser reads one user, fault.NotFound("user", id) if there is none.
func loadUser(ctx context.Context, db bun.IDB, id string) (User, error) {
	users, err := findUsers(ctx, db, "u.id = ?", id)
	if err != nil {
		return User{}, err
	}
	if len(users) == 0 {
		return User{}, fault.NotFound("user", id)
	}
	return users[0], nil
}

// findUsers reads the users matching where (on the users table aliased "u").
func findUsers(ctx context.Context, db bun.IDB, where string, args ...any) ([]User, error) {
	var rows []userCols
	if err := db.NewSelect().TableExpr("users AS u").ColumnExpr(userColumns).
		Where(where, args...).OrderExpr("u.id").
		Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("read users: %w", err)
	}
	users := make([]User, len(rows))
	for i, r := range rows {
		users[i] = r.user()
	}
	return users, nil
}

// likeEscape escapes LIKE wildcards in search terms; '!' needs no escaping in
// SQL string literals on either database, unlike a backslash.
const likeEscape = "!"

// likePatterns turns a search into one LIKE pattern per space-separated
// term, lower-cased (to match the *_lower columns) and with wildcards
// escaped. An empty search has no patterns.
func likePatterns(search string) []string {
	terms := strings.Fields(strings.ToLower(search))
	patterns := make([]string, len(terms))
	escaper := strings.NewReplacer(likeEscape, likeEscape+likeEscape, "%", likeEscape+"%", "_", likeEscape+"_")
	for i, t := range terms {
		patterns[i] = "%" + escaper.Replace(t) + "%"
	}
	return patterns
}
