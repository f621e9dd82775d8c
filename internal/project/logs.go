package project

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/gpcore/gpcore/internal/pagination"
)

// LogEntry is one entry of a project's log.
type LogEntry struct {
	ID string
	// User is who did it; the zero User when the entry has no author (a
	// system action) or the account is gone.
	User    User
	Message string
	// CreatedAt is when it happened; entries never change.
	CreatedAt time.Time
}

// LogQuery narrows ListLogs; zero fields do not filter.
type LogQuery struct {
	// Search keeps the entries whose message contains every space-separated
	// term, ignoring case.
	Search string
	// UserID keeps the entries of one user.
	UserID string
}

// LogListing is one page of a project's log.
type LogListing struct {
	// Entries are the page's entries, newest first.
	Entries []LogEntry
	// Total is the number of matching entries over all pages.
	Total int64
	// Users are all the users that appear in the project's log, whatever
	// the query, ordered by username: the choices for LogQuery.UserID.
	Users []User
}

// logRow is a project_logs row.
type logRow struct {
	bun.BaseModel `bun:"table:project_logs,alias:l"`

	ID           string    `bun:"id,pk"`
	ProjectID    string    `bun:"project_id"`
	UserID       string    `bun:"user_id,nullzero"`
	Message      string    `bun:"message"`
	MessageLower string    `bun:"message_lower"`
	CreatedAt    time.Time `bun:"created_at"`
}

// Log writes an entry to a project's log: userID (empty for the system) did
// message, such as "created the project". Other domains call it inside their
// own transaction (db) for what happens in a project, such as a node order,
// so the entry is written if and only if the change is.
func (s *Service) Log(ctx context.Context, db bun.IDB, projectID, userID, message string) error {
	if err := s.log(ctx, db, projectID, userID, message); err != nil {
		return fmt.Errorf("project: %w", err)
	}
	return nil
}

// log is Log without the package's error prefix, for this package's own
// operations, whose errors get it from wrap.
func (s *Service) log(ctx context.Context, db bun.IDB, projectID, userID, message string) error {
	id, err := uuid.NewV7()
	if err != nil {
		return fmt.Errorf("log entry id: %w", err)
	}
	row := logRow{
		ID:           id.String(),
		ProjectID:    projectID,
		UserID:       userID,
		Message:      message,
		MessageLower: strings.ToLower(message),
		CreatedAt:    s.now(),
	}
	if _, err := db.NewInsert().Model(&row).Exec(ctx); err != nil {
		return fmt.Errorf("write log entry for %s: %w", projectID, err)
	}
	return nil
}

// ListLogs returns page of the log of a project userID is a confirmed member
// of (fault.NotFound otherwise), narrowed by q.
func (s *Service) ListLogs(ctx context.Context, userID, projectID string, q LogQuery, page pagination.Page) (LogListing, error) {
	if _, err := requireMember(ctx, s.db.DB, projectID, userID); err != nil {
		return LogListing{}, err
	}
	var rows []struct {
		userCols
		ID        string    `bun:"id"`
		Message   string    `bun:"message"`
		CreatedAt time.Time `bun:"created_at"`
	}
	sel := s.db.NewSelect().
		TableExpr("project_logs AS l").
		Join("LEFT JOIN users AS u ON u.id = l.user_id").
		ColumnExpr("l.id, l.message, l.created_at").
		ColumnExpr(userColumns).
		Where("l.project_id = ?", projectID)
	if q.UserID != "" {
		sel = sel.Where("l.user_id = ?", q.UserID)
	}
	for _, pattern := range likePatterns(q.Search) {
		sel = sel.Where("l.message_lower LIKE ? ESCAPE '"+likeEscape+"'", pattern)
	}
	total, err := sel.OrderExpr("l.created_at DESC, l.id DESC").
		Limit(int64(page.Limit)).Offset(int64(page.Offset())).
		ScanAndCount(ctx, &rows)
	if err != nil {
		return LogListing{}, fmt.Errorf("project: list log of %s: %w", projectID, err)
	}
	out := LogListing{Entries: make([]LogEntry, len(rows)), Total: total}
	for i, r := range rows {
		out.Entries[i] = LogEntry{ID: r.ID, User: r.user(), Message: r.Message, CreatedAt: r.CreatedAt.UTC()}
	}

	var users []userCols
	if err := s.db.NewSelect().
		TableExpr("users AS u").
		ColumnExpr(userColumns).
		Where("u.id IN (?)", s.db.NewSelect().TableExpr("project_logs AS l").Column("l.user_id").
			Where("l.project_id = ?", projectID)).
		OrderExpr("u.username, u.id").
		Scan(ctx, &users); err != nil {
		return LogListing{}, fmt.Errorf("project: list log users of %s: %w", projectID, err)
	}
	for _, u := range users {
		out.Users = append(out.Users, u.user())
	}
	return out, nil
}
