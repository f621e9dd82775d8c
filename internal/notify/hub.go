package notify

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/gpcore/gpcore/internal/store"
)

// DefaultBuffer is how many undelivered events a subscription holds by
// default before it counts as lagging: far more than a stream handler that
// keeps up ever has queued, small enough (a few KiB) for tens of thousands of
// subscribers.
const DefaultBuffer = 256

// ErrLagged ends a subscription that missed events: its reader fell so far
// behind that its buffer was full, or the hub lost its connection to
// PostgreSQL for a while. The subscriber's picture of its objects may be
// stale; the API ends the stream with an error that tells the client to
// subscribe again (and to reload what it shows).
var ErrLagged = errors.New("notify: subscription missed events; subscribe again")

// ErrStopped ends the subscriptions of a hub that stopped, and refuses new
// ones. The API ends the stream with an error that tells the client to
// subscribe again, on another replica.
var ErrStopped = errors.New("notify: hub stopped")

// Config tunes a Hub; the zero value is usable.
type Config struct {
	// Buffer is how many undelivered events each subscription holds before
	// it counts as lagging (DefaultBuffer if 0).
	Buffer int
	// Logger gets the listener's connection trouble and the subscriptions
	// dropped for lagging (slog.Default() if nil).
	Logger *slog.Logger
}

// state is where a Hub is in its life.
type state int

const (
	created state = iota // New returned it; subscriptions are refused
	running              // Start succeeded
	stopped              // Stop was called
)

// Hub delivers events to the subscribers they concern. See the package
// documentation. Its methods are safe for concurrent use.
type Hub struct {
	db  *store.DB
	cfg Config
	log *slog.Logger
	// channel is the PostgreSQL notification channel; empty on SQLite.
	channel string
	// idPrefix and seq make the identities of the events this hub sends
	// through PostgreSQL: idPrefix is random, so that no two hubs (replicas)
	// make the same one.
	idPrefix string
	seq      atomic.Uint64

	mu    sync.RWMutex
	state state
	// subs holds the open subscriptions by user id.
	subs map[string]map[*Subscription]struct{}

	txMu sync.Mutex
	// txs holds the transactions InTx runs, with the events PublishTx
	// queued in each on SQLite.
	txs map[*sql.Tx][]Event

	// stopListener and listenerDone are set by Start on PostgreSQL.
	stopListener context.CancelFunc
	listenerDone chan struct{}
}

// New returns a hub on db, not yet started. On PostgreSQL it asks the
// database for the schema gpcore's tables live in, which names the
// notification channel (see the package documentation).
func New(ctx context.Context, db *store.DB, cfg Config) (*Hub, error) {
	if cfg.Buffer < 0 {
		return nil, fmt.Errorf("notify: negative buffer %d", cfg.Buffer)
	}
	if cfg.Buffer == 0 {
		cfg.Buffer = DefaultBuffer
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	h := &Hub{
		db:   db,
		cfg:  cfg,
		log:  log,
		subs: make(map[string]map[*Subscription]struct{}),
		txs:  make(map[*sql.Tx][]Event),
	}
	if db.Dialect == store.Postgres {
		ch, err := channelOf(ctx, db)
		if err != nil {
			return nil, err
		}
		h.channel = ch
		h.idPrefix = rand.Text()[:16] + "."
	}
	return h, nil
}

// Start makes the hub ready for subscribers. On PostgreSQL it connects the
// listener and returns once it is listening, so that every event published
// from then on, by any replica, reaches this hub's subscribers; the listener
// then runs in the background, reconnecting as needed, until Stop. ctx bounds
// the start-up only. A hub starts at most once.
func (h *Hub) Start(ctx context.Context) error {
	var conn *pgx.Conn
	if h.channel != "" {
		c, err := h.connect(ctx)
		if err != nil {
			return fmt.Errorf("notify: start: %w", err)
		}
		conn = c
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.state != created {
		if conn != nil {
			closeConn(conn)
		}
		return errors.New("notify: start: the hub was started or stopped before")
	}
	h.state = running
	if conn != nil {
		lctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		h.stopListener = cancel
		h.listenerDone = make(chan struct{})
		go h.listen(lctx, conn)
	}
	return nil
}

// Stop stops the hub and drains it: it stops the listener, waiting (within
// ctx) for the events it already received to be handed out, then ends every
// subscription with ErrStopped. Subscribers still read the events their
// buffers hold before they see the end. Stream handlers return then, which is
// what lets an http.Server's Shutdown finish: stop the hub first. Publishing
// keeps working after Stop (it reaches other replicas through PostgreSQL);
// subscribing does not. Stop returns ctx's error if the listener did not end
// in time, and is a no-op when called again.
func (h *Hub) Stop(ctx context.Context) error {
	h.mu.Lock()
	if h.state == stopped {
		h.mu.Unlock()
		return nil
	}
	h.state = stopped
	h.mu.Unlock()

	var err error
	if h.stopListener != nil {
		h.stopListener()
		select {
		case <-h.listenerDone:
		case <-ctx.Done():
			err = fmt.Errorf("notify: stop: listener still running: %w", ctx.Err())
		}
	}
	h.endAll(ErrStopped)
	return err
}

// Subscribe opens a subscription to the events whose audience includes
// userID. It ends when ctx is done, when the subscriber closes it, or when
// the hub ends it (ErrLagged, ErrStopped). It fails before Start and after
// Stop (with ErrStopped).
func (h *Hub) Subscribe(ctx context.Context, userID string) (*Subscription, error) {
	if userID == "" {
		return nil, errors.New("notify: subscribe: empty user id")
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("notify: subscribe: %w", err)
	}
	s := &Subscription{hub: h, userID: userID, ch: make(chan Delivery, h.cfg.Buffer)}
	h.mu.Lock()
	defer h.mu.Unlock()
	switch h.state {
	case created:
		return nil, errors.New("notify: subscribe: the hub is not started")
	case stopped:
		return nil, ErrStopped
	}
	set := h.subs[userID]
	if set == nil {
		set = make(map[*Subscription]struct{})
		h.subs[userID] = set
	}
	set[s] = struct{}{}
	s.mu.Lock()
	s.stopWatch = context.AfterFunc(ctx, s.Close)
	s.mu.Unlock()
	return s, nil
}

// Publish tells the users in each event's audience that its object changed.
// It never waits for subscribers. On SQLite it hands the events to this
// process's subscribers before it returns; on PostgreSQL it sends them
// through the database (NOTIFY), from where every replica's listener, this
// one's included, hands them out. It returns an error for a malformed event
// (nothing is published then) or when the database refuses.
//
// Inside a transaction use PublishTx instead, so that subscribers never hear
// of changes that were rolled back, nor of committed ones before they can see
// them.
func (h *Hub) Publish(ctx context.Context, events ...Event) error {
	evs, err := normalize(events)
	if err != nil || len(evs) == 0 {
		return err
	}
	if h.channel == "" {
		h.deliver(deliveries(evs))
		return nil
	}
	return h.notify(ctx, h.db.DB, evs)
}

// notify sends events on the PostgreSQL channel through conn, in one
// statement: atomically, and when conn is a transaction, at its commit. Each
// event gets an identity, which every part of an event split over several
// payloads carries, so that the listeners hand the parts out as one
// delivery (see receive).
func (h *Hub) notify(ctx context.Context, conn bun.IConn, events []Event) error {
	ids := make([]string, len(events))
	for i := range ids {
		ids[i] = h.idPrefix + strconv.FormatUint(h.seq.Add(1), 36)
	}
	payloads := encodePayloads(events, ids)
	if _, err := conn.ExecContext(ctx, "SELECT pg_notify(?, p) FROM unnest(?::text[]) AS p",
		h.channel, pgdialect.Array(payloads)); err != nil {
		return fmt.Errorf("notify: pg_notify: %w", err)
	}
	return nil
}

// deliveries wraps each of events in a delivery of its own.
func deliveries(events []Event) []Delivery {
	out := make([]Delivery, len(events))
	for i, e := range events {
		out[i] = newDelivery(e)
	}
	return out
}

// deliver hands deliveries of normalized events to the open subscriptions
// of their audiences, without blocking: a subscription whose buffer is full
// ends with ErrLagged and is dropped. Every subscription gets the same
// delivery of an event, its Audience left out.
func (h *Hub) deliver(ds []Delivery) {
	var lagged []*Subscription
	h.mu.RLock()
	for _, d := range ds {
		out := d
		out.Audience = nil
		for _, u := range d.Audience {
			for s := range h.subs[u] {
				if !s.send(out) {
					lagged = append(lagged, s)
				}
			}
		}
	}
	h.mu.RUnlock()
	for _, s := range lagged {
		h.remove(s)
		h.log.Warn("notify: dropped a subscription that fell behind", "user_id", s.userID, "buffer", h.cfg.Buffer)
	}
}

// remove forgets s.
func (h *Hub) remove(s *Subscription) {
	h.mu.Lock()
	defer h.mu.Unlock()
	set := h.subs[s.userID]
	delete(set, s)
	if len(set) == 0 {
		delete(h.subs, s.userID)
	}
}

// endAll ends every open subscription with err.
func (h *Hub) endAll(err error) {
	h.mu.Lock()
	all := h.subs
	h.subs = make(map[string]map[*Subscription]struct{})
	h.mu.Unlock()
	for _, set := range all {
		for s := range set {
			s.end(err)
		}
	}
}
