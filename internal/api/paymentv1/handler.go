// Package paymentv1 serves gpcore.api.payment.v1.PaymentService: billing
// profiles, their credit cards, and (for staff) plan codes, over the billing
// domain (internal/billing). Every method is built.
//
// The caller is interceptor.CallerID. Billing profiles and their cards are
// their owner's alone: anyone else gets NotFound. The plan code methods
// require the staff roles of their method options (view-payment,
// manage-payment), which the policy interceptor enforces, and work on any
// billing profile.
package paymentv1

import (
	"context"

	"connectrpc.com/connect"

	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	paymentv1 "github.com/gpcore/gpcore/gen/gpcore/api/payment/v1"
	"github.com/gpcore/gpcore/gen/gpcore/api/payment/v1/paymentv1connect"
	typev1 "github.com/gpcore/gpcore/gen/gpcore/type/v1"
	"github.com/gpcore/gpcore/internal/api/apiconv"
	"github.com/gpcore/gpcore/internal/api/interceptor"
	"github.com/gpcore/gpcore/internal/billing"
)

// Handler implements PaymentService v1.
type Handler struct {
	billing *billing.Service
}

var _ paymentv1connect.PaymentServiceHandler = (*Handler)(nil)

// New returns the PaymentService handler.
func New(b *billing.Service) *Handler {
	return &Handler{billing: b}
}

// ListBillingProfiles lists the caller's billing profiles, oldest first.
func (h *Handler) ListBillingProfiles(ctx context.Context, req *connect.Request[paymentv1.ListBillingProfilesRequest]) (*connect.Response[paymentv1.ListBillingProfilesResponse], error) {
	page, err := apiconv.Page(req.Msg.GetPagination(), billing.ProfilesPageLimit)
	if err != nil {
		return nil, err
	}
	profiles, total, err := h.billing.ListProfiles(ctx, interceptor.CallerID(ctx), page)
	if err != nil {
		return nil, err
	}
	out := make([]*cloudv1.BillingProfile, len(profiles))
	for i, p := range profiles {
		out[i] = apiconv.BillingProfile(p)
	}
	return connect.NewResponse(&paymentv1.ListBillingProfilesResponse{
		BillingProfiles: out, Pagination: apiconv.PageResponse(page, total), Total: total,
	}), nil
}

// CreateBillingProfile creates a billing profile owned by the caller.
func (h *Handler) CreateBillingProfile(ctx context.Context, req *connect.Request[paymentv1.CreateBillingProfileRequest]) (*connect.Response[paymentv1.CreateBillingProfileResponse], error) {
	m := req.Msg
	p, err := h.billing.CreateProfile(ctx, interceptor.CallerID(ctx), billing.ProfileInput{
		Name: m.GetName(), Company: m.GetCompany(), VATID: m.GetVatId(), CountryCode: m.GetCountryCode(),
		State: m.GetState(), Street: m.GetStreet(), City: m.GetCity(), Postcode: m.GetPostcode(),
		BillingEmail: m.GetBillingEmail(),
	})
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&paymentv1.CreateBillingProfileResponse{BillingProfile: apiconv.BillingProfile(p)}), nil
}

// UpdateBillingProfile replaces every field of one of the caller's billing
// profiles: unset optional fields (company, vat_id, state) become empty.
func (h *Handler) UpdateBillingProfile(ctx context.Context, req *connect.Request[paymentv1.UpdateBillingProfileRequest]) (*connect.Response[paymentv1.UpdateBillingProfileResponse], error) {
	m := req.Msg
	id, err := apiconv.UUID("id", m.GetId())
	if err != nil {
		return nil, err
	}
	p, err := h.billing.UpdateProfile(ctx, interceptor.CallerID(ctx), id, billing.ProfileInput{
		Name: m.GetName(), Company: m.GetCompany(), VATID: m.GetVatId(), CountryCode: m.GetCountryCode(),
		State: m.GetState(), Street: m.GetStreet(), City: m.GetCity(), Postcode: m.GetPostcode(),
		BillingEmail: m.GetBillingEmail(),
	})
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&paymentv1.UpdateBillingProfileResponse{BillingProfile: apiconv.BillingProfile(p)}), nil
}

// DeleteBillingProfile deletes one of the caller's billing profiles that no
// project uses.
func (h *Handler) DeleteBillingProfile(ctx context.Context, req *connect.Request[paymentv1.DeleteBillingProfileRequest]) (*connect.Response[paymentv1.DeleteBillingProfileResponse], error) {
	id, err := apiconv.UUID("id", req.Msg.GetId())
	if err != nil {
		return nil, err
	}
	if err := h.billing.DeleteProfile(ctx, interceptor.CallerID(ctx), id); err != nil {
		return nil, err
	}
	return connect.NewResponse(&paymentv1.DeleteBillingProfileResponse{}), nil
}

// ListCreditCards lists the cards of one of the caller's billing profiles,
// oldest first. A card is active when it is the profile's default card and
// valid until it expires.
func (h *Handler) ListCreditCards(ctx context.Context, req *connect.Request[paymentv1.ListCreditCardsRequest]) (*connect.Response[paymentv1.ListCreditCardsResponse], error) {
	profileID, err := apiconv.UUID("billing_profile_id", req.Msg.GetBillingProfileId())
	if err != nil {
		return nil, err
	}
	page, err := apiconv.Page(req.Msg.GetPagination(), billing.CardsPageLimit)
	if err != nil {
		return nil, err
	}
	cards, total, err := h.billing.ListCards(ctx, interceptor.CallerID(ctx), profileID, page)
	if err != nil {
		return nil, err
	}
	out := make([]*typev1.CreditCard, len(cards))
	for i, c := range cards {
		out[i] = creditCard(c)
	}
	return connect.NewResponse(&paymentv1.ListCreditCardsResponse{
		CreditCards: out, Pagination: apiconv.PageResponse(page, total), Total: total,
	}), nil
}

// AddCreditCard starts adding a card to one of the caller's billing
// profiles and returns the setup's client secret (with Stripe, the
// SetupIntent's, for Stripe.js confirmCardSetup; with the built-in test
// provider, the setup identifier to confirm with a test card token). The
// card is listed once the provider has confirmed it.
func (h *Handler) AddCreditCard(ctx context.Context, req *connect.Request[paymentv1.AddCreditCardRequest]) (*connect.Response[paymentv1.AddCreditCardResponse], error) {
	profileID, err := apiconv.UUID("billing_profile_id", req.Msg.GetBillingProfileId())
	if err != nil {
		return nil, err
	}
	setup, err := h.billing.BeginCardSetup(ctx, interceptor.CallerID(ctx), profileID)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&paymentv1.AddCreditCardResponse{StripeSetupIdent: setup.ClientSecret}), nil
}

// ChangeDefaultCreditCard makes a card the default of one of the caller's
// billing profiles.
func (h *Handler) ChangeDefaultCreditCard(ctx context.Context, req *connect.Request[paymentv1.ChangeDefaultCreditCardRequest]) (*connect.Response[paymentv1.ChangeDefaultCreditCardResponse], error) {
	profileID, cardID, err := cardRef(req.Msg.GetBillingProfileId(), req.Msg.GetId())
	if err != nil {
		return nil, err
	}
	c, err := h.billing.ChangeDefaultCard(ctx, interceptor.CallerID(ctx), profileID, cardID)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&paymentv1.ChangeDefaultCreditCardResponse{CreditCard: creditCard(c)}), nil
}

// RemoveCreditCard removes a card from one of the caller's billing profiles;
// not the last card of a profile a project uses.
func (h *Handler) RemoveCreditCard(ctx context.Context, req *connect.Request[paymentv1.RemoveCreditCardRequest]) (*connect.Response[paymentv1.RemoveCreditCardResponse], error) {
	profileID, cardID, err := cardRef(req.Msg.GetBillingProfileId(), req.Msg.GetId())
	if err != nil {
		return nil, err
	}
	if err := h.billing.RemoveCard(ctx, interceptor.CallerID(ctx), profileID, cardID); err != nil {
		return nil, err
	}
	return connect.NewResponse(&paymentv1.RemoveCreditCardResponse{}), nil
}

// ListPlanCodes lists the plan codes: "free", "gpcore", then the plan
// catalog's (staff: view-payment).
func (h *Handler) ListPlanCodes(ctx context.Context, req *connect.Request[paymentv1.ListPlanCodesRequest]) (*connect.Response[paymentv1.ListPlanCodesResponse], error) {
	page, err := apiconv.Page(req.Msg.GetPagination(), billing.PlanCodesPageLimit)
	if err != nil {
		return nil, err
	}
	codes, total, err := h.billing.ListPlanCodes(ctx, page)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&paymentv1.ListPlanCodesResponse{
		PlanCodes: codes, Pagination: apiconv.PageResponse(page, total), Total: total,
	}), nil
}

// GetDefaultPlanCode returns a billing profile's default plan code, the plan
// of projects created with it from now on (staff: view-payment).
func (h *Handler) GetDefaultPlanCode(ctx context.Context, req *connect.Request[paymentv1.GetDefaultPlanCodeRequest]) (*connect.Response[paymentv1.GetDefaultPlanCodeResponse], error) {
	profileID, err := apiconv.UUID("billing_profile_id", req.Msg.GetBillingProfileId())
	if err != nil {
		return nil, err
	}
	code, err := h.billing.DefaultPlanCode(ctx, profileID)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&paymentv1.GetDefaultPlanCodeResponse{PlanCode: code}), nil
}

// ChangeDefaultPlanCode sets a billing profile's default plan code, checked
// against the plan catalog (staff: manage-payment).
func (h *Handler) ChangeDefaultPlanCode(ctx context.Context, req *connect.Request[paymentv1.ChangeDefaultPlanCodeRequest]) (*connect.Response[paymentv1.ChangeDefaultPlanCodeResponse], error) {
	profileID, err := apiconv.UUID("billing_profile_id", req.Msg.GetBillingProfileId())
	if err != nil {
		return nil, err
	}
	code, err := h.billing.ChangeDefaultPlanCode(ctx, profileID, req.Msg.GetPlanCode())
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&paymentv1.ChangeDefaultPlanCodeResponse{PlanCode: code}), nil
}

// cardRef checks the billing profile and card ids of a card request.
func cardRef(profileID, cardID string) (string, string, error) {
	profileID, err := apiconv.UUID("billing_profile_id", profileID)
	if err != nil {
		return "", "", err
	}
	cardID, err = apiconv.UUID("id", cardID)
	if err != nil {
		return "", "", err
	}
	return profileID, cardID, nil
}

// creditCard maps a card: active is the profile's default card, valid one
// that has not expired.
func creditCard(c billing.Card) *typev1.CreditCard {
	return &typev1.CreditCard{
		Id:                c.ID,
		Last_4Digits:      c.Last4,
		Type:              apiconv.Enum[typev1.CreditCardType](typev1.CreditCardType_value, "CREDIT_CARD_TYPE_", c.Brand),
		Active:            c.Default,
		Valid:             c.Valid,
		Supports_3DSecure: c.Supports3DSecure,
		ExpiresAt:         apiconv.Time(c.ExpiresAt),
	}
}
