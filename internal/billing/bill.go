package billing

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/gpcore/gpcore/internal/billing/metering"
	"github.com/gpcore/gpcore/internal/catalog"
	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/pagination"
)

// BillsPageLimit is the default (and largest) page of ListBills, and
// ProjectsPageLimit of ListProfileProjects.
const (
	BillsPageLimit    = 100
	ProjectsPageLimit = 100
)

// BillStatus is where a bill's payment stands (the reference's BillStatus
// without its prefix).
type BillStatus string

// The bill statuses, as stored.
const (
	// BillPending: issued, not paid yet. Bills charged to a card stay
	// pending until the provider answers; bills of owners with the tag
	// NO_CREDIT_CARD stay pending: they are paid by bank transfer.
	BillPending BillStatus = "PENDING"
	// BillSucceeded: paid (or nothing to pay).
	BillSucceeded BillStatus = "SUCCEEDED"
	// BillFailed: the payment failed (declined, or no card to charge).
	BillFailed BillStatus = "FAILED"
)

// Seller is the operator as invoices name it, from its configuration.
type Seller struct {
	// Name is the operator's (company) name.
	Name string
	// Address is its postal address, lines separated by newlines.
	Address string
	// VATID is its VAT identification number, empty when it has none.
	VATID string
	// Country is its ISO 3166-1 alpha-2 country code.
	Country string
}

// Bill is what a billing profile owes for one calendar month in one
// currency. Only its status changes once it is issued.
type Bill struct {
	ID string
	// Number is the bill's number, one of a series without gaps.
	Number    string
	ProfileID string
	// UserID is the profile's owner, to whom the bill belongs.
	UserID string
	Status BillStatus
	// StatusReason says why a payment failed, or how a pending bill is paid.
	StatusReason string
	Currency     catalog.Currency
	// Year and Month are the calendar month billed, on the owner's calendar
	// (Timezone) when the bill was issued.
	Year  int
	Month time.Month
	// PeriodStart and PeriodEnd are that month's bounds; lines that fell due
	// earlier but were billed nowhere (a project that moved in from another
	// profile) are included too.
	PeriodStart, PeriodEnd time.Time
	Timezone               string
	TaxRate                catalog.TaxRate
	// Net is the sum of the lines; Tax is Net times TaxRate, rounded once
	// (money.ApplyRate); Gross = Net + Tax; Total = Gross - Credit. All in
	// minor units of Currency.
	Net, Tax, Gross, Credit, Total int64
	// Buyer is the billing profile as it was when the bill was issued
	// (without plan code or timestamps).
	Buyer Profile
	// Seller is the operator as it was configured when the bill was issued.
	Seller          Seller
	IssuedAt        time.Time
	StatusChangedAt time.Time
}

// BillLine is one line of a bill (or of a usage report): what one node owed
// for its hours, one monthly term, or one licence month.
type BillLine struct {
	ProjectID, ProjectName string
	// PlanCode is the plan of the project (project.Project.PlanCode) when
	// the line was billed; empty on bills issued before plans were recorded.
	PlanCode               string
	NodeID, NodeName       string
	FlavourID, FlavourName string
	Kind                   metering.Kind
	Period                 metering.Period
	UnitType               metering.UnitType
	Units                  int64
	UnitPrice              int64
	Amount                 int64
	// From and To are the span the line pays for.
	From, To time.Time
}

// billRow is a bills row.
type billRow struct {
	bun.BaseModel `bun:"table:bills,alias:b"`

	ID               string    `bun:"id,pk"`
	Seq              int64     `bun:"seq"`
	Number           string    `bun:"number"`
	BillingProfileID string    `bun:"billing_profile_id"`
	UserID           string    `bun:"user_id"`
	Currency         string    `bun:"currency"`
	PeriodYear       int       `bun:"period_year"`
	PeriodMonth      int       `bun:"period_month"`
	PeriodStart      time.Time `bun:"period_start"`
	PeriodEnd        time.Time `bun:"period_end"`
	Timezone         string    `bun:"timezone"`
	TaxRateBP        int32     `bun:"tax_rate_bp"`
	NetAmount        int64     `bun:"net_amount"`
	TaxAmount        int64     `bun:"tax_amount"`
	GrossAmount      int64     `bun:"gross_amount"`
	CreditAmount     int64     `bun:"credit_amount"`
	TotalAmount      int64     `bun:"total_amount"`
	BuyerName        string    `bun:"buyer_name"`
	BuyerCompany     string    `bun:"buyer_company"`
	BuyerVATID       string    `bun:"buyer_vat_id"`
	BuyerStreet      string    `bun:"buyer_street"`
	BuyerPostcode    string    `bun:"buyer_postcode"`
	BuyerCity        string    `bun:"buyer_city"`
	BuyerState       string    `bun:"buyer_state"`
	BuyerCountry     string    `bun:"buyer_country"`
	BuyerEmail       string    `bun:"buyer_email"`
	SellerName       string    `bun:"seller_name"`
	SellerAddress    string    `bun:"seller_address"`
	SellerVATID      string    `bun:"seller_vat_id"`
	SellerCountry    string    `bun:"seller_country"`
	Status           string    `bun:"status"`
	StatusReason     string    `bun:"status_reason"`
	PaymentProvider  string    `bun:"payment_provider,nullzero"`
	PaymentRef       string    `bun:"payment_ref,nullzero"`
	ChargeAttempts   int       `bun:"charge_attempts"`
	ChargedCardID    string    `bun:"charged_card_id,nullzero"`
	IssuedAt         time.Time `bun:"issued_at"`
	StatusChangedAt  time.Time `bun:"status_changed_at"`
}

// lineRow is a bill_lines row.
type lineRow struct {
	bun.BaseModel `bun:"table:bill_lines,alias:bl"`

	BillID      string    `bun:"bill_id,pk"`
	Position    int       `bun:"position,pk"`
	ProjectID   string    `bun:"project_id"`
	ProjectName string    `bun:"project_name"`
	PlanCode    string    `bun:"plan_code"`
	NodeID      string    `bun:"node_id"`
	NodeName    string    `bun:"node_name"`
	FlavourID   string    `bun:"flavour_id"`
	FlavourName string    `bun:"flavour_name"`
	Kind        string    `bun:"kind"`
	Period      string    `bun:"period"`
	UnitType    string    `bun:"unit_type"`
	Units       int64     `bun:"units"`
	UnitPrice   int64     `bun:"unit_price"`
	Amount      int64     `bun:"amount"`
	StartsAt    time.Time `bun:"starts_at"`
	EndsAt      time.Time `bun:"ends_at"`
}

// bill converts a row.
func bill(r billRow) Bill {
	return Bill{
		ID: r.ID, Number: r.Number, ProfileID: r.BillingProfileID, UserID: r.UserID,
		Status: BillStatus(r.Status), StatusReason: r.StatusReason, Currency: catalog.Currency(r.Currency),
		Year: r.PeriodYear, Month: time.Month(r.PeriodMonth),
		PeriodStart: r.PeriodStart.UTC(), PeriodEnd: r.PeriodEnd.UTC(), Timezone: r.Timezone,
		TaxRate: catalog.TaxRate(r.TaxRateBP),
		Net:     r.NetAmount, Tax: r.TaxAmount, Gross: r.GrossAmount, Credit: r.CreditAmount, Total: r.TotalAmount,
		Buyer: Profile{
			ID: r.BillingProfileID, UserID: r.UserID, Name: r.BuyerName, Company: r.BuyerCompany, VATID: r.BuyerVATID,
			CountryCode: r.BuyerCountry, State: r.BuyerState, Street: r.BuyerStreet, City: r.BuyerCity,
			Postcode: r.BuyerPostcode, BillingEmail: r.BuyerEmail, TaxRate: catalog.TaxRate(r.TaxRateBP),
		},
		Seller:   Seller{Name: r.SellerName, Address: r.SellerAddress, VATID: r.SellerVATID, Country: r.SellerCountry},
		IssuedAt: r.IssuedAt.UTC(), StatusChangedAt: r.StatusChangedAt.UTC(),
	}
}

// billLine converts a row.
func billLine(r lineRow) BillLine {
	return BillLine{
		ProjectID: r.ProjectID, ProjectName: r.ProjectName, PlanCode: r.PlanCode, NodeID: r.NodeID, NodeName: r.NodeName,
		FlavourID: r.FlavourID, FlavourName: r.FlavourName, Kind: metering.Kind(r.Kind),
		Period: metering.Period(r.Period), UnitType: metering.UnitType(r.UnitType),
		Units: r.Units, UnitPrice: r.UnitPrice, Amount: r.Amount, From: r.StartsAt.UTC(), To: r.EndsAt.UTC(),
	}
}

// BillListing is a page of a billing profile's bills.
type BillListing struct {
	Bills []Bill
	// Total counts the bills the filter selects.
	Total int64
	// Years are the years the profile has bills for, newest first, whatever
	// the filter: the choices of a year filter.
	Years []int32
}

// ListBills returns page p of the bills of userID's billing profile
// profileID, newest first; year, when not zero, keeps the bills for months
// of that year. The bills of a profile that was deleted stay listed for its
// owner. NotFound for a profile that is not the caller's.
func (s *Service) ListBills(ctx context.Context, userID, profileID string, year int32, p pagination.Page) (BillListing, error) {
	if err := s.ownsBills(ctx, userID, profileID); err != nil {
		return BillListing{}, err
	}
	var out BillListing
	if err := s.db.NewSelect().Model((*billRow)(nil)).ColumnExpr("DISTINCT period_year").
		Where("billing_profile_id = ?", profileID).Where("user_id = ?", userID).
		OrderExpr("period_year DESC").Scan(ctx, &out.Years); err != nil {
		return BillListing{}, wrap("list bills", err)
	}
	var rows []billRow
	q := s.db.NewSelect().Model(&rows).
		Where("billing_profile_id = ?", profileID).Where("user_id = ?", userID).
		OrderExpr("seq DESC").Limit(int64(p.Limit)).Offset(p.Offset())
	if year != 0 {
		q = q.Where("period_year = ?", year)
	}
	total, err := q.ScanAndCount(ctx)
	if err != nil {
		return BillListing{}, wrap("list bills", err)
	}
	out.Total = int64(total)
	out.Bills = make([]Bill, len(rows))
	for i, r := range rows {
		out.Bills[i] = bill(r)
	}
	return out, nil
}

// GetBill returns bill billID of userID's billing profile profileID with its
// lines, in the order they are printed. NotFound for a bill that is not
// the caller's or not the profile's.
func (s *Service) GetBill(ctx context.Context, userID, profileID, billID string) (Bill, []BillLine, error) {
	var row billRow
	err := s.db.NewSelect().Model(&row).
		Where("id = ?", billID).Where("billing_profile_id = ?", profileID).Where("user_id = ?", userID).
		Scan(ctx)
	if noRows(err) {
		return Bill{}, nil, fault.NotFound("bill", billID)
	}
	if err != nil {
		return Bill{}, nil, wrap("get bill", err)
	}
	var rows []lineRow
	if err := s.db.NewSelect().Model(&rows).Where("bill_id = ?", billID).OrderExpr("position").Scan(ctx); err != nil {
		return Bill{}, nil, wrap("get bill lines", err)
	}
	lines := make([]BillLine, len(rows))
	for i, r := range rows {
		lines[i] = billLine(r)
	}
	return bill(row), lines, nil
}

// ownsBills refuses, with NotFound, a billing profile that is not userID's:
// one that exists and belongs to someone else, or one that does not exist
// and left userID no bills.
func (s *Service) ownsBills(ctx context.Context, userID, profileID string) error {
	owner, err := profileOwner(ctx, s.db.DB, profileID)
	if err == nil {
		if owner != userID {
			return fault.NotFound("billing profile", profileID)
		}
		return nil
	}
	if fault.KindOf(err) != fault.KindNotFound {
		return wrap("find profile", err)
	}
	left, err := s.db.NewSelect().Model((*billRow)(nil)).
		Where("billing_profile_id = ?", profileID).Where("user_id = ?", userID).Exists(ctx)
	if err != nil {
		return wrap("find bills", err)
	}
	if !left {
		return fault.NotFound("billing profile", profileID)
	}
	return nil
}

// ProjectRef names a project billed to a profile (the reference's
// BasicProject).
type ProjectRef struct {
	ID, Name, AvatarURL string
}

// ListProfileProjects returns page p of the projects billed to userID's
// billing profile profileID, by name, and how many there are. NotFound for
// a profile that is not the caller's.
func (s *Service) ListProfileProjects(ctx context.Context, userID, profileID string, p pagination.Page) ([]ProjectRef, int64, error) {
	owner, err := profileOwner(ctx, s.db.DB, profileID)
	if err != nil {
		return nil, 0, wrap("list profile projects", err)
	}
	if owner != userID {
		return nil, 0, fault.NotFound("billing profile", profileID)
	}
	var rows []struct {
		ID        string `bun:"id"`
		Name      string `bun:"name"`
		AvatarURL string `bun:"avatar_url"`
	}
	total, err := s.db.NewSelect().TableExpr("projects").Column("id", "name", "avatar_url").
		Where("billing_profile_id = ?", profileID).
		OrderExpr("name_lower, id").Limit(int64(p.Limit)).Offset(p.Offset()).
		ScanAndCount(ctx, &rows)
	if err != nil {
		return nil, 0, wrap("list profile projects", err)
	}
	out := make([]ProjectRef, len(rows))
	for i, r := range rows {
		out[i] = ProjectRef{ID: r.ID, Name: r.Name, AvatarURL: r.AvatarURL}
	}
	return out, int64(total), nil
}

// unpaidBills counts the bills of profile id that are not paid.
func unpaidBills(ctx context.Context, db bun.IDB, id string) (int64, error) {
	n, err := db.NewSelect().Model((*billRow)(nil)).
		Where("billing_profile_id = ?", id).Where("status <> ?", BillSucceeded).
		Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count unpaid bills of profile %s: %w", id, err)
	}
	return n, nil
}
