package identity_test

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/identity"
	"github.com/gpcore/gpcore/internal/store"
)

// outboxMail is a queued mail as the mail_outbox table holds it.
type outboxMail struct {
	Recipient string `bun:"recipient"`
	Subject   string `bun:"subject"`
	Body      string `bun:"body"`
}

// outbox returns the mail queued for to, oldest first.
func outbox(t *testing.T, db *store.DB, to string) []outboxMail {
	t.Helper()
	var mails []outboxMail
	if err := db.NewSelect().Table("mail_outbox").Column("recipient", "subject", "body").
		Where("recipient = ?", to).Order("created_at", "id").Scan(t.Context(), &mails); err != nil {
		t.Fatalf("read outbox: %v", err)
	}
	return mails
}

var linkRE = regexp.MustCompile(`(https?://\S+/confirm-email\?token=([A-Za-z0-9_-]+))`)

// confirmLink returns the confirmation link in a mail and its token.
func confirmLink(t *testing.T, m outboxMail) (link, token string) {
	t.Helper()
	match := linkRE.FindStringSubmatch(m.Body)
	if match == nil {
		t.Fatalf("no confirmation link in mail %q", m.Body)
	}
	return match[1], match[2]
}

// counter counts calls, as Config.MailQueued.
type counter struct{ n atomic.Int32 }

func (c *counter) inc()       { c.n.Add(1) }
func (c *counter) get() int32 { return c.n.Load() }

func TestRegisterQueuesConfirmation(t *testing.T) {
	var woken counter
	svc, db, clk := newServiceWith(t, identity.Config{PublicURL: "https://cloud.example.com/", MailQueued: woken.inc})
	jane, err := svc.Register(t.Context(), identity.RegisterInput{Email: "jane@example.com", Password: "Correct-Horse-42", FirstName: "Jane", LastName: "Doe"})
	if err != nil {
		t.Fatalf("Register: %v", err)
	}
	if woken.get() != 1 {
		t.Fatalf("MailQueued called %d times, want 1", woken.get())
	}
	mails := outbox(t, db, "jane@example.com")
	if len(mails) != 1 || !strings.Contains(mails[0].Subject, "Confirm") || !strings.HasPrefix(mails[0].Body, "Hello Jane Doe,") {
		t.Fatalf("outbox = %+v", mails)
	}
	link, token := confirmLink(t, mails[0])
	if !strings.HasPrefix(link, "https://cloud.example.com/confirm-email?token=") || len(token) != 43 {
		t.Fatalf("link %q", link)
	}

	// Only the token's SHA-256 is stored.
	var hashes []string
	if err := db.NewSelect().Table("email_confirmations").Column("token_hash").Scan(t.Context(), &hashes); err != nil {
		t.Fatalf("read confirmations: %v", err)
	}
	sum := sha256.Sum256([]byte(token))
	if len(hashes) != 1 || hashes[0] != hex.EncodeToString(sum[:]) {
		t.Fatalf("stored %v, want the SHA-256 of the token", hashes)
	}

	clk.Add(time.Hour)
	u, already, err := svc.ConfirmEmail(t.Context(), token)
	if err != nil || already {
		t.Fatalf("ConfirmEmail: already %v, %v", already, err)
	}
	if u.ID != jane.ID || !u.Confirmed || !u.UpdatedAt.Equal(clk.Now()) {
		t.Fatalf("after ConfirmEmail: %+v", u)
	}
	// The link confirms once; opened again, even after it expired, it says
	// the address is confirmed already and changes nothing.
	confirmedAt := clk.Now()
	for _, later := range []time.Duration{time.Minute, identity.DefaultConfirmationTTL} {
		clk.Add(later)
		u, already, err = svc.ConfirmEmail(t.Context(), token)
		if err != nil || !already || u.ID != jane.ID || !u.Confirmed || !u.UpdatedAt.Equal(confirmedAt) {
			t.Fatalf("ConfirmEmail again %v later: %+v, already %v, %v", later, u, already, err)
		}
	}

	// A registration that fails queues nothing.
	if _, err := svc.Register(t.Context(), identity.RegisterInput{Email: "JANE@example.com", Password: "Correct-Horse-42"}); err == nil {
		t.Fatal("second registration of one address succeeded")
	}
	if n := len(outbox(t, db, "jane@example.com")); n != 1 || woken.get() != 1 {
		t.Fatalf("after a refused registration: %d mails, %d wake-ups; want 1 and 1", n, woken.get())
	}
}

func TestResendConfirmEmail(t *testing.T) {
	var woken counter
	svc, db, clk := newServiceWith(t, identity.Config{MailQueued: woken.inc})
	jane := register(t, svc, "jane@example.com")

	// The mail registration sent does not count: the first resend may come
	// at once, the next one a minute later.
	clk.Add(time.Second)
	if err := svc.ResendConfirmEmail(t.Context(), jane.ID); err != nil {
		t.Fatalf("first ResendConfirmEmail: %v", err)
	}
	clk.Add(59 * time.Second)
	err := svc.ResendConfirmEmail(t.Context(), jane.ID)
	wantFault(t, err, fault.KindResourceExhausted, "")
	if !strings.Contains(err.Error(), "12:01:01") {
		t.Errorf("refusal %q does not say when to ask again", err)
	}
	clk.Add(time.Second)
	if err := svc.ResendConfirmEmail(t.Context(), jane.ID); err != nil {
		t.Fatalf("ResendConfirmEmail a minute later: %v", err)
	}
	err = svc.ResendConfirmEmail(t.Context(), jane.ID)
	wantFault(t, err, fault.KindResourceExhausted, "")

	mails := outbox(t, db, "jane@example.com")
	if len(mails) != 3 || woken.get() != 3 {
		t.Fatalf("%d mails queued, %d wake-ups; want 3 and 3", len(mails), woken.get())
	}
	tokens := map[string]bool{}
	for _, m := range mails {
		_, token := confirmLink(t, m)
		tokens[token] = true
	}
	if len(tokens) != 3 {
		t.Fatal("resent mails share a token")
	}
	_, first := confirmLink(t, mails[0])
	_, last := confirmLink(t, mails[2])

	// The oldest link still works; then the others say the address is
	// confirmed already.
	if _, already, err := svc.ConfirmEmail(t.Context(), first); err != nil || already {
		t.Fatalf("ConfirmEmail(first link): already %v, %v", already, err)
	}
	if _, already, err := svc.ConfirmEmail(t.Context(), last); err != nil || !already {
		t.Fatalf("ConfirmEmail(last link) after the first: already %v, %v", already, err)
	}

	clk.Add(time.Hour)
	err = svc.ResendConfirmEmail(t.Context(), jane.ID)
	wantFault(t, err, fault.KindFailedPrecondition, "")
	if !strings.Contains(err.Error(), "confirmed already") {
		t.Errorf("refusal %q does not say why", err)
	}
}

func TestResendConfirmEmailRefusals(t *testing.T) {
	svc, _, _ := newService(t)
	// The operator's address counts as confirmed.
	_, email, password, err := svc.EnsureOperator(t.Context())
	if err != nil {
		t.Fatalf("EnsureOperator: %v", err)
	}
	operator, err := svc.Authenticate(t.Context(), email, password)
	if err != nil {
		t.Fatalf("Authenticate operator: %v", err)
	}
	wantFault(t, svc.ResendConfirmEmail(t.Context(), operator.ID), fault.KindFailedPrecondition, "")

	agent, _, err := svc.CreateClient(t.Context(), operator.ID, "agent", "")
	if err != nil {
		t.Fatalf("CreateClient: %v", err)
	}
	wantFault(t, svc.ResendConfirmEmail(t.Context(), agent.ServiceAccount.ID), fault.KindFailedPrecondition, "")
	wantFault(t, svc.ResendConfirmEmail(t.Context(), "0b6d9d1e-7a35-4a4e-9f5c-0f7f5d8f2d11"), fault.KindNotFound, "")
}

func TestConfirmEmailRefusals(t *testing.T) {
	svc, db, clk := newServiceWith(t, identity.Config{ConfirmationTTL: 24 * time.Hour})
	jane := register(t, svc, "jane@example.com")
	_, token := confirmLink(t, outbox(t, db, "jane@example.com")[0])

	for _, bad := range []string{"", "nope", token + "x", strings.ToUpper(token)} {
		_, _, err := svc.ConfirmEmail(t.Context(), bad)
		wantFault(t, err, fault.KindInvalidArgument, "token")
	}

	// Expired, and it keeps saying so.
	clk.Add(24 * time.Hour)
	for range 2 {
		_, _, err := svc.ConfirmEmail(t.Context(), token)
		wantFault(t, err, fault.KindFailedPrecondition, "")
		if !strings.Contains(err.Error(), "expired") {
			t.Fatalf("refusal %q does not say the link expired", err)
		}
	}

	// A link confirms only the address it was sent to.
	if err := svc.ResendConfirmEmail(t.Context(), jane.ID); err != nil {
		t.Fatalf("ResendConfirmEmail: %v", err)
	}
	_, fresh := confirmLink(t, outbox(t, db, "jane@example.com")[1])
	if _, err := db.NewUpdate().Table("users").Set("email = ?", "jane.new@example.com").Where("id = ?", jane.ID).Exec(t.Context()); err != nil {
		t.Fatalf("change address: %v", err)
	}
	_, _, err := svc.ConfirmEmail(t.Context(), fresh)
	wantFault(t, err, fault.KindFailedPrecondition, "")
	got, err := svc.GetUser(t.Context(), jane.ID)
	if err != nil || got.Confirmed {
		t.Fatalf("after refusals: confirmed %v, %v", got.Confirmed, err)
	}

	// Resending dropped the expired link.
	n, err := db.NewSelect().Table("email_confirmations").Where("user_id = ?", jane.ID).Count(t.Context())
	if err != nil || n != 1 {
		t.Fatalf("%d confirmation links left, %v; want only the fresh one", n, err)
	}
}

func TestConfirmHandler(t *testing.T) {
	svc, db, clk := newService(t)
	register(t, svc, "jane@example.com")
	register(t, svc, "late@example.com")
	mux := http.NewServeMux()
	mux.Handle("GET "+identity.ConfirmPath, svc.ConfirmHandler())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	get := func(token string) (int, string, http.Header) {
		t.Helper()
		target := srv.URL + identity.ConfirmPath
		if token != "" {
			target += "?" + url.Values{"token": {token}}.Encode()
		}
		res, err := srv.Client().Get(target)
		if err != nil {
			t.Fatalf("GET %s: %v", target, err)
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatalf("read page: %v", err)
		}
		return res.StatusCode, string(body), res.Header
	}

	_, token := confirmLink(t, outbox(t, db, "jane@example.com")[0])
	status, body, h := get(token)
	if status != http.StatusOK || !strings.Contains(body, "jane@example.com is confirmed") {
		t.Fatalf("GET link = %d %q", status, body)
	}
	if h.Get("Cache-Control") != "no-store" || h.Get("Referrer-Policy") != "no-referrer" ||
		h.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("headers = %v", h)
	}
	if status, body, _ := get(token); status != http.StatusOK || !strings.Contains(body, "jane@example.com is already confirmed") {
		t.Fatalf("GET used link = %d %q, want 200 saying the address is already confirmed", status, body)
	}
	if status, body, _ := get(""); status != http.StatusBadRequest || !strings.Contains(body, "no token") {
		t.Fatalf("GET without token = %d %q, want 400", status, body)
	}
	if status, body, _ := get(token + "x"); status != http.StatusBadRequest || !strings.Contains(body, "not valid") {
		t.Fatalf("GET unknown link = %d %q, want 400 saying it is not valid", status, body)
	}

	_, late := confirmLink(t, outbox(t, db, "late@example.com")[0])
	clk.Add(identity.DefaultConfirmationTTL)
	if status, body, _ := get(late); status != http.StatusGone || !strings.Contains(body, "expired") {
		t.Fatalf("GET expired link = %d %q, want 410 saying it expired", status, body)
	}
}
