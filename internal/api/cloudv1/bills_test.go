package cloudv1_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/riverqueue/river"
	"google.golang.org/protobuf/proto"

	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	"github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1/cloudv1connect"
	cloudv2 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v2"
	"github.com/gpcore/gpcore/gen/gpcore/api/cloud/v2/cloudv2connect"
	paymentv1 "github.com/gpcore/gpcore/gen/gpcore/api/payment/v1"
	"github.com/gpcore/gpcore/gen/gpcore/api/payment/v1/paymentv1connect"
	typev1 "github.com/gpcore/gpcore/gen/gpcore/type/v1"
	apicloudv1 "github.com/gpcore/gpcore/internal/api/cloudv1"
	apicloudv2 "github.com/gpcore/gpcore/internal/api/cloudv2"
	"github.com/gpcore/gpcore/internal/api/interceptor"
	apipaymentv1 "github.com/gpcore/gpcore/internal/api/paymentv1"
	"github.com/gpcore/gpcore/internal/app"
	"github.com/gpcore/gpcore/internal/auth"
	"github.com/gpcore/gpcore/internal/billing"
	"github.com/gpcore/gpcore/internal/billing/billingtest"
	"github.com/gpcore/gpcore/internal/billing/metering"
	"github.com/gpcore/gpcore/internal/catalog"
	"github.com/gpcore/gpcore/internal/identity"
	"github.com/gpcore/gpcore/internal/jobs"
	"github.com/gpcore/gpcore/internal/keyring"
	"github.com/gpcore/gpcore/internal/node"
	"github.com/gpcore/gpcore/internal/notify"
	"github.com/gpcore/gpcore/internal/pagination"
	"github.com/gpcore/gpcore/internal/project"
	"github.com/gpcore/gpcore/internal/provision/sim"
	"github.com/gpcore/gpcore/internal/store"
	"github.com/gpcore/gpcore/internal/store/storetest"
	"github.com/gpcore/gpcore/internal/testserver"
)

// billServer is CloudService v1 and v2 and PaymentService (with the test
// provider's card confirmation) on an in-process server, with the
// interceptors gpcore puts in front of them (errors, authorization), over
// services whose clock the test moves: a month passes in no time.
type billServer struct {
	url      string
	db       *store.DB
	clock    *billingtest.Clock
	identity *identity.Service
	issuer   *auth.Issuer
	billing  *billing.Service
	projects *project.Service
}

func startBillServer(t *testing.T) *billServer {
	t.Helper()
	return newBillServer(t, false)
}

// startNodeBillServer is startBillServer with the node domain too: the
// node service, its deletion guard, the notification hub and a job queue
// driving simulated hardware on the test's clock, so that an installation or
// a teardown stays where it is until the test moves the clock, and working
// the billing jobs but for the sweep (startNodes).
func startNodeBillServer(t *testing.T) *billServer {
	t.Helper()
	return newBillServer(t, true)
}

func newBillServer(t *testing.T, withNodes bool) *billServer {
	t.Helper()
	ctx := t.Context()
	db := storetest.New(t)
	if err := catalog.Seed(ctx, db, catalog.DefaultSeed()); err != nil {
		t.Fatal(err)
	}
	clk := &billingtest.Clock{}
	clk.Set(time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC))
	ids, err := identity.New(db, identity.Config{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	issuer, err := auth.NewIssuer(ctx, db, ids, auth.Config{PublicURL: "http://127.0.0.1", AccessTokenTTL: 24 * 365 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	b, err := billing.New(db, billing.Config{
		Now: clk.Now, Logger: log,
		Seller: billing.Seller{Name: "Bare Metal GmbH", Address: "Hauptstraße 1\n60311 Frankfurt am Main", VATID: "DE111111111"},
	})
	if err != nil {
		t.Fatal(err)
	}
	guards := []project.DeletionGuard{billing.DeletionGuard{}}
	if withNodes {
		guards = append([]project.DeletionGuard{node.DeletionGuard{}}, guards...)
	}
	projects, err := project.New(db, project.Config{Billing: b, Now: clk.Now, DeletionGuards: guards})
	if err != nil {
		t.Fatal(err)
	}
	cat, keys := catalog.New(db), keyring.New(db, projects)
	var nodes *node.Service
	var hub *notify.Hub
	if withNodes {
		nodes, hub = startNodes(t, db, clk, cat, projects, keys, issuer, b)
	}
	cloud := apicloudv1.New(cat, projects, keys, ids, nodes, hub, b)
	opts := connect.WithInterceptors(interceptor.Errors{Log: log}, interceptor.NewPolicy(issuer))
	mux := http.NewServeMux()
	mux.Handle(cloudv1connect.NewCloudServiceHandler(cloud, opts))
	mux.Handle(cloudv2connect.NewCloudServiceHandler(apicloudv2.New(db, cloud, log), opts))
	mux.Handle(paymentv1connect.NewPaymentServiceHandler(apipaymentv1.New(b), opts))
	mux.Handle("POST /payment/test/confirm", billing.TestConfirmHandler(b))
	srv := testserver.Serve(t, mux)
	return &billServer{url: srv.URL, db: db, clock: clk, identity: ids, issuer: issuer, billing: b, projects: projects}
}

// startNodes runs the node domain on db until the test ends: a started
// notification hub, a started job queue working the node jobs on simulated
// hardware that takes sim.DefaultDurations on clk and the billing jobs b
// enqueues (no sweep: tests run it), and the node service.
func startNodes(t *testing.T, db *store.DB, clk *billingtest.Clock, cat *catalog.Catalog, projects *project.Service, keys *keyring.Service, tokens node.ConsoleTokens, b *billing.Service) (*node.Service, *notify.Hub) {
	t.Helper()
	ctx := t.Context()
	log := slog.New(slog.DiscardHandler)
	if err := jobs.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	hub, err := notify.New(ctx, db, notify.Config{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	if err := hub.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = hub.Stop(context.Background()) })
	driver := sim.New(sim.Config{Clock: clk, Durations: sim.DefaultDurations()})
	workers := river.NewWorkers()
	if err := node.AddWorkers(workers, db, node.WorkerConfig{
		Projects: projects, Hub: hub, Now: clk.Now, PollInterval: 20 * time.Millisecond, Driver: driver,
	}); err != nil {
		t.Fatal(err)
	}
	if err := billing.AddWorkers(workers, b); err != nil {
		t.Fatal(err)
	}
	// No periodic jobs: the billing sweep runs when a test calls it.
	queue, err := jobs.New(db, jobs.Config{Workers: workers, PollInterval: 100 * time.Millisecond, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	b.UseQueue(queue)
	if err := queue.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stop, cancel := context.WithTimeout(context.Background(), nodeWait)
		defer cancel()
		_ = queue.Stop(stop)
	})
	nodes, err := node.New(db, node.Config{Catalog: cat, Projects: projects, Keys: keys, Hub: hub, Queue: queue,
		Driver: driver, ConsoleTokens: tokens, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return nodes, hub
}

// customer is a person in Berlin with a German company's billing profile, a
// test card and a project billed to it, and an access token.
type customer struct {
	user    identity.User
	token   string
	profile billing.Profile
	project project.Project
}

func (s *billServer) customer(t *testing.T, email string) customer {
	t.Helper()
	return payingCustomer(t, s.identity, s.issuer, s.billing, s.projects, email, "Europe/Berlin", billing.ProfileInput{
		Name: "Ada Lovelace", Company: "Analytical Engines GmbH", VATID: "DE123456789", CountryCode: "DE",
		Street: "Königsallee 5", City: "Düsseldorf", Postcode: "40212", BillingEmail: "billing@example.com",
	}, "Web shop")
}

// payingCustomer registers email in timezone, gives them the billing
// profile profile with a confirmed test card and a project billed to it,
// and signs them in.
func payingCustomer(t *testing.T, ids *identity.Service, issuer *auth.Issuer, b *billing.Service, projects *project.Service,
	email, timezone string, profile billing.ProfileInput, projectName string,
) customer {
	t.Helper()
	ctx := t.Context()
	u, err := ids.Register(ctx, identity.RegisterInput{Email: email, Password: "Correct-Horse-42", FirstName: "Ada", LastName: "Lovelace"})
	if err != nil {
		t.Fatal(err)
	}
	if u, err = ids.UpdateTimezone(ctx, u.ID, timezone); err != nil {
		t.Fatal(err)
	}
	tokens, err := issuer.IssueForUser(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	p, err := b.CreateProfile(ctx, u.ID, profile)
	if err != nil {
		t.Fatal(err)
	}
	setup, err := b.BeginCardSetup(ctx, u.ID, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.ConfirmTestCard(ctx, setup.ClientSecret, "tok_visa"); err != nil {
		t.Fatal(err)
	}
	pr, err := projects.Create(ctx, u.ID, project.CreateInput{Name: projectName, BillingProfileID: p.ID})
	if err != nil {
		t.Fatal(err)
	}
	return customer{user: u, token: tokens.AccessToken, profile: p, project: pr}
}

// addCard adds the test card of token to the customer's billing profile.
func (s *billServer) addCard(t *testing.T, c customer, token string) billing.Card {
	t.Helper()
	setup, err := s.billing.BeginCardSetup(t.Context(), c.user.ID, c.profile.ID)
	if err != nil {
		t.Fatal(err)
	}
	card, err := s.billing.ConfirmTestCard(t.Context(), setup.ClientSecret, token)
	if err != nil {
		t.Fatal(err)
	}
	return card
}

// defaultCard returns the default card of the customer's billing profile.
func (s *billServer) defaultCard(t *testing.T, c customer) billing.Card {
	t.Helper()
	all, err := pagination.Request{}.Resolve(billing.BillsPageLimit)
	if err != nil {
		t.Fatal(err)
	}
	cards, _, err := s.billing.ListCards(t.Context(), c.user.ID, c.profile.ID, all)
	if err != nil {
		t.Fatal(err)
	}
	for _, card := range cards {
		if card.Default {
			return card
		}
	}
	t.Fatalf("no default card among %+v", cards)
	return billing.Card{}
}

func (s *billServer) v1(token string, opts ...connect.ClientOption) cloudv1connect.CloudServiceClient {
	return cloudv1connect.NewCloudServiceClient(testserver.H2CClient(), s.url, testserver.ClientOptions(token, opts...)...)
}

func (s *billServer) v2(token string, opts ...connect.ClientOption) cloudv2connect.CloudServiceClient {
	return cloudv2connect.NewCloudServiceClient(testserver.H2CClient(), s.url, testserver.ClientOptions(token, opts...)...)
}

// berlin parses "2006-01-02 15:04" on Berlin's clock.
func berlin(t *testing.T, s string) time.Time {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v.UTC()
}

// TestMonthOfActivityGivesABill runs November 2026 of a customer's project
// (nodes ordered, billed per hour and per month, a Windows licence,
// destroyed), closes the month with a moved clock, and reads the bill
// through the API: its details, its PDF (whose totals are the details'),
// the lists in v1 and v2.
func TestMonthOfActivityGivesABill(t *testing.T) {
	t.Parallel()
	s := startBillServer(t)
	c := s.customer(t, "ada@example.com")
	win := billingtest.OrderNode(t, s.db, billingtest.Order{ProjectID: c.project.ID, FlavourID: billingtest.FlavourL1, ImageID: billingtest.Windows,
		FQDN: "win.example.com", At: berlin(t, "2026-11-10 10:59")})
	billingtest.Destroy(t, s.db, win, berlin(t, "2026-11-10 12:01"))
	billingtest.OrderNode(t, s.db, billingtest.Order{ProjectID: c.project.ID, FlavourID: billingtest.FlavourS1,
		FQDN: "db.example.com", Period: metering.Monthly, At: berlin(t, "2026-11-15 08:00")})
	web := billingtest.OrderNode(t, s.db, billingtest.Order{ProjectID: c.project.ID, FlavourID: billingtest.FlavourS1,
		FQDN: "web.example.com", At: berlin(t, "2026-11-20 00:00")})
	billingtest.Destroy(t, s.db, web, berlin(t, "2026-11-22 00:00"))

	s.clock.Set(berlin(t, "2026-12-01 00:05"))
	if err := s.billing.Sweep(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, proto := range cloudProtocols {
		t.Run(proto.name, func(t *testing.T) {
			v1, v2 := s.v1(c.token, proto.opts...), s.v2(c.token, proto.opts...)
			list, err := v1.ListBillingProfileBills(ctx, connect.NewRequest(&cloudv1.ListBillingProfileBillsRequest{Id: c.profile.ID}))
			if err != nil {
				t.Fatal(err)
			}
			if len(list.Msg.GetBills()) != 1 || list.Msg.GetTotal() != 1 || len(list.Msg.GetYears()) != 1 || list.Msg.GetYears()[0] != 2026 {
				t.Fatalf("bills %v", list.Msg)
			}
			b := list.Msg.GetBills()[0]
			if b.GetNumber() != "000001" || b.GetStatus() != cloudv1.BillStatus_BILL_STATUS_SUCCEEDED ||
				b.GetBillingProfile().GetCompany().GetVatId() != "DE123456789" || b.GetIssuedAt() == nil {
				t.Fatalf("bill %v", b)
			}

			details, err := v1.GetBillingProfileBillDetails(ctx, connect.NewRequest(&cloudv1.GetBillingProfileBillDetailsRequest{Id: c.profile.ID, BillId: b.GetId()}))
			if err != nil {
				t.Fatal(err)
			}
			d := details.Msg
			// win: 3 hours of 0.55 and its licence month (32 cores: 200.00);
			// db: its first term of 59.00; web: 48 hours of 0.10. The tax,
			// 19 % of 265.45, is 50.4355, rounded to 50.44.
			const net = 3*55 + 20000 + 5900 + 48*10
			if d.GetBill().GetNetPrice().GetAmount() != net || d.GetUsage().GetTotal().GetAmount() != net ||
				d.GetBill().GetTaxPrice().GetAmount() != 5044 || d.GetBill().GetTotalPrice().GetAmount() != net+5044 ||
				d.GetBill().GetNetPrice().GetFormatted() != "€265.45" {
				t.Fatalf("details %v", d)
			}
			units := map[cloudv1.UsageUnitType]float64{}
			for _, f := range d.GetUsage().GetFlavourUsages() {
				units[f.GetUnitType()] += f.GetUnits()
			}
			if units[cloudv1.UsageUnitType_USAGE_UNIT_TYPE_HOURS] != 51 || units[cloudv1.UsageUnitType_USAGE_UNIT_TYPE_MONTHS] != 1 ||
				units[cloudv1.UsageUnitType_USAGE_UNIT_TYPE_CORES] != 32 {
				t.Fatalf("units %v in %v", units, d.GetUsage())
			}

			pdf, err := v1.GetBillingProfileBillPdf(ctx, connect.NewRequest(&cloudv1.GetBillingProfileBillPdfRequest{Id: c.profile.ID, BillId: b.GetId()}))
			if err != nil {
				t.Fatal(err)
			}
			if pdf.Msg.GetPdf().GetMimeType() != "application/pdf" {
				t.Fatalf("mime type %q", pdf.Msg.GetPdf().GetMimeType())
			}
			text := billingtest.PDFText(t, pdf.Msg.GetPdf().GetBytes())
			bill := d.GetBill()
			for label, price := range map[string]int64{
				"Net amount": bill.GetNetPrice().GetAmount(), "VAT 19 %": bill.GetTaxPrice().GetAmount(),
				"Gross amount": bill.GetGrossPrice().GetAmount(), "Total due": bill.GetTotalPrice().GetAmount(),
			} {
				if want := billingtest.Formatted(price, "EUR", "DE"); !hasLine(text, label, want) {
					t.Errorf("the PDF has no line %q with %q:\n%s", label, want, text)
				}
			}
			for _, want := range []string{"Invoice number: 000001", "Bare Metal GmbH", "VAT ID: DE111111111", "Analytical Engines GmbH",
				"VAT ID: DE123456789", "win.example.com: BM-L1, hourly", "3 hours", "db.example.com: BM-S1, monthly", "48 hours",
				"Billing period: 1 November 2026 to 30 November 2026 (Europe/Berlin)"} {
				if !strings.Contains(text, want) {
					t.Errorf("the PDF lacks %q:\n%s", want, text)
				}
			}

			year := int32(2025)
			none, err := v2.ListBillingProfileBills(ctx, connect.NewRequest(&cloudv2.ListBillingProfileBillsRequest{Id: c.profile.ID, Year: &year}))
			if err != nil {
				t.Fatal(err)
			}
			if len(none.Msg.GetBills()) != 0 || none.Msg.GetTotal() != 0 || len(none.Msg.GetYears()) != 1 {
				t.Fatalf("bills of 2025: %v", none.Msg)
			}
			year = 2026
			some, err := v2.ListBillingProfileBills(ctx, connect.NewRequest(&cloudv2.ListBillingProfileBillsRequest{Id: c.profile.ID, Year: &year}))
			if err != nil || len(some.Msg.GetBills()) != 1 || some.Msg.GetBills()[0].GetId() != b.GetId() || some.Msg.GetPagination().GetPage() != 1 {
				t.Fatalf("bills of 2026: %v, %v", some, err)
			}

			projects, err := v1.ListBillingProfileProjects(ctx, connect.NewRequest(&cloudv1.ListBillingProfileProjectsRequest{Id: c.profile.ID}))
			if err != nil || projects.Msg.GetTotal() != 1 || projects.Msg.GetProjects()[0].GetName() != "Web shop" {
				t.Fatalf("projects %v, %v", projects, err)
			}
			projects2, err := v2.ListBillingProfileProjects(ctx, connect.NewRequest(&cloudv2.ListBillingProfileProjectsRequest{Id: c.profile.ID}))
			if err != nil || projects2.Msg.GetTotal() != 1 || projects2.Msg.GetProjects()[0].GetId() != c.project.ID {
				t.Fatalf("v2 projects %v, %v", projects2, err)
			}
		})
	}
}

// hasRow reports whether a line of text has the cells, in this order.
func hasRow(text string, cells ...string) bool {
	for _, line := range strings.Split(text, "\n") {
		rest, ok := line, true
		for _, c := range cells {
			i := strings.Index(rest, c)
			if i < 0 {
				ok = false
				break
			}
			rest = rest[i+len(c):]
		}
		if ok {
			return true
		}
	}
	return false
}

// hasLine reports whether a line of text has label and, after it, value.
func hasLine(text, label, value string) bool {
	for _, line := range strings.Split(text, "\n") {
		if i := strings.Index(line, label); i >= 0 && strings.Contains(line[i+len(label):], value) {
			return true
		}
	}
	return false
}

func TestBillsAreTheOwners(t *testing.T) {
	t.Parallel()
	s := startBillServer(t)
	c := s.customer(t, "ada@example.com")
	n := billingtest.OrderNode(t, s.db, billingtest.Order{ProjectID: c.project.ID, FlavourID: billingtest.FlavourS1, FQDN: "a.example.com", At: berlin(t, "2026-11-10 10:00")})
	billingtest.Destroy(t, s.db, n, berlin(t, "2026-11-10 11:00"))
	s.clock.Set(berlin(t, "2026-12-01 00:05"))
	if err := s.billing.Sweep(t.Context()); err != nil {
		t.Fatal(err)
	}
	bills, err := s.v1(c.token).ListBillingProfileBills(context.Background(), connect.NewRequest(&cloudv1.ListBillingProfileBillsRequest{Id: c.profile.ID}))
	if err != nil {
		t.Fatal(err)
	}
	billID := bills.Msg.GetBills()[0].GetId()
	eve := s.customer(t, "eve@example.com")
	ctx := context.Background()
	for _, proto := range cloudProtocols {
		v1, v2 := s.v1(eve.token, proto.opts...), s.v2(eve.token, proto.opts...)
		_, err := v1.ListBillingProfileBills(ctx, connect.NewRequest(&cloudv1.ListBillingProfileBillsRequest{Id: c.profile.ID}))
		testserver.WantCode(t, err, connect.CodeNotFound, "")
		_, err = v2.ListBillingProfileBills(ctx, connect.NewRequest(&cloudv2.ListBillingProfileBillsRequest{Id: c.profile.ID}))
		testserver.WantCode(t, err, connect.CodeNotFound, "")
		_, err = v1.GetBillingProfileBillDetails(ctx, connect.NewRequest(&cloudv1.GetBillingProfileBillDetailsRequest{Id: c.profile.ID, BillId: billID}))
		testserver.WantCode(t, err, connect.CodeNotFound, "")
		_, err = v1.GetBillingProfileBillDetails(ctx, connect.NewRequest(&cloudv1.GetBillingProfileBillDetailsRequest{Id: eve.profile.ID, BillId: billID}))
		testserver.WantCode(t, err, connect.CodeNotFound, "")
		_, err = v1.GetBillingProfileBillPdf(ctx, connect.NewRequest(&cloudv1.GetBillingProfileBillPdfRequest{Id: c.profile.ID, BillId: billID}))
		testserver.WantCode(t, err, connect.CodeNotFound, "")
		_, err = v1.ListBillingProfileProjects(ctx, connect.NewRequest(&cloudv1.ListBillingProfileProjectsRequest{Id: c.profile.ID}))
		testserver.WantCode(t, err, connect.CodeNotFound, "")
		_, err = v2.ListBillingProfileProjects(ctx, connect.NewRequest(&cloudv2.ListBillingProfileProjectsRequest{Id: c.profile.ID}))
		testserver.WantCode(t, err, connect.CodeNotFound, "")
	}
	own := s.v1(c.token)
	_, err = own.GetBillingProfileBillPdf(ctx, connect.NewRequest(&cloudv1.GetBillingProfileBillPdfRequest{Id: c.profile.ID, BillId: "nope"}))
	testserver.WantCode(t, err, connect.CodeInvalidArgument, "bill_id")
	_, err = own.GetBillingProfileBillDetails(ctx, connect.NewRequest(&cloudv1.GetBillingProfileBillDetailsRequest{Id: "nope", BillId: billID}))
	testserver.WantCode(t, err, connect.CodeInvalidArgument, "id")
	bad := int32(-1)
	_, err = own.ListBillingProfileBills(ctx, connect.NewRequest(&cloudv1.ListBillingProfileBillsRequest{Id: c.profile.ID, Year: &bad}))
	testserver.WantCode(t, err, connect.CodeInvalidArgument, "year")
	// The project has a paid bill and nothing unbilled: it may go.
	other, err := s.projects.Create(ctx, c.user.ID, project.CreateInput{Name: "Other", BillingProfileID: c.profile.ID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.v1(c.token).DeleteProject(ctx, connect.NewRequest(&cloudv1.DeleteProjectRequest{Id: other.ID})); err != nil {
		t.Fatal(err)
	}
}

// chargeWatcher is the built-in test payment provider, telling each charge
// it is asked for on a channel and holding it until release is closed: until
// then the bill is issued and its payment asked for, PENDING.
type chargeWatcher struct {
	billing.TestProvider
	charged chan billing.Charge
	release chan struct{}
}

func (w chargeWatcher) Charge(ctx context.Context, c billing.Charge) (billing.ChargeResult, error) {
	w.charged <- c
	select {
	case <-w.release:
	case <-ctx.Done():
		return billing.ChargeResult{}, ctx.Err()
	}
	return w.TestProvider.Charge(ctx, c)
}

// monthServer is a whole server whose clock the test moves, with a customer
// in Berlin billed to a German company's profile with a card: a month of
// the customer's activity passes in no time, and the periodic billing sweep
// job (every 100 ms) closes it once the clock has passed its end. Its
// payment provider holds every charge until release is closed (at the end
// of the test, before the server stops).
type monthServer struct {
	*testserver.Server
	// storage is the server's database, for the operator's commands
	// (gpcore admin ...) to open beside it.
	storage app.Config
	clock   *billingtest.Clock
	watcher chargeWatcher
	user    testserver.User
	profile *cloudv1.BillingProfile
}

func startMonthServer(t *testing.T, currency string) *monthServer {
	t.Helper()
	clk := &billingtest.Clock{}
	clk.Set(berlin(t, "2026-11-02 09:00"))
	watcher := chargeWatcher{charged: make(chan billing.Charge, 16), release: make(chan struct{})}
	var storage app.Config
	s := testserver.Start(t, func(c *app.Config) {
		storage = app.Config{Database: c.Database, DataDir: c.DataDir, LogLevel: "warn"}
		c.Currency = currency
		c.Now = clk.Now
		c.AccessTokenTTL = 24 * 365 * time.Hour // a month passes on the server's clock
		c.SimStepDelay = 0
		c.PaymentProvider = watcher
		c.BillingSweepInterval = 100 * time.Millisecond
		c.SellerName, c.SellerAddress, c.SellerVATID = "Bare Metal GmbH", `Hauptstraße 1\n60311 Frankfurt am Main`, "DE111111111"
	})
	t.Cleanup(func() { close(watcher.release) }) // before the server stops
	u := s.Register(t)
	if _, err := s.Cloud(u.Token).UpdateTimezone(context.Background(), connect.NewRequest(&cloudv1.UpdateTimezoneRequest{Timezone: "Europe/Berlin"})); err != nil {
		t.Fatal(err)
	}
	company, vatID := "Analytical Engines GmbH", "DE123456789"
	profile := s.PayingProfile(t, u, &paymentv1.CreateBillingProfileRequest{
		Name: "Ada Lovelace", Company: &company, VatId: &vatID, CountryCode: "DE",
		Street: "Königsallee 5", City: "Düsseldorf", Postcode: "40212", BillingEmail: "billing@example.com",
	})
	return &monthServer{Server: s, storage: storage, clock: clk, watcher: watcher, user: u, profile: profile}
}

// project creates the customer's project name, billed to their profile
// unless unbilled.
func (m *monthServer) project(t *testing.T, name string, unbilled bool) *cloudv1.Project {
	t.Helper()
	req := &cloudv1.CreateProjectRequest{Name: name, BillingAddressId: m.profile.GetId()}
	if unbilled {
		req.BillingAddressId = ""
	}
	res, err := m.Cloud(m.user.Token).CreateProject(context.Background(), connect.NewRequest(req))
	if err != nil {
		t.Fatal(err)
	}
	return res.Msg.GetProject()
}

// closeNovember moves the clock five minutes into December and returns the
// charge the sweep job then asks for: the payment of November's bill.
func (m *monthServer) closeNovember(t *testing.T) billing.Charge {
	t.Helper()
	select {
	case ch := <-m.watcher.charged:
		t.Fatalf("a charge before the month ended: %+v", ch)
	default:
	}
	m.clock.Set(berlin(t, "2026-12-01 00:05"))
	select {
	case ch := <-m.watcher.charged:
		return ch
	case <-time.After(time.Minute): // a safety net against a hung test, not a timing assumption
		t.Fatal("the sweep job charged nothing after the month ended")
	}
	return billing.Charge{}
}

// onlyBill returns the customer's one bill and its PDF's text.
func (m *monthServer) onlyBill(t *testing.T, opts ...connect.ClientOption) (*cloudv1.Bill, string) {
	t.Helper()
	ctx := context.Background()
	c := m.Cloud(m.user.Token, opts...)
	list, err := c.ListBillingProfileBills(ctx, connect.NewRequest(&cloudv1.ListBillingProfileBillsRequest{Id: m.profile.GetId()}))
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Msg.GetBills()) != 1 || list.Msg.GetTotal() != 1 {
		t.Fatalf("bills %v", list.Msg)
	}
	b := list.Msg.GetBills()[0]
	pdf, err := c.GetBillingProfileBillPdf(ctx, connect.NewRequest(&cloudv1.GetBillingProfileBillPdfRequest{Id: m.profile.GetId(), BillId: b.GetId()}))
	if err != nil {
		t.Fatal(err)
	}
	return b, billingtest.PDFText(t, pdf.Msg.GetPdf().GetBytes())
}

// TestMonthOfOrderedNodesIsClosedByTheSweepJob runs November 2026 of a
// customer on a whole server whose clock the test moves: nodes ordered
// through CreateNode on the simulated hardware (hourly ones, one destroyed
// in the middle of the month, and a monthly one), then the clock passes the
// end of the month and the periodic billing sweep job closes it and asks
// for the payment of its bill, with no call from the test. While the payment
// provider holds that charge, the bill is read through the API as its owner
// reads it, with Connect and with gRPC: the list, the details, and the PDF,
// whose totals, lines and numbers (read back with pdftotext) are the
// details'. Once in each currency a server can be started with.
func TestMonthOfOrderedNodesIsClosedByTheSweepJob(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		currency        string
		hour, month     int64 // BM-S1 in fra1, in the seed
		net, tax, gross int64
	}{
		// 245 + 132 hours and a month: 96.70, and 19 % of it, 18.373, is 18.37.
		{"EUR", 10, 5900, 377*10 + 5900, 1837, 9670 + 1837},
		// 377 hours of 0.11 and a month of 65.00: 106.47; 19 % is 20.2293.
		{"USD", 11, 6500, 377*11 + 6500, 2023, 10647 + 2023},
	} {
		t.Run(tc.currency, func(t *testing.T) {
			t.Parallel()
			s := startMonthServer(t, tc.currency)
			u, profile, clk := s.user, s.profile, s.clock
			ctx := context.Background()
			c := s.Cloud(u.Token)
			p := s.project(t, "Web shop", false)
			f := subscribe(t, c)
			order := func(at, fqdn string, period cloudv1.BillingPeriod) string {
				t.Helper()
				clk.Set(berlin(t, at))
				req := orderS1(p.GetId(), fqdn)
				req.BillingPeriod = period
				res, err := c.CreateNode(ctx, connect.NewRequest(req))
				if err != nil {
					t.Fatalf("order %s: %v", fqdn, err)
				}
				id := res.Msg.GetNodes()[0].GetId()
				f.awaitStatus(t, id, cloudv1.ServerProvisioningState_SERVER_PROVISIONING_STATE_ACTIVE)
				return id
			}
			web1 := order("2026-11-10 10:59", "web1.example.com", cloudv1.BillingPeriod_BILLING_PERIOD_HOURLY)
			order("2026-11-15 08:00", "db1.example.com", cloudv1.BillingPeriod_BILLING_PERIOD_MONTHLY)
			clk.Set(berlin(t, "2026-11-20 14:30"))
			retryBusy(t, func() error {
				_, err := c.DestroyNode(ctx, connect.NewRequest(&cloudv1.DestroyNodeRequest{Id: web1, ProjectId: p.GetId()}))
				return err
			})
			f.await(t, web1, "deletion", func(n *cloudv1.Node) bool {
				return n.GetBillingPeriod() == cloudv1.BillingPeriod_BILLING_PERIOD_DELETED
			})
			order("2026-11-25 12:30", "web2.example.com", cloudv1.BillingPeriod_BILLING_PERIOD_HOURLY)

			// Five minutes into December on the server's clock: the next
			// sweep closes November and charges its bill.
			charge := s.closeNovember(t)
			if charge.Amount != tc.gross || charge.Currency != catalog.Currency(tc.currency) {
				t.Fatalf("charge %+v, want %d %s", charge, tc.gross, tc.currency)
			}

			for _, wire := range cloudProtocols {
				t.Run(wire.name, func(t *testing.T) {
					v1 := s.Cloud(u.Token, wire.opts...)
					list, err := v1.ListBillingProfileBills(ctx, connect.NewRequest(&cloudv1.ListBillingProfileBillsRequest{Id: profile.GetId()}))
					if err != nil {
						t.Fatal(err)
					}
					if len(list.Msg.GetBills()) != 1 || list.Msg.GetTotal() != 1 {
						t.Fatalf("bills %v", list.Msg)
					}
					b := list.Msg.GetBills()[0]
					if b.GetStatus() != cloudv1.BillStatus_BILL_STATUS_PENDING || charge.Description != "Bill "+b.GetNumber() {
						t.Fatalf("bill %v after charge %+v", b, charge)
					}
					details, err := v1.GetBillingProfileBillDetails(ctx, connect.NewRequest(&cloudv1.GetBillingProfileBillDetailsRequest{Id: profile.GetId(), BillId: b.GetId()}))
					if err != nil {
						t.Fatal(err)
					}
					bill, usage := details.Msg.GetBill(), details.Msg.GetUsage()
					prices := map[string]*typev1.Price{
						"Net amount": bill.GetNetPrice(), "VAT 19 %": bill.GetTaxPrice(), "Gross amount": bill.GetGrossPrice(),
						"Credit": bill.GetCreditPrice(), "Total due": bill.GetTotalPrice(),
					}
					for label, want := range map[string]int64{"Net amount": tc.net, "VAT 19 %": tc.tax, "Gross amount": tc.gross, "Credit": 0, "Total due": tc.gross} {
						if got := prices[label]; got.GetAmount() != want || got.GetCurrency() != tc.currency {
							t.Errorf("%s: %v, want %d %s", label, got, want, tc.currency)
						}
					}
					if !proto.Equal(bill, b) {
						t.Errorf("the details' bill %v is not the listed bill %v", bill, b)
					}
					// The usage: the hours of web1 and web2 together, and db1's
					// month.
					type group struct {
						period cloudv1.BillingPeriod
						units  float64
						total  int64
						nodes  string
					}
					var groups []group
					for _, g := range usage.GetFlavourUsages() {
						var nodes []string
						for _, n := range g.GetNodeUsages() {
							nodes = append(nodes, n.GetName())
						}
						if g.GetFlavour().GetName() != "BM-S1" || g.GetTotal().GetCurrency() != tc.currency {
							t.Errorf("usage group %v", g)
						}
						groups = append(groups, group{g.GetPeriod(), g.GetUnits(), g.GetTotal().GetAmount(), strings.Join(nodes, " ")})
					}
					wantGroups := []group{
						{cloudv1.BillingPeriod_BILLING_PERIOD_HOURLY, 377, 377 * tc.hour, "web1.example.com web2.example.com"},
						{cloudv1.BillingPeriod_BILLING_PERIOD_MONTHLY, 1, tc.month, "db1.example.com"},
					}
					if !slices.Equal(groups, wantGroups) || usage.GetTotal().GetAmount() != tc.net {
						t.Fatalf("usage %v: groups %v, want %v", usage, groups, wantGroups)
					}

					pdf, err := v1.GetBillingProfileBillPdf(ctx, connect.NewRequest(&cloudv1.GetBillingProfileBillPdfRequest{Id: profile.GetId(), BillId: b.GetId()}))
					if err != nil {
						t.Fatal(err)
					}
					text := billingtest.PDFText(t, pdf.Msg.GetPdf().GetBytes())
					money := func(amount int64) string { return billingtest.Formatted(amount, tc.currency, "DE") }
					for label, price := range prices {
						if !hasLine(text, label, money(price.GetAmount())) {
							t.Errorf("the PDF has no line %q with %q, the details' %v:\n%s", label, money(price.GetAmount()), price, text)
						}
					}
					// One line per node, with the details' units and numbers:
					// its quantity, its unit price and its amount.
					for _, l := range []struct {
						description, quantity string
						unit, amount          int64
						span                  string
					}{
						{"web1.example.com: BM-S1, hourly", "245 hours", tc.hour, 245 * tc.hour, "10 Nov 2026 10:59 to 20 Nov 2026 14:30"},
						{"web2.example.com: BM-S1, hourly", "132 hours", tc.hour, 132 * tc.hour, "25 Nov 2026 12:30 to 1 Dec 2026 00:00"},
						{"db1.example.com: BM-S1, monthly", "1 month", tc.month, tc.month, "15 Nov 2026 08:00 to 15 Dec 2026 08:00"},
					} {
						if !hasRow(text, l.description, l.quantity, money(l.unit), money(l.amount)) {
							t.Errorf("the PDF has no line %q, %s at %s, %s:\n%s", l.description, l.quantity, money(l.unit), money(l.amount), text)
						}
						if !strings.Contains(text, "Project Web shop (plan gpcore), "+l.span) {
							t.Errorf("the PDF does not say %s was billed for %s:\n%s", l.description, l.span, text)
						}
					}
					if n := strings.Count(text, ": BM-S1, "); n != 3 {
						t.Errorf("the PDF has %d node lines, want 3:\n%s", n, text)
					}
					for _, want := range []string{"Invoice number: " + b.GetNumber(), "Bare Metal GmbH", "VAT ID: DE111111111",
						"Analytical Engines GmbH", "VAT ID: DE123456789", "Königsallee 5",
						"Billing period: 1 November 2026 to 30 November 2026 (Europe/Berlin)"} {
						if !strings.Contains(text, want) {
							t.Errorf("the PDF lacks %q:\n%s", want, text)
						}
					}
				})
			}
		})
	}
}

// TestDefaultPlanCodeIsThePlanOfNewProjects: a project subscribes to its
// billing profile's default plan code when it gets the profile (created with
// it, or linked to it later), and keeps that plan when staff change the
// default (ChangeDefaultPlanCode "only affects projects created in the
// future"). The customer sees each project's plan on the invoice.
func TestDefaultPlanCodeIsThePlanOfNewProjects(t *testing.T) {
	t.Parallel()
	s := startMonthServer(t, "EUR")
	ctx := context.Background()
	staff := paymentv1connect.NewPaymentServiceClient(testserver.H2CClient(), s.URL, testserver.ClientOptions(s.OperatorToken(t))...)
	plan := func() string {
		t.Helper()
		res, err := staff.GetDefaultPlanCode(ctx, connect.NewRequest(&paymentv1.GetDefaultPlanCodeRequest{BillingProfileId: s.profile.GetId()}))
		if err != nil {
			t.Fatal(err)
		}
		return res.Msg.GetPlanCode()
	}
	if got := plan(); got != billing.PlanGPCore {
		t.Fatalf("a new profile's default plan code is %q", got)
	}
	shop := s.project(t, "Web shop", false)
	later := s.project(t, "Later", true) // no billing profile yet: no plan yet
	if _, err := staff.ChangeDefaultPlanCode(ctx, connect.NewRequest(&paymentv1.ChangeDefaultPlanCodeRequest{
		BillingProfileId: s.profile.GetId(), PlanCode: billing.PlanFree,
	})); err != nil {
		t.Fatal(err)
	}
	if got := plan(); got != billing.PlanFree {
		t.Fatalf("after ChangeDefaultPlanCode: %q", got)
	}
	lab := s.project(t, "Partner lab", false)
	c := s.Cloud(s.user.Token)
	if _, err := c.UpdateProject(ctx, connect.NewRequest(&cloudv1.UpdateProjectRequest{Id: later.GetId(), BillingAddressId: s.profile.GetId()})); err != nil {
		t.Fatal(err)
	}

	s.clock.Set(berlin(t, "2026-11-10 10:00"))
	for i, p := range []*cloudv1.Project{shop, later, lab} {
		if _, err := c.CreateNode(ctx, connect.NewRequest(orderS1(p.GetId(), fmt.Sprintf("n%d.example.com", i+1)))); err != nil {
			t.Fatal(err)
		}
	}
	s.closeNovember(t)
	_, text := s.onlyBill(t)
	for _, want := range []string{"Project Web shop (plan gpcore), ", "Project Later (plan free), ", "Project Partner lab (plan free), "} {
		if !strings.Contains(text, want) {
			t.Errorf("the invoice lacks %q:\n%s", want, text)
		}
	}
}

// TestCreditShowsOnTheBill: credit the operator grants a billing profile
// (gpcore admin credit grant, on the database of the running server) is
// taken off the profile's next bill: the bill's credit_price, a total that
// much lower, what is charged, and the invoice's credit line; gpcore admin
// credit list shows the grant and its use.
func TestCreditShowsOnTheBill(t *testing.T) {
	t.Parallel()
	s := startMonthServer(t, "EUR")
	ctx := context.Background()
	var out strings.Builder
	if err := app.GrantCredit(ctx, s.storage, s.profile.GetId(), "5.00", "eur", "outage of 3 November", &out); err != nil {
		t.Fatal(err)
	}
	if want := "Its credit in EUR is now €5.00"; !strings.Contains(out.String(), want) {
		t.Fatalf("credit grant said %q, want %q", out.String(), want)
	}
	p := s.project(t, "Web shop", false)
	// 100 hours of BM-S1: 10.00 net, 11.90 gross; 5.00 of it paid by the credit.
	s.clock.Set(berlin(t, "2026-11-10 10:00"))
	created, err := s.Cloud(s.user.Token).CreateNode(ctx, connect.NewRequest(orderS1(p.GetId(), "web1.example.com")))
	if err != nil {
		t.Fatal(err)
	}
	s.clock.Set(berlin(t, "2026-11-14 13:30"))
	retryBusy(t, func() error {
		_, err := s.Cloud(s.user.Token).DestroyNode(ctx, connect.NewRequest(&cloudv1.DestroyNodeRequest{Id: created.Msg.GetNodes()[0].GetId(), ProjectId: p.GetId()}))
		return err
	})
	charge := s.closeNovember(t)
	for _, wire := range cloudProtocols {
		t.Run(wire.name, func(t *testing.T) {
			b, text := s.onlyBill(t, wire.opts...)
			if b.GetGrossPrice().GetAmount() != 1190 || b.GetCreditPrice().GetAmount() != 500 || b.GetTotalPrice().GetAmount() != 690 ||
				b.GetCreditPrice().GetFormatted() != "€5.00" || charge.Amount != 690 {
				t.Fatalf("bill %v, charge %+v", b, charge)
			}
			for label, amount := range map[string]int64{"Gross amount": 1190, "Credit": -500, "Total due": 690} {
				if want := billingtest.Formatted(amount, "EUR", "DE"); !hasLine(text, label, want) {
					t.Errorf("the invoice has no line %q with %q:\n%s", label, want, text)
				}
			}
		})
	}
	out.Reset()
	if err := app.ListCredit(ctx, s.storage, s.profile.GetId(), &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"€0.00 left", "€5.00", "granted: outage of 3 November", "-€5.00", "taken off bill 000001"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("credit list lacks %q:\n%s", want, out.String())
		}
	}
}

// TestFailedBillRetriedWhenDefaultCardChanges is a reviewer's report: a
// bill that failed (its card declines charges) locked the project until the
// next sweep, up to ten minutes, after its owner had added a card and made
// it the default. Now the change of default card (PaymentService) charges
// it at once, by a job enqueued with the change: twenty seconds later on
// the clock, with no sweep run (the server runs none unless the test
// does), the bill is SUCCEEDED, the project unlocked and CreateNode
// accepted.
func TestFailedBillRetriedWhenDefaultCardChanges(t *testing.T) {
	t.Parallel()
	s := startNodeBillServer(t)
	ctx := context.Background()
	c := s.customer(t, "ada@example.com")
	failing := s.addCard(t, c, "tok_chargeCustomerFail")
	if _, err := s.billing.ChangeDefaultCard(ctx, c.user.ID, c.profile.ID, failing.ID); err != nil {
		t.Fatal(err)
	}
	n := billingtest.OrderNode(t, s.db, billingtest.Order{ProjectID: c.project.ID, FlavourID: billingtest.FlavourS1, FQDN: "a.example.com", At: berlin(t, "2026-11-10 10:00")})
	billingtest.Destroy(t, s.db, n, berlin(t, "2026-11-10 11:00"))
	s.clock.Set(berlin(t, "2026-12-01 00:05"))
	if err := s.billing.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	v1 := s.v1(c.token)
	status := func() (cloudv1.BillStatus, []cloudv1.ProjectLockReason) {
		t.Helper()
		bills, err := v1.ListBillingProfileBills(ctx, connect.NewRequest(&cloudv1.ListBillingProfileBillsRequest{Id: c.profile.ID}))
		if err != nil {
			t.Fatal(err)
		}
		if len(bills.Msg.GetBills()) != 1 {
			t.Fatalf("bills %v, want one", bills.Msg)
		}
		locks, err := v1.GetProjectLocks(ctx, connect.NewRequest(&cloudv1.GetProjectLocksRequest{Id: c.project.ID}))
		if err != nil {
			t.Fatal(err)
		}
		return bills.Msg.GetBills()[0].GetStatus(), locks.Msg.GetLockReasons()
	}
	if bill, locks := status(); bill != cloudv1.BillStatus_BILL_STATUS_FAILED ||
		!slices.Equal(locks, []cloudv1.ProjectLockReason{cloudv1.ProjectLockReason_PROJECT_LOCK_REASON_SUBSCRIPTION_NOT_ACTIVE}) {
		t.Fatalf("after the declined charge: bill %v, locks %v", bill, locks)
	}
	_, err := v1.CreateNode(ctx, connect.NewRequest(orderS1(c.project.ID, "web1.example.com")))
	testserver.WantCode(t, err, connect.CodeFailedPrecondition, "")

	// The owner adds a tok_visa card and makes it the default, 20 s later.
	s.clock.Set(s.clock.Now().Add(20 * time.Second))
	pay := paymentv1connect.NewPaymentServiceClient(testserver.H2CClient(), s.url, testserver.ClientOptions(c.token)...)
	setup, err := pay.AddCreditCard(ctx, connect.NewRequest(&paymentv1.AddCreditCardRequest{BillingProfileId: c.profile.ID}))
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.PostForm(s.url+"/payment/test/confirm", url.Values{"setup_intent": {setup.Msg.GetStripeSetupIdent()}, "payment_method": {"tok_visa"}})
	if err != nil {
		t.Fatal(err)
	}
	var confirmed struct {
		CardID string `json:"credit_card_id"`
	}
	err = json.NewDecoder(res.Body).Decode(&confirmed)
	_ = res.Body.Close()
	if err != nil || res.StatusCode != http.StatusOK || confirmed.CardID == "" {
		t.Fatalf("confirm tok_visa: %s, %+v, %v", res.Status, confirmed, err)
	}
	if _, err := pay.ChangeDefaultCreditCard(ctx, connect.NewRequest(&paymentv1.ChangeDefaultCreditCardRequest{
		BillingProfileId: c.profile.ID, Id: confirmed.CardID,
	})); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(nodeWait); ; {
		bill, locks := status()
		if bill == cloudv1.BillStatus_BILL_STATUS_SUCCEEDED && len(locks) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the change of default card: bill %v, locks %v; want it SUCCEEDED and no lock", bill, locks)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := v1.CreateNode(ctx, connect.NewRequest(orderS1(c.project.ID, "web1.example.com"))); err != nil {
		t.Fatalf("CreateNode once the bill is paid: %v", err)
	}
}
