package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"connectrpc.com/connect"
	"github.com/spf13/cobra"
	"google.golang.org/protobuf/proto"

	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
)

// The waits of --wait.
const (
	// heartbeatTimeout is how long a notification stream may stay silent
	// before a wait takes it for dead and subscribes again: the server sends
	// a heartbeat every 5 seconds.
	heartbeatTimeout = 20 * time.Second
	// maxResubscribes is how many times in a row subscribing again may fail
	// before a wait gives up.
	maxResubscribes = 6
	// maxResubscribeDelay bounds the pause between two attempts to
	// subscribe again; the first attempt is made at once.
	maxResubscribeDelay = 30 * time.Second
	// maxServerErrors is how many of the error entries of the server log a
	// wait keeps to show when it fails.
	maxServerErrors = 5
	// defaultWaitTimeout is --timeout's default.
	defaultWaitTimeout = 30 * time.Minute
)

// errStreamSilent ends a stream that sent nothing, not even a heartbeat, for
// heartbeatTimeout.
var errStreamSilent = errors.New("no heartbeat")

// waitFlags are the --wait and --timeout flags of a command that starts an
// operation on nodes.
type waitFlags struct {
	wait    bool
	timeout time.Duration
}

// addTo declares --wait, which waits for what, and --timeout on cmd.
func (f *waitFlags) addTo(cmd *cobra.Command, what string) {
	cmd.Flags().BoolVar(&f.wait, "wait", false, "wait until "+what+", showing each state change as it happens (Ctrl-C stops waiting, not the operation)")
	cmd.Flags().DurationVar(&f.timeout, "timeout", defaultWaitTimeout, "with --wait, how long to wait at most")
}

// goal is what a wait waits for.
type goal struct {
	// show is the state of a node a wait shows, a line each time it
	// changes.
	show func(*cloudv1.Node) string
	// reached tells that the operation is done.
	reached func(*cloudv1.Node) bool
	// failed tells that it failed.
	failed func(*cloudv1.Node) bool
	// gone says the operation deletes the node: it is done when the node is.
	gone bool
}

// provisioned is the goal of an installation (an order, a reinstall) or of
// rescue mode off: the node ACTIVE.
var provisioned = statusGoal(cloudv1.ServerProvisioningState_SERVER_PROVISIONING_STATE_ACTIVE,
	cloudv1.ServerProvisioningState_SERVER_PROVISIONING_STATE_DEPLOY_FAIL,
	cloudv1.ServerProvisioningState_SERVER_PROVISIONING_STATE_UNRESCUE_FAIL)

// rescued is the goal of rescue mode on: the node running its rescue system.
var rescued = statusGoal(cloudv1.ServerProvisioningState_SERVER_PROVISIONING_STATE_RESCUE,
	cloudv1.ServerProvisioningState_SERVER_PROVISIONING_STATE_RESCUE_FAIL)

// destroyed is the goal of a destruction: the node gone, its server cleaned.
// A node left in ERROR failed its teardown: it keeps its server, and can be
// destroyed again.
var destroyed = goal{show: statusText, reached: deleted, failed: func(n *cloudv1.Node) bool {
	return !deleted(n) && n.GetStatus() == cloudv1.ServerProvisioningState_SERVER_PROVISIONING_STATE_ERROR
}, gone: true}

// statusGoal waits for a node to reach the provisioning state done; the
// states fails and ERROR are failures, as is the node's deletion.
func statusGoal(done cloudv1.ServerProvisioningState, fails ...cloudv1.ServerProvisioningState) goal {
	return goal{
		show:    statusText,
		reached: func(n *cloudv1.Node) bool { return n.GetStatus() == done && !deleted(n) },
		failed: func(n *cloudv1.Node) bool {
			s := n.GetStatus()
			for _, f := range fails {
				if s == f {
					return true
				}
			}
			return s == cloudv1.ServerProvisioningState_SERVER_PROVISIONING_STATE_ERROR || deleted(n)
		},
	}
}

// powered is the goal of a power change: the node's power in state.
func powered(state cloudv1.ServerPowerState) goal {
	return goal{
		show:    powerText,
		reached: func(n *cloudv1.Node) bool { return n.GetPowerState() == state && !deleted(n) },
		failed:  deleted,
	}
}

// resetEnded is the goal of a reset: its end. A reset leaves the power as it
// was, so a node shows power RESET while one is under way and its power as
// the hardware reports it once the reset has ended.
var resetEnded = goal{
	show: powerText,
	reached: func(n *cloudv1.Node) bool {
		return n.GetPowerState() != cloudv1.ServerPowerState_SERVER_POWER_STATE_RESET && !deleted(n)
	},
	failed: deleted,
}

// powerText is a node's state and power as a wait for a power change shows
// them.
func powerText(n *cloudv1.Node) string {
	return statusText(n) + ", power " + upperName(n.GetPowerState())
}

// statusText is a node's provisioning state as a wait shows it; a node
// that is gone is DESTROYED, and says so when cleaning its server failed.
func statusText(n *cloudv1.Node) string {
	switch {
	case deleted(n) && n.GetStatus() == cloudv1.ServerProvisioningState_SERVER_PROVISIONING_STATE_CLEAN_FAIL:
		return "DESTROYED (cleaning failed: the server is out of the pool until an operator sees to it)"
	case deleted(n):
		return "DESTROYED"
	}
	return upperName(n.GetStatus())
}

// deleted tells that a node is gone: notifications show a deleted node
// billed DELETED. (Its provisioning state DELETED is a step of the
// destruction, after which the server is cleaned.)
func deleted(n *cloudv1.Node) bool {
	return n.GetBillingPeriod() == cloudv1.BillingPeriod_BILLING_PERIOD_DELETED
}

// watch follows nodes of a project on the notification stream until each
// has reached its goal or failed, writing a timestamped line for each state
// change it sees. It subscribes before the operation is asked for, so that
// no change is missed; a stream that ends or falls silent is replaced by a
// new subscription, after which GetNode tells what happened meanwhile. A
// node's reaching its goal, as a notification says, is confirmed with
// GetNode, which also keeps a notification sent before the operation from
// ending the wait.
type watch struct {
	c         *call
	projectID string
	goal      goal
	// out gets the state lines.
	out io.Writer
	// silence is how long the stream may stay silent (heartbeatTimeout).
	silence time.Duration
	sub     *subscription
	nodes   map[string]*watched
	// order is the order nodes were added in, for the summary.
	order []string
	// serverErrors are the last error entries of the server log that the
	// stream carried.
	serverErrors []string
}

// watched is a node a watch follows.
type watched struct {
	node *cloudv1.Node
	// shown is the state last shown.
	shown string
	// settled is set when the node reached its goal or failed.
	settled, failed bool
}

// startWatch subscribes to notifications for a wait on nodes of projectID.
// State lines go to the standard output in the table format, else to the
// error output, where they do not mix with the answer.
func (c *call) startWatch(ctx context.Context, projectID string, g goal) (*watch, error) {
	w := &watch{c: c, projectID: projectID, goal: g, out: c.out, silence: heartbeatTimeout, nodes: map[string]*watched{}}
	if c.format != formatTable {
		w.out = c.errOut
	}
	sub, err := c.subscribe(ctx, w.silence)
	if err != nil {
		return nil, fmt.Errorf("subscribe to notifications to wait: %w", err)
	}
	w.sub = sub
	return w, nil
}

// stop ends the watch's subscription.
func (w *watch) stop() {
	if w.sub != nil {
		w.sub.close()
	}
}

// follow adds nodes to the watch. With show, they come from the answer to
// the request that started the operation, and their state is shown;
// otherwise they are as they were before it, and wait fetches them first.
func (w *watch) follow(show bool, nodes ...*cloudv1.Node) {
	for _, n := range nodes {
		if _, ok := w.nodes[n.GetId()]; !ok {
			w.order = append(w.order, n.GetId())
		}
		f := &watched{node: n}
		w.nodes[n.GetId()] = f
		if show {
			w.show(f, n)
		}
	}
}

// wait follows the nodes until each has settled and returns them as they
// are at the end. It fails when a node failed, when ctx ends (Ctrl-C,
// --timeout) or when no new subscription can be had.
func (w *watch) wait(ctx context.Context) ([]*cloudv1.Node, error) {
	if err := w.waitSettled(ctx); err != nil {
		return nil, w.stopped(ctx, err)
	}
	var failed []string
	final := make([]*cloudv1.Node, 0, len(w.order))
	for _, id := range w.order {
		n := w.nodes[id]
		final = append(final, n.node)
		if n.failed {
			failed = append(failed, n.node.GetFqdn()+" is "+w.goal.show(n.node))
		}
	}
	if len(failed) == 0 {
		return final, nil
	}
	return final, errors.New(strings.Join(failed, "; ") + w.serverErrorLines())
}

// serverErrorLines are the error entries of the server log the stream
// carried, a line each after a heading, or "" when it carried none.
func (w *watch) serverErrorLines() string {
	if len(w.serverErrors) == 0 {
		return ""
	}
	return "\nerrors in the server log while waiting:\n  " + strings.Join(w.serverErrors, "\n  ")
}

// stopped explains why a wait stopped before the nodes settled: nothing is
// undone, the operation goes on. The errors the server log had meanwhile
// follow, since they may say why the nodes did not get there (a power
// change the backend refused leaves the node as it was).
func (w *watch) stopped(ctx context.Context, err error) error {
	if ctx.Err() == nil {
		return err
	}
	var pending []string
	for _, id := range w.order {
		if n := w.nodes[id]; !n.settled {
			pending = append(pending, n.node.GetFqdn())
		}
	}
	why := "interrupted"
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		why = "--timeout reached"
	}
	return fmt.Errorf("stopped waiting (%s) for %s; nothing was cancelled, the operation goes on: `gpcore node get` shows how %s%s",
		why, strings.Join(pending, ", "), plural(len(pending), "it is doing", "they are doing"), w.serverErrorLines())
}

// waitSettled reads the stream until every node has settled.
func (w *watch) waitSettled(ctx context.Context) error {
	if err := w.catchUp(ctx); err != nil {
		return err
	}
	silent := time.NewTimer(w.silence)
	defer silent.Stop()
	for !w.settled() {
		var ended error
		select {
		case <-ctx.Done():
			return ctx.Err()
		case note := <-w.sub.notes:
			silent.Reset(w.silence)
			if err := w.handle(ctx, note); err != nil {
				return err
			}
			continue
		case ended = <-w.sub.end:
			// Everything the stream sent is on notes by now.
			if err := w.drain(ctx); err != nil {
				return err
			}
			if w.settled() {
				return nil
			}
		case <-silent.C:
			ended = errStreamSilent
		}
		if err := w.resubscribe(ctx, ended); err != nil {
			return err
		}
		silent.Reset(w.silence)
	}
	return nil
}

// drain handles the notifications left on the subscription's channel.
func (w *watch) drain(ctx context.Context) error {
	for {
		select {
		case note := <-w.sub.notes:
			if err := w.handle(ctx, note); err != nil {
				return err
			}
		default:
			return nil
		}
	}
}

// settled tells that every node has settled.
func (w *watch) settled() bool {
	for _, n := range w.nodes {
		if !n.settled {
			return false
		}
	}
	return true
}

// handle takes one notification: a change of a followed node, or an error
// in a server log. Heartbeats only show that the stream is alive.
func (w *watch) handle(ctx context.Context, note *cloudv1.Notification) error {
	if l := note.GetServerLog(); l.GetLevel() == cloudv1.ServerLogLevelType_SERVER_LOG_LEVEL_TYPE_ERROR {
		w.serverErrors = append(w.serverErrors, l.GetServer().GetName()+": "+l.GetMessage())
		w.serverErrors = w.serverErrors[max(0, len(w.serverErrors)-maxServerErrors):]
	}
	n := note.GetNode()
	if n == nil {
		return nil
	}
	if f, ok := w.nodes[n.GetId()]; !ok || f.settled {
		return nil
	}
	return w.update(ctx, n, false)
}

// update records what is known of a node now, shows its state if it
// changed, and settles it when it reached its goal or failed. Unless
// confirmed (n comes from GetNode), a goal reached is checked with GetNode
// first.
func (w *watch) update(ctx context.Context, n *cloudv1.Node, confirmed bool) error {
	f := w.nodes[n.GetId()]
	if done := w.goal.reached(n); done || w.goal.failed(n) {
		if !confirmed {
			return w.refresh(ctx, n.GetId())
		}
		f.settled, f.failed = true, !done
	}
	f.node = n
	w.show(f, n)
	return nil
}

// show writes a timestamped line with the state of n, the node f follows,
// unless that is the state last shown.
func (w *watch) show(f *watched, n *cloudv1.Node) {
	if s := w.goal.show(n); s != f.shown {
		f.shown = s
		fmt.Fprintf(w.out, "%s  %s  %s\n", time.Now().Format("15:04:05"), n.GetFqdn(), s)
	}
}

// refresh fetches a followed node with GetNode and updates it; a node that
// is gone is deleted, which is the goal of a destruction and a failure of
// anything else.
func (w *watch) refresh(ctx context.Context, id string) error {
	res, err := w.c.cloud.GetNode(ctx, connect.NewRequest(&cloudv1.GetNodeRequest{Id: id, ProjectId: w.projectID}))
	if connect.CodeOf(err) == connect.CodeNotFound {
		gone := proto.CloneOf(w.nodes[id].node)
		gone.BillingPeriod = cloudv1.BillingPeriod_BILLING_PERIOD_DELETED
		return w.update(ctx, gone, true)
	}
	if err != nil {
		return err
	}
	return w.update(ctx, res.Msg.GetNode(), true)
}

// catchUp fetches every node that has not settled: what happened while no
// stream was listening.
func (w *watch) catchUp(ctx context.Context) error {
	for _, id := range w.order {
		if w.nodes[id].settled {
			continue
		}
		if err := w.refresh(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// resubscribe replaces a stream that ended (with err; nil for a clean end)
// by a new subscription, and then catches up. Attempts after the first wait
// a little longer each time.
func (w *watch) resubscribe(ctx context.Context, ended error) error {
	w.sub.close()
	why := "it ended"
	if ended != nil {
		why = describe(ended).Error()
	}
	fmt.Fprintf(w.c.errOut, "The notification stream stopped (%s): subscribing again.\n", why)
	delay := time.Duration(0)
	for attempt := 1; ; attempt++ {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		sub, err := w.c.subscribe(ctx, w.silence)
		if err == nil {
			w.sub = sub
			return w.catchUp(ctx)
		}
		if attempt == maxResubscribes || ctx.Err() != nil {
			return fmt.Errorf("subscribe to notifications again: %w", err)
		}
		delay = min(max(2*delay, time.Second), maxResubscribeDelay)
	}
}

// subscription is an open SubscribeNotifications stream: its notifications
// arrive on notes; when it ends, its error (nil for a clean end) on end.
type subscription struct {
	cancel context.CancelFunc
	notes  chan *cloudv1.Notification
	end    chan error
	// done is closed when the reading goroutine has returned.
	done chan struct{}
}

// subscribe opens a notification stream and returns once the server has
// confirmed it with its first heartbeat: from then on, every change is sent
// on it. It fails when no heartbeat comes within silence.
func (c *call) subscribe(ctx context.Context, silence time.Duration) (*subscription, error) {
	ctx, cancel := context.WithCancel(ctx)
	stream, err := c.cloud.SubscribeNotifications(ctx, connect.NewRequest(&cloudv1.SubscribeNotificationsRequest{}))
	if err != nil {
		cancel()
		return nil, err
	}
	s := &subscription{cancel: cancel, notes: make(chan *cloudv1.Notification, 64), end: make(chan error, 1), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		defer stream.Close()
		for stream.Receive() {
			select {
			case s.notes <- stream.Msg().GetNotification():
			case <-ctx.Done():
				return
			}
		}
		s.end <- stream.Err()
	}()
	timer := time.NewTimer(silence)
	defer timer.Stop()
	for {
		select {
		case note := <-s.notes:
			if note.GetHeartbeat() != nil {
				return s, nil
			}
		case err := <-s.end:
			s.close()
			if err == nil {
				err = errors.New("the stream ended at once")
			}
			return nil, err
		case <-timer.C:
			s.close()
			return nil, fmt.Errorf("%w within %s of subscribing", errStreamSilent, silence)
		case <-ctx.Done():
			s.close()
			return nil, ctx.Err()
		}
	}
}

// close ends the stream and waits for its reader to return.
func (s *subscription) close() {
	s.cancel()
	<-s.done
}
