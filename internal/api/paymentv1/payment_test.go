package paymentv1_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"

	paymentv1 "github.com/gpcore/gpcore/gen/gpcore/api/payment/v1"
	"github.com/gpcore/gpcore/gen/gpcore/api/payment/v1/paymentv1connect"
	typev1 "github.com/gpcore/gpcore/gen/gpcore/type/v1"
	"github.com/gpcore/gpcore/internal/api/interceptor"
	apipaymentv1 "github.com/gpcore/gpcore/internal/api/paymentv1"
	"github.com/gpcore/gpcore/internal/auth"
	"github.com/gpcore/gpcore/internal/billing"
	"github.com/gpcore/gpcore/internal/catalog"
	"github.com/gpcore/gpcore/internal/identity"
	"github.com/gpcore/gpcore/internal/project"
	"github.com/gpcore/gpcore/internal/store"
	"github.com/gpcore/gpcore/internal/store/storetest"
	"github.com/gpcore/gpcore/internal/testserver"
)

// server is PaymentService on an in-process server, with the interceptors
// gpcore's server puts in front of it (errors, authorization), the test
// provider's confirmation endpoint, and the services behind them.
type server struct {
	url      string
	db       *store.DB
	identity *identity.Service
	issuer   *auth.Issuer
	projects *project.Service
}

func start(t *testing.T) *server {
	t.Helper()
	db := storetest.New(t)
	ctx := t.Context()
	if err := catalog.Seed(ctx, db, catalog.DefaultSeed()); err != nil {
		t.Fatal(err)
	}
	ids, err := identity.New(db, identity.Config{})
	if err != nil {
		t.Fatal(err)
	}
	issuer, err := auth.NewIssuer(ctx, db, ids, auth.Config{PublicURL: "http://127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := billing.New(db, billing.Config{Plans: billing.BuiltinPlans{"enterprise"}})
	if err != nil {
		t.Fatal(err)
	}
	projects, err := project.New(db, project.Config{Billing: b})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	mux := http.NewServeMux()
	mux.Handle(paymentv1connect.NewPaymentServiceHandler(apipaymentv1.New(b),
		connect.WithInterceptors(interceptor.Errors{Log: log}, interceptor.NewPolicy(issuer))))
	mux.Handle("POST /payment/test/confirm", billing.TestConfirmHandler(b))
	srv := testserver.Serve(t, mux)
	return &server{url: srv.URL, db: db, identity: ids, issuer: issuer, projects: projects}
}

// user registers a person with roles and returns them with an access token.
func (s *server) user(t *testing.T, email string, roles ...string) (identity.User, string) {
	t.Helper()
	u, err := s.identity.Register(t.Context(), identity.RegisterInput{Email: email, Password: "Correct-Horse-42", FirstName: "Test", LastName: "User"})
	if err != nil {
		t.Fatal(err)
	}
	for _, role := range roles {
		if _, err := s.db.ExecContext(t.Context(), "INSERT INTO user_roles (user_id, role) VALUES (?, ?)", u.ID, role); err != nil {
			t.Fatal(err)
		}
	}
	if u, err = s.identity.GetUser(t.Context(), u.ID); err != nil {
		t.Fatal(err)
	}
	tokens, err := s.issuer.IssueForUser(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	return u, tokens.AccessToken
}

// bearer adds the access token to every call.
type bearer string

func (b bearer) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		req.Header().Set("Authorization", "Bearer "+string(b))
		return next(ctx, req)
	}
}

func (b bearer) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (b bearer) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}

// client is a PaymentService client signed in with token; grpc picks the
// gRPC protocol over h2c instead of Connect over HTTP/1.1.
func (s *server) client(token string, grpc bool) paymentv1connect.PaymentServiceClient {
	opts := []connect.ClientOption{connect.WithInterceptors(bearer(token))}
	httpClient := http.DefaultClient
	if grpc {
		opts = append(opts, connect.WithGRPC())
		httpClient = testserver.H2CClient()
	}
	return paymentv1connect.NewPaymentServiceClient(httpClient, s.url, opts...)
}

// confirm confirms a card setup with a test card token, as the panel or CLI
// does against the test provider, and returns the HTTP status.
func (s *server) confirm(t *testing.T, setup, token string) int {
	t.Helper()
	res, err := http.PostForm(s.url+"/payment/test/confirm", url.Values{"setup_intent": {setup}, "payment_method": {token}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

func ptr(s string) *string { return &s }

func ptr32(n int32) *int32 { return &n }

// wantCode fails unless err has code and, when field is set, a BadRequest
// field violation naming it.
func wantCode(t *testing.T, err error, code connect.Code, field string) {
	t.Helper()
	if connect.CodeOf(err) != code {
		t.Fatalf("error = %v, want %v", err, code)
	}
	if field == "" {
		return
	}
	var ce *connect.Error
	if !errors.As(err, &ce) {
		t.Fatalf("error %v is not a Connect error", err)
	}
	for _, d := range ce.Details() {
		v, derr := d.Value()
		if br, ok := v.(*errdetails.BadRequest); derr == nil && ok {
			for _, fv := range br.GetFieldViolations() {
				if fv.GetField() == field {
					return
				}
			}
		}
	}
	t.Fatalf("error %v has no field violation for %q", err, field)
}

func TestBillingProfileLifecycle(t *testing.T) {
	t.Parallel()
	s := start(t)
	ada, token := s.user(t, "ada@example.com")
	_, bobToken := s.user(t, "bob@example.com")
	for _, grpc := range []bool{false, true} {
		c := s.client(token, grpc)
		ctx := t.Context()
		created, err := c.CreateBillingProfile(ctx, connect.NewRequest(&paymentv1.CreateBillingProfileRequest{
			Name: "Ada Lovelace", Company: ptr("Engines SARL"), VatId: ptr("FR AB 123456789"), CountryCode: "FR",
			Street: "1 rue de Rivoli", City: "Paris", Postcode: "75001", BillingEmail: "factures@example.fr",
		}))
		if err != nil {
			t.Fatal(err)
		}
		bp := created.Msg.GetBillingProfile()
		if bp.GetId() == "" || bp.GetCompany().GetName() != "Engines SARL" || bp.GetCompany().GetVatId() != "FRAB123456789" ||
			bp.GetTaxRate() != 0 || bp.State != nil || bp.GetCreatedAt() == nil {
			t.Fatalf("created = %v", bp)
		}

		updated, err := c.UpdateBillingProfile(ctx, connect.NewRequest(&paymentv1.UpdateBillingProfileRequest{
			Id: bp.GetId(), Name: "Ada Lovelace", Company: ptr("Engines GmbH"), VatId: ptr("DE123456789"), CountryCode: "DE",
			State: ptr("Berlin"), Street: "Hauptstraße 1", City: "Berlin", Postcode: "10115", BillingEmail: "billing@example.com",
		}))
		if err != nil {
			t.Fatal(err)
		}
		if u := updated.Msg.GetBillingProfile(); u.GetTaxRate() != 19 || u.GetState() != "Berlin" || u.GetCountryCode() != "DE" {
			t.Fatalf("updated = %v", u)
		}

		list, err := c.ListBillingProfiles(ctx, connect.NewRequest(&paymentv1.ListBillingProfilesRequest{
			Pagination: &typev1.PaginationRequest{Limit: ptr32(1)},
		}))
		if err != nil {
			t.Fatal(err)
		}
		if list.Msg.GetTotal() < 1 || len(list.Msg.GetBillingProfiles()) != 1 || list.Msg.GetPagination().GetLimit() != 1 {
			t.Fatalf("list = %v", list.Msg)
		}

		// Another user sees none of it.
		other := s.client(bobToken, grpc)
		if l, err := other.ListBillingProfiles(ctx, connect.NewRequest(&paymentv1.ListBillingProfilesRequest{})); err != nil || l.Msg.GetTotal() != 0 {
			t.Fatalf("Bob's list = %v, %v", l, err)
		}
		_, err = other.DeleteBillingProfile(ctx, connect.NewRequest(&paymentv1.DeleteBillingProfileRequest{Id: bp.GetId()}))
		wantCode(t, err, connect.CodeNotFound, "")

		// In use by a project: not deleted.
		pr, err := s.projects.Create(ctx, ada.ID, project.CreateInput{Name: "Shop", BillingProfileID: bp.GetId()})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.DeleteBillingProfile(ctx, connect.NewRequest(&paymentv1.DeleteBillingProfileRequest{Id: bp.GetId()}))
		wantCode(t, err, connect.CodeFailedPrecondition, "")
		// Billed to another profile: deleted.
		another, err := c.CreateBillingProfile(ctx, connect.NewRequest(&paymentv1.CreateBillingProfileRequest{
			Name: "Ada Lovelace", Company: ptr("Engines GmbH"), VatId: ptr("DE123456789"), CountryCode: "DE",
			Street: "Hauptstraße 1", City: "Berlin", Postcode: "10115", BillingEmail: "billing@example.com",
		}))
		if err != nil {
			t.Fatal(err)
		}
		anotherID := another.Msg.GetBillingProfile().GetId()
		if _, err := s.projects.Update(ctx, ada.ID, pr.ID, project.UpdateInput{BillingProfileID: &anotherID}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.DeleteBillingProfile(ctx, connect.NewRequest(&paymentv1.DeleteBillingProfileRequest{Id: bp.GetId()})); err != nil {
			t.Fatal(err)
		}
	}
}

func TestBillingProfileRefusals(t *testing.T) {
	t.Parallel()
	s := start(t)
	_, token := s.user(t, "ada@example.com")
	c := s.client(token, false)
	ctx := t.Context()
	valid := func() *paymentv1.CreateBillingProfileRequest {
		return &paymentv1.CreateBillingProfileRequest{
			Name: "Ada", Company: ptr("Engines GmbH"), VatId: ptr("DE123456789"), CountryCode: "DE",
			Street: "Hauptstraße 1", City: "Berlin", Postcode: "10115", BillingEmail: "billing@example.com",
		}
	}
	tests := []struct {
		name   string
		change func(*paymentv1.CreateBillingProfileRequest)
		field  string
	}{
		{"unknown country", func(r *paymentv1.CreateBillingProfileRequest) { r.CountryCode = "ZZ" }, "country_code"},
		{"bad VAT id", func(r *paymentv1.CreateBillingProfileRequest) { r.VatId = ptr("DE1") }, "vat_id"},
		{"no company", func(r *paymentv1.CreateBillingProfileRequest) { r.Company, r.VatId = nil, nil }, "company"},
		{"bad e-mail", func(r *paymentv1.CreateBillingProfileRequest) { r.BillingEmail = "nope" }, "billing_email"},
	}
	for _, tt := range tests {
		req := valid()
		tt.change(req)
		_, err := c.CreateBillingProfile(ctx, connect.NewRequest(req))
		wantCode(t, err, connect.CodeInvalidArgument, tt.field)
	}
	_, err := c.UpdateBillingProfile(ctx, connect.NewRequest(&paymentv1.UpdateBillingProfileRequest{Id: "not-a-uuid"}))
	wantCode(t, err, connect.CodeInvalidArgument, "id")
	_, err = c.ListCreditCards(ctx, connect.NewRequest(&paymentv1.ListCreditCardsRequest{}))
	wantCode(t, err, connect.CodeInvalidArgument, "billing_profile_id")
	_, err = c.RemoveCreditCard(ctx, connect.NewRequest(&paymentv1.RemoveCreditCardRequest{
		BillingProfileId: "7d0b5d6e-1d2a-4a61-9d59-2f1c2a0c0a11", Id: "x",
	}))
	wantCode(t, err, connect.CodeInvalidArgument, "id")
	_, err = c.ListBillingProfiles(ctx, connect.NewRequest(&paymentv1.ListBillingProfilesRequest{
		Pagination: &typev1.PaginationRequest{Page: -1},
	}))
	wantCode(t, err, connect.CodeInvalidArgument, "pagination.page")

	anonymous := s.client("", false)
	_, err = anonymous.ListBillingProfiles(ctx, connect.NewRequest(&paymentv1.ListBillingProfilesRequest{}))
	wantCode(t, err, connect.CodeUnauthenticated, "")
}

// TestVATIDOfAnotherCountry: a French profile given a German (or Greek)
// VAT number is refused on vat_id, saying whose number it is, instead of
// being stored as a French one with the reverse charge; French numbers with
// or without their prefix are taken as before.
func TestVATIDOfAnotherCountry(t *testing.T) {
	t.Parallel()
	s := start(t)
	_, token := s.user(t, "ada@example.com")
	ctx := t.Context()
	french := func(vatID string) *paymentv1.CreateBillingProfileRequest {
		return &paymentv1.CreateBillingProfileRequest{
			Name: "Ada", Company: ptr("Acme SARL"), VatId: ptr(vatID), CountryCode: "FR",
			Street: "1 rue de Rivoli", City: "Paris", Postcode: "75001", BillingEmail: "factures@example.fr",
		}
	}
	for _, grpc := range []bool{false, true} {
		c := s.client(token, grpc)
		for _, tt := range []struct{ vatID, want string }{
			{"DE123456789", "VAT identification number of DE (prefix DE), not of FR"},
			{"EL123456789", "VAT identification number of GR (prefix EL), not of FR"},
		} {
			_, err := c.CreateBillingProfile(ctx, connect.NewRequest(french(tt.vatID)))
			wantCode(t, err, connect.CodeInvalidArgument, "vat_id")
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("CreateBillingProfile with %s: %v, want it to say %q", tt.vatID, err, tt.want)
			}
		}
		for vatID, want := range map[string]string{"FR12345678901": "FR12345678901", "12345678901": "FR12345678901", "FRDE123456789": "FRDE123456789"} {
			created, err := c.CreateBillingProfile(ctx, connect.NewRequest(french(vatID)))
			if err != nil || created.Msg.GetBillingProfile().GetCompany().GetVatId() != want {
				t.Fatalf("CreateBillingProfile with %s = %v, %v; want VAT id %s", vatID, created, err, want)
			}
			req := french("DE123456789")
			_, err = c.UpdateBillingProfile(ctx, connect.NewRequest(&paymentv1.UpdateBillingProfileRequest{
				Id: created.Msg.GetBillingProfile().GetId(), Name: req.Name, Company: req.Company, VatId: req.VatId, CountryCode: req.CountryCode,
				Street: req.Street, City: req.City, Postcode: req.Postcode, BillingEmail: req.BillingEmail,
			}))
			wantCode(t, err, connect.CodeInvalidArgument, "vat_id")
		}
	}
}

func TestCreditCards(t *testing.T) {
	t.Parallel()
	s := start(t)
	ada, token := s.user(t, "ada@example.com")
	_, bobToken := s.user(t, "bob@example.com")
	c := s.client(token, true)
	ctx := t.Context()
	created, err := c.CreateBillingProfile(ctx, connect.NewRequest(&paymentv1.CreateBillingProfileRequest{
		Name: "Ada", Company: ptr("Engines GmbH"), VatId: ptr("DE123456789"), CountryCode: "DE",
		Street: "Hauptstraße 1", City: "Berlin", Postcode: "10115", BillingEmail: "billing@example.com",
	}))
	if err != nil {
		t.Fatal(err)
	}
	profileID := created.Msg.GetBillingProfile().GetId()
	pr, err := s.projects.Create(ctx, ada.ID, project.CreateInput{Name: "Shop", BillingProfileID: profileID})
	if err != nil {
		t.Fatal(err)
	}
	locks := func() []project.LockReason {
		t.Helper()
		l, err := s.projects.Locks(ctx, ada.ID, pr.ID)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	if l := locks(); !slices.Equal(l, []project.LockReason{project.LockMissingPaymentProfile, project.LockMissingSubscription}) {
		t.Fatalf("locks without a card = %v", l)
	}

	add := func(token string) int {
		t.Helper()
		res, err := c.AddCreditCard(ctx, connect.NewRequest(&paymentv1.AddCreditCardRequest{BillingProfileId: profileID}))
		if err != nil {
			t.Fatal(err)
		}
		ident := res.Msg.GetStripeSetupIdent()
		if !strings.HasPrefix(ident, "seti_test_") {
			t.Fatalf("stripe_setup_ident = %q", ident)
		}
		return s.confirm(t, ident, token)
	}
	if status := add("tok_chargeDeclined"); status != http.StatusPaymentRequired {
		t.Fatalf("declined card: status %d", status)
	}
	if status := add("tok_visa"); status != http.StatusOK {
		t.Fatalf("tok_visa: status %d", status)
	}
	if status := add("tok_mastercard"); status != http.StatusOK {
		t.Fatalf("tok_mastercard: status %d", status)
	}
	if l := locks(); len(l) != 0 {
		t.Fatalf("locks with a card = %v", l)
	}

	list, err := c.ListCreditCards(ctx, connect.NewRequest(&paymentv1.ListCreditCardsRequest{BillingProfileId: profileID}))
	if err != nil {
		t.Fatal(err)
	}
	cards := list.Msg.GetCreditCards()
	if list.Msg.GetTotal() != 2 || len(cards) != 2 ||
		cards[0].GetType() != typev1.CreditCardType_CREDIT_CARD_TYPE_VISA || cards[0].GetLast_4Digits() != "4242" ||
		!cards[0].GetActive() || !cards[0].GetValid() || !cards[0].GetSupports_3DSecure() || cards[0].GetExpiresAt() == nil ||
		cards[1].GetType() != typev1.CreditCardType_CREDIT_CARD_TYPE_MASTERCARD || cards[1].GetActive() {
		t.Fatalf("cards = %v", cards)
	}

	changed, err := c.ChangeDefaultCreditCard(ctx, connect.NewRequest(&paymentv1.ChangeDefaultCreditCardRequest{
		BillingProfileId: profileID, Id: cards[1].GetId(),
	}))
	if err != nil || !changed.Msg.GetCreditCard().GetActive() || changed.Msg.GetCreditCard().GetId() != cards[1].GetId() {
		t.Fatalf("ChangeDefaultCreditCard = %v, %v", changed, err)
	}

	bob := s.client(bobToken, true)
	_, err = bob.ListCreditCards(ctx, connect.NewRequest(&paymentv1.ListCreditCardsRequest{BillingProfileId: profileID}))
	wantCode(t, err, connect.CodeNotFound, "")
	_, err = bob.AddCreditCard(ctx, connect.NewRequest(&paymentv1.AddCreditCardRequest{BillingProfileId: profileID}))
	wantCode(t, err, connect.CodeNotFound, "")
	_, err = bob.RemoveCreditCard(ctx, connect.NewRequest(&paymentv1.RemoveCreditCardRequest{BillingProfileId: profileID, Id: cards[0].GetId()}))
	wantCode(t, err, connect.CodeNotFound, "")

	if _, err := c.RemoveCreditCard(ctx, connect.NewRequest(&paymentv1.RemoveCreditCardRequest{BillingProfileId: profileID, Id: cards[1].GetId()})); err != nil {
		t.Fatal(err)
	}
	_, err = c.RemoveCreditCard(ctx, connect.NewRequest(&paymentv1.RemoveCreditCardRequest{BillingProfileId: profileID, Id: cards[0].GetId()}))
	wantCode(t, err, connect.CodeFailedPrecondition, "")
	if l := locks(); len(l) != 0 {
		t.Fatalf("locks with the remaining card = %v", l)
	}
}

func TestPlanCodesNeedStaffRoles(t *testing.T) {
	t.Parallel()
	s := start(t)
	_, userToken := s.user(t, "ada@example.com")
	_, viewerToken := s.user(t, "viewer@example.com", "view-payment")
	_, managerToken := s.user(t, "manager@example.com", "view-payment", "manage-payment")
	ctx := t.Context()
	created, err := s.client(userToken, false).CreateBillingProfile(ctx, connect.NewRequest(&paymentv1.CreateBillingProfileRequest{
		Name: "Ada", Company: ptr("Engines GmbH"), VatId: ptr("DE123456789"), CountryCode: "DE",
		Street: "Hauptstraße 1", City: "Berlin", Postcode: "10115", BillingEmail: "billing@example.com",
	}))
	if err != nil {
		t.Fatal(err)
	}
	profileID := created.Msg.GetBillingProfile().GetId()

	user, viewer, manager := s.client(userToken, false), s.client(viewerToken, true), s.client(managerToken, false)
	_, err = user.ListPlanCodes(ctx, connect.NewRequest(&paymentv1.ListPlanCodesRequest{}))
	wantCode(t, err, connect.CodePermissionDenied, "")
	_, err = user.GetDefaultPlanCode(ctx, connect.NewRequest(&paymentv1.GetDefaultPlanCodeRequest{BillingProfileId: profileID}))
	wantCode(t, err, connect.CodePermissionDenied, "")
	_, err = viewer.ChangeDefaultPlanCode(ctx, connect.NewRequest(&paymentv1.ChangeDefaultPlanCodeRequest{BillingProfileId: profileID, PlanCode: "free"}))
	wantCode(t, err, connect.CodePermissionDenied, "")

	codes, err := viewer.ListPlanCodes(ctx, connect.NewRequest(&paymentv1.ListPlanCodesRequest{}))
	if err != nil || !slices.Equal(codes.Msg.GetPlanCodes(), []string{"free", "gpcore", "enterprise"}) || codes.Msg.GetTotal() != 3 {
		t.Fatalf("ListPlanCodes = %v, %v", codes, err)
	}
	got, err := viewer.GetDefaultPlanCode(ctx, connect.NewRequest(&paymentv1.GetDefaultPlanCodeRequest{BillingProfileId: profileID}))
	if err != nil || got.Msg.GetPlanCode() != "gpcore" {
		t.Fatalf("GetDefaultPlanCode = %v, %v", got, err)
	}
	changed, err := manager.ChangeDefaultPlanCode(ctx, connect.NewRequest(&paymentv1.ChangeDefaultPlanCodeRequest{BillingProfileId: profileID, PlanCode: "enterprise"}))
	if err != nil || changed.Msg.GetPlanCode() != "enterprise" {
		t.Fatalf("ChangeDefaultPlanCode = %v, %v", changed, err)
	}
	_, err = manager.ChangeDefaultPlanCode(ctx, connect.NewRequest(&paymentv1.ChangeDefaultPlanCodeRequest{BillingProfileId: profileID, PlanCode: "premium"}))
	wantCode(t, err, connect.CodeInvalidArgument, "plan_code")
	_, err = manager.GetDefaultPlanCode(ctx, connect.NewRequest(&paymentv1.GetDefaultPlanCodeRequest{BillingProfileId: "7d0b5d6e-1d2a-4a61-9d59-2f1c2a0c0a11"}))
	wantCode(t, err, connect.CodeNotFound, "")
}
