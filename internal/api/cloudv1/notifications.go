package cloudv1

import (
	"context"
	"errors"
	"fmt"
	"slices"
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
	"github.com/gpcore/gpcore/internal/project"
)

// SubscribeNotifications streams the changes of the users, projects, nodes
// and server logs the caller is associated with, each object as the change
// left it (or later) and as the caller may see it then, and a heartbeat
// every notify.HeartbeatInterval, the first one at once (so a client knows
// it is subscribed). The caller's own account comes whole, a fellow
// member's as member lists show it; a project to an invitee as the invite
// shows it, and to someone who just lost it (or whose project was deleted)
// as its id alone (projectNotes). It ends cleanly when the client goes
// away. A subscriber that fell behind, or whose replica stops, gets an
// error telling it to subscribe again (Aborted, Unavailable), having
// perhaps missed changes.
//
// The object an event names is loaded once per replica and event, for all
// the subscribers that get it (notify.Shared), with who may see it, read
// after the object; each stream then only picks what its caller may see of
// that load. The messages are shared too, and never changed once built.
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
		n, err := h.notification(ctx, callerID, d)
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
		return connect.NewError(connect.CodeUnavailable, fmt.Errorf("%w: subscribe again", interceptor.ErrShuttingDown))
	}
	return err
}

// notification is the object an event names as callerID may see it; nil
// when the caller may not see it (any more).
func (h *Handler) notification(ctx context.Context, callerID string, d notify.Delivery) (*cloudv1.Notification, error) {
	var n *cloudv1.Notification
	var err error
	switch d.Kind {
	case notify.KindUser:
		n, err = h.userNotification(ctx, callerID, d)
	case notify.KindProject:
		n, err = h.projectNotification(ctx, callerID, d)
	case notify.KindNode:
		n, err = h.nodeNotification(ctx, callerID, d)
	case notify.KindServerLog:
		n, err = h.serverLogNotification(ctx, callerID, d)
	}
	if fault.KindOf(err) == fault.KindNotFound {
		return nil, nil
	}
	return n, err
}

// userNotes is a changed account as the stream shows it: whole to the
// account itself, as member lists show it (basicUser) to those who share a
// project with it, viewers (in id order), and not to anyone else.
type userNotes struct {
	own, fellow *cloudv1.Notification
	viewers     []string
}

func (h *Handler) userNotification(ctx context.Context, callerID string, d notify.Delivery) (*cloudv1.Notification, error) {
	notes, err := notify.Shared(ctx, d, "user", func(ctx context.Context) (userNotes, error) {
		u, err := h.users.GetUser(ctx, d.ID)
		if err != nil {
			return userNotes{}, err
		}
		viewers, err := h.projects.UserViewers(ctx, d.ID)
		if err != nil {
			return userNotes{}, err
		}
		b := basicUser(project.User{ID: u.ID, Username: u.Username, FullName: u.FullName, Email: u.Email, Type: u.Type})
		fellow := &cloudv1.User{Id: b.Id, Username: b.Username, FullName: b.FullName, Email: b.Email, Type: b.Type}
		return userNotes{
			own:     &cloudv1.Notification{Message: &cloudv1.Notification_User{User: apiconv.User(u)}},
			fellow:  &cloudv1.Notification{Message: &cloudv1.Notification_User{User: fellow}},
			viewers: viewers,
		}, nil
	})
	if err != nil {
		return nil, err
	}
	if callerID == d.ID {
		return notes.own, nil
	}
	if _, ok := slices.BinarySearch(notes.viewers, callerID); ok {
		return notes.fellow, nil
	}
	return nil, nil
}

// projectNotes is a changed project as the stream shows it: whole to a
// confirmed member; to a pending invitee what the invite shows (its
// BasicProject: id, name and avatar); and to anyone else the event is for,
// who is told because they lost the project (they left, were removed,
// rejected or lost their invite, or it was deleted), only its id. The
// reference's Notification has no way to say that a project is gone, unlike
// a node's DELETED status, and what became of the project is none of their
// business any more: a project without a name and with no members, not even
// them, tells them it is no longer theirs, and GetProject answers NotFound.
type projectNotes struct {
	full, invite, gone *cloudv1.Notification
	// confirmed holds the members and invitees: true for a confirmed
	// member.
	confirmed map[string]bool
}

func (h *Handler) projectNotification(ctx context.Context, callerID string, d notify.Delivery) (*cloudv1.Notification, error) {
	notes, err := notify.Shared(ctx, d, "project", func(ctx context.Context) (projectNotes, error) {
		gone := &cloudv1.Notification{Message: &cloudv1.Notification_Project{Project: &cloudv1.Project{Id: d.ID}}}
		p, err := h.projects.Changed(ctx, d.ID)
		if fault.KindOf(err) == fault.KindNotFound {
			return projectNotes{gone: gone}, nil
		}
		if err != nil {
			return projectNotes{}, err
		}
		confirmed := make(map[string]bool, len(p.Members))
		for _, m := range p.Members {
			confirmed[m.User.ID] = m.Confirmed
		}
		invite := &cloudv1.Project{Id: p.ID, Name: p.Name, AvatarUrl: p.AvatarURL}
		return projectNotes{
			full:      &cloudv1.Notification{Message: &cloudv1.Notification_Project{Project: projectMessage(p)}},
			invite:    &cloudv1.Notification{Message: &cloudv1.Notification_Project{Project: invite}},
			gone:      gone,
			confirmed: confirmed,
		}, nil
	})
	if err != nil {
		return nil, err
	}
	confirmed, ok := notes.confirmed[callerID]
	switch {
	case ok && confirmed:
		return notes.full, nil
	case ok:
		return notes.invite, nil
	}
	return notes.gone, nil
}

// viewed is a notification for the users who may see it.
type viewed struct {
	note *cloudv1.Notification
	node.Viewers
}

func (h *Handler) nodeNotification(ctx context.Context, callerID string, d notify.Delivery) (*cloudv1.Notification, error) {
	v, err := notify.Shared(ctx, d, "node", func(ctx context.Context) (viewed, error) {
		c, err := h.nodes.Changed(ctx, d.ProjectID, d.ID)
		if err != nil {
			return viewed{}, err
		}
		return viewed{&cloudv1.Notification{Message: &cloudv1.Notification_Node{Node: nodeMessage(c.Node)}}, c.Viewers}, nil
	})
	if err != nil || !v.VisibleTo(callerID) {
		return nil, err
	}
	return v.note, nil
}

func (h *Handler) serverLogNotification(ctx context.Context, callerID string, d notify.Delivery) (*cloudv1.Notification, error) {
	v, err := notify.Shared(ctx, d, "server log", func(ctx context.Context) (viewed, error) {
		c, err := h.nodes.ServerLogChanged(ctx, d.ID)
		if err != nil {
			return viewed{}, err
		}
		dc, err := h.catalog.GetDatacenter(ctx, c.Log.DatacenterID)
		if err != nil {
			return viewed{}, err
		}
		return viewed{&cloudv1.Notification{Message: &cloudv1.Notification_ServerLog{ServerLog: serverLog(c.Log, dc)}}, c.Viewers}, nil
	})
	if err != nil || !v.VisibleTo(callerID) {
		return nil, err
	}
	return v.note, nil
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
