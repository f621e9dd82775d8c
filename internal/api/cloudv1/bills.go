package cloudv1

import (
	"context"

	"connectrpc.com/connect"

	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	typev1 "github.com/gpcore/gpcore/gen/gpcore/type/v1"
	"github.com/gpcore/gpcore/internal/api/apiconv"
	"github.com/gpcore/gpcore/internal/api/interceptor"
	"github.com/gpcore/gpcore/internal/billing"
	"github.com/gpcore/gpcore/internal/fault"
)

// ListBillingProfileBills lists the bills of one of the caller's billing
// profiles, newest first, a page of at most billing.BillsPageLimit; year
// keeps the bills for months of that year, and years lists every year the
// profile has bills for. Cloud v2 answers its namesake with this method.
func (h *Handler) ListBillingProfileBills(ctx context.Context, req *connect.Request[cloudv1.ListBillingProfileBillsRequest]) (*connect.Response[cloudv1.ListBillingProfileBillsResponse], error) {
	m := req.Msg
	id, err := apiconv.UUID("id", m.GetId())
	if err != nil {
		return nil, err
	}
	if m.Year != nil && (m.GetYear() < 1 || m.GetYear() > 9999) {
		return nil, fault.Invalid("year", "must be a year like 2026, got %d", m.GetYear())
	}
	page, err := apiconv.Page(m.GetPagination(), billing.BillsPageLimit)
	if err != nil {
		return nil, err
	}
	l, err := h.billing.ListBills(ctx, interceptor.CallerID(ctx), id, m.GetYear(), page)
	if err != nil {
		return nil, err
	}
	out := &cloudv1.ListBillingProfileBillsResponse{
		Bills: make([]*cloudv1.Bill, len(l.Bills)), Pagination: apiconv.PageResponse(page, l.Total),
		Years: l.Years, Total: l.Total,
	}
	for i, b := range l.Bills {
		out.Bills[i] = bill(b)
	}
	return connect.NewResponse(out), nil
}

// GetBillingProfileBillDetails returns a bill of one of the caller's billing
// profiles with the usage it covers, per flavour, billing period and unit
// type, with its nodes.
func (h *Handler) GetBillingProfileBillDetails(ctx context.Context, req *connect.Request[cloudv1.GetBillingProfileBillDetailsRequest]) (*connect.Response[cloudv1.GetBillingProfileBillDetailsResponse], error) {
	profileID, billID, err := billRef(req.Msg)
	if err != nil {
		return nil, err
	}
	b, lines, err := h.billing.GetBill(ctx, interceptor.CallerID(ctx), profileID, billID)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&cloudv1.GetBillingProfileBillDetailsResponse{
		Bill: bill(b), Usage: projectUsage(billing.UsageOf(b.Currency, lines), true),
	}), nil
}

// GetBillingProfileBillPdf returns the invoice of a bill of one of the
// caller's billing profiles as a PDF document.
func (h *Handler) GetBillingProfileBillPdf(ctx context.Context, req *connect.Request[cloudv1.GetBillingProfileBillPdfRequest]) (*connect.Response[cloudv1.GetBillingProfileBillPdfResponse], error) {
	profileID, billID, err := billRef(req.Msg)
	if err != nil {
		return nil, err
	}
	pdf, err := h.billing.BillPDF(ctx, interceptor.CallerID(ctx), profileID, billID)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&cloudv1.GetBillingProfileBillPdfResponse{
		Pdf: &typev1.File{Bytes: pdf, MimeType: "application/pdf"},
	}), nil
}

// ListBillingProfileProjects lists the projects billed to one of the
// caller's billing profiles, by name, a page of at most
// billing.ProjectsPageLimit. Cloud v2 answers its namesake with this
// method.
func (h *Handler) ListBillingProfileProjects(ctx context.Context, req *connect.Request[cloudv1.ListBillingProfileProjectsRequest]) (*connect.Response[cloudv1.ListBillingProfileProjectsResponse], error) {
	id, err := apiconv.UUID("id", req.Msg.GetId())
	if err != nil {
		return nil, err
	}
	page, err := apiconv.Page(req.Msg.GetPagination(), billing.ProjectsPageLimit)
	if err != nil {
		return nil, err
	}
	projects, total, err := h.billing.ListProfileProjects(ctx, interceptor.CallerID(ctx), id, page)
	if err != nil {
		return nil, err
	}
	out := &cloudv1.ListBillingProfileProjectsResponse{
		Projects: make([]*cloudv1.BasicProject, len(projects)), Pagination: apiconv.PageResponse(page, total), Total: total,
	}
	for i, p := range projects {
		out.Projects[i] = &cloudv1.BasicProject{Id: p.ID, Name: p.Name, AvatarUrl: p.AvatarURL}
	}
	return connect.NewResponse(out), nil
}

// billRef checks the billing profile id and the bill id of a request.
func billRef(m interface {
	GetId() string
	GetBillId() string
}) (profileID, billID string, err error) {
	if profileID, err = apiconv.UUID("id", m.GetId()); err != nil {
		return "", "", err
	}
	if billID, err = apiconv.UUID("bill_id", m.GetBillId()); err != nil {
		return "", "", err
	}
	return profileID, billID, nil
}

// bill maps a bill; its billing profile is the buyer as the bill names it.
func bill(b billing.Bill) *cloudv1.Bill {
	cur := string(b.Currency)
	return &cloudv1.Bill{
		Id:             b.ID,
		Number:         b.Number,
		BillingProfile: apiconv.BillingProfile(b.Buyer),
		Status:         apiconv.Enum[cloudv1.BillStatus](cloudv1.BillStatus_value, "BILL_STATUS_", b.Status),
		NetPrice:       apiconv.Price(b.Net, cur),
		TaxPrice:       apiconv.Price(b.Tax, cur),
		GrossPrice:     apiconv.Price(b.Gross, cur),
		CreditPrice:    apiconv.Price(b.Credit, cur),
		TotalPrice:     apiconv.Price(b.Total, cur),
		IssuedAt:       apiconv.Time(b.IssuedAt),
	}
}
