// Package authv1 serves gpcore.api.auth.v1.AuthService: sign-up, the caller's
// account, e-mail confirmation mails and the caller's OAuth clients.
package authv1

import (
	"context"

	"connectrpc.com/connect"

	authv1 "github.com/gpcore/gpcore/gen/gpcore/api/auth/v1"
	"github.com/gpcore/gpcore/gen/gpcore/api/auth/v1/authv1connect"
	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	"github.com/gpcore/gpcore/internal/api/apiconv"
	"github.com/gpcore/gpcore/internal/api/interceptor"
	"github.com/gpcore/gpcore/internal/auth"
	"github.com/gpcore/gpcore/internal/identity"
)

// Handler implements AuthService.
type Handler struct {
	authv1connect.UnimplementedAuthServiceHandler
	users  *identity.Service
	issuer *auth.Issuer
}

// New returns the AuthService handler.
func New(users *identity.Service, issuer *auth.Issuer) *Handler {
	return &Handler{users: users, issuer: issuer}
}

// Register creates a person's account and signs them in.
func (h *Handler) Register(ctx context.Context, req *connect.Request[authv1.RegisterRequest]) (*connect.Response[authv1.RegisterResponse], error) {
	m := req.Msg
	user, err := h.users.Register(ctx, identity.RegisterInput{
		Email: m.GetEmail(), Password: m.GetPassword(), FirstName: m.GetFirstName(), LastName: m.GetLastName(),
	})
	if err != nil {
		return nil, err
	}
	tokens, err := h.issuer.IssueForUser(ctx, user)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&authv1.RegisterResponse{
		User:   apiconv.User(user),
		Tokens: &cloudv1.AccessTokenPair{AccessToken: tokens.AccessToken, RefreshToken: tokens.RefreshToken},
	}), nil
}

// GetUser returns the caller's own account.
func (h *Handler) GetUser(ctx context.Context, _ *connect.Request[authv1.GetUserRequest]) (*connect.Response[authv1.GetUserResponse], error) {
	user, err := h.users.GetUser(ctx, interceptor.CallerID(ctx))
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&authv1.GetUserResponse{User: apiconv.User(user)}), nil
}
