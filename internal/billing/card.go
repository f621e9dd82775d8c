package billing

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/pagination"
	"github.com/gpcore/gpcore/internal/store"
)

// CardBrand is a credit card's brand: the reference's CreditCardType without
// its prefix.
type CardBrand string

// The brands, as stored.
const (
	CardBrandUnspecified CardBrand = "UNSPECIFIED"
	CardBrandVisa        CardBrand = "VISA"
	CardBrandMastercard  CardBrand = "MASTERCARD"
	CardBrandAmex        CardBrand = "AMEX"
	CardBrandDiscover    CardBrand = "DISCOVER"
	CardBrandDinersClub  CardBrand = "DINERS_CLUB"
	CardBrandJCB         CardBrand = "JCB"
)

// setupMaxAge is how long a card setup waits for the provider's
// confirmation. Older setups of a profile are dropped when it begins a new
// one; a confirmation that comes later finds nothing and is ignored.
const setupMaxAge = 7 * 24 * time.Hour

// Card is a credit card of a billing profile.
type Card struct {
	ID        string
	ProfileID string
	Brand     CardBrand
	// Last4 are the last four digits of the card number.
	Last4 string
	// ExpiresAt is the first instant (UTC) after the card's last valid month.
	ExpiresAt time.Time
	// Valid is true while the card has not expired, as of reading.
	Valid            bool
	Supports3DSecure bool
	// Default marks the card the profile's bills are charged to; a profile
	// with cards has exactly one.
	Default   bool
	CreatedAt time.Time
}

// cardRow is a credit_cards row.
type cardRow struct {
	bun.BaseModel `bun:"table:credit_cards,alias:cc"`

	ID               string    `bun:"id,pk"`
	BillingProfileID string    `bun:"billing_profile_id"`
	Provider         string    `bun:"provider"`
	ProviderRef      string    `bun:"provider_ref"`
	Brand            string    `bun:"brand"`
	Last4            string    `bun:"last4"`
	Supports3DSecure bool      `bun:"supports_3d_secure"`
	ExpiresAt        time.Time `bun:"expires_at"`
	IsDefault        bool      `bun:"is_default"`
	CreatedAt        time.Time `bun:"created_at"`
	UpdatedAt        time.Time `bun:"updated_at"`
}

// setupRow is a card_setups row.
type setupRow struct {
	bun.BaseModel `bun:"table:card_setups"`

	ID               string    `bun:"id,pk"`
	BillingProfileID string    `bun:"billing_profile_id"`
	Provider         string    `bun:"provider"`
	CreatedAt        time.Time `bun:"created_at"`
}

// card converts a row, valid as of now.
func card(r cardRow, now time.Time) Card {
	return Card{
		ID:               r.ID,
		ProfileID:        r.BillingProfileID,
		Brand:            CardBrand(r.Brand),
		Last4:            r.Last4,
		ExpiresAt:        r.ExpiresAt.UTC(),
		Valid:            now.Before(r.ExpiresAt),
		Supports3DSecure: r.Supports3DSecure,
		Default:          r.IsDefault,
		CreatedAt:        r.CreatedAt,
	}
}

// ListCards returns page p of the cards of userID's billing profile
// profileID, oldest first, and how many there are. NotFound for a profile
// that is not the caller's.
func (s *Service) ListCards(ctx context.Context, userID, profileID string, p pagination.Page) ([]Card, int64, error) {
	owner, err := profileOwner(ctx, s.db.DB, profileID)
	if err != nil {
		return nil, 0, wrap("list cards", err)
	}
	if owner != userID {
		return nil, 0, fault.NotFound("billing profile", profileID)
	}
	var rows []cardRow
	total, err := s.db.NewSelect().Model(&rows).
		Where("billing_profile_id = ?", profileID).
		OrderExpr("created_at, id").
		Limit(int64(p.Limit)).Offset(p.Offset()).
		ScanAndCount(ctx)
	if err != nil {
		return nil, 0, wrap("list cards", err)
	}
	now := s.now()
	out := make([]Card, len(rows))
	for i, r := range rows {
		out[i] = card(r, now)
	}
	return out, int64(total), nil
}

// BeginCardSetup starts adding a card to userID's billing profile profileID
// at the payment provider and returns the setup, whose ClientSecret the
// customer confirms with the provider. The card appears when the provider
// confirms it (CompleteCardSetup). NotFound for a profile that is not the
// caller's.
func (s *Service) BeginCardSetup(ctx context.Context, userID, profileID string) (CardSetup, error) {
	var setup CardSetup
	err := s.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		row, err := lockOwnProfile(ctx, tx, userID, profileID, "NO KEY UPDATE")
		if err != nil {
			return err
		}
		now := s.now()
		if _, err := tx.NewDelete().Model((*setupRow)(nil)).
			Where("billing_profile_id = ?", profileID).Where("created_at < ?", now.Add(-setupMaxAge)).
			Exec(ctx); err != nil {
			return fmt.Errorf("drop old setups: %w", err)
		}
		payer := Payer{ProfileID: row.ID, CustomerRef: row.customerAt(s.cfg.Provider), Name: row.CompanyName, Email: row.BillingEmail}
		if payer.Name == "" {
			payer.Name = row.Name
		}
		if setup, err = s.cfg.Provider.BeginCardSetup(ctx, payer); err != nil {
			return fmt.Errorf("payment provider %s: begin card setup: %w", s.cfg.Provider.Name(), err)
		}
		if setup.ID == "" || setup.CustomerRef == "" {
			return fmt.Errorf("payment provider %s: card setup %+v lacks an id or a customer", s.cfg.Provider.Name(), setup)
		}
		if setup.CustomerRef != payer.CustomerRef {
			if _, err := tx.NewUpdate().Model((*profileRow)(nil)).
				Set("payment_provider = ?", s.cfg.Provider.Name()).
				Set("payment_customer_id = ?", setup.CustomerRef).
				Set("updated_at = ?", now).
				Where("id = ?", profileID).Exec(ctx); err != nil {
				return fmt.Errorf("store provider customer: %w", err)
			}
		}
		sr := setupRow{ID: setup.ID, BillingProfileID: profileID, Provider: s.cfg.Provider.Name(), CreatedAt: now}
		if _, err := tx.NewInsert().Model(&sr).Exec(ctx); err != nil {
			return fmt.Errorf("insert setup: %w", err)
		}
		return nil
	})
	if err != nil {
		return CardSetup{}, wrap("begin card setup", err)
	}
	return setup, nil
}

// CompleteCardSetup stores the card a provider reports for its setup
// setupID and returns it; the setup is used up. The profile's first card
// becomes its default. NotFound when the setup is unknown to gpcore (never
// begun here, used up, dropped with its profile or too old);
// AlreadyExists when the provider reported the card before.
func (s *Service) CompleteCardSetup(ctx context.Context, provider, setupID string, pc ProviderCard) (Card, error) {
	expiresAt, err := pc.expiresAt()
	if err != nil {
		return Card{}, fmt.Errorf("billing: payment provider %s: %w", provider, err)
	}
	var row cardRow
	err = s.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		// Lock the profile, then the setup: the order BeginCardSetup takes.
		var setup setupRow
		var profile profileRow
		q := func() *bun.SelectQuery {
			return tx.NewSelect().Model(&setup).Where("id = ?", setupID).Where("provider = ?", provider)
		}
		err := q().Scan(ctx)
		if err == nil {
			if profile, err = lockProfile(ctx, tx, setup.BillingProfileID); err == nil {
				err = lockRow(q(), "UPDATE").Scan(ctx)
			}
		}
		if noRows(err) || fault.KindOf(err) == fault.KindNotFound {
			return fault.NotFound("card setup", setupID)
		}
		if err != nil {
			return fmt.Errorf("load setup: %w", err)
		}
		hasDefault, err := tx.NewSelect().Model((*cardRow)(nil)).
			Where("billing_profile_id = ?", setup.BillingProfileID).Where("is_default").
			Exists(ctx)
		if err != nil {
			return fmt.Errorf("look for a default card: %w", err)
		}
		now := s.now()
		row = cardRow{
			ID:               uuid.NewString(),
			BillingProfileID: setup.BillingProfileID,
			Provider:         provider,
			ProviderRef:      pc.Ref,
			Brand:            string(pc.Brand),
			Last4:            pc.Last4,
			Supports3DSecure: pc.Supports3DSecure,
			ExpiresAt:        expiresAt,
			CreatedAt:        now,
			UpdatedAt:        now,
		}
		if _, err := tx.NewInsert().Model(&row).Exec(ctx); err != nil {
			if store.IsUniqueViolation(err) {
				return fault.AlreadyExists("card %s of payment provider %s is stored already", pc.Ref, provider)
			}
			return fmt.Errorf("insert card: %w", err)
		}
		if _, err := tx.NewDelete().Model(&setup).WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("delete setup: %w", err)
		}
		if hasDefault {
			return nil
		}
		return s.makeDefault(ctx, tx, profile, &row)
	})
	if err != nil {
		return Card{}, wrap("complete card setup", err)
	}
	return card(row, s.now()), nil
}

// ChangeDefaultCard makes cardID the default card of userID's billing
// profile profileID, at the provider too, and returns it. NotFound for a
// profile that is not the caller's or a card not in it.
func (s *Service) ChangeDefaultCard(ctx context.Context, userID, profileID, cardID string) (Card, error) {
	var row cardRow
	err := s.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		profile, err := lockOwnProfile(ctx, tx, userID, profileID, "NO KEY UPDATE")
		if err != nil {
			return err
		}
		if row, err = loadCard(ctx, tx, profileID, cardID); err != nil {
			return err
		}
		if row.IsDefault {
			return nil
		}
		return s.makeDefault(ctx, tx, profile, &row)
	})
	if err != nil {
		return Card{}, wrap("change default card", err)
	}
	return card(row, s.now()), nil
}

// RemoveCard removes cardID from userID's billing profile profileID, at the
// provider too. When it was the default card, the newest remaining card
// becomes the default. Refusals: NotFound for a profile that is not the
// caller's or a card not in it; FailedPrecondition for the last card of a
// profile a project uses.
func (s *Service) RemoveCard(ctx context.Context, userID, profileID, cardID string) error {
	err := s.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		profile, err := lockOwnProfile(ctx, tx, userID, profileID, "NO KEY UPDATE")
		if err != nil {
			return err
		}
		row, err := loadCard(ctx, tx, profileID, cardID)
		if err != nil {
			return err
		}
		cards, err := tx.NewSelect().Model((*cardRow)(nil)).Where("billing_profile_id = ?", profileID).Count(ctx)
		if err != nil {
			return fmt.Errorf("count cards: %w", err)
		}
		if cards == 1 {
			n, err := projectsUsing(ctx, tx, profileID)
			if err != nil {
				return err
			}
			if n > 0 {
				return fault.Precondition("the last credit card of a billing profile that %d project(s) use cannot be removed: add another card first", n)
			}
		}
		if row.Provider == s.cfg.Provider.Name() {
			if err := s.cfg.Provider.RemoveCard(ctx, row.ProviderRef); err != nil {
				return fmt.Errorf("payment provider %s: remove card: %w", row.Provider, err)
			}
		}
		return s.deleteCard(ctx, tx, profile, row)
	})
	return wrap("remove card", err)
}

// CardRemovedAtProvider forgets the card provider reports removed on its
// side (a Stripe payment_method.detached event); when it was a profile's
// default card, the newest remaining card becomes the default. A card
// gpcore does not have is no error: gpcore may have removed it first.
func (s *Service) CardRemovedAtProvider(ctx context.Context, provider, cardRef string) error {
	err := s.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var row cardRow
		err := tx.NewSelect().Model(&row).Where("provider = ?", provider).Where("provider_ref = ?", cardRef).Scan(ctx)
		if noRows(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("load card: %w", err)
		}
		profile, err := lockProfile(ctx, tx, row.BillingProfileID)
		if err != nil {
			return err
		}
		// Read again under the profile lock: a concurrent removal may have
		// taken it, or made it the default meanwhile.
		err = tx.NewSelect().Model(&row).WherePK().Scan(ctx)
		if noRows(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reload card: %w", err)
		}
		return s.deleteCard(ctx, tx, profile, row)
	})
	return wrap("forget card removed at provider", err)
}

// deleteCard deletes row, a card of profile (locked), and makes the newest
// remaining card the default when row was.
func (s *Service) deleteCard(ctx context.Context, tx bun.Tx, profile profileRow, row cardRow) error {
	if _, err := tx.NewDelete().Model(&row).WherePK().Exec(ctx); err != nil {
		return fmt.Errorf("delete card: %w", err)
	}
	if !row.IsDefault {
		return nil
	}
	var next cardRow
	err := tx.NewSelect().Model(&next).
		Where("billing_profile_id = ?", profile.ID).
		OrderExpr("created_at DESC, id DESC").Limit(1).
		Scan(ctx)
	if noRows(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("find the next default card: %w", err)
	}
	return s.makeDefault(ctx, tx, profile, &next)
}

// makeDefault makes row, a card of profile (locked), its default card, at
// the provider first. When the profile has failed bills, it enqueues their
// retry on the new default (retryArgs), which runs once tx commits.
func (s *Service) makeDefault(ctx context.Context, tx bun.Tx, profile profileRow, row *cardRow) error {
	if customer := profile.customerAt(s.cfg.Provider); row.Provider == s.cfg.Provider.Name() && customer != "" {
		if err := s.cfg.Provider.SetDefaultCard(ctx, customer, row.ProviderRef); err != nil {
			return fmt.Errorf("payment provider %s: set default card: %w", row.Provider, err)
		}
	}
	now := s.now()
	// Clear first: the one-default index is checked row by row.
	if _, err := tx.NewUpdate().Model((*cardRow)(nil)).
		Set("is_default = ?", false).Set("updated_at = ?", now).
		Where("billing_profile_id = ?", profile.ID).Where("is_default").
		Exec(ctx); err != nil {
		return fmt.Errorf("clear default card: %w", err)
	}
	if _, err := tx.NewUpdate().Model((*cardRow)(nil)).
		Set("is_default = ?", true).Set("updated_at = ?", now).
		Where("id = ?", row.ID).
		Exec(ctx); err != nil {
		return fmt.Errorf("set default card: %w", err)
	}
	row.IsDefault = true
	if s.queue == nil {
		return nil
	}
	failed, err := tx.NewSelect().Model((*billRow)(nil)).
		Where("billing_profile_id = ?", profile.ID).Where("status = ?", BillFailed).
		Exists(ctx)
	if err != nil {
		return fmt.Errorf("look for failed bills: %w", err)
	}
	if !failed {
		return nil
	}
	if _, err := s.queue.InsertTx(ctx, tx, retryArgs{ProfileID: profile.ID}, nil); err != nil {
		return fmt.Errorf("enqueue the retry of failed bills: %w", err)
	}
	return nil
}

// loadCard reads card cardID of profile profileID; NotFound when the
// profile has no such card.
func loadCard(ctx context.Context, db bun.IDB, profileID, cardID string) (cardRow, error) {
	var row cardRow
	err := db.NewSelect().Model(&row).Where("id = ?", cardID).Where("billing_profile_id = ?", profileID).Scan(ctx)
	if noRows(err) {
		return cardRow{}, fault.NotFound("credit card", cardID)
	}
	if err != nil {
		return cardRow{}, fmt.Errorf("load card %s: %w", cardID, err)
	}
	return row, nil
}

// lockProfile locks profile id against changes to its cards and returns
// it; NotFound when there is no such profile.
func lockProfile(ctx context.Context, tx bun.Tx, id string) (profileRow, error) {
	var row profileRow
	err := lockRow(tx.NewSelect().Model(&row).Where("id = ?", id), "NO KEY UPDATE").Scan(ctx)
	if noRows(err) {
		return profileRow{}, fault.NotFound("billing profile", id)
	}
	if err != nil {
		return profileRow{}, fmt.Errorf("lock profile %s: %w", id, err)
	}
	return row, nil
}

// profileOwner returns the owner of profile id; NotFound when there is no
// such profile.
func profileOwner(ctx context.Context, db bun.IDB, id string) (string, error) {
	var owner string
	err := db.NewSelect().Model((*profileRow)(nil)).Column("user_id").Where("id = ?", id).Scan(ctx, &owner)
	if noRows(err) {
		return "", fault.NotFound("billing profile", id)
	}
	if err != nil {
		return "", fmt.Errorf("load profile %s: %w", id, err)
	}
	return owner, nil
}
