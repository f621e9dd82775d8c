package cloudv1

import (
	"context"
	"errors"
	"slices"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	"github.com/gpcore/gpcore/internal/api/apiconv"
	"github.com/gpcore/gpcore/internal/api/interceptor"
	"github.com/gpcore/gpcore/internal/catalog"
	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/identity"
	"github.com/gpcore/gpcore/internal/node"
	"github.com/gpcore/gpcore/internal/notify"
	"github.com/gpcore/gpcore/internal/project"
)

// SubscribeNotifications streams the changes of the users, projects, nodes
// and server logs the caller is associated with, each object as the change
// left it (or later) and as the caller may see it then, and a heartbeat
// every notify.HeartbeatInterval, the first one at once (so a client knows
// it is subscribed). The caller's own account comes whole, a fellow
// member's as member lists show it; a project to an invitee as the invite
// shows it, and to someone who just lost it (or whose project was deleted)
// as its id alone (projectSeenBy). It ends cleanly when the client goes away. A subscriber that
// fell behind, or whose replica stops, gets an error telling it to
// subscribe again (Aborted, Unavailable), having perhaps missed changes.
func (h *Handler) SubscribeNotifications(ctx context.Context, _ *connect.Request[cloudv1.SubscribeNotificationsRequest], stream *connect.ServerStream[cloudv1.SubscribeNotificationsResponse]) error {
	callerID := interceptor.CallerID(ctx)
	sub, err := h.hub.Subscribe(ctx, callerID)
	if err != nil {
		return streamEnd(err)
	}
	defer sub.Close()
	send := func(n *cloudv1.Notification) error {
		return stream.Send(&cloudv1.SubscribeNotificationsResponse{Notification: n})
	}
	heartbeat := func(t time.Time) error {
		return send(&cloudv1.Notification{Message: &cloudv1.Notification_Heartbeat{Heartbeat: timestamppb.New(t)}})
	}
	if err := heartbeat(time.Now()); err != nil {
		return clientGone(ctx, err)
	}
	ticker := time.NewTicker(notify.HeartbeatInterval)
	defer ticker.Stop()
	err = notify.Stream(ctx, sub, ticker.C, func(d notify.Delivery) error {
		n, err := h.notification(ctx, callerID, d.Event)
		if err != nil || n == nil {
			return err
		}
		return send(n)
	}, heartbeat)
	return clientGone(ctx, streamEnd(err))
}

// clientGone hides the error of a stream whose client went away: the stream
// ended as it should.
func clientGone(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// streamEnd turns the hub's end of a subscription into the error that tells
// the client to subscribe again.
func streamEnd(err error) error {
	switch {
	case errors.Is(err, notify.ErrLagged):
		return connect.NewError(connect.CodeAborted, errors.New("notifications were missed: subscribe again and reload"))
	case errors.Is(err, notify.ErrStopped):
		return connect.NewError(connect.CodeUnavailable, errors.New("the server is shutting down: subscribe again"))
	}
	return err
}

// notification loads the object an event names as callerID may see it now;
// nil when the caller may not see it (any more).
func (h *Handler) notification(ctx context.Context, callerID string, e notify.Event) (*cloudv1.Notification, error) {
	n, err := h.load(ctx, callerID, e)
	if fault.KindOf(err) == fault.KindNotFound {
		return nil, nil
	}
	return n, err
}

func (h *Handler) load(ctx context.Context, callerID string, e notify.Event) (*cloudv1.Notification, error) {
	switch e.Kind {
	case notify.KindUser:
		u, err := h.users.GetUser(ctx, e.ID)
		if err != nil {
			return nil, err
		}
		if e.ID == callerID {
			return &cloudv1.Notification{Message: &cloudv1.Notification_User{User: apiconv.User(u)}}, nil
		}
		viewers, err := h.projects.UserViewers(ctx, e.ID)
		if err != nil {
			return nil, err
		}
		if _, ok := slices.BinarySearch(viewers, callerID); !ok {
			return nil, nil
		}
		return &cloudv1.Notification{Message: &cloudv1.Notification_User{User: fellowUser(u)}}, nil
	case notify.KindProject:
		p, err := h.projects.Changed(ctx, e.ID)
		if err != nil && fault.KindOf(err) != fault.KindNotFound {
			return nil, err
		}
		return &cloudv1.Notification{Message: &cloudv1.Notification_Project{Project: projectSeenBy(p, err == nil, e.ID, callerID)}}, nil
	case notify.KindNode:
		n, err := h.nodes.GetChanged(ctx, callerID, e.ProjectID, e.ID)
		if err != nil {
			return nil, err
		}
		return &cloudv1.Notification{Message: &cloudv1.Notification_Node{Node: nodeMessage(n)}}, nil
	case notify.KindServerLog:
		l, err := h.nodes.ServerLog(ctx, callerID, e.ID)
		if err != nil {
			return nil, err
		}
		dc, err := h.catalog.GetDatacenter(ctx, l.DatacenterID)
		if err != nil {
			return nil, err
		}
		return &cloudv1.Notification{Message: &cloudv1.Notification_ServerLog{ServerLog: serverLog(l, dc)}}, nil
	}
	return nil, nil // a kind this server does not stream
}

// fellowUser is an account as its fellow project members see it: who it is,
// as a member list shows it (basicUser), not its settings.
func fellowUser(u identity.User) *cloudv1.User {
	b := basicUser(project.User{ID: u.ID, Username: u.Username, FullName: u.FullName, Email: u.Email, Type: u.Type})
	return &cloudv1.User{Id: b.Id, Username: b.Username, FullName: b.FullName, Email: b.Email, Type: b.Type}
}

// projectSeenBy is the project id (p, when found is true) as the
// notification to userID shows it: everything to a confirmed member; to a
// pending invitee what the invite shows (its BasicProject: id, name and
// avatar); and to anyone else, who is told because they lost the project
// (they left, were removed, rejected or lost their invite, or it was
// deleted), only its id. The reference's Notification has no way to say
// that a project is gone, unlike a node's DELETED status, and what became
// of the project is none of their business any more: a project without a
// name and with no members, not even them, tells them it is no longer
// theirs, and GetProject answers NotFound.
func projectSeenBy(p project.Project, found bool, id, userID string) *cloudv1.Project {
	if found {
		m, ok := p.Member(userID)
		switch {
		case ok && m.Confirmed:
			return projectMessage(p)
		case ok:
			return &cloudv1.Project{Id: p.ID, Name: p.Name, AvatarUrl: p.AvatarURL}
		}
	}
	return &cloudv1.Project{Id: id}
}

// serverLog is a server log entry as the API shows it.
func serverLog(l node.ServerLog, dc catalog.Datacenter) *cloudv1.ServerLog {
	return &cloudv1.ServerLog{
		Id:        l.ID,
		Message:   l.Message,
		Level:     apiconv.Enum[cloudv1.ServerLogLevelType](cloudv1.ServerLogLevelType_value, "SERVER_LOG_LEVEL_TYPE_", l.Level),
		Source:    apiconv.Enum[cloudv1.ServerLogSourceType](cloudv1.ServerLogSourceType_value, "SERVER_LOG_SOURCE_TYPE_", l.Source),
		Server:    &cloudv1.BasicServer{Id: l.ServerID, Name: l.ServerName, Datacenter: datacenter(dc)},
		CreatedAt: apiconv.Time(l.CreatedAt),
		UpdatedAt: apiconv.Time(l.CreatedAt),
	}
}
