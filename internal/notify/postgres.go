package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gpcore/gpcore/internal/store"
)

// channelBase is the name of the PostgreSQL notification channel when
// gpcore's tables live in the public schema. In any other schema the channel
// is channelBase + "." + the schema's name, so that installations (and
// parallel tests) sharing one database each hear only their own events.
const channelBase = "gpcore_events"

// maxChannelLength is PostgreSQL's limit on identifiers, channel names
// included (NAMEDATALEN - 1).
const maxChannelLength = 63

// Listener timing.
const (
	// connectTimeout bounds one attempt to connect and LISTEN.
	connectTimeout = 10 * time.Second
	// closeTimeout bounds closing a listener connection politely.
	closeTimeout = 5 * time.Second
	// minBackoff is the wait before the first reconnect attempt; it doubles
	// with each failed attempt up to maxBackoff.
	minBackoff = 100 * time.Millisecond
	maxBackoff = 30 * time.Second
)

// listenerAppName is the listener connection's application_name, for
// pg_stat_activity, when the database URL sets none; when it does, the
// listener's is that name with listenerAppSuffix.
const (
	listenerAppName   = "gpcore/notify"
	listenerAppSuffix = "/notify"
)

// channelOf returns the notification channel of the schema db's
// connections use.
func channelOf(ctx context.Context, db *store.DB) (string, error) {
	var schema sql.NullString
	if err := db.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return "", fmt.Errorf("notify: read the current schema: %w", err)
	}
	if !schema.Valid {
		return "", errors.New("notify: no schema on the search_path exists")
	}
	if schema.String == "public" {
		return channelBase, nil
	}
	ch := channelBase + "." + schema.String
	if len(ch) > maxChannelLength {
		return "", fmt.Errorf("notify: channel name %q is longer than PostgreSQL's %d bytes: use a shorter schema name", ch, maxChannelLength)
	}
	return ch, nil
}

// connect opens a listener connection and LISTENs on the hub's channel. The
// connection has the pool's settings but is not taken from the pool: it is
// held for as long as the hub runs.
func (h *Hub) connect(ctx context.Context) (*pgx.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	cfg := h.db.Pool().Config().ConnConfig
	if name := cfg.RuntimeParams["application_name"]; name != "" {
		cfg.RuntimeParams["application_name"] = name + listenerAppSuffix
	} else {
		cfg.RuntimeParams["application_name"] = listenerAppName
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect the listener: %w", err)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{h.channel}.Sanitize()); err != nil {
		closeConn(conn)
		return nil, fmt.Errorf("listen on %s: %w", h.channel, err)
	}
	return conn, nil
}

// closeConn closes a listener connection, politely if it still works.
func closeConn(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	_ = conn.Close(ctx)
}

// listen is the listener goroutine: it hands out what arrives on conn and,
// when the connection fails, reconnects with backoff. Because notifications
// sent while it was away are lost, every subscription open when it
// reconnects ends with ErrLagged. It returns when ctx is cancelled (Stop).
func (h *Hub) listen(ctx context.Context, conn *pgx.Conn) {
	defer close(h.listenerDone)
	for {
		err := h.receive(ctx, conn)
		closeConn(conn)
		if ctx.Err() != nil {
			return
		}
		h.log.Warn("notify: listener lost its PostgreSQL connection; reconnecting", "channel", h.channel, "error", err)
		if conn = h.reconnect(ctx); conn == nil {
			return
		}
		h.endAll(fmt.Errorf("%w: the hub was disconnected from PostgreSQL", ErrLagged))
		h.log.Info("notify: listener reconnected; subscriptions ended so that clients reload", "channel", h.channel)
	}
}

// receive hands out the events of each notification on conn until the
// connection fails or ctx is cancelled.
//
// The parts of an event split over several payloads arrive one after the
// other: one statement sends them, and PostgreSQL queues the notifications
// of one transaction together at its commit. So receive hands each part out
// in the same delivery as the part before it when both carry the same
// identity, and every subscriber of the event shares one delivery (and its
// loads), however large the audience.
func (h *Hub) receive(ctx context.Context, conn *pgx.Conn) error {
	// lastID and lastLoads are the identity and the loads of the event
	// handed out last.
	var lastLoads *loads
	lastID := ""
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		events, ids, err := decodePayload(n.Payload)
		if err != nil {
			h.log.Error("notify: dropped a notification gpcore cannot read", "channel", h.channel, "error", err, "sender_pid", n.PID)
			continue
		}
		ds := make([]Delivery, len(events))
		for i, e := range events {
			if ids[i] != "" && ids[i] == lastID {
				ds[i] = Delivery{Event: e, loads: lastLoads}
			} else {
				ds[i] = newDelivery(e)
			}
			lastLoads, lastID = ds[i].loads, ids[i]
		}
		h.deliver(ds)
	}
}

// reconnect connects and LISTENs again, waiting between attempts with
// exponential backoff and jitter. It returns nil when ctx is cancelled first.
func (h *Hub) reconnect(ctx context.Context) *pgx.Conn {
	backoff := minBackoff
	for attempt := 1; ; attempt++ {
		if !sleep(ctx, jitter(backoff)) {
			return nil
		}
		conn, err := h.connect(ctx)
		if err == nil {
			return conn
		}
		if ctx.Err() != nil {
			return nil
		}
		backoff = min(2*backoff, maxBackoff)
		h.log.Warn("notify: listener cannot reconnect to PostgreSQL", "channel", h.channel, "attempt", attempt, "error", err)
	}
}

// jitter returns a random duration between d/2 and d, so that replicas
// that lost the database together do not all come back at once.
func jitter(d time.Duration) time.Duration {
	return d/2 + rand.N(d/2+1)
}

// sleep waits for d and reports true, or reports false as soon as ctx is
// done.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
