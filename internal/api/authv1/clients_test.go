package authv1_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	authv1 "github.com/gpcore/gpcore/gen/gpcore/api/auth/v1"
	"github.com/gpcore/gpcore/gen/gpcore/api/auth/v1/authv1connect"
	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	typev1 "github.com/gpcore/gpcore/gen/gpcore/type/v1"
	"github.com/gpcore/gpcore/internal/testserver"
)

// authClient returns an AuthService client of s signed in with token, over
// Connect (HTTP/1.1) or gRPC (h2c).
func authClient(s *testserver.Server, protocol, token string) authv1connect.AuthServiceClient {
	if protocol == "grpc" {
		return authv1connect.NewAuthServiceClient(testserver.H2CClient(), s.URL, testserver.ClientOptions(token, connect.WithGRPC())...)
	}
	return authv1connect.NewAuthServiceClient(testserver.HTTPClient(), s.URL, testserver.ClientOptions(token)...)
}

// clientCredentials asks the token endpoint for a client_credentials token
// and returns the HTTP status and answer.
func clientCredentials(t *testing.T, s *testserver.Server, id, secret string) (int, testserver.TokenResponse) {
	t.Helper()
	return s.PostToken(t, url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}})
}

// TestClientLifecycle walks a client through its life over Connect and gRPC:
// create, sign in with client_credentials, read, rename, reset the secret
// (old secret and the tokens issued under it stop working), delete (the
// token endpoint refuses it and its access tokens are refused by the API).
func TestClientLifecycle(t *testing.T) {
	s := testserver.Start(t)
	ctx := context.Background()
	for _, protocol := range []string{"connect", "grpc"} {
		t.Run(protocol, func(t *testing.T) {
			owner := s.Register(t)
			api := authClient(s, protocol, owner.Token)

			created, err := api.CreateClient(ctx, connect.NewRequest(&authv1.CreateClientRequest{Name: " deploy bot ", Description: "runs\nthe pipeline"}))
			if err != nil {
				t.Fatalf("CreateClient: %v", err)
			}
			c := created.Msg.GetClient()
			sa := c.GetServiceAccount()
			if c.GetId() == "" || c.GetName() != "deploy bot" || c.GetDescription() != "runs\nthe pipeline" ||
				c.GetCreatedAt() == nil || c.GetUpdatedAt() == nil || len(c.GetSecret()) < 32 {
				t.Fatalf("created client = %v", c)
			}
			if sa.GetType() != cloudv1.UserType_USER_TYPE_SERVICE_ACCOUNT || sa.GetUsername() != "service-account-"+c.GetId() ||
				sa.GetId() == "" || sa.Email != nil || sa.GetFullName() != "deploy bot" {
				t.Fatalf("service account = %v", sa)
			}
			secret := c.GetSecret()

			// The client signs in as its service account.
			status, tr := clientCredentials(t, s, c.GetId(), secret)
			if status != http.StatusOK || tr.AccessToken == "" {
				t.Fatalf("client_credentials: %d %s %s", status, tr.Error, tr.Description)
			}
			firstToken := tr.AccessToken
			me, err := authClient(s, protocol, firstToken).GetUser(ctx, connect.NewRequest(&authv1.GetUserRequest{}))
			if err != nil {
				t.Fatalf("GetUser with the client's token: %v", err)
			}
			if me.Msg.GetUser().GetId() != sa.GetId() {
				t.Fatalf("client token acts as %s, want the service account %s", me.Msg.GetUser().GetId(), sa.GetId())
			}

			// The secret is shown once only.
			got, err := api.GetClient(ctx, connect.NewRequest(&authv1.GetClientRequest{Id: c.GetId()}))
			if err != nil {
				t.Fatalf("GetClient: %v", err)
			}
			if got.Msg.GetClient().Secret != nil || got.Msg.GetClient().GetName() != "deploy bot" ||
				got.Msg.GetClient().GetServiceAccount().GetId() != sa.GetId() {
				t.Fatalf("GetClient = %v", got.Msg.GetClient())
			}
			list, err := api.ListClients(ctx, connect.NewRequest(&authv1.ListClientsRequest{}))
			if err != nil {
				t.Fatalf("ListClients: %v", err)
			}
			if list.Msg.GetTotal() != 1 || len(list.Msg.GetClients()) != 1 || list.Msg.GetClients()[0].Secret != nil ||
				list.Msg.GetClients()[0].GetId() != c.GetId() {
				t.Fatalf("ListClients = %v", list.Msg)
			}

			updated, err := api.UpdateClient(ctx, connect.NewRequest(&authv1.UpdateClientRequest{Id: c.GetId(), Name: "release bot"}))
			if err != nil {
				t.Fatalf("UpdateClient: %v", err)
			}
			u := updated.Msg.GetClient()
			if u.GetName() != "release bot" || u.GetDescription() != "" || u.Secret != nil ||
				u.GetServiceAccount().GetFullName() != "release bot" || !u.GetCreatedAt().AsTime().Equal(c.GetCreatedAt().AsTime()) {
				t.Fatalf("UpdateClient = %v", u)
			}

			// Resetting the secret: a new one, the old one and its tokens stop working.
			reset, err := api.ResetClientSecret(ctx, connect.NewRequest(&authv1.ResetClientSecretRequest{Id: c.GetId()}))
			if err != nil {
				t.Fatalf("ResetClientSecret: %v", err)
			}
			newSecret := reset.Msg.GetSecret()
			if len(newSecret) < 32 || newSecret == secret {
				t.Fatalf("new secret %q", newSecret)
			}
			if status, tr := clientCredentials(t, s, c.GetId(), secret); status != http.StatusUnauthorized || tr.Error != "invalid_client" {
				t.Fatalf("old secret after reset: %d %s %s, want 401 invalid_client", status, tr.Error, tr.Description)
			}
			_, err = authClient(s, protocol, firstToken).GetUser(ctx, connect.NewRequest(&authv1.GetUserRequest{}))
			testserver.WantCode(t, err, connect.CodeUnauthenticated, "")
			if !strings.Contains(err.Error(), "reset") {
				t.Errorf("refusal of a token from before the reset %q does not say why", err)
			}
			status, tr = clientCredentials(t, s, c.GetId(), newSecret)
			if status != http.StatusOK {
				t.Fatalf("new secret: %d %s %s", status, tr.Error, tr.Description)
			}
			liveToken := tr.AccessToken
			if _, err := authClient(s, protocol, liveToken).GetUser(ctx, connect.NewRequest(&authv1.GetUserRequest{})); err != nil {
				t.Fatalf("GetUser with a token of the new secret: %v", err)
			}

			// Deleting: the client is gone, its secret and its tokens stop working.
			if _, err := api.DeleteClient(ctx, connect.NewRequest(&authv1.DeleteClientRequest{Id: c.GetId()})); err != nil {
				t.Fatalf("DeleteClient: %v", err)
			}
			_, err = api.GetClient(ctx, connect.NewRequest(&authv1.GetClientRequest{Id: c.GetId()}))
			testserver.WantCode(t, err, connect.CodeNotFound, "")
			if status, tr := clientCredentials(t, s, c.GetId(), newSecret); status != http.StatusUnauthorized || tr.Error != "invalid_client" {
				t.Fatalf("token endpoint after delete: %d %s %s, want 401 invalid_client", status, tr.Error, tr.Description)
			}
			_, err = authClient(s, protocol, liveToken).GetUser(ctx, connect.NewRequest(&authv1.GetUserRequest{}))
			testserver.WantCode(t, err, connect.CodeUnauthenticated, "")
			if !strings.Contains(err.Error(), "deleted") {
				t.Errorf("refusal of a deleted client's token %q does not say why", err)
			}
			_, err = api.DeleteClient(ctx, connect.NewRequest(&authv1.DeleteClientRequest{Id: c.GetId()}))
			testserver.WantCode(t, err, connect.CodeNotFound, "")
			list, err = api.ListClients(ctx, connect.NewRequest(&authv1.ListClientsRequest{}))
			if err != nil || list.Msg.GetTotal() != 0 || len(list.Msg.GetClients()) != 0 {
				t.Fatalf("ListClients after delete = %v, %v", list.Msg, err)
			}
		})
	}
}

// TestClientsAreTheOwners proves that another user can neither see nor
// change nor delete someone's client: every call answers NotFound, exactly
// as for a client that does not exist, and the client keeps working.
func TestClientsAreTheOwners(t *testing.T) {
	s := testserver.Start(t)
	ctx := context.Background()
	alice, bob := s.Register(t), s.Register(t)
	created, err := authClient(s, "connect", alice.Token).CreateClient(ctx, connect.NewRequest(&authv1.CreateClientRequest{Name: "alice's agent"}))
	if err != nil {
		t.Fatalf("CreateClient: %v", err)
	}
	id, secret := created.Msg.GetClient().GetId(), created.Msg.GetClient().GetSecret()
	const unknown = "0b6d9d1e-7a35-4a4e-9f5c-0f7f5d8f2d11"

	for _, protocol := range []string{"connect", "grpc"} {
		api := authClient(s, protocol, bob.Token)
		for _, target := range []string{id, unknown} {
			calls := map[string]func() error{
				"GetClient": func() error {
					_, err := api.GetClient(ctx, connect.NewRequest(&authv1.GetClientRequest{Id: target}))
					return err
				},
				"UpdateClient": func() error {
					_, err := api.UpdateClient(ctx, connect.NewRequest(&authv1.UpdateClientRequest{Id: target, Name: "mine now"}))
					return err
				},
				"ResetClientSecret": func() error {
					_, err := api.ResetClientSecret(ctx, connect.NewRequest(&authv1.ResetClientSecretRequest{Id: target}))
					return err
				},
				"DeleteClient": func() error {
					_, err := api.DeleteClient(ctx, connect.NewRequest(&authv1.DeleteClientRequest{Id: target}))
					return err
				},
			}
			for name, call := range calls {
				t.Run(protocol+"/"+name+"/"+map[bool]string{true: "alice's", false: "unknown"}[target == id], func(t *testing.T) {
					testserver.WantCode(t, call(), connect.CodeNotFound, "")
				})
			}
		}
		list, err := api.ListClients(ctx, connect.NewRequest(&authv1.ListClientsRequest{}))
		if err != nil || list.Msg.GetTotal() != 0 || len(list.Msg.GetClients()) != 0 {
			t.Fatalf("bob's ListClients = %v, %v; want none", list.Msg, err)
		}
	}

	// Nothing of the above touched alice's client.
	got, err := authClient(s, "connect", alice.Token).GetClient(ctx, connect.NewRequest(&authv1.GetClientRequest{Id: id}))
	if err != nil || got.Msg.GetClient().GetName() != "alice's agent" {
		t.Fatalf("alice's GetClient = %v, %v", got.Msg.GetClient(), err)
	}
	if status, tr := clientCredentials(t, s, id, secret); status != http.StatusOK {
		t.Fatalf("alice's client after bob's attempts: %d %s %s", status, tr.Error, tr.Description)
	}
}

func TestClientRefusals(t *testing.T) {
	s := testserver.Start(t)
	ctx := context.Background()
	api := authClient(s, "connect", s.Register(t).Token)
	created, err := api.CreateClient(ctx, connect.NewRequest(&authv1.CreateClientRequest{Name: "agent"}))
	if err != nil {
		t.Fatalf("CreateClient: %v", err)
	}
	id := created.Msg.GetClient().GetId()
	_, tr := clientCredentials(t, s, id, created.Msg.GetClient().GetSecret())
	machine := authClient(s, "connect", tr.AccessToken)
	tests := []struct {
		name  string
		call  func() error
		code  connect.Code
		field string
	}{
		{"create without a name", func() error {
			_, err := api.CreateClient(ctx, connect.NewRequest(&authv1.CreateClientRequest{Name: "  "}))
			return err
		}, connect.CodeInvalidArgument, "name"},
		{"create with a long description", func() error {
			_, err := api.CreateClient(ctx, connect.NewRequest(&authv1.CreateClientRequest{Name: "n", Description: strings.Repeat("d", 1001)}))
			return err
		}, connect.CodeInvalidArgument, "description"},
		{"rename to a line break", func() error {
			_, err := api.UpdateClient(ctx, connect.NewRequest(&authv1.UpdateClientRequest{Id: id, Name: "a\nb"}))
			return err
		}, connect.CodeInvalidArgument, "name"},
		{"get without an id", func() error {
			_, err := api.GetClient(ctx, connect.NewRequest(&authv1.GetClientRequest{}))
			return err
		}, connect.CodeInvalidArgument, "id"},
		{"delete a malformed id", func() error {
			_, err := api.DeleteClient(ctx, connect.NewRequest(&authv1.DeleteClientRequest{Id: "42"}))
			return err
		}, connect.CodeInvalidArgument, "id"},
		{"negative page", func() error {
			_, err := api.ListClients(ctx, connect.NewRequest(&authv1.ListClientsRequest{Pagination: &typev1.PaginationRequest{Page: -1}}))
			return err
		}, connect.CodeInvalidArgument, "pagination.page"},
		{"a service account creating a client", func() error {
			_, err := machine.CreateClient(ctx, connect.NewRequest(&authv1.CreateClientRequest{Name: "child"}))
			return err
		}, connect.CodeFailedPrecondition, ""},
		{"without a token", func() error {
			_, err := authClient(s, "connect", "").ListClients(ctx, connect.NewRequest(&authv1.ListClientsRequest{}))
			return err
		}, connect.CodeUnauthenticated, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testserver.WantCode(t, tt.call(), tt.code, tt.field)
		})
	}
}

func TestListClientsPages(t *testing.T) {
	s := testserver.Start(t)
	ctx := context.Background()
	api := authClient(s, "connect", s.Register(t).Token)
	var ids []string
	for _, name := range []string{"one", "two", "three"} {
		res, err := api.CreateClient(ctx, connect.NewRequest(&authv1.CreateClientRequest{Name: name}))
		if err != nil {
			t.Fatalf("CreateClient: %v", err)
		}
		ids = append(ids, res.Msg.GetClient().GetId())
	}
	var seen []string
	for page := int32(1); page <= 3; page++ {
		res, err := api.ListClients(ctx, connect.NewRequest(&authv1.ListClientsRequest{Pagination: &typev1.PaginationRequest{Page: page, Limit: proto.Int32(2)}}))
		if err != nil {
			t.Fatalf("ListClients page %d: %v", page, err)
		}
		p := res.Msg.GetPagination()
		if res.Msg.GetTotal() != 3 || p.GetPage() != page || p.GetLimit() != 2 || p.GetTotal() != 2 {
			t.Fatalf("page %d: total %d, pagination %v; want 3 items on 2 pages of 2", page, res.Msg.GetTotal(), p)
		}
		for _, c := range res.Msg.GetClients() {
			seen = append(seen, c.GetId())
		}
	}
	if strings.Join(seen, ",") != strings.Join(ids, ",") {
		t.Fatalf("pages held %v, want %v in creation order", seen, ids)
	}
	res, err := api.ListClients(ctx, connect.NewRequest(&authv1.ListClientsRequest{Pagination: &typev1.PaginationRequest{Limit: proto.Int32(1000)}}))
	if err != nil || res.Msg.GetPagination().GetLimit() != 100 || len(res.Msg.GetClients()) != 3 {
		t.Fatalf("ListClients limit 1000 = %v, %v; want the limit lowered to 100", res.Msg.GetPagination(), err)
	}
}
