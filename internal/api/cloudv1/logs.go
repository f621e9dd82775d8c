package cloudv1

import (
	"context"

	"connectrpc.com/connect"

	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	"github.com/gpcore/gpcore/internal/api/apiconv"
	"github.com/gpcore/gpcore/internal/api/interceptor"
	"github.com/gpcore/gpcore/internal/project"
)

// ListProjectLogs lists a project's log, newest first, a page of at most
// project.LogsPageLimit, narrowed to the entries whose message has every
// space-separated search term and, given user_id, to one user's. users lists
// everyone who appears in the log. Cloud v2 answers its ListProjectLogs with
// this method.
func (h *Handler) ListProjectLogs(ctx context.Context, req *connect.Request[cloudv1.ListProjectLogsRequest]) (*connect.Response[cloudv1.ListProjectLogsResponse], error) {
	m := req.Msg
	id, err := apiconv.UUID("id", m.GetId())
	if err != nil {
		return nil, err
	}
	q := project.LogQuery{Search: m.GetSearch()}
	if m.GetUserId() != "" {
		if q.UserID, err = apiconv.UUID("user_id", m.GetUserId()); err != nil {
			return nil, err
		}
	}
	page, err := apiconv.Page(m.GetPagination(), project.LogsPageLimit)
	if err != nil {
		return nil, err
	}
	l, err := h.projects.ListLogs(ctx, interceptor.CallerID(ctx), id, q, page)
	if err != nil {
		return nil, err
	}
	out := &cloudv1.ListProjectLogsResponse{
		Logs:       make([]*cloudv1.ProjectLog, len(l.Entries)),
		Pagination: apiconv.PageResponse(page, l.Total),
		Total:      l.Total,
		Users:      make([]*cloudv1.BasicUser, len(l.Users)),
	}
	for i, e := range l.Entries {
		out.Logs[i] = &cloudv1.ProjectLog{
			Id:        e.ID,
			User:      basicUser(e.User),
			Message:   e.Message,
			CreatedAt: apiconv.Time(e.CreatedAt),
			UpdatedAt: apiconv.Time(e.CreatedAt), // entries never change
		}
	}
	for i, u := range l.Users {
		out.Users[i] = basicUser(u)
	}
	return connect.NewResponse(out), nil
}
