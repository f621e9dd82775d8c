package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/gpcore/gpcore/internal/app"
	"github.com/gpcore/gpcore/internal/jobs"
)

// addStorageFlags declares the flags every command that opens the database shares.
func addStorageFlags(cmd *cobra.Command, cfg *app.Config) {
	cmd.Flags().StringVar(&cfg.DataDir, "data-dir", app.DefaultDataDir(),
		"directory of the embedded default (holds the SQLite database); serve and migrate create it, other commands need it there")
	cmd.Flags().StringVar(&cfg.Database, "database", "",
		"PostgreSQL DSN (postgres://user@host:5432/db?sslmode=disable); empty means SQLite in --data-dir")
	cmd.Flags().StringVar(&cfg.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
	cmd.Flags().StringVar(&cfg.LogFormat, "log-format", "text", "log format: text or json")
}

func newServeCommand() *cobra.Command {
	var cfg app.Config
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the control plane: every API service on one port",
		Long: `Run the gpcore control plane. One port serves gRPC, gRPC-Web and Connect
(HTTP/1.1 and h2c), gRPC server reflection, the gRPC health service, the
OpenID Connect issuer (/realms/gpcore/...), Prometheus metrics (/metrics) and
plain health endpoints (/healthz, /readyz).

With no configuration it runs the embedded default: SQLite in --data-dir and a
simulated datacenter seeded on first start. On the first start of an empty
database an operator account is created and its credentials printed once.

Every flag can also be given as an environment variable: --data-dir is
GPCORE_DATA_DIR. A flag on the command line wins over the environment.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return app.Serve(cmd.Context(), cfg, cmd.OutOrStdout())
		},
	}
	addStorageFlags(cmd, &cfg)
	f := cmd.Flags()
	f.StringVar(&cfg.Listen, "listen", "127.0.0.1:8080", "host:port to serve the API on")
	f.StringVar(&cfg.SeedFile, "seed", "", "catalog seed file loaded into an empty catalog on first start; empty means the embedded simulated datacenter")
	f.StringVar(&cfg.PublicURL, "public-url", "", "base URL clients reach this server at; tokens are issued for <public-url>/realms/gpcore (default http://<listen>)")
	f.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", 20*time.Second, "how long a graceful shutdown on SIGTERM may take")
	f.DurationVar(&cfg.AccessTokenTTL, "access-token-ttl", 15*time.Minute, "lifetime of issued access tokens")
	f.DurationVar(&cfg.RefreshTokenTTL, "refresh-token-ttl", 30*24*time.Hour, "lifetime of issued refresh tokens")
	f.StringVar(&cfg.SellerCountry, "seller-country", "DE", "the operator's ISO 3166-1 country: decides domestic VAT and reverse charge")
	f.StringVar(&cfg.SellerName, "seller-name", "", "the operator's name on invoices (default \"gpcore\")")
	f.StringVar(&cfg.SellerAddress, "seller-address", "", "the operator's postal address on invoices; separate lines with \\n")
	f.StringVar(&cfg.SellerVATID, "seller-vat-id", "", "the operator's VAT identification number on invoices")
	f.StringVar(&cfg.StripeSecretKey, "stripe-secret-key", "", "Stripe secret API key; with --stripe-webhook-secret it replaces the built-in test payment provider")
	f.StringVar(&cfg.StripeWebhookSecret, "stripe-webhook-secret", "", "signing secret of the Stripe webhook endpoint POST <public-url>/webhooks/stripe")
	f.StringVar(&cfg.Currency, "currency", "EUR", "ISO 4217 currency new projects are priced and billed in: EUR or USD; a project keeps its currency, so every replica needs the same value")
	f.StringVar(&cfg.LagoURL, "lago-url", "", "base URL of a Lago server whose plans are the plan catalog (with --lago-api-key)")
	f.StringVar(&cfg.LagoAPIKey, "lago-api-key", "", "Lago API key")
	f.StringVar(&cfg.SMTPURL, "smtp-url", "", "SMTP server for mail: smtp://user:password@host:587 (STARTTLS), smtps://user:password@host:465 (TLS) or smtp://host:25?tls=none; empty means mail is written to the log")
	f.StringVar(&cfg.MailFrom, "mail-from", "", `sender of gpcore's mail, e.g. "gpcore <noreply@example.com>"; required with --smtp-url`)
	f.DurationVar(&cfg.SimStepDelay, "sim-step-delay", app.DefaultSimStepDelay, "how long the simulated hardware stays in each provisioning state (DEPLOYING, DEPLOY_WAIT, ...); 0 finishes every operation at once")
	f.DurationVar(&cfg.JobTimeout, "job-timeout", jobs.DefaultJobTimeout, "how long one attempt of a durable job (install, power, ...) may run")
	f.DurationVar(&cfg.JobRescueAfter, "job-rescue-after", jobs.DefaultRescueStuckJobsAfter, "how long a job may stay running before it is taken for the leftover of a crashed process and run again; more than --job-timeout")
	f.StringSliceVar(&cfg.TrustedProxies, "trusted-proxies", nil, "reverse proxies whose X-Forwarded-For header gives the caller's IP address in the audit log: comma-separated CIDR prefixes or addresses (10.0.0.0/8,192.0.2.1); empty means the header is ignored")
	bindEnv(cmd)
	return cmd
}

func newMigrateCommand() *cobra.Command {
	var cfg app.Config
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply the database migrations and exit",
		Long: `Apply every pending schema migration to the database and exit. gpcore serve
does the same at start; this command lets an operator migrate before rolling
out new replicas.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return app.Migrate(cmd.Context(), cfg, cmd.OutOrStdout())
		},
	}
	addStorageFlags(cmd, &cfg)
	bindEnv(cmd)
	return cmd
}
