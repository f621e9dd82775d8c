package project

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
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
