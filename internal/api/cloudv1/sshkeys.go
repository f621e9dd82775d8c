package cloudv1

import (
	"context"

	"connectrpc.com/connect"

	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	typev1 "github.com/gpcore/gpcore/gen/gpcore/type/v1"
	"github.com/gpcore/gpcore/internal/api/apiconv"
	"github.com/gpcore/gpcore/internal/api/interceptor"
	"github.com/gpcore/gpcore/internal/keyring"
)

// CreateUserSSHKey adds an SSH public key, an OpenSSH key line, to the
// caller's keys.
func (h *Handler) CreateUserSSHKey(ctx context.Context, req *connect.Request[cloudv1.CreateUserSSHKeyRequest]) (*connect.Response[cloudv1.CreateUserSSHKeyResponse], error) {
	k, err := h.keys.Create(ctx, interceptor.CallerID(ctx), req.Msg.GetName(), req.Msg.GetPublicKey())
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&cloudv1.CreateUserSSHKeyResponse{SshKey: sshKey(k)}), nil
}

// ListUserSSHKeys lists the caller's keys, oldest first, a page of at most
// keyring.PageLimit.
func (h *Handler) ListUserSSHKeys(ctx context.Context, req *connect.Request[cloudv1.ListUserSSHKeysRequest]) (*connect.Response[cloudv1.ListUserSSHKeysResponse], error) {
	page, err := apiconv.Page(req.Msg.GetPagination(), keyring.PageLimit)
	if err != nil {
		return nil, err
	}
	keys, total, err := h.keys.List(ctx, interceptor.CallerID(ctx), page)
	if err != nil {
		return nil, err
	}
	out := make([]*typev1.SSHKey, len(keys))
	for i, k := range keys {
		out[i] = sshKey(k)
	}
	return connect.NewResponse(&cloudv1.ListUserSSHKeysResponse{
		SshKeys: out, Pagination: apiconv.PageResponse(page, total), Total: total,
	}), nil
}

// DeleteUserSSHKey deletes one of the caller's keys; anyone else's is
// NotFound.
func (h *Handler) DeleteUserSSHKey(ctx context.Context, req *connect.Request[cloudv1.DeleteUserSSHKeyRequest]) (*connect.Response[cloudv1.DeleteUserSSHKeyResponse], error) {
	return actOnID[cloudv1.DeleteUserSSHKeyResponse](ctx, req.Msg, h.keys.Delete)
}

// ListProjectSSHKeys lists the keys of a project's members with their
// owners, oldest first, a page of at most keyring.PageLimit.
func (h *Handler) ListProjectSSHKeys(ctx context.Context, req *connect.Request[cloudv1.ListProjectSSHKeysRequest]) (*connect.Response[cloudv1.ListProjectSSHKeysResponse], error) {
	id, err := apiconv.UUID("id", req.Msg.GetId())
	if err != nil {
		return nil, err
	}
	page, err := apiconv.Page(req.Msg.GetPagination(), keyring.PageLimit)
	if err != nil {
		return nil, err
	}
	keys, total, err := h.keys.ListProject(ctx, interceptor.CallerID(ctx), id, page)
	if err != nil {
		return nil, err
	}
	out := make([]*cloudv1.ProjectSSHKey, len(keys))
	for i, k := range keys {
		out[i] = &cloudv1.ProjectSSHKey{SshKey: sshKey(k.Key), User: basicUser(k.Owner)}
	}
	return connect.NewResponse(&cloudv1.ListProjectSSHKeysResponse{
		Keys: out, Pagination: apiconv.PageResponse(page, total), Total: total,
	}), nil
}

func sshKey(k keyring.Key) *typev1.SSHKey {
	return &typev1.SSHKey{
		Id:          k.ID,
		Name:        k.Name,
		Type:        apiconv.Enum[typev1.SSHKeyType](typev1.SSHKeyType_value, "SSH_KEY_TYPE_", k.Type),
		PublicKey:   k.PublicKey,
		Fingerprint: &k.Fingerprint,
	}
}
