package cloudv1

import (
	"context"

	"connectrpc.com/connect"

	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	"github.com/gpcore/gpcore/internal/api/apiconv"
	"github.com/gpcore/gpcore/internal/api/interceptor"
	"github.com/gpcore/gpcore/internal/identity"
	"github.com/gpcore/gpcore/internal/project"
)

// InviteMemberToProject invites a user, named by e-mail address or user id,
// to a project the caller owns: people get a pending invite, service accounts
// join at once.
func (h *Handler) InviteMemberToProject(ctx context.Context, req *connect.Request[cloudv1.InviteMemberToProjectRequest]) (*connect.Response[cloudv1.InviteMemberToProjectResponse], error) {
	id, err := apiconv.UUID("id", req.Msg.GetId())
	if err != nil {
		return nil, err
	}
	m, err := h.projects.Invite(ctx, interceptor.CallerID(ctx), id, req.Msg.GetIdentifier())
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&cloudv1.InviteMemberToProjectResponse{Member: member(m)}), nil
}

// JoinProject accepts (the caller becomes a MEMBER) or rejects (the invite is
// deleted) the caller's pending invite to a project.
func (h *Handler) JoinProject(ctx context.Context, req *connect.Request[cloudv1.JoinProjectRequest]) (*connect.Response[cloudv1.JoinProjectResponse], error) {
	id, err := apiconv.UUID("id", req.Msg.GetId())
	if err != nil {
		return nil, err
	}
	if err := h.projects.Join(ctx, interceptor.CallerID(ctx), id, req.Msg.GetAccept()); err != nil {
		return nil, err
	}
	return connect.NewResponse(&cloudv1.JoinProjectResponse{}), nil
}

// LeaveProject ends the caller's membership of a project that is not their
// default project and of which they are not the last owner.
func (h *Handler) LeaveProject(ctx context.Context, req *connect.Request[cloudv1.LeaveProjectRequest]) (*connect.Response[cloudv1.LeaveProjectResponse], error) {
	return actOnID[cloudv1.LeaveProjectResponse](ctx, req.Msg, h.projects.Leave)
}

// RemoveMemberFromProject removes a member, or withdraws an invite, from a
// project the caller owns; never the caller nor an owner.
func (h *Handler) RemoveMemberFromProject(ctx context.Context, req *connect.Request[cloudv1.RemoveMemberFromProjectRequest]) (*connect.Response[cloudv1.RemoveMemberFromProjectResponse], error) {
	id, err := apiconv.UUID("id", req.Msg.GetId())
	if err != nil {
		return nil, err
	}
	userID, err := apiconv.UUID("user_id", req.Msg.GetUserId())
	if err != nil {
		return nil, err
	}
	if err := h.projects.RemoveMember(ctx, interceptor.CallerID(ctx), id, userID); err != nil {
		return nil, err
	}
	return connect.NewResponse(&cloudv1.RemoveMemberFromProjectResponse{}), nil
}

func member(m project.Member) *cloudv1.ProjectMember {
	return &cloudv1.ProjectMember{
		User:      basicUser(m.User),
		Role:      apiconv.Enum[cloudv1.ProjectMemberRole](cloudv1.ProjectMemberRole_value, "PROJECT_MEMBER_ROLE_", m.Role),
		Confirmed: m.Confirmed,
		Default:   m.Default,
		CreatedAt: apiconv.Time(m.CreatedAt),
		UpdatedAt: apiconv.Time(m.UpdatedAt),
	}
}

// basicUser shows a fellow member (or a log entry's author) as the API's
// BasicUser: who they are, not their settings (time zone, tags and node limit
// stay unset). The zero User, an entry without an author, is nil.
func basicUser(u project.User) *cloudv1.BasicUser {
	if u.ID == "" {
		return nil
	}
	return apiconv.BasicUser(identity.User{ID: u.ID, Username: u.Username, FullName: u.FullName, Email: u.Email, Type: u.Type})
}
