package authv1

import (
	"context"

	"connectrpc.com/connect"

	authv1 "github.com/gpcore/gpcore/gen/gpcore/api/auth/v1"
	"github.com/gpcore/gpcore/internal/api/apiconv"
	"github.com/gpcore/gpcore/internal/api/interceptor"
	"github.com/gpcore/gpcore/internal/identity"
)

// ListClients lists the caller's OAuth clients, oldest first, without their
// secrets.
func (h *Handler) ListClients(ctx context.Context, req *connect.Request[authv1.ListClientsRequest]) (*connect.Response[authv1.ListClientsResponse], error) {
	page, err := apiconv.Page(req.Msg.GetPagination(), identity.ClientsPageLimit)
	if err != nil {
		return nil, err
	}
	clients, total, err := h.users.ListClients(ctx, interceptor.CallerID(ctx), page)
	if err != nil {
		return nil, err
	}
	out := make([]*authv1.Client, len(clients))
	for i, c := range clients {
		out[i] = client(c, nil)
	}
	return connect.NewResponse(&authv1.ListClientsResponse{
		Clients: out, Pagination: apiconv.PageResponse(page, total), Total: total,
	}), nil
}

// CreateClient creates an OAuth client owned by the caller, with its service
// account, and returns it with its secret: the one time the secret is shown.
func (h *Handler) CreateClient(ctx context.Context, req *connect.Request[authv1.CreateClientRequest]) (*connect.Response[authv1.CreateClientResponse], error) {
	c, secret, err := h.users.CreateClient(ctx, interceptor.CallerID(ctx), req.Msg.GetName(), req.Msg.GetDescription())
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&authv1.CreateClientResponse{Client: client(c, &secret)}), nil
}

// GetClient returns one of the caller's clients, without its secret.
func (h *Handler) GetClient(ctx context.Context, req *connect.Request[authv1.GetClientRequest]) (*connect.Response[authv1.GetClientResponse], error) {
	id, err := apiconv.UUID("id", req.Msg.GetId())
	if err != nil {
		return nil, err
	}
	c, err := h.users.GetClient(ctx, interceptor.CallerID(ctx), id)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&authv1.GetClientResponse{Client: client(c, nil)}), nil
}

// UpdateClient replaces the name and description of one of the caller's
// clients.
func (h *Handler) UpdateClient(ctx context.Context, req *connect.Request[authv1.UpdateClientRequest]) (*connect.Response[authv1.UpdateClientResponse], error) {
	id, err := apiconv.UUID("id", req.Msg.GetId())
	if err != nil {
		return nil, err
	}
	c, err := h.users.UpdateClient(ctx, interceptor.CallerID(ctx), id, req.Msg.GetName(), req.Msg.GetDescription())
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&authv1.UpdateClientResponse{Client: client(c, nil)}), nil
}

// DeleteClient deletes one of the caller's clients and revokes its tokens.
func (h *Handler) DeleteClient(ctx context.Context, req *connect.Request[authv1.DeleteClientRequest]) (*connect.Response[authv1.DeleteClientResponse], error) {
	id, err := apiconv.UUID("id", req.Msg.GetId())
	if err != nil {
		return nil, err
	}
	if err := h.users.DeleteClient(ctx, interceptor.CallerID(ctx), id); err != nil {
		return nil, err
	}
	return connect.NewResponse(&authv1.DeleteClientResponse{}), nil
}

// ResetClientSecret gives one of the caller's clients a new secret, returned
// this once; the old secret and the tokens issued under it stop working.
func (h *Handler) ResetClientSecret(ctx context.Context, req *connect.Request[authv1.ResetClientSecretRequest]) (*connect.Response[authv1.ResetClientSecretResponse], error) {
	id, err := apiconv.UUID("id", req.Msg.GetId())
	if err != nil {
		return nil, err
	}
	secret, err := h.users.ResetClientSecret(ctx, interceptor.CallerID(ctx), id)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&authv1.ResetClientSecretResponse{Secret: secret}), nil
}

// client maps a domain client to the API's; secret is set only by
// CreateClient.
func client(c identity.Client, secret *string) *authv1.Client {
	return &authv1.Client{
		Id:             c.ID,
		Name:           c.Name,
		Description:    c.Description,
		ServiceAccount: apiconv.BasicUser(c.ServiceAccount),
		Secret:         secret,
		CreatedAt:      apiconv.Time(c.CreatedAt),
		UpdatedAt:      apiconv.Time(c.UpdatedAt),
	}
}
