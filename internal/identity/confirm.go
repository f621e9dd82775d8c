package identity

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/mail"
)

// ConfirmPath is the path of the e-mail confirmation link, below
// Config.PublicURL; ConfirmHandler serves it.
const ConfirmPath = "/confirm-email"

// confirmationRow is an email_confirmations row: a link sent. Using a link
// no longer deletes it, nor the user's other links, though the comment of
// migration 00004 still says so: they are kept once the address is
// confirmed, so that a link opened again can say so. A user's expired links
// are dropped when a new one is sent; all of them go with the account.
type confirmationRow struct {
	bun.BaseModel `bun:"table:email_confirmations"`

	TokenHash string    `bun:"token_hash,pk"`
	UserID    string    `bun:"user_id"`
	Email     string    `bun:"email"`
	ExpiresAt time.Time `bun:"expires_at"`
	CreatedAt time.Time `bun:"created_at"`
}

// hashToken returns the hex SHA-256 of a confirmation token. The tokens are
// 256 random bits, so a fast hash keeps them useless to a reader of the
// database and still lets us look them up.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// queueConfirmation creates a confirmation link for the person user, whose
// row tx has written or locked, and queues the mail that carries it. It
// also drops the user's expired links.
func (s *Service) queueConfirmation(ctx context.Context, tx bun.Tx, user userRow, now time.Time) error {
	if _, err := tx.NewDelete().Model((*confirmationRow)(nil)).
		Where("user_id = ?", user.ID).
		Where("expires_at <= ?", now).
		Exec(ctx); err != nil {
		return fmt.Errorf("drop expired confirmation links: %w", err)
	}
	token := newSecret()
	row := confirmationRow{
		TokenHash: hashToken(token),
		UserID:    user.ID,
		Email:     user.Email,
		ExpiresAt: now.Add(s.cfg.ConfirmationTTL),
		CreatedAt: now,
	}
	if _, err := tx.NewInsert().Model(&row).Exec(ctx); err != nil {
		return fmt.Errorf("insert confirmation link: %w", err)
	}
	link := s.cfg.PublicURL + ConfirmPath + "?" + url.Values{"token": {token}}.Encode()
	greeting := "Hello,"
	if user.FullName != "" {
		greeting = "Hello " + user.FullName + ","
	}
	body := fmt.Sprintf(`%s

please confirm that %s is your e-mail address for gpcore by opening this link:

%s

The link works until %s UTC. If you did not sign up for gpcore,
ignore this mail.
`, greeting, user.Email, link, row.ExpiresAt.Format("2006-01-02 15:04"))
	return mail.Enqueue(ctx, tx, mail.Message{To: user.Email, Subject: "Confirm your e-mail address for gpcore", Body: body}, now)
}

// ResendConfirmEmail sends the person userID a new confirmation link; the
// links sent before keep working until they expire. Refusals: NotFound for
// an unknown account; FailedPrecondition for a service account or an
// address that is confirmed already; ResourceExhausted within
// Config.ResendInterval of the previous resend. The mail registration sent
// does not count, so someone whose first mail went astray can ask again at
// once; after that one mail per interval bounds what anyone can make gpcore
// send to an address.
func (s *Service) ResendConfirmEmail(ctx context.Context, userID string) error {
	err := s.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		user, err := lockUser(ctx, tx, userID)
		if err != nil {
			return err
		}
		switch {
		case user.Type != string(UserTypeUser):
			return fault.Precondition("a service account has no e-mail address to confirm")
		case user.Confirmed:
			return fault.Precondition("the e-mail address %s is confirmed already", user.Email)
		}
		now := s.now()
		// Registration's link has the account's creation time; resent ones
		// are younger.
		var last confirmationRow
		err = tx.NewSelect().Model(&last).
			Where("user_id = ?", userID).
			Where("created_at > ?", user.CreatedAt).
			Order("created_at DESC").
			Limit(1).
			Scan(ctx)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return fmt.Errorf("find last confirmation link: %w", err)
		case now.Before(last.CreatedAt.Add(s.cfg.ResendInterval)):
			return fault.Exhausted("a confirmation mail was sent again to %s at %s UTC; ask for another one after %s UTC",
				user.Email, last.CreatedAt.UTC().Format(time.TimeOnly),
				last.CreatedAt.Add(s.cfg.ResendInterval).UTC().Format(time.TimeOnly))
		}
		return s.queueConfirmation(ctx, tx, user, now)
	})
	switch fault.KindOf(err) {
	case fault.KindNotFound, fault.KindFailedPrecondition, fault.KindResourceExhausted:
		return err
	}
	if err != nil {
		return fmt.Errorf("identity: resend confirmation to user %s: %w", userID, err)
	}
	s.mailQueued()
	return nil
}

// Refusals of ConfirmEmail.
var (
	errUnknownLink = fault.Invalid("token", "the confirmation link is not valid or was used already")
	errEmailMoved  = fault.Precondition("the confirmation link was sent to an address the account no longer has")
)

// ConfirmEmail uses the confirmation token of a link and marks the address
// it was sent to as confirmed; it returns the account and whether the
// address was confirmed already (by this link or another), which is no
// error, expired link or not. Refusals: InvalidArgument naming "token" for
// an unknown token (or one used before links were kept); FailedPrecondition
// for an expired one or when the account's address has changed since.
func (s *Service) ConfirmEmail(ctx context.Context, token string) (user User, already bool, err error) {
	var userID string
	err = s.change(ctx, func(ctx context.Context, tx bun.Tx) error {
		var link confirmationRow
		err := tx.NewSelect().Model(&link).Where("token_hash = ?", hashToken(token)).Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return errUnknownLink
		}
		if err != nil {
			return fmt.Errorf("read confirmation link: %w", err)
		}
		// The account's lock orders two uses of its links: the second sees
		// the address confirmed.
		user, err := lockUser(ctx, tx, link.UserID)
		if err != nil {
			return err
		}
		if user.Email != link.Email {
			return errEmailMoved
		}
		userID = user.ID
		if user.Confirmed {
			already = true
			return nil
		}
		now := s.now()
		if !now.Before(link.ExpiresAt) {
			// The link keeps saying "expired" until a newer one for the
			// account replaces it.
			return fault.Precondition("the confirmation link expired at %s UTC; sign in and ask for a new one",
				link.ExpiresAt.UTC().Format("2006-01-02 15:04"))
		}
		if _, err := tx.NewUpdate().Model((*userRow)(nil)).
			Set("confirmed = ?", true).
			Set("updated_at = ?", now).
			Where("id = ?", user.ID).
			Exec(ctx); err != nil {
			return fmt.Errorf("confirm user %s: %w", user.ID, err)
		}
		return s.publishUser(ctx, tx, user.ID, false)
	})
	switch fault.KindOf(err) {
	case fault.KindInvalidArgument, fault.KindFailedPrecondition:
		return User{}, false, err
	}
	if err != nil {
		return User{}, false, fmt.Errorf("identity: confirm e-mail address: %w", err)
	}
	user, err = s.GetUser(ctx, userID)
	return user, already, err
}

// confirmPage is the page ConfirmHandler answers with.
var confirmPage = template.Must(template.New("confirm").Parse(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{{.Title}} - gpcore</title></head>
<body>
<h1>{{.Title}}</h1>
<p>{{.Message}}</p>
</body>
</html>
`))

// ConfirmHandler serves the confirmation link, GET ConfirmPath?token=...:
// it calls ConfirmEmail and answers a short HTML page, 200 when the address
// is confirmed, now or before, 400 for a missing or unknown link, 410 for an
// expired link or one sent to an address the account no longer has. Mount
// it on "GET " + ConfirmPath.
func (s *Service) ConfirmHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("Referrer-Policy", "no-referrer") // the URL holds the token
		h.Set("Content-Security-Policy", "default-src 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Type", "text/html; charset=utf-8")
		page := func(status int, title, message string) {
			w.WriteHeader(status)
			_ = confirmPage.Execute(w, struct{ Title, Message string }{title, message}) // the client went away
		}
		token := r.URL.Query().Get("token")
		if token == "" {
			page(http.StatusBadRequest, "Link incomplete", "The link has no token. Open the whole link from the mail.")
			return
		}
		user, already, err := s.ConfirmEmail(r.Context(), token)
		switch fault.KindOf(err) {
		case fault.KindInvalidArgument:
			page(http.StatusBadRequest, "Link not valid", "This confirmation link is not valid or was used already.")
		case fault.KindFailedPrecondition:
			var fe *fault.Error
			errors.As(err, &fe)
			msg := []rune(fe.Message)
			page(http.StatusGone, "Link no longer valid", strings.ToUpper(string(msg[:1]))+string(msg[1:])+".")
		default:
			if err != nil {
				s.log.ErrorContext(r.Context(), "e-mail confirmation failed", "error", err)
				page(http.StatusInternalServerError, "Something went wrong", "The address could not be confirmed. Please try the link again later.")
				return
			}
			if already {
				page(http.StatusOK, "E-mail address already confirmed", "The e-mail address "+user.Email+" is already confirmed. You can close this page.")
				return
			}
			page(http.StatusOK, "E-mail address confirmed", "Thank you: "+user.Email+" is confirmed. You can close this page.")
		}
	})
}
