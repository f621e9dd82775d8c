package identity

import (
	"context"
	"fmt"
	"math"
	"sync"

	"github.com/uptrace/bun"

	"github.com/gpcore/gpcore/internal/catalog"
	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/pagination"
)

// zones is the set of time zone names users may choose: exactly the
// catalog's list (CloudService.ListTimezones), so that whatever the list
// offers is accepted and nothing else is. The catalog embeds the tz database,
// so each of them loads with time.LoadLocation on any host.
var zones = sync.OnceValue(func() map[string]bool {
	all, _ := catalog.ListTimezones(pagination.Page{Number: 1, Limit: math.MaxInt32})
	set := make(map[string]bool, len(all))
	for _, z := range all {
		set[z.Code] = true
	}
	return set
})

// checkTimezone accepts the IANA zone names of the catalog's list; it
// refuses anything else, such as "Local", "", abbreviations like "CET",
// fixed offsets like "Etc/GMT+1" and old aliases like "Europe/Kiev", with
// InvalidArgument naming the field "timezone".
func checkTimezone(tz string) error {
	if !zones()[tz] {
		return fault.Invalid("timezone", "%q is not one of the IANA time zone names that ListTimezones lists, such as \"Europe/Berlin\" or \"UTC\"", tz)
	}
	return nil
}

// UpdateTimezone sets the time zone of the account userID, which sets its
// billing periods from now on, and returns the account. tz must be one of the
// names CloudService.ListTimezones lists (InvalidArgument naming "timezone"
// otherwise); an unknown account is NotFound. Setting the zone the account
// has already changes nothing; a change is published to the account (fellow
// project members do not see time zones).
func (s *Service) UpdateTimezone(ctx context.Context, userID, tz string) (User, error) {
	if err := checkTimezone(tz); err != nil {
		return User{}, err
	}
	err := s.change(ctx, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewUpdate().Model((*userRow)(nil)).
			Set("timezone = ?", tz).
			Set("updated_at = ?", s.now()).
			Where("id = ?", userID).
			Where("timezone <> ?", tz).
			Exec(ctx)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		return s.publishUser(ctx, tx, userID, false)
	})
	if err != nil {
		return User{}, fmt.Errorf("identity: update time zone of user %s: %w", userID, err)
	}
	return s.GetUser(ctx, userID)
}
