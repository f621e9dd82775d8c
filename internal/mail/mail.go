// Package mail delivers gpcore's e-mail through a transactional outbox.
//
// A domain writes a Message with Enqueue inside the transaction of the change
// that causes it, so the mail is queued exactly when the change commits. A
// Relay then delivers queued mail through a Sender and deletes each message
// once the Sender has accepted it. Delivery is at least once: a relay takes a
// message for a lease of one send timeout, and a message whose relay died
// while sending is sent again when the lease runs out. Failed deliveries are
// retried with exponential backoff; a message that failed RelayConfig.
// MaxAttempts times stays in the table, marked failed, with its last error.
//
// Two Senders exist: SMTPSender delivers through an SMTP server (STARTTLS,
// implicit TLS or, for a relay on a trusted network, none) when one is
// configured; LogSender, the embedded default, writes every mail, body
// included, to the log, which is how an operator without SMTP sees the links
// that mails carry.
//
// The outbox is the table mail_outbox of migration 00004 in internal/store.
package mail

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// Message is one plain-text e-mail to one recipient. The sender's address is
// the Sender's business.
type Message struct {
	// To is one bare address, e.g. "jane@example.com".
	To string
	// Subject is one line.
	Subject string
	// Body is plain UTF-8 text.
	Body string
}

// check reports whether m can be sent: one bare recipient address and a
// one-line subject.
func (m Message) check() error {
	addr, err := mail.ParseAddress(m.To)
	if err != nil || addr.Name != "" || addr.Address != m.To {
		return fmt.Errorf("recipient %q is not one bare e-mail address", m.To)
	}
	if strings.TrimSpace(m.Subject) == "" || strings.ContainsAny(m.Subject, "\r\n") {
		return fmt.Errorf("subject %q is empty or not one line", m.Subject)
	}
	return nil
}

// outboxRow is a mail_outbox row.
type outboxRow struct {
	bun.BaseModel `bun:"table:mail_outbox"`

	ID            string    `bun:"id,pk"`
	Recipient     string    `bun:"recipient"`
	Subject       string    `bun:"subject"`
	Body          string    `bun:"body"`
	Attempts      int       `bun:"attempts"`
	NextAttemptAt time.Time `bun:"next_attempt_at"`
	LastError     string    `bun:"last_error"`
	FailedAt      time.Time `bun:"failed_at,nullzero"`
	CreatedAt     time.Time `bun:"created_at"`
}

// Enqueue queues m for delivery, due at now. Call it with the transaction of
// the change that causes the mail (a bun.Tx), so that the mail exists if and
// only if the change commits; after the commit, Relay.Wake sends it at once
// instead of at the relay's next poll.
func Enqueue(ctx context.Context, db bun.IDB, m Message, now time.Time) error {
	if err := m.check(); err != nil {
		return fmt.Errorf("mail: enqueue: %w", err)
	}
	now = now.UTC()
	row := outboxRow{
		ID:            uuid.NewString(),
		Recipient:     m.To,
		Subject:       m.Subject,
		Body:          m.Body,
		NextAttemptAt: now,
		CreatedAt:     now,
	}
	if _, err := db.NewInsert().Model(&row).Exec(ctx); err != nil {
		return fmt.Errorf("mail: enqueue to %s: %w", m.To, err)
	}
	return nil
}
