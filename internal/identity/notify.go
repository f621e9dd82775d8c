package identity

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/gpcore/gpcore/internal/notify"
)

// change runs fn in a transaction that may publish (publishUser): through
// Config.Hub when there is one.
func (s *Service) change(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	if s.cfg.Hub != nil {
		return s.cfg.Hub.InTx(ctx, fn)
	}
	return s.db.InTx(ctx, fn)
}

// publishUser tells, as part of tx, those who see the account userID that it
// changed (notify.KindUser): the account itself and, when what changed is
// what fellow project members see of it too (who it is: username, full
// name, e-mail address; not its settings, such as the time zone, nor its
// confirmation, lock or last sign-in), the users Config.Audience names.
// Without a hub it publishes nothing.
func (s *Service) publishUser(ctx context.Context, tx bun.Tx, userID string, fellowsSee bool) error {
	if s.cfg.Hub == nil {
		return nil
	}
	audience := []string{userID}
	if fellowsSee && s.cfg.Audience != nil {
		fellows, err := s.cfg.Audience(ctx, tx, userID)
		if err != nil {
			return err
		}
		audience = append(audience, fellows...)
	}
	if err := s.cfg.Hub.PublishTx(ctx, tx, notify.Event{Kind: notify.KindUser, ID: userID, Audience: audience}); err != nil {
		return fmt.Errorf("publish the change of user %s: %w", userID, err)
	}
	return nil
}
