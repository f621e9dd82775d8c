package cloudv1

import (
	"context"
	"errors"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	"github.com/gpcore/gpcore/internal/api/apiconv"
	"github.com/gpcore/gpcore/internal/api/interceptor"
	"github.com/gpcore/gpcore/internal/catalog"
	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/node"
	"github.com/gpcore/gpcore/internal/notify"
)

// SubscribeNotifications streams the changes of the users, projects, nodes
// and server logs the caller is associated with, each object as it is when
// sent and as the caller may see it, and a heartbeat every
// notify.HeartbeatInterval, the first one at once (so a client knows it is
// subscribed). It ends cleanly when the client goes away. A subscriber that
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
		user := apiconv.User(u)
		if e.ID != callerID { // a fellow member: what members see of each other
			b := apiconv.BasicUser(u)
			user = &cloudv1.User{Id: b.Id, Username: b.Username, FullName: b.FullName, Email: b.Email, Type: b.Type, Timezone: b.Timezone}
		}
		return &cloudv1.Notification{Message: &cloudv1.Notification_User{User: user}}, nil
	case notify.KindProject:
		p, err := h.projects.Get(ctx, callerID, e.ID)
		if err != nil {
			return nil, err
		}
		return &cloudv1.Notification{Message: &cloudv1.Notification_Project{Project: projectMessage(p)}}, nil
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
