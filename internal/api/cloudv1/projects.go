package cloudv1

import (
	"context"

	"connectrpc.com/connect"

	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	typev1 "github.com/gpcore/gpcore/gen/gpcore/type/v1"
	"github.com/gpcore/gpcore/internal/api/apiconv"
	"github.com/gpcore/gpcore/internal/api/interceptor"
	"github.com/gpcore/gpcore/internal/catalog"
	"github.com/gpcore/gpcore/internal/project"
)

// CreateProject creates a project with the caller as its OWNER; the caller's
// first project becomes their default. The billing profile is optional.
func (h *Handler) CreateProject(ctx context.Context, req *connect.Request[cloudv1.CreateProjectRequest]) (*connect.Response[cloudv1.CreateProjectResponse], error) {
	m := req.Msg
	in := project.CreateInput{Name: m.GetName(), Description: m.GetDescription()} //nolint:staticcheck // deprecated but still stored
	var err error
	if in.Environment, err = environment(m.GetEnvironment()); err != nil { //nolint:staticcheck // deprecated but still stored
		return nil, err
	}
	if m.GetBillingAddressId() != "" {
		if in.BillingProfileID, err = apiconv.UUID("billing_address_id", m.GetBillingAddressId()); err != nil {
			return nil, err
		}
	}
	p, err := h.projects.Create(ctx, interceptor.CallerID(ctx), in)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&cloudv1.CreateProjectResponse{Project: projectMessage(p)}), nil
}

// ListProjects lists the caller's projects, the default first and then the
// oldest, a page of at most project.ProjectsPageLimit, and every pending
// invite of the caller.
func (h *Handler) ListProjects(ctx context.Context, req *connect.Request[cloudv1.ListProjectsRequest]) (*connect.Response[cloudv1.ListProjectsResponse], error) {
	page, err := apiconv.Page(req.Msg.GetPagination(), project.ProjectsPageLimit)
	if err != nil {
		return nil, err
	}
	l, err := h.projects.List(ctx, interceptor.CallerID(ctx), "", page)
	if err != nil {
		return nil, err
	}
	out := &cloudv1.ListProjectsResponse{
		Projects:   make([]*cloudv1.Project, len(l.Projects)),
		Invites:    make([]*cloudv1.ProjectInvite, len(l.Invites)),
		Pagination: apiconv.PageResponse(page, l.Total),
		Total:      l.Total,
	}
	for i, p := range l.Projects {
		out.Projects[i] = projectMessage(p)
	}
	for i, inv := range l.Invites {
		out.Invites[i] = &cloudv1.ProjectInvite{
			Id:        inv.ProjectID,
			Project:   &cloudv1.BasicProject{Id: inv.ProjectID, Name: inv.ProjectName, AvatarUrl: inv.ProjectAvatarURL},
			CreatedAt: apiconv.Time(inv.CreatedAt),
		}
	}
	return connect.NewResponse(out), nil
}

// GetProject returns a project the caller is a member of.
func (h *Handler) GetProject(ctx context.Context, req *connect.Request[cloudv1.GetProjectRequest]) (*connect.Response[cloudv1.GetProjectResponse], error) {
	id, err := apiconv.UUID("id", req.Msg.GetId())
	if err != nil {
		return nil, err
	}
	p, err := h.projects.Get(ctx, interceptor.CallerID(ctx), id)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&cloudv1.GetProjectResponse{Project: projectMessage(p)}), nil
}

// UpdateProject changes the fields the request sets: proto3 cannot tell an
// empty string or UNSPECIFIED from a field left out, so those keep the
// current value. credit_card_id names a card of the project's billing
// profile (the new one, with billing_address_id) to charge the project's
// bills to: bills are the profile's, so that card becomes the profile's
// default card (billing.Service.UseCard).
func (h *Handler) UpdateProject(ctx context.Context, req *connect.Request[cloudv1.UpdateProjectRequest]) (*connect.Response[cloudv1.UpdateProjectResponse], error) {
	m := req.Msg
	id, err := apiconv.UUID("id", m.GetId())
	if err != nil {
		return nil, err
	}
	var in project.UpdateInput
	if m.GetCreditCardId() != "" {
		cardID, err := apiconv.UUID("credit_card_id", m.GetCreditCardId())
		if err != nil {
			return nil, err
		}
		in.CreditCardID = &cardID
	}
	if m.GetName() != "" {
		in.Name = &m.Name
	}
	if m.GetDescription() != "" { //nolint:staticcheck // deprecated but still stored
		in.Description = &m.Description //nolint:staticcheck // deprecated but still stored
	}
	env, err := environment(m.GetEnvironment()) //nolint:staticcheck // deprecated but still stored
	if err != nil {
		return nil, err
	}
	if env != project.EnvironmentUnspecified {
		in.Environment = &env
	}
	if m.GetBillingAddressId() != "" {
		profileID, err := apiconv.UUID("billing_address_id", m.GetBillingAddressId())
		if err != nil {
			return nil, err
		}
		in.BillingProfileID = &profileID
	}
	p, err := h.projects.Update(ctx, interceptor.CallerID(ctx), id, in)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&cloudv1.UpdateProjectResponse{Project: projectMessage(p)}), nil
}

// DeleteProject deletes a project: its OWNER only, never a project that is
// any member's default project, never with something left in it
// (FailedPrecondition with the reason).
func (h *Handler) DeleteProject(ctx context.Context, req *connect.Request[cloudv1.DeleteProjectRequest]) (*connect.Response[cloudv1.DeleteProjectResponse], error) {
	return actOnID[cloudv1.DeleteProjectResponse](ctx, req.Msg, h.projects.Delete)
}

// ChangeDefaultProject makes a project the caller is a member of their
// default project.
func (h *Handler) ChangeDefaultProject(ctx context.Context, req *connect.Request[cloudv1.ChangeDefaultProjectRequest]) (*connect.Response[cloudv1.ChangeDefaultProjectResponse], error) {
	return actOnID[cloudv1.ChangeDefaultProjectResponse](ctx, req.Msg, h.projects.ChangeDefault)
}

// GetProjectLocks lists the reasons the project may not order nodes now;
// empty when it may.
func (h *Handler) GetProjectLocks(ctx context.Context, req *connect.Request[cloudv1.GetProjectLocksRequest]) (*connect.Response[cloudv1.GetProjectLocksResponse], error) {
	id, err := apiconv.UUID("id", req.Msg.GetId())
	if err != nil {
		return nil, err
	}
	reasons, err := h.projects.Locks(ctx, interceptor.CallerID(ctx), id)
	if err != nil {
		return nil, err
	}
	out := make([]cloudv1.ProjectLockReason, len(reasons))
	for i, r := range reasons {
		out[i] = apiconv.Enum[cloudv1.ProjectLockReason](cloudv1.ProjectLockReason_value, "PROJECT_LOCK_REASON_", r)
	}
	return connect.NewResponse(&cloudv1.GetProjectLocksResponse{LockReasons: out}), nil
}

// ListProjectFlavours lists the flavours offered in a datacenter, priced in
// the project's currency, a page of at most catalog.FlavoursPageLimit.
// Out-of-stock flavours are listed only with include_sold_out.
func (h *Handler) ListProjectFlavours(ctx context.Context, req *connect.Request[cloudv1.ListProjectFlavoursRequest]) (*connect.Response[cloudv1.ListProjectFlavoursResponse], error) {
	m := req.Msg
	id, err := apiconv.UUID("id", m.GetId())
	if err != nil {
		return nil, err
	}
	datacenterID, err := apiconv.UUID("datacenter_id", m.GetDatacenterId())
	if err != nil {
		return nil, err
	}
	page, err := apiconv.Page(m.GetPagination(), catalog.FlavoursPageLimit)
	if err != nil {
		return nil, err
	}
	p, err := h.projects.Get(ctx, interceptor.CallerID(ctx), id)
	if err != nil {
		return nil, err
	}
	flavours, total, err := h.catalog.ListFlavours(ctx, catalog.FlavourFilter{
		DatacenterID: datacenterID, Currency: catalog.Currency(p.Currency), IncludeSoldOut: m.GetIncludeSoldOut(),
	}, page)
	if err != nil {
		return nil, err
	}
	out := make([]*cloudv1.Flavour, len(flavours))
	for i, f := range flavours {
		out[i] = flavour(f)
	}
	return connect.NewResponse(&cloudv1.ListProjectFlavoursResponse{
		Flavours: out, Pagination: apiconv.PageResponse(page, total), Total: total,
	}), nil
}

// environment is the domain value of the deprecated environment field.
func environment(e cloudv1.ProjectEnvironment) (project.Environment, error) {
	return apiconv.EnumName[project.Environment]("environment", e, "PROJECT_ENVIRONMENT_")
}

// currencies maps project currencies to the API's; their names differ.
var currencies = map[project.Currency]cloudv1.Currency{
	project.CurrencyEUR: cloudv1.Currency_CURRENCY_EURO,
	project.CurrencyUSD: cloudv1.Currency_CURRENCY_US_DOLLAR,
}

func projectMessage(p project.Project) *cloudv1.Project {
	out := &cloudv1.Project{
		Id:          p.ID,
		Name:        p.Name,
		Description: p.Description,
		AvatarUrl:   p.AvatarURL,
		Currency:    currencies[p.Currency],
		Environment: apiconv.Enum[cloudv1.ProjectEnvironment](cloudv1.ProjectEnvironment_value, "PROJECT_ENVIRONMENT_", p.Environment),
		Members:     make([]*cloudv1.ProjectMember, len(p.Members)),
		CreatedAt:   apiconv.Time(p.CreatedAt),
		UpdatedAt:   apiconv.Time(p.UpdatedAt),
	}
	if p.BillingProfileID != "" {
		out.BillingProfile = &cloudv1.BillingProfile{Id: p.BillingProfileID}
	}
	for i, m := range p.Members {
		out.Members[i] = member(m)
	}
	return out
}

func flavour(f catalog.DatacenterFlavour) *cloudv1.Flavour {
	out := &cloudv1.Flavour{
		Id:            f.ID,
		Name:          f.Name,
		Availability:  apiconv.Enum[cloudv1.FlavourAvailability](cloudv1.FlavourAvailability_value, "FLAVOUR_AVAILABILITY_", f.Availability),
		Cpu:           f.CPU,
		Memory:        f.Memory,
		Disk:          f.Disk,
		Network:       f.Network,
		Traffic:       f.TrafficGB,
		PricePerHour:  price(f.PricePerHour),
		PricePerMonth: price(f.PricePerMonth),
	}
	if f.WindowsMonthlyFee != nil {
		out.WindowsMonthlyFee = price(*f.WindowsMonthlyFee)
	}
	return out
}

func price(m catalog.Money) *typev1.Price {
	return apiconv.Price(m.Amount, string(m.Currency))
}
