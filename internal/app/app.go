// Package app wires gpcore together: configuration to database to domain
// services to the HTTP server. It is the one place that builds the object
// graph; everything else receives its dependencies.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	apihealthv1 "github.com/gpcore/gpcore/internal/api/healthv1"
	"github.com/gpcore/gpcore/internal/audit"
	"github.com/gpcore/gpcore/internal/jobs"
	"github.com/gpcore/gpcore/internal/mail"
	"github.com/gpcore/gpcore/internal/notify"
	"github.com/gpcore/gpcore/internal/store"
	"github.com/gpcore/gpcore/internal/version"
)

// App is a built control plane, ready to serve.
type App struct {
	cfg     Config
	log     *slog.Logger
	db      *store.DB
	handler http.Handler
	// relay delivers queued mail while Serve runs.
	relay *mail.Relay
	// audit is the audit log; Serve runs its writer.
	audit *audit.Log
	// hub carries change notifications and queue works the durable jobs,
	// both while Serve runs (startBackground).
	hub   *notify.Hub
	queue *jobs.Queue
	// health is the gRPC health service, NOT_SERVING once shutdown begins.
	health *apihealthv1.Service
}

// New opens and migrates the database, seeds an empty catalog, makes sure an
// operator account exists (printing its credentials to out when it was just
// created) and builds every service.
func New(ctx context.Context, cfg Config, out io.Writer) (*App, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	log, err := cfg.NewLogger()
	if err != nil {
		return nil, err
	}
	db, err := openMigrated(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	a := &App{cfg: cfg, log: log, db: db}
	if err := a.build(ctx, out); err != nil {
		_ = db.Close()
		return nil, err
	}
	return a, nil
}

func openMigrated(ctx context.Context, cfg Config, log *slog.Logger) (*store.DB, error) {
	db, err := store.Open(ctx, store.Config{DSN: cfg.Database, DataDir: cfg.DataDir})
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if err := db.Migrate(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("migrate database: %w", err)
	}
	if err := jobs.Migrate(ctx, db); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("migrate job queue: %w", err)
	}
	if cfg.Database == "" {
		log.Info("database ready", "dialect", db.Dialect.String(), "file", filepath.Join(cfg.DataDir, store.SQLiteFile))
	} else {
		log.Info("database ready", "dialect", db.Dialect.String())
	}
	return db, nil
}

// Handler returns the HTTP handler that serves every endpoint.
func (a *App) Handler() http.Handler { return a.handler }

// Close releases the database.
func (a *App) Close() error { return a.db.Close() }

// Serve serves on ln until ctx is done, then shuts down gracefully: it stops
// accepting, lets running requests finish within the shutdown timeout and
// ends open streams.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	srv := &http.Server{
		Handler:           a.handler,
		Protocols:         &protocols,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	defer a.background(ctx, "mail relay", a.relay.Run)()
	// Stopped after the server has shut down, when no call records any more;
	// the writer then writes everything still queued.
	defer a.background(ctx, "audit log writer", a.audit.Run)()
	if err := a.startBackground(ctx); err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	a.log.Info("serving", "addr", ln.Addr().String(), "public_url", a.cfg.PublicURL, "version", version.String())
	select {
	case err := <-errc:
		a.stopBackground(context.WithoutCancel(ctx))
		return err
	case <-ctx.Done():
	}
	a.log.Info("shutting down", "timeout", a.cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	defer cancel()
	// The streams first, which Shutdown would otherwise wait for until its
	// deadline: health watchers hear NOT_SERVING, and stopping the hub ends
	// the notification streams.
	a.health.Shutdown()
	a.stopHub(sctx)
	err := srv.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = srv.Close()
	}
	a.stopQueue(sctx)
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		return serr
	}
	return err
}

// Serve builds the app from cfg and serves on cfg.Listen until ctx is done.
// It binds the port first, so a start that cannot serve changes nothing (and
// does not use up the operator's once-printed password).
func Serve(ctx context.Context, cfg Config, out io.Writer) error {
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("--listen %s: %w", cfg.Listen, err)
	}
	defer ln.Close()
	if cfg.PublicURL == "" {
		cfg.PublicURL = "http://" + ln.Addr().String() // the real port when --listen asks for :0
	}
	a, err := New(ctx, cfg, out)
	if err != nil {
		return err
	}
	defer a.Close()
	return a.Serve(ctx, ln)
}

// Migrate applies the pending migrations and returns.
func Migrate(ctx context.Context, cfg Config, out io.Writer) error {
	cfg.Listen = "127.0.0.1:0" // not used, but validate wants one
	if err := cfg.validate(); err != nil {
		return err
	}
	log, err := cfg.NewLogger()
	if err != nil {
		return err
	}
	db, err := openMigrated(ctx, cfg, log)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "migrations applied; the database is up to date")
	return db.Close()
}
