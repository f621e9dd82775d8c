package notify

import (
	"context"
	"time"
)

// HeartbeatInterval is how often a notification stream sends a heartbeat:
// the reference promises one every 5 seconds, and clients reopen a stream
// that stays silent for longer.
const HeartbeatInterval = 5 * time.Second

// Stream runs the loop of a notification stream handler: it calls event for
// each delivery sub hands out and heartbeat for each tick of beats, one call at a
// time, until the stream ends. A handler passes the channel of a
// time.NewTicker(HeartbeatInterval); a test passes a channel it sends on, so
// it gets heartbeats when it wants them and never sleeps.
//
// Stream returns nil when ctx is done (the client went away) or the
// subscriber closed sub; sub.Err() when the hub ended sub (ErrLagged,
// ErrStopped), for the handler to end the stream with; and the error of event
// or heartbeat when one fails, at once.
func Stream(ctx context.Context, sub *Subscription, beats <-chan time.Time,
	event func(Delivery) error, heartbeat func(time.Time) error,
) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case d, ok := <-sub.Events():
			if !ok {
				return sub.Err()
			}
			if err := event(d); err != nil {
				return err
			}
		case t := <-beats:
			if err := heartbeat(t); err != nil {
				return err
			}
		}
	}
}
