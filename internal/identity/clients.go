package identity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/pagination"
	"github.com/gpcore/gpcore/internal/store"
)

// ClientsPageLimit is ListClients' default and largest page size.
const ClientsPageLimit = 100

// ListClients returns page p of the clients the person ownerUserID owns,
// oldest first, and how many they own in all.
func (s *Service) ListClients(ctx context.Context, ownerUserID string, p pagination.Page) ([]Client, int64, error) {
	var rows []clientRow
	total, err := s.db.NewSelect().Model(&rows).
		Where("owner_user_id = ?", ownerUserID).
		Order("created_at", "id").
		Limit(int64(p.Limit)).
		Offset(p.Offset()).
		ScanAndCount(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("identity: list clients of user %s: %w", ownerUserID, err)
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ServiceAccountUserID
	}
	accounts, err := loadUsers(ctx, s.db.DB, ids)
	if err != nil {
		return nil, 0, fmt.Errorf("identity: list clients of user %s: %w", ownerUserID, err)
	}
	clients := make([]Client, len(rows))
	for i, r := range rows {
		clients[i] = r.client(accounts[r.ServiceAccountUserID])
	}
	return clients, int64(total), nil
}

// ownedClient reads the client id if ownerUserID owns it, locking its row
// until tx ends when lock is set; otherwise it is NotFound, as for a client
// that does not exist.
func ownedClient(ctx context.Context, db bun.IDB, ownerUserID, id string, lock bool) (clientRow, error) {
	var row clientRow
	q := db.NewSelect().Model(&row).Where("id = ?", id).Where("owner_user_id = ?", ownerUserID)
	if lock {
		q = store.ForUpdate(q)
	}
	err := q.Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return clientRow{}, fault.NotFound("client", id)
	}
	if err != nil {
		return clientRow{}, fmt.Errorf("read client %s: %w", id, err)
	}
	return row, nil
}

// withAccount returns the client of row with its service account.
func (s *Service) withAccount(ctx context.Context, row clientRow) (Client, error) {
	account, err := s.GetUser(ctx, row.ServiceAccountUserID)
	if err != nil {
		return Client{}, fmt.Errorf("identity: service account of client %s: %w", row.ID, err)
	}
	return row.client(account), nil
}

// GetClient returns the client id of the person ownerUserID; a client of
// someone else is NotFound, as is one that does not exist.
func (s *Service) GetClient(ctx context.Context, ownerUserID, id string) (Client, error) {
	row, err := ownedClient(ctx, s.db.DB, ownerUserID, id, false)
	if fault.KindOf(err) == fault.KindNotFound {
		return Client{}, err
	}
	if err != nil {
		return Client{}, fmt.Errorf("identity: %w", err)
	}
	return s.withAccount(ctx, row)
}

// UpdateClient replaces the name and description of the client id of the
// person ownerUserID and returns it; the service account's full name follows
// the name. Refusals: NotFound as for GetClient; InvalidArgument naming
// "name" or "description" as for CreateClient.
func (s *Service) UpdateClient(ctx context.Context, ownerUserID, id, name, description string) (Client, error) {
	name, description, err := checkClientText(name, description)
	if err != nil {
		return Client{}, err
	}
	var row clientRow
	err = s.change(ctx, func(ctx context.Context, tx bun.Tx) error {
		if row, err = ownedClient(ctx, tx, ownerUserID, id, true); err != nil {
			return err
		}
		now := s.now()
		row.Name, row.Description, row.UpdatedAt = name, description, now
		if _, err := tx.NewUpdate().Model(&row).Column("name", "description", "updated_at").WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("update client: %w", err)
		}
		if _, err := tx.NewUpdate().Model((*userRow)(nil)).
			Set("full_name = ?", name).
			Set("updated_at = ?", now).
			Where("id = ?", row.ServiceAccountUserID).
			Exec(ctx); err != nil {
			return fmt.Errorf("rename service account: %w", err)
		}
		return s.publishUser(ctx, tx, row.ServiceAccountUserID, true)
	})
	if fault.KindOf(err) == fault.KindNotFound {
		return Client{}, err
	}
	if err != nil {
		return Client{}, fmt.Errorf("identity: update client %s: %w", id, err)
	}
	return s.withAccount(ctx, row)
}

// ResetClientSecret gives the client id of the person ownerUserID a new
// secret and returns it; like CreateClient's, it is known only this once.
// The old secret stops working, and so do the access tokens issued under it
// (the client's secret generation grows by one). A client of someone else is
// NotFound.
func (s *Service) ResetClientSecret(ctx context.Context, ownerUserID, id string) (string, error) {
	secret := newSecret()
	hash := hashSecret(secret)
	res, err := s.db.NewUpdate().Model((*clientRow)(nil)).
		Set("secret_hash = ?", hash).
		Set("secret_generation = secret_generation + 1").
		Set("updated_at = ?", s.now()).
		Where("id = ?", id).
		Where("owner_user_id = ?", ownerUserID).
		Exec(ctx)
	if err != nil {
		return "", fmt.Errorf("identity: reset secret of client %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return "", fmt.Errorf("identity: reset secret of client %s: %w", id, err)
	}
	if n == 0 {
		return "", fault.NotFound("client", id)
	}
	s.generations.forget(id)
	return secret, nil
}

// DeleteClient deletes the client id of the person ownerUserID and revokes
// what it was given: its refresh tokens (of its service account, and of
// people who signed in through it) are deleted, its access tokens stop
// verifying (ClientSecretGeneration answers NotFound) and its service account
// is locked. The account itself stays, so that project memberships, project
// ownership and logs that name it keep naming a real account; project
// members remove it like any other. A client of someone else is NotFound.
func (s *Service) DeleteClient(ctx context.Context, ownerUserID, id string) error {
	err := s.change(ctx, func(ctx context.Context, tx bun.Tx) error {
		row, err := ownedClient(ctx, tx, ownerUserID, id, true)
		if err != nil {
			return err
		}
		// oauth_refresh_tokens belongs to internal/auth; migration 00002
		// gives both packages its rows, and revoking them must commit with
		// the deletion.
		if _, err := tx.NewDelete().TableExpr("oauth_refresh_tokens").
			Where("client_id = ? OR user_id = ?", row.ID, row.ServiceAccountUserID).
			Exec(ctx); err != nil {
			return fmt.Errorf("delete refresh tokens: %w", err)
		}
		if _, err := tx.NewDelete().Model((*clientRow)(nil)).Where("id = ?", row.ID).Exec(ctx); err != nil {
			return fmt.Errorf("delete client: %w", err)
		}
		if _, err := tx.NewUpdate().Model((*userRow)(nil)).
			Set("locked = ?", true).
			Set("updated_at = ?", s.now()).
			Where("id = ?", row.ServiceAccountUserID).
			Exec(ctx); err != nil {
			return fmt.Errorf("lock service account: %w", err)
		}
		return s.publishUser(ctx, tx, row.ServiceAccountUserID, false)
	})
	if fault.KindOf(err) == fault.KindNotFound {
		return err
	}
	if err != nil {
		return fmt.Errorf("identity: delete client %s: %w", id, err)
	}
	s.generations.forget(id)
	return nil
}

// ClientSecretGeneration returns the current secret generation of the
// client clientID, for token verification: a token issued to the client
// under another generation is revoked. A deleted (or never created) client
// is NotFound. Answers are cached for Config.ClientCacheTTL; ResetClientSecret
// and DeleteClient drop the entry at once on this replica.
func (s *Service) ClientSecretGeneration(ctx context.Context, clientID string) (int64, error) {
	now := s.now()
	gen, ok := s.generations.get(clientID, now)
	if !ok {
		epoch := s.generations.epoch()
		err := s.db.NewSelect().Model((*clientRow)(nil)).
			Column("secret_generation").
			Where("id = ?", clientID).
			Scan(ctx, &gen)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			gen = 0
		case err != nil:
			return 0, fmt.Errorf("identity: secret generation of client %s: %w", clientID, err)
		}
		s.generations.put(clientID, gen, now, epoch)
	}
	if gen == 0 {
		return 0, fault.NotFound("client", clientID)
	}
	return gen, nil
}
