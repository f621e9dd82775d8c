package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"net/url"
	"strconv"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Sender hands one message to whatever carries it on. An error means the
// message was not accepted and should be tried again later.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// LogSender "delivers" mail by writing it, body included, to the log at info
// level: the embedded default when no SMTP server is configured.
type LogSender struct {
	// Log gets the mail (slog.Default() if nil).
	Log *slog.Logger
}

// Send logs m and never fails.
func (l LogSender) Send(ctx context.Context, m Message) error {
	log := l.Log
	if log == nil {
		log = slog.Default()
	}
	log.InfoContext(ctx, "mail not sent (no SMTP server configured), here it is",
		"to", m.To, "subject", m.Subject, "body", m.Body)
	return nil
}

// Outcome is what became of a message Send accepted, as the relay logs it:
// it was written to the log, not sent.
func (LogSender) Outcome() string { return "mail logged, not sent" }

// Security is how an SMTP connection is protected.
type Security int

// The ways to protect an SMTP connection. The zero value is StartTLS.
const (
	// StartTLS upgrades a plain connection with STARTTLS (submission, port
	// 587); a server that does not offer STARTTLS is refused.
	StartTLS Security = iota
	// ImplicitTLS speaks TLS from the start (submissions, port 465).
	ImplicitTLS
	// NoTLS sends in the clear (port 25): only for a relay on the same host
	// or a trusted network. Passwords are then sent only with mechanisms
	// that do not reveal them (CRAM-MD5, SCRAM).
	NoTLS
)

// SMTPConfig says how to reach the SMTP server.
type SMTPConfig struct {
	// Host is the server's name or address. Required.
	Host string
	// Port is the server's port; 0 means 587 for StartTLS, 465 for
	// ImplicitTLS and 25 for NoTLS.
	Port int
	// Security protects the connection; the zero value is StartTLS.
	Security Security
	// Username and Password authenticate with the strongest mechanism both
	// sides support; an empty Username means no authentication.
	Username, Password string
	// From is the sender, a bare address or one with a display name:
	// "gpcore <noreply@example.com>". Required.
	From string
	// TLSConfig is used for TLS; nil means the system's roots, verifying
	// Host.
	TLSConfig *tls.Config
	// Timeout bounds connecting and each SMTP command (30s if 0).
	Timeout time.Duration
}

// ParseSMTPURL reads the --smtp-url form of an SMTP server:
//
//	smtp://[user[:password]@]host[:port]            STARTTLS, port 587 by default
//	smtps://[user[:password]@]host[:port]           TLS from the start, port 465
//	smtp://[user[:password]@]host[:port]?tls=none   no TLS, port 25
//
// User and password are URL-encoded (a "@" in a user name is "%40"). from is
// the sender's address.
func ParseSMTPURL(rawURL, from string) (SMTPConfig, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		// Not the *url.Error itself: it would quote the URL, password and all.
		if inner := errors.Unwrap(err); inner != nil {
			err = inner
		}
		return SMTPConfig{}, fmt.Errorf("mail: SMTP URL: %w", err)
	}
	cfg := SMTPConfig{Host: u.Hostname(), From: from}
	switch u.Scheme {
	case "smtp":
		cfg.Security = StartTLS
	case "smtps":
		cfg.Security = ImplicitTLS
	default:
		return SMTPConfig{}, fmt.Errorf("mail: SMTP URL: scheme %q: want smtp or smtps", u.Scheme)
	}
	if u.Path != "" && u.Path != "/" || u.Fragment != "" {
		return SMTPConfig{}, errors.New("mail: SMTP URL: want no path or fragment")
	}
	q := u.Query()
	for k := range q {
		if k != "tls" {
			return SMTPConfig{}, fmt.Errorf("mail: SMTP URL: unknown parameter %q", k)
		}
	}
	switch tlsMode := q.Get("tls"); {
	case !q.Has("tls"):
	case tlsMode == "none" && u.Scheme == "smtp":
		cfg.Security = NoTLS
	default:
		return SMTPConfig{}, fmt.Errorf("mail: SMTP URL: tls=%q: the only value is none, with scheme smtp", tlsMode)
	}
	if p := u.Port(); p != "" {
		if cfg.Port, err = strconv.Atoi(p); err != nil {
			return SMTPConfig{}, fmt.Errorf("mail: SMTP URL: port %q is not a number", p)
		}
	}
	if u.User != nil {
		cfg.Username = u.User.Username()
		cfg.Password, _ = u.User.Password()
	}
	return cfg, nil
}

// SMTPSender delivers mail through an SMTP server, one connection per
// message.
type SMTPSender struct {
	from string
	host string
	opts []gomail.Option
}

// NewSMTPSender checks cfg and returns a sender for it. It does not connect.
func NewSMTPSender(cfg SMTPConfig) (*SMTPSender, error) {
	if cfg.Host == "" {
		return nil, errors.New("mail: SMTP: no host")
	}
	if _, err := mail.ParseAddress(cfg.From); err != nil {
		return nil, fmt.Errorf("mail: SMTP: sender %q is not an e-mail address: %w", cfg.From, err)
	}
	if cfg.Port == 0 {
		cfg.Port = map[Security]int{StartTLS: 587, ImplicitTLS: 465, NoTLS: 25}[cfg.Security]
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		return nil, fmt.Errorf("mail: SMTP: port %d out of range", cfg.Port)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.TLSConfig != nil {
		tlsConfig = cfg.TLSConfig.Clone()
	}
	if tlsConfig.ServerName == "" {
		tlsConfig.ServerName = cfg.Host
	}
	opts := []gomail.Option{
		gomail.WithPort(cfg.Port),
		gomail.WithTimeout(cfg.Timeout),
		gomail.WithTLSConfig(tlsConfig),
	}
	switch cfg.Security {
	case StartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case ImplicitTLS:
		opts = append(opts, gomail.WithSSL())
	case NoTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		return nil, fmt.Errorf("mail: SMTP: unknown security %d", cfg.Security)
	}
	if cfg.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(cfg.Username), gomail.WithPassword(cfg.Password))
	}
	return &SMTPSender{from: cfg.From, host: cfg.Host, opts: opts}, nil
}

// Send delivers m: a plain-text UTF-8 message with Date and Message-ID.
func (s *SMTPSender) Send(ctx context.Context, m Message) error {
	if err := m.check(); err != nil {
		return fmt.Errorf("mail: %w", err)
	}
	msg := gomail.NewMsg()
	if err := msg.From(s.from); err != nil {
		return fmt.Errorf("mail: sender: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return fmt.Errorf("mail: recipient: %w", err)
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	msg.SetMessageID()
	msg.SetBodyString(gomail.TypeTextPlain, m.Body)
	client, err := gomail.NewClient(s.host, s.opts...)
	if err != nil {
		return fmt.Errorf("mail: SMTP client: %w", err)
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("mail: send to %s: %w", m.To, err)
	}
	return nil
}
