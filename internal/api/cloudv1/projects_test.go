package cloudv1_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	"github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1/cloudv1connect"
	typev1 "github.com/gpcore/gpcore/gen/gpcore/type/v1"
	"github.com/gpcore/gpcore/internal/app"
	"github.com/gpcore/gpcore/internal/billing"
	"github.com/gpcore/gpcore/internal/billing/billingtest"
	"github.com/gpcore/gpcore/internal/identity"
	"github.com/gpcore/gpcore/internal/project"
	"github.com/gpcore/gpcore/internal/testserver"
)

// cloudProtocols are the two wire protocols the project tests alternate.
var cloudProtocols = []struct {
	name string
	opts []connect.ClientOption
}{
	{"connect", nil},
	{"grpc", []connect.ClientOption{connect.WithGRPC()}},
}

// projectNames lists the names of projects in order.
func projectNames(ps []*cloudv1.Project) []string {
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.GetName()
	}
	return names
}

// listProjects returns the caller's first page of projects and invites.
func listProjects(t *testing.T, c cloudv1connect.CloudServiceClient) *cloudv1.ListProjectsResponse {
	t.Helper()
	res, err := c.ListProjects(context.Background(), connect.NewRequest(&cloudv1.ListProjectsRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	return res.Msg
}

// getProject returns the project as the client's user sees it.
func getProject(t *testing.T, c cloudv1connect.CloudServiceClient, id string) *cloudv1.Project {
	t.Helper()
	res, err := c.GetProject(context.Background(), connect.NewRequest(&cloudv1.GetProjectRequest{Id: id}))
	if err != nil {
		t.Fatalf("GetProject(%s): %v", id, err)
	}
	return res.Msg.GetProject()
}

func TestCreateAndListProjects(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	for _, p := range cloudProtocols {
		t.Run(p.name, func(t *testing.T) {
			ctx := context.Background()
			user := s.Register(t)
			c := s.Cloud(user.Token, p.opts...)

			res, err := c.CreateProject(ctx, connect.NewRequest(&cloudv1.CreateProjectRequest{
				Name: "  Web shop  ", Description: "the shop\nand its staging", //nolint:staticcheck // deprecated but still stored
				Environment: cloudv1.ProjectEnvironment_PROJECT_ENVIRONMENT_STAGING, //nolint:staticcheck // deprecated but still stored
			}))
			if err != nil {
				t.Fatal(err)
			}
			first := res.Msg.GetProject()
			if first.GetName() != "Web shop" || first.GetDescription() != "the shop\nand its staging" || //nolint:staticcheck // deprecated but still returned
				first.GetEnvironment() != cloudv1.ProjectEnvironment_PROJECT_ENVIRONMENT_STAGING || //nolint:staticcheck // deprecated but still returned
				first.GetCurrency() != cloudv1.Currency_CURRENCY_EURO || first.GetBillingProfile() != nil ||
				first.GetCreatedAt() == nil || first.GetUpdatedAt() == nil {
				t.Fatalf("created project = %v", first)
			}
			if len(first.GetMembers()) != 1 {
				t.Fatalf("members = %v, want the creator", first.GetMembers())
			}
			m := first.GetMembers()[0]
			if m.GetUser().GetId() != user.ID || m.GetUser().GetEmail() != user.Email ||
				m.GetUser().GetType() != cloudv1.UserType_USER_TYPE_USER ||
				m.GetRole() != cloudv1.ProjectMemberRole_PROJECT_MEMBER_ROLE_OWNER || !m.GetConfirmed() || !m.GetDefault() {
				t.Fatalf("creator's membership = %v, want the confirmed OWNER with the first project as default", m)
			}

			second := s.CreateProject(t, user.Token, "Analytics")
			if second.GetMembers()[0].GetDefault() {
				t.Fatalf("the second project became the default: %v", second)
			}
			third := s.CreateProject(t, user.Token, "Backups")

			l := listProjects(t, c)
			if got := projectNames(l.GetProjects()); !slices.Equal(got, []string{"Web shop", "Analytics", "Backups"}) {
				t.Fatalf("projects = %v, want the default first, then the oldest", got)
			}
			if l.GetTotal() != 3 || len(l.GetInvites()) != 0 {
				t.Fatalf("total = %d, invites = %v", l.GetTotal(), l.GetInvites())
			}
			if pg := l.GetPagination(); pg.GetPage() != 1 || pg.GetLimit() != 100 || pg.GetTotal() != 1 {
				t.Fatalf("pagination = %v, want page 1 of 1 with the default limit 100", pg)
			}
			paged, err := c.ListProjects(ctx, connect.NewRequest(&cloudv1.ListProjectsRequest{
				Pagination: &typev1.PaginationRequest{Page: 2, Limit: proto.Int32(2)},
			}))
			if err != nil {
				t.Fatal(err)
			}
			if got := projectNames(paged.Msg.GetProjects()); !slices.Equal(got, []string{"Backups"}) ||
				paged.Msg.GetTotal() != 3 || paged.Msg.GetPagination().GetTotal() != 2 {
				t.Fatalf("page 2 of 2 = %v (%v), want Backups", got, paged.Msg)
			}
			if got := getProject(t, c, third.GetId()); got.GetName() != "Backups" {
				t.Fatalf("GetProject = %v", got)
			}
		})
	}
}

func TestProjectRefusals(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	user := s.Register(t)
	c := s.Cloud(user.Token)
	ctx := context.Background()
	create := func(req *cloudv1.CreateProjectRequest) error {
		_, err := c.CreateProject(ctx, connect.NewRequest(req))
		return err
	}
	for _, tc := range []struct {
		name  string
		req   *cloudv1.CreateProjectRequest
		code  connect.Code
		field string
	}{
		{"no name", &cloudv1.CreateProjectRequest{Name: "   "}, connect.CodeInvalidArgument, "name"},
		{"short name", &cloudv1.CreateProjectRequest{Name: "ab"}, connect.CodeInvalidArgument, "name"},
		{"long name", &cloudv1.CreateProjectRequest{Name: strings.Repeat("x", 65)}, connect.CodeInvalidArgument, "name"},
		{"control character", &cloudv1.CreateProjectRequest{Name: "bad\x07name"}, connect.CodeInvalidArgument, "name"},
		{"unknown environment", &cloudv1.CreateProjectRequest{Name: "fine", Environment: 42}, connect.CodeInvalidArgument, "environment"}, //nolint:staticcheck // deprecated but still accepted
		{"billing profile not a UUID", &cloudv1.CreateProjectRequest{Name: "fine", BillingAddressId: "42"}, connect.CodeInvalidArgument, "billing_address_id"},
		{"unknown billing profile", &cloudv1.CreateProjectRequest{Name: "fine", BillingAddressId: "6a0c1a3e-39a4-4d16-9d4e-2d0f0b7c2f11"}, connect.CodeNotFound, "billing_address_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testserver.WantCode(t, create(tc.req), tc.code, tc.field)
		})
	}
	if err := create(&cloudv1.CreateProjectRequest{Name: strings.Repeat("é", 64)}); err != nil {
		t.Fatalf("a 64-character name: %v", err)
	}
	if err := create(&cloudv1.CreateProjectRequest{Name: "abc"}); err != nil {
		t.Fatalf("a 3-character name: %v", err)
	}
	if n := listProjects(t, c).GetTotal(); n != 2 {
		t.Fatalf("%d projects after the refusals, want 2", n)
	}
	for name, id := range map[string]string{"empty": "", "not a UUID": "project-1", "braced": "{6a0c1a3e-39a4-4d16-9d4e-2d0f0b7c2f11}"} {
		t.Run("GetProject "+name, func(t *testing.T) {
			_, err := c.GetProject(ctx, connect.NewRequest(&cloudv1.GetProjectRequest{Id: id}))
			testserver.WantCode(t, err, connect.CodeInvalidArgument, "id")
		})
	}
	_, err := c.GetProject(ctx, connect.NewRequest(&cloudv1.GetProjectRequest{Id: "6a0c1a3e-39a4-4d16-9d4e-2d0f0b7c2f11"}))
	testserver.WantCode(t, err, connect.CodeNotFound, "")
}

func TestUpdateProject(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	owner, member := s.Register(t), s.Register(t)
	c := s.Cloud(owner.Token, connect.WithGRPC())
	ctx := context.Background()
	p := s.CreateProject(t, owner.Token, "Before")
	addMember(t, s, owner, member, p.GetId())

	update := func(c cloudv1connect.CloudServiceClient, req *cloudv1.UpdateProjectRequest) (*cloudv1.Project, error) {
		req.Id = p.GetId()
		res, err := c.UpdateProject(ctx, connect.NewRequest(req))
		if err != nil {
			return nil, err
		}
		return res.Msg.GetProject(), nil
	}
	got, err := update(c, &cloudv1.UpdateProjectRequest{
		Name: "After", Description: "now described", //nolint:staticcheck // deprecated but still stored
		Environment: cloudv1.ProjectEnvironment_PROJECT_ENVIRONMENT_PRODUCTION, //nolint:staticcheck // deprecated but still stored
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.GetName() != "After" || got.GetDescription() != "now described" || //nolint:staticcheck // deprecated but still returned
		got.GetEnvironment() != cloudv1.ProjectEnvironment_PROJECT_ENVIRONMENT_PRODUCTION { //nolint:staticcheck // deprecated but still returned
		t.Fatalf("updated project = %v", got)
	}
	// Fields left empty keep their values; any member may update.
	got, err = update(s.Cloud(member.Token), &cloudv1.UpdateProjectRequest{Name: "Renamed by a member"})
	if err != nil {
		t.Fatal(err)
	}
	if got.GetName() != "Renamed by a member" || got.GetDescription() != "now described" || //nolint:staticcheck // deprecated but still returned
		got.GetEnvironment() != cloudv1.ProjectEnvironment_PROJECT_ENVIRONMENT_PRODUCTION { //nolint:staticcheck // deprecated but still returned
		t.Fatalf("project after a name-only update = %v", got)
	}

	for _, tc := range []struct {
		name  string
		req   *cloudv1.UpdateProjectRequest
		code  connect.Code
		field string
	}{
		{"short name", &cloudv1.UpdateProjectRequest{Name: "x"}, connect.CodeInvalidArgument, "name"},
		{"long name", &cloudv1.UpdateProjectRequest{Name: strings.Repeat("x", 65)}, connect.CodeInvalidArgument, "name"},
		{"credit card, no billing profile", &cloudv1.UpdateProjectRequest{CreditCardId: "6a0c1a3e-39a4-4d16-9d4e-2d0f0b7c2f11"}, connect.CodeNotFound, "credit_card_id"},
		{"credit card not a UUID", &cloudv1.UpdateProjectRequest{CreditCardId: "4242"}, connect.CodeInvalidArgument, "credit_card_id"},
		{"unknown billing profile", &cloudv1.UpdateProjectRequest{BillingAddressId: "6a0c1a3e-39a4-4d16-9d4e-2d0f0b7c2f11"}, connect.CodeNotFound, "billing_address_id"},
		{"unknown environment", &cloudv1.UpdateProjectRequest{Environment: 7}, connect.CodeInvalidArgument, "environment"}, //nolint:staticcheck // deprecated but still accepted
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := update(c, tc.req)
			testserver.WantCode(t, err, tc.code, tc.field)
		})
	}
	if got := getProject(t, c, p.GetId()); got.GetName() != "Renamed by a member" {
		t.Fatalf("refused updates changed the project: %v", got)
	}
	// A description from a browser's textarea, with CRLF line breaks.
	got, err = update(c, &cloudv1.UpdateProjectRequest{Description: "first line\r\nsecond line\r\n"}) //nolint:staticcheck // deprecated but still stored
	if err != nil {
		t.Fatalf("a CRLF description: %v", err)
	}
	if d := got.GetDescription(); d != "first line\nsecond line" { //nolint:staticcheck // deprecated but still returned
		t.Fatalf("description = %q, want its lines with LF", d)
	}
}

func TestDeleteProject(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	owner, member := s.Register(t), s.Register(t)
	c, mc := s.Cloud(owner.Token), s.Cloud(member.Token, connect.WithGRPC())
	ctx := context.Background()
	home := s.CreateProject(t, owner.Token, "Home")
	other := s.CreateProject(t, owner.Token, "Other")
	addMember(t, s, owner, member, other.GetId())
	del := func(c cloudv1connect.CloudServiceClient, id string) error {
		_, err := c.DeleteProject(ctx, connect.NewRequest(&cloudv1.DeleteProjectRequest{Id: id}))
		return err
	}

	testserver.WantCode(t, del(mc, other.GetId()), connect.CodePermissionDenied, "")
	err := del(c, home.GetId())
	testserver.WantCode(t, err, connect.CodeFailedPrecondition, "")
	if !strings.Contains(err.Error(), "your default project") {
		t.Fatalf("refusal %q does not say why", err)
	}
	testserver.WantCode(t, del(c, "nope"), connect.CodeInvalidArgument, "id")
	// Other is the member's only project, so his default: it stays.
	err = del(c, other.GetId())
	testserver.WantCode(t, err, connect.CodeFailedPrecondition, "")
	if !strings.Contains(err.Error(), "default project of "+member.Email) {
		t.Fatalf("refusal %q does not name the member whose default it is", err)
	}
	if got := getProject(t, c, other.GetId()); len(got.GetMembers()) != 2 || !memberOf(got, member.ID).GetDefault() {
		t.Fatalf("the refused deletion changed the project: %v", got)
	}

	// Once the member has another default, the owner can delete it.
	mine := s.CreateProject(t, member.Token, "Member's own")
	if _, err := mc.ChangeDefaultProject(ctx, connect.NewRequest(&cloudv1.ChangeDefaultProjectRequest{Id: mine.GetId()})); err != nil {
		t.Fatal(err)
	}
	if err := del(c, other.GetId()); err != nil {
		t.Fatalf("owner deleting a project that is nobody's default: %v", err)
	}
	_, err = c.GetProject(ctx, connect.NewRequest(&cloudv1.GetProjectRequest{Id: other.GetId()}))
	testserver.WantCode(t, err, connect.CodeNotFound, "")
	testserver.WantCode(t, del(c, other.GetId()), connect.CodeNotFound, "")
	if l := listProjects(t, mc); len(l.GetProjects()) != 1 || !memberOf(l.GetProjects()[0], member.ID).GetDefault() {
		t.Fatalf("member lists %v, want his own project, his default", projectNames(l.GetProjects()))
	}

	// Once another project is the default, the old default can go.
	third := s.CreateProject(t, owner.Token, "Third")
	if _, err := c.ChangeDefaultProject(ctx, connect.NewRequest(&cloudv1.ChangeDefaultProjectRequest{Id: third.GetId()})); err != nil {
		t.Fatal(err)
	}
	if err := del(c, home.GetId()); err != nil {
		t.Fatalf("deleting the former default: %v", err)
	}
}

func TestChangeDefaultProject(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	user := s.Register(t)
	c := s.Cloud(user.Token, connect.WithGRPC())
	ctx := context.Background()
	first := s.CreateProject(t, user.Token, "First")
	second := s.CreateProject(t, user.Token, "Second")
	if _, err := c.ChangeDefaultProject(ctx, connect.NewRequest(&cloudv1.ChangeDefaultProjectRequest{Id: second.GetId()})); err != nil {
		t.Fatal(err)
	}
	l := listProjects(t, c)
	if got := projectNames(l.GetProjects()); !slices.Equal(got, []string{"Second", "First"}) {
		t.Fatalf("projects = %v, want the new default first", got)
	}
	defaults := 0
	for _, p := range l.GetProjects() {
		if p.GetMembers()[0].GetDefault() {
			defaults++
		}
	}
	if defaults != 1 || !getProject(t, c, second.GetId()).GetMembers()[0].GetDefault() ||
		getProject(t, c, first.GetId()).GetMembers()[0].GetDefault() {
		t.Fatalf("want exactly one default, Second; got %v", l.GetProjects())
	}
	_, err := c.ChangeDefaultProject(ctx, connect.NewRequest(&cloudv1.ChangeDefaultProjectRequest{Id: "6a0c1a3e-39a4-4d16-9d4e-2d0f0b7c2f11"}))
	testserver.WantCode(t, err, connect.CodeNotFound, "")
}

// TestGetProjectLocks asks GetProjectLocks, as the owner and as a member,
// over Connect and gRPC, for every lock reason the code gives: none for a
// project whose profile has a valid default card (or whose owner needs no
// card); MISSING_BILLING_PROFILE with MISSING_PAYMENT_PROFILE and
// MISSING_SUBSCRIPTION without a profile; the last two for a profile
// without a card; SUBSCRIPTION_NOT_ACTIVE while a bill has failed (until
// another default card pays it) and once the default card has expired.
func TestGetProjectLocks(t *testing.T) {
	t.Parallel()
	s := startBillServer(t)
	ctx := context.Background()
	const (
		noProfile = cloudv1.ProjectLockReason_PROJECT_LOCK_REASON_MISSING_BILLING_PROFILE
		noPayment = cloudv1.ProjectLockReason_PROJECT_LOCK_REASON_MISSING_PAYMENT_PROFILE
		noSub     = cloudv1.ProjectLockReason_PROJECT_LOCK_REASON_MISSING_SUBSCRIPTION
		inactive  = cloudv1.ProjectLockReason_PROJECT_LOCK_REASON_SUBSCRIPTION_NOT_ACTIVE
	)
	member, err := s.identity.Register(ctx, identity.RegisterInput{Email: "member@example.com", Password: "Correct-Horse-42", FirstName: "Mem", LastName: "Ber"})
	if err != nil {
		t.Fatal(err)
	}
	memberTokens, err := s.issuer.IssueForUser(ctx, member)
	if err != nil {
		t.Fatal(err)
	}
	// want checks the locks of the project as its owner and as a member.
	want := func(t *testing.T, ownerToken, projectID string, want ...cloudv1.ProjectLockReason) {
		t.Helper()
		for _, token := range []string{ownerToken, memberTokens.AccessToken} {
			for _, proto := range cloudProtocols {
				res, err := s.v1(token, proto.opts...).GetProjectLocks(ctx, connect.NewRequest(&cloudv1.GetProjectLocksRequest{Id: projectID}))
				if err != nil {
					t.Fatal(err)
				}
				if got := res.Msg.GetLockReasons(); !slices.Equal(got, want) {
					t.Fatalf("%s: locks %v, want %v", proto.name, got, want)
				}
			}
		}
	}
	share := func(t *testing.T, ownerID, projectID string) {
		t.Helper()
		if _, err := s.projects.Invite(ctx, ownerID, projectID, member.Email); err != nil {
			t.Fatal(err)
		}
		if err := s.projects.Join(ctx, member.ID, projectID, true); err != nil {
			t.Fatal(err)
		}
	}

	ada := s.customer(t, "ada@example.com")
	share(t, ada.user.ID, ada.project.ID)
	want(t, ada.token, ada.project.ID)

	bare, err := s.projects.Create(ctx, ada.user.ID, project.CreateInput{Name: "Bare"})
	if err != nil {
		t.Fatal(err)
	}
	share(t, ada.user.ID, bare.ID)
	want(t, ada.token, bare.ID, noProfile, noPayment, noSub)

	cardless, err := s.billing.CreateProfile(ctx, ada.user.ID, billing.ProfileInput{
		Name: "Ada Lovelace", Company: "Difference Engines GmbH", VATID: "DE987654321", CountryCode: "DE",
		Street: "Königsallee 7", City: "Düsseldorf", Postcode: "40212", BillingEmail: "billing@example.com",
	})
	if err != nil {
		t.Fatal(err)
	}
	unpaid, err := s.projects.Create(ctx, ada.user.ID, project.CreateInput{Name: "No card", BillingProfileID: cardless.ID})
	if err != nil {
		t.Fatal(err)
	}
	share(t, ada.user.ID, unpaid.ID)
	want(t, ada.token, unpaid.ID, noPayment, noSub)

	// An owner tagged NO_CREDIT_CARD pays by transfer: no card, no lock.
	if _, err := s.db.ExecContext(ctx, "INSERT INTO user_tags (user_id, tag) VALUES (?, ?)", ada.user.ID, string(identity.TagNoCreditCard)); err != nil {
		t.Fatal(err)
	}
	want(t, ada.token, unpaid.ID)
	if _, err := s.db.ExecContext(ctx, "DELETE FROM user_tags WHERE user_id = ?", ada.user.ID); err != nil {
		t.Fatal(err)
	}
	want(t, ada.token, unpaid.ID, noPayment, noSub)

	// A bill fails on the default card, until another default card pays it.
	bea := s.customer(t, "bea@example.com")
	share(t, bea.user.ID, bea.project.ID)
	visa := s.defaultCard(t, bea)
	failing := s.addCard(t, bea, "tok_chargeCustomerFail")
	if _, err := s.billing.ChangeDefaultCard(ctx, bea.user.ID, bea.profile.ID, failing.ID); err != nil {
		t.Fatal(err)
	}
	n := billingtest.OrderNode(t, s.db, billingtest.Order{ProjectID: bea.project.ID, FlavourID: billingtest.FlavourS1, FQDN: "a.example.com", At: berlin(t, "2026-11-10 10:00")})
	billingtest.Destroy(t, s.db, n, berlin(t, "2026-11-10 11:00"))
	s.clock.Set(berlin(t, "2026-12-01 00:05"))
	if err := s.billing.Sweep(t.Context()); err != nil {
		t.Fatal(err)
	}
	want(t, bea.token, bea.project.ID, inactive)
	want(t, ada.token, ada.project.ID) // ada's bills are not bea's
	s.clock.Set(berlin(t, "2026-12-01 00:10"))
	if _, err := s.billing.ChangeDefaultCard(ctx, bea.user.ID, bea.profile.ID, visa.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.billing.Sweep(t.Context()); err != nil {
		t.Fatal(err)
	}
	want(t, bea.token, bea.project.ID)

	// The test cards expire at the end of December three years on.
	if !visa.ExpiresAt.Equal(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("the test card expires at %s", visa.ExpiresAt)
	}
	s.clock.Set(visa.ExpiresAt.Add(-time.Second))
	want(t, ada.token, ada.project.ID)
	s.clock.Set(visa.ExpiresAt)
	want(t, ada.token, ada.project.ID, inactive)
	want(t, ada.token, bare.ID, noProfile, noPayment, noSub)
}

func TestListProjectFlavours(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	user := s.Register(t)
	c := s.Cloud(user.Token)
	ctx := context.Background()
	p := s.CreateProject(t, user.Token, "Shop")
	dcs, err := c.ListDatacenters(ctx, connect.NewRequest(&cloudv1.ListDatacentersRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	dc := map[string]string{}
	for _, d := range dcs.Msg.GetDatacenters() {
		dc[d.GetShort()] = d.GetId()
	}
	list := func(datacenter string, soldOut bool, page *typev1.PaginationRequest) *cloudv1.ListProjectFlavoursResponse {
		t.Helper()
		res, err := c.ListProjectFlavours(ctx, connect.NewRequest(&cloudv1.ListProjectFlavoursRequest{
			Id: p.GetId(), DatacenterId: dc[datacenter], IncludeSoldOut: soldOut, Pagination: page,
		}))
		if err != nil {
			t.Fatal(err)
		}
		return res.Msg
	}

	fra := list("fra1", false, nil)
	byName := map[string]*cloudv1.Flavour{}
	for _, f := range fra.GetFlavours() {
		byName[f.GetName()] = f
	}
	if len(byName) != 4 || fra.GetTotal() != 4 {
		t.Fatalf("fra1 flavours = %v, want the 4 of the seed", fra.GetFlavours())
	}
	s1 := byName["BM-S1"]
	if s1.GetAvailability() != cloudv1.FlavourAvailability_FLAVOUR_AVAILABILITY_MIDDLE ||
		s1.GetPricePerMonth().GetAmount() != 5900 || s1.GetPricePerMonth().GetCurrency() != "EUR" ||
		s1.GetPricePerMonth().GetFormatted() != "€59.00" || s1.GetPricePerHour().GetFormatted() != "€0.10" ||
		s1.GetWindowsMonthlyFee() != nil || s1.GetTraffic() != 20000 || s1.GetCpu() == "" {
		t.Fatalf("BM-S1 in fra1 = %v", s1)
	}
	if m1 := byName["BM-M1"]; m1.GetWindowsMonthlyFee().GetFormatted() != "€75.00" {
		t.Fatalf("BM-M1 windows fee = %v", m1.GetWindowsMonthlyFee())
	}
	if xl := byName["BM-XL1"]; xl.GetAvailability() != cloudv1.FlavourAvailability_FLAVOUR_AVAILABILITY_PREORDER {
		t.Fatalf("BM-XL1 (no servers, pre-orders allowed) = %v, want PREORDER, listed without include_sold_out", xl)
	}

	// ber1 has no servers: its flavours are sold out.
	if ber := list("ber1", false, nil); len(ber.GetFlavours()) != 0 || ber.GetTotal() != 0 {
		t.Fatalf("ber1 without include_sold_out = %v, want nothing", ber.GetFlavours())
	}
	ber := list("ber1", true, nil)
	if len(ber.GetFlavours()) != 2 || ber.GetTotal() != 2 {
		t.Fatalf("ber1 with include_sold_out = %v, want its 2 flavours", ber.GetFlavours())
	}
	for _, f := range ber.GetFlavours() {
		if f.GetAvailability() != cloudv1.FlavourAvailability_FLAVOUR_AVAILABILITY_OUT_OF_STOCK {
			t.Fatalf("%s in ber1 = %v, want OUT_OF_STOCK", f.GetName(), f.GetAvailability())
		}
		if f.GetName() == "BM-S1" && f.GetPricePerMonth().GetFormatted() != "€64.00" {
			t.Fatalf("BM-S1 in ber1 costs %v, want the datacenter's price €64.00", f.GetPricePerMonth())
		}
	}

	paged := list("fra1", false, &typev1.PaginationRequest{Page: 2, Limit: proto.Int32(3)})
	if len(paged.GetFlavours()) != 1 || paged.GetTotal() != 4 || paged.GetPagination().GetTotal() != 2 {
		t.Fatalf("page 2 of 3 per page = %v", paged)
	}

	for _, tc := range []struct {
		name   string
		id, dc string
		code   connect.Code
		field  string
	}{
		{"no datacenter", p.GetId(), "", connect.CodeInvalidArgument, "datacenter_id"},
		{"datacenter not a UUID", p.GetId(), "fra1", connect.CodeInvalidArgument, "datacenter_id"},
		{"project not a UUID", "shop", dc["fra1"], connect.CodeInvalidArgument, "id"},
		{"unknown datacenter", p.GetId(), "6a0c1a3e-39a4-4d16-9d4e-2d0f0b7c2f11", connect.CodeNotFound, "datacenter_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.ListProjectFlavours(ctx, connect.NewRequest(&cloudv1.ListProjectFlavoursRequest{Id: tc.id, DatacenterId: tc.dc}))
			testserver.WantCode(t, err, tc.code, tc.field)
		})
	}
}

// TestProjectsOfADollarServer: a server started with --currency USD creates
// projects in US dollars, and everything priced for them is in dollars: the
// project's flavours, its nodes and its usage.
func TestProjectsOfADollarServer(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, func(c *app.Config) { c.Currency = "usd" })
	u := s.Register(t)
	p := s.BilledProject(t, u, "Dollar shop")
	if p.GetCurrency() != cloudv1.Currency_CURRENCY_US_DOLLAR {
		t.Fatalf("CreateProject on a USD server: currency %v", p.GetCurrency())
	}
	ctx := context.Background()
	for _, proto := range cloudProtocols {
		t.Run(proto.name, func(t *testing.T) {
			c := s.Cloud(u.Token, proto.opts...)
			got, err := c.GetProject(ctx, connect.NewRequest(&cloudv1.GetProjectRequest{Id: p.GetId()}))
			if err != nil || got.Msg.GetProject().GetCurrency() != cloudv1.Currency_CURRENCY_US_DOLLAR {
				t.Fatalf("GetProject: %v, %v", got, err)
			}
			flavours, err := c.ListProjectFlavours(ctx, connect.NewRequest(&cloudv1.ListProjectFlavoursRequest{Id: p.GetId(), DatacenterId: seedFra1}))
			if err != nil {
				t.Fatal(err)
			}
			var s1 *cloudv1.Flavour
			for _, f := range flavours.Msg.GetFlavours() {
				if f.GetId() == seedS1 {
					s1 = f
				}
			}
			// The seed's BM-S1 in fra1: 0.11 USD per hour, 65.00 USD per month.
			if s1.GetPricePerHour().GetAmount() != 11 || s1.GetPricePerHour().GetCurrency() != "USD" ||
				s1.GetPricePerMonth().GetFormatted() != "$65.00" {
				t.Fatalf("BM-S1 for a USD project: %v", s1)
			}
			created, err := c.CreateNode(ctx, connect.NewRequest(orderS1(p.GetId(), "dollar-"+proto.name+".example")))
			if err != nil {
				t.Fatal(err)
			}
			if price := created.Msg.GetNodes()[0].GetFlavour().GetPricePerHour(); price.GetAmount() != 11 || price.GetCurrency() != "USD" {
				t.Fatalf("the node's hourly price %v", price)
			}
			usage, err := c.GetProjectUsage(ctx, connect.NewRequest(&cloudv1.GetProjectUsageRequest{Id: p.GetId(), Detailed: true}))
			if err != nil {
				t.Fatal(err)
			}
			if total := usage.Msg.GetUsage().GetTotal(); total.GetCurrency() != "USD" || total.GetAmount()%11 != 0 || total.GetAmount() == 0 {
				t.Fatalf("usage %v, want started hours of 0.11 USD", usage.Msg.GetUsage())
			}
		})
	}
}
