package app

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/grpcreflect"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gpcore/gpcore/gen/gpcore/api/auth/v1/authv1connect"
	"github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1/cloudv1connect"
	"github.com/gpcore/gpcore/gen/gpcore/api/cloud/v2/cloudv2connect"
	"github.com/gpcore/gpcore/gen/gpcore/api/gateway/v1/gatewayv1connect"
	"github.com/gpcore/gpcore/gen/gpcore/api/metadata/v1/metadatav1connect"
	"github.com/gpcore/gpcore/gen/gpcore/api/network/v1/networkv1connect"
	"github.com/gpcore/gpcore/gen/gpcore/api/payment/v1/paymentv1connect"
	apiauthv1 "github.com/gpcore/gpcore/internal/api/authv1"
	apicloudv1 "github.com/gpcore/gpcore/internal/api/cloudv1"
	apicloudv2 "github.com/gpcore/gpcore/internal/api/cloudv2"
	apihealthv1 "github.com/gpcore/gpcore/internal/api/healthv1"
	"github.com/gpcore/gpcore/internal/api/interceptor"
	"github.com/gpcore/gpcore/internal/api/jsoncodec"
	apipaymentv1 "github.com/gpcore/gpcore/internal/api/paymentv1"
	"github.com/gpcore/gpcore/internal/audit"
	"github.com/gpcore/gpcore/internal/auth"
	"github.com/gpcore/gpcore/internal/billing"
	"github.com/gpcore/gpcore/internal/catalog"
	"github.com/gpcore/gpcore/internal/identity"
	"github.com/gpcore/gpcore/internal/keyring"
	"github.com/gpcore/gpcore/internal/mail"
	"github.com/gpcore/gpcore/internal/node"
	"github.com/gpcore/gpcore/internal/notify"
	"github.com/gpcore/gpcore/internal/project"
)

// build creates the domain services and the HTTP handler serving them.
func (a *App) build(ctx context.Context, out io.Writer) error {
	if err := a.seedCatalog(ctx); err != nil {
		return err
	}
	sender, err := a.mailSender()
	if err != nil {
		return err
	}
	a.relay = mail.NewRelay(a.db, sender, mail.RelayConfig{Logger: a.log})
	// The hub first: every domain that changes what subscribers see
	// publishes to it. It starts with Serve (startBackground).
	hub, err := notify.New(ctx, a.db, notify.Config{Logger: a.log})
	if err != nil {
		return fmt.Errorf("notification hub: %w", err)
	}
	a.hub = hub
	users, err := identity.New(a.db, identity.Config{
		PublicURL:  a.cfg.PublicURL,
		MailQueued: a.relay.Wake,
		Hub:        hub,
		Audience:   project.UserAudience,
		Logger:     a.log,
		Now:        a.cfg.Now,
	})
	if err != nil {
		return err
	}
	if err := a.ensureOperator(ctx, users, out); err != nil {
		return err
	}
	issuer, err := auth.NewIssuer(ctx, a.db, users, auth.Config{
		PublicURL:       a.cfg.PublicURL,
		AccessTokenTTL:  a.cfg.AccessTokenTTL,
		RefreshTokenTTL: a.cfg.RefreshTokenTTL,
		Logger:          a.log,
		Now:             a.cfg.Now,
	})
	if err != nil {
		return fmt.Errorf("start token issuer: %w", err)
	}
	cat := catalog.New(a.db)
	bill, paymentRoutes, err := a.buildBilling()
	if err != nil {
		return err
	}
	projects, err := project.New(a.db, project.Config{
		Currency: project.Currency(a.cfg.Currency), Billing: bill, Hub: hub, Now: a.cfg.Now,
		DeletionGuards: []project.DeletionGuard{node.DeletionGuard{}, billing.DeletionGuard{}},
	})
	if err != nil {
		return err
	}
	keys := keyring.New(a.db, projects)
	nodes, err := a.buildNodes(cat, projects, keys, bill, issuer)
	if err != nil {
		return err
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	a.audit = audit.New(a.db, audit.Config{Registerer: reg, Logger: a.log})
	// Outermost first. Audit sits outside Errors, to record the codes callers
	// get, and outside Policy, which tells it the verified caller; Logging
	// inside Audit logs the request id.
	opts := connect.WithHandlerOptions(
		connect.WithInterceptors(
			interceptor.NewMetrics(reg),
			interceptor.NewAudit(a.audit, a.cfg.trustedProxies),
			interceptor.Logging{Log: a.log},
			interceptor.Errors{Log: a.log},
			interceptor.NewPolicy(issuer),
		),
		// Gzip only what is worth it: compressing tiny answers cost a fifth
		// of a trivial call's CPU (docs/performance.md).
		connect.WithCompressMinBytes(1024),
		// JSON that names an enum value the API does not have is refused.
		jsoncodec.HandlerOptions(),
	)

	mux := http.NewServeMux()
	services := []string{}
	mount := func(path string, h http.Handler) {
		mux.Handle(path, h)
		services = append(services, path[1:len(path)-1])
	}
	mount(authv1connect.NewAuthServiceHandler(apiauthv1.New(users, issuer), opts))
	cloud := apicloudv1.New(cat, projects, keys, users, nodes, a.hub, bill)
	mount(cloudv1connect.NewCloudServiceHandler(cloud, opts))
	mount(cloudv2connect.NewCloudServiceHandler(apicloudv2.New(a.db, cloud, a.log), opts))
	mount(gatewayv1connect.NewGatewayServiceHandler(gatewayv1connect.UnimplementedGatewayServiceHandler{}, opts))
	mount(metadatav1connect.NewMetadataServiceHandler(metadatav1connect.UnimplementedMetadataServiceHandler{}, opts))
	mount(networkv1connect.NewNetworkServiceHandler(networkv1connect.UnimplementedNetworkServiceHandler{}, opts))
	mount(paymentv1connect.NewPaymentServiceHandler(apipaymentv1.New(bill), opts))

	reflector := grpcreflect.NewStaticReflector(append(slices.Clone(services),
		apihealthv1.ServiceName, grpcreflect.ReflectV1ServiceName, grpcreflect.ReflectV1AlphaServiceName)...)
	mux.Handle(grpcreflect.NewHandlerV1(reflector))
	mux.Handle(grpcreflect.NewHandlerV1Alpha(reflector))
	a.health = apihealthv1.New(a.db, services, a.log, 0)
	mux.Handle(apihealthv1.NewHandler(a.health))

	mux.Handle("/realms/", issuer.Handler())
	mux.Handle("GET "+identity.ConfirmPath, users.ConfirmHandler())
	for pattern, h := range paymentRoutes {
		mux.Handle(pattern, h)
	}
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := a.db.PingContext(ctx); err != nil {
			a.log.WarnContext(ctx, "readiness: the database does not answer", "err", err)
			http.Error(w, "database unavailable", http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "ready\n")
	})
	a.handler = mux
	return nil
}

// ensureOperator creates the operator account on an empty database and
// prints its credentials once.
func (a *App) ensureOperator(ctx context.Context, users *identity.Service, out io.Writer) error {
	created, email, password, err := users.EnsureOperator(ctx)
	if err != nil {
		return fmt.Errorf("create operator account: %w", err)
	}
	if created {
		fmt.Fprintf(out, "\nAn operator account was created. Its password is shown only this once:\n\n  e-mail:   %s\n  password: %s\n\n", email, password)
	}
	return nil
}

// mailSender is where mail goes: Config.MailSender when set (tests), the SMTP
// server of --smtp-url, or else the log.
func (a *App) mailSender() (mail.Sender, error) {
	switch {
	case a.cfg.MailSender != nil:
		return a.cfg.MailSender, nil
	case a.cfg.SMTPURL == "":
		a.log.Warn("no SMTP server configured (--smtp-url): mail, confirmation links included, is written to the log")
		return mail.LogSender{Log: a.log}, nil
	}
	smtpCfg, err := mail.ParseSMTPURL(a.cfg.SMTPURL, a.cfg.MailFrom)
	if err != nil {
		return nil, fmt.Errorf("--smtp-url: %w", err)
	}
	sender, err := mail.NewSMTPSender(smtpCfg)
	if err != nil {
		return nil, fmt.Errorf("--smtp-url, --mail-from: %w", err)
	}
	return sender, nil
}
