package mail_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/gpcore/gpcore/internal/mail"
)

// received is a message an SMTP test server accepted.
type received struct {
	from string
	to   []string
	data []byte
}

// smtpServer is a real SMTP server (emersion/go-smtp) on 127.0.0.1 that keeps
// what it receives. With user set it offers AUTH PLAIN and requires it.
type smtpServer struct {
	user, password string

	mu   sync.Mutex
	msgs []received
}

func (s *smtpServer) NewSession(*smtp.Conn) (smtp.Session, error) { return &smtpSession{srv: s}, nil }

func (s *smtpServer) messages() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.msgs...)
}

type smtpSession struct {
	srv    *smtpServer
	authed bool
	msg    received
}

func (s *smtpSession) AuthMechanisms() []string {
	if s.srv.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *smtpSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, password string) error {
		if user != s.srv.user || password != s.srv.password {
			return errors.New("invalid credentials")
		}
		s.authed = true
		return nil
	}), nil
}

func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.srv.user != "" && !s.authed {
		return smtp.ErrAuthRequired
	}
	s.msg = received{from: from}
	return nil
}

func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.msg.to = append(s.msg.to, to)
	return nil
}

func (s *smtpSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.msg.data = data
	s.srv.mu.Lock()
	defer s.srv.mu.Unlock()
	s.srv.msgs = append(s.srv.msgs, s.msg)
	return nil
}

func (s *smtpSession) Reset()        { s.msg = received{} }
func (s *smtpSession) Logout() error { return nil }

// selfSigned returns a server certificate for 127.0.0.1 and a pool that
// trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "smtp test"},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

// startSMTP serves backend on 127.0.0.1: STARTTLS offered when starttls is
// set, TLS from the start when implicit is set, plain otherwise. It returns
// the port.
func startSMTP(t *testing.T, backend *smtpServer, cert tls.Certificate, starttls, implicit bool) int {
	t.Helper()
	srv := smtp.NewServer(backend)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = !starttls && !implicit
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tlsConfig := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if starttls {
		srv.TLSConfig = tlsConfig
	}
	if implicit {
		ln = tls.NewListener(ln, tlsConfig)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}

// parse reads a received message: its headers and its decoded body.
func parse(t *testing.T, data []byte) (netmail.Header, string) {
	t.Helper()
	m, err := netmail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("received message does not parse: %v\n%s", err, data)
	}
	body := m.Body
	if m.Header.Get("Content-Transfer-Encoding") == "quoted-printable" {
		body = quotedprintable.NewReader(body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	return m.Header, string(b)
}

func TestSMTPSender(t *testing.T) {
	cert, pool := selfSigned(t)
	msg := mail.Message{To: "jane@example.com", Subject: "Bestätigen Sie Ihre Adresse", Body: "Grüße,\nopen https://cloud.example.com/confirm-email?token=abc_-123\n"}
	tests := []struct {
		name               string
		starttls, implicit bool
		security           mail.Security
		user               string
	}{
		{"STARTTLS with AUTH", true, false, mail.StartTLS, "mailer"},
		{"implicit TLS with AUTH", false, true, mail.ImplicitTLS, "mailer"},
		{"no TLS to a local relay", false, false, mail.NoTLS, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			backend := &smtpServer{user: tt.user, password: "s3cret"}
			port := startSMTP(t, backend, cert, tt.starttls, tt.implicit)
			sender, err := mail.NewSMTPSender(mail.SMTPConfig{
				Host: "127.0.0.1", Port: port, Security: tt.security,
				Username: tt.user, Password: "s3cret",
				From:      "gpcore <noreply@cloud.example.com>",
				TLSConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
			})
			if err != nil {
				t.Fatalf("NewSMTPSender: %v", err)
			}
			if err := sender.Send(t.Context(), msg); err != nil {
				t.Fatalf("Send: %v", err)
			}
			got := backend.messages()
			if len(got) != 1 || got[0].from != "noreply@cloud.example.com" || strings.Join(got[0].to, ",") != "jane@example.com" {
				t.Fatalf("server received %+v", got)
			}
			h, body := parse(t, got[0].data)
			subject, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
			if err != nil || subject != msg.Subject {
				t.Errorf("Subject = %q (%v), want %q", subject, err, msg.Subject)
			}
			if !strings.HasPrefix(h.Get("Content-Type"), "text/plain") || !strings.Contains(strings.ToLower(h.Get("Content-Type")), "utf-8") ||
				h.Get("Date") == "" || h.Get("Message-Id") == "" || !strings.Contains(h.Get("From"), "noreply@cloud.example.com") ||
				h.Get("To") != "<jane@example.com>" {
				t.Errorf("headers = %v", h)
			}
			if strings.ReplaceAll(body, "\r\n", "\n") != msg.Body {
				t.Errorf("body = %q, want %q", body, msg.Body)
			}
		})
	}
}

func TestSMTPSenderRefusals(t *testing.T) {
	cert, pool := selfSigned(t)
	msg := mail.Message{To: "jane@example.com", Subject: "Hello", Body: "hi\n"}
	send := func(t *testing.T, backend *smtpServer, port int, cfg mail.SMTPConfig) error {
		t.Helper()
		cfg.Host, cfg.Port, cfg.From = "127.0.0.1", port, "noreply@cloud.example.com"
		sender, err := mail.NewSMTPSender(cfg)
		if err != nil {
			t.Fatalf("NewSMTPSender: %v", err)
		}
		err = sender.Send(t.Context(), msg)
		if n := len(backend.messages()); n != 0 {
			t.Fatalf("server received %d messages despite the refusal", n)
		}
		return err
	}

	t.Run("server without STARTTLS", func(t *testing.T) {
		backend := &smtpServer{}
		port := startSMTP(t, backend, cert, false, false)
		if err := send(t, backend, port, mail.SMTPConfig{Security: mail.StartTLS}); err == nil || !strings.Contains(err.Error(), "STARTTLS") {
			t.Fatalf("Send = %v, want a refusal for the missing STARTTLS", err)
		}
	})
	t.Run("untrusted certificate", func(t *testing.T) {
		backend := &smtpServer{}
		port := startSMTP(t, backend, cert, true, false)
		if err := send(t, backend, port, mail.SMTPConfig{Security: mail.StartTLS}); err == nil {
			t.Fatal("Send trusted a self-signed certificate")
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		backend := &smtpServer{user: "mailer", password: "s3cret"}
		port := startSMTP(t, backend, cert, true, false)
		err := send(t, backend, port, mail.SMTPConfig{Security: mail.StartTLS, Username: "mailer", Password: "guess",
			TLSConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}})
		if err == nil {
			t.Fatal("Send with a wrong password succeeded")
		}
	})
	t.Run("no server", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		_ = ln.Close()
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		sender, err := mail.NewSMTPSender(mail.SMTPConfig{Host: "127.0.0.1", Port: port, From: "noreply@cloud.example.com"})
		if err != nil {
			t.Fatal(err)
		}
		if err := sender.Send(ctx, msg); err == nil {
			t.Fatal("Send without a server succeeded")
		}
	})
}

func TestNewSMTPSenderRefusals(t *testing.T) {
	for name, cfg := range map[string]mail.SMTPConfig{
		"no host":        {From: "noreply@example.com"},
		"no sender":      {Host: "smtp.example.com"},
		"bad sender":     {Host: "smtp.example.com", From: "noreply"},
		"port too large": {Host: "smtp.example.com", From: "noreply@example.com", Port: 70000},
	} {
		if _, err := mail.NewSMTPSender(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestParseSMTPURL(t *testing.T) {
	tests := []struct {
		url  string
		want mail.SMTPConfig
	}{
		{"smtp://smtp.example.com", mail.SMTPConfig{Host: "smtp.example.com", Security: mail.StartTLS}},
		{"smtp://mailer%40example.com:p%40ss:word@smtp.example.com:2525", mail.SMTPConfig{
			Host: "smtp.example.com", Port: 2525, Security: mail.StartTLS, Username: "mailer@example.com", Password: "p@ss:word"}},
		{"smtps://u:p@smtp.example.com", mail.SMTPConfig{Host: "smtp.example.com", Security: mail.ImplicitTLS, Username: "u", Password: "p"}},
		{"smtp://127.0.0.1:25?tls=none", mail.SMTPConfig{Host: "127.0.0.1", Port: 25, Security: mail.NoTLS}},
		{"smtp://[::1]:25/?tls=none", mail.SMTPConfig{Host: "::1", Port: 25, Security: mail.NoTLS}},
	}
	for _, tt := range tests {
		got, err := mail.ParseSMTPURL(tt.url, "noreply@example.com")
		tt.want.From = "noreply@example.com"
		if err != nil || got != tt.want {
			t.Errorf("ParseSMTPURL(%q) = %+v, %v; want %+v", tt.url, got, err, tt.want)
		}
	}
	for _, bad := range []string{
		"http://smtp.example.com",
		"smtp://smtp.example.com/inbox",
		"smtp://smtp.example.com?tls=yes",
		"smtps://smtp.example.com?tls=none",
		"smtp://smtp.example.com?timeout=3",
		"smtp://smtp.example.com:port",
		"smtp://smtp.example.com#x",
		"smtp:// bad",
	} {
		if got, err := mail.ParseSMTPURL(bad, "noreply@example.com"); err == nil {
			t.Errorf("ParseSMTPURL(%q) = %+v, want an error", bad, got)
		}
	}
}
