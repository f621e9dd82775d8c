package cloudv1_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	"github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1/cloudv1connect"
	typev1 "github.com/gpcore/gpcore/gen/gpcore/type/v1"
	"github.com/gpcore/gpcore/internal/app"
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
		{"credit card", &cloudv1.UpdateProjectRequest{CreditCardId: "6a0c1a3e-39a4-4d16-9d4e-2d0f0b7c2f11"}, connect.CodeInvalidArgument, "credit_card_id"},
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
}

func TestDeleteProject(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	owner, member := s.Register(t), s.Register(t)
	c := s.Cloud(owner.Token)
	ctx := context.Background()
	home := s.CreateProject(t, owner.Token, "Home")
	other := s.CreateProject(t, owner.Token, "Other")
	addMember(t, s, owner, member, other.GetId())
	del := func(c cloudv1connect.CloudServiceClient, id string) error {
		_, err := c.DeleteProject(ctx, connect.NewRequest(&cloudv1.DeleteProjectRequest{Id: id}))
		return err
	}

	testserver.WantCode(t, del(s.Cloud(member.Token), other.GetId()), connect.CodePermissionDenied, "")
	testserver.WantCode(t, del(c, home.GetId()), connect.CodeFailedPrecondition, "")
	testserver.WantCode(t, del(c, "nope"), connect.CodeInvalidArgument, "id")
	if err := del(c, other.GetId()); err != nil {
		t.Fatalf("owner deleting a project that is not their default: %v", err)
	}
	_, err := c.GetProject(ctx, connect.NewRequest(&cloudv1.GetProjectRequest{Id: other.GetId()}))
	testserver.WantCode(t, err, connect.CodeNotFound, "")
	testserver.WantCode(t, del(c, other.GetId()), connect.CodeNotFound, "")
	// The member's default was the deleted project; it went with it.
	if l := listProjects(t, s.Cloud(member.Token)); len(l.GetProjects()) != 0 {
		t.Fatalf("member still lists %v", projectNames(l.GetProjects()))
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

// TestGetProjectLocks: without the billing domain there are no billing
// profiles, payment methods or subscriptions, so every project is locked
// for all three reasons.
func TestGetProjectLocks(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	user := s.Register(t)
	p := s.CreateProject(t, user.Token, "Locked")
	res, err := s.Cloud(user.Token).GetProjectLocks(context.Background(), connect.NewRequest(&cloudv1.GetProjectLocksRequest{Id: p.GetId()}))
	if err != nil {
		t.Fatal(err)
	}
	want := []cloudv1.ProjectLockReason{
		cloudv1.ProjectLockReason_PROJECT_LOCK_REASON_MISSING_BILLING_PROFILE,
		cloudv1.ProjectLockReason_PROJECT_LOCK_REASON_MISSING_PAYMENT_PROFILE,
		cloudv1.ProjectLockReason_PROJECT_LOCK_REASON_MISSING_SUBSCRIPTION,
	}
	if got := res.Msg.GetLockReasons(); !slices.Equal(got, want) {
		t.Fatalf("locks = %v, want %v", got, want)
	}
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
		{"unknown datacenter", p.GetId(), "6a0c1a3e-39a4-4d16-9d4e-2d0f0b7c2f11", connect.CodeNotFound, ""},
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
