package cloudv1_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/riverqueue/river"

	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	"github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1/cloudv1connect"
	cloudv2 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v2"
	"github.com/gpcore/gpcore/gen/gpcore/api/cloud/v2/cloudv2connect"
	apicloudv1 "github.com/gpcore/gpcore/internal/api/cloudv1"
	apicloudv2 "github.com/gpcore/gpcore/internal/api/cloudv2"
	"github.com/gpcore/gpcore/internal/api/interceptor"
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

// billServer is CloudService v1 and v2 on an in-process server, with the
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
// a teardown stays where it is until the test moves the clock.
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
		nodes, hub = startNodes(t, db, clk, cat, projects, keys, issuer)
	}
	cloud := apicloudv1.New(cat, projects, keys, ids, nodes, hub, b)
	opts := connect.WithInterceptors(interceptor.Errors{Log: log}, interceptor.NewPolicy(issuer))
	mux := http.NewServeMux()
	mux.Handle(cloudv1connect.NewCloudServiceHandler(cloud, opts))
	mux.Handle(cloudv2connect.NewCloudServiceHandler(apicloudv2.New(db, cloud, log), opts))
	srv := httptest.NewUnstartedServer(mux)
	var p http.Protocols
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	srv.Config.Protocols = &p
	srv.Start()
	t.Cleanup(srv.Close)
	return &billServer{url: srv.URL, db: db, clock: clk, identity: ids, issuer: issuer, billing: b, projects: projects}
}

// startNodes runs the node domain on db until the test ends: a started
// notification hub, a started job queue working the node jobs on simulated
// hardware that takes sim.DefaultDurations on clk, and the node service.
func startNodes(t *testing.T, db *store.DB, clk *billingtest.Clock, cat *catalog.Catalog, projects *project.Service, keys *keyring.Service, tokens node.ConsoleTokens) (*node.Service, *notify.Hub) {
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
	queue, err := jobs.New(db, jobs.Config{Workers: workers, PollInterval: 100 * time.Millisecond, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
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
	ctx := t.Context()
	u, err := s.identity.Register(ctx, identity.RegisterInput{Email: email, Password: "Correct-Horse-42", FirstName: "Ada", LastName: "Lovelace"})
	if err != nil {
		t.Fatal(err)
	}
	if u, err = s.identity.UpdateTimezone(ctx, u.ID, "Europe/Berlin"); err != nil {
		t.Fatal(err)
	}
	tokens, err := s.issuer.IssueForUser(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.billing.CreateProfile(ctx, u.ID, billing.ProfileInput{
		Name: "Ada Lovelace", Company: "Analytical Engines GmbH", VATID: "DE123456789", CountryCode: "DE",
		Street: "Königsallee 5", City: "Düsseldorf", Postcode: "40212", BillingEmail: "billing@example.com",
	})
	if err != nil {
		t.Fatal(err)
	}
	setup, err := s.billing.BeginCardSetup(ctx, u.ID, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.billing.ConfirmTestCard(ctx, setup.ClientSecret, "tok_visa"); err != nil {
		t.Fatal(err)
	}
	pr, err := s.projects.Create(ctx, u.ID, project.CreateInput{Name: "Web shop", BillingProfileID: p.ID})
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
