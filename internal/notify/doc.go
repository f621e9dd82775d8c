// Package notify is the notification hub behind
// CloudService.SubscribeNotifications: it tells each subscriber about the
// users, projects, nodes and server logs they are associated with when those
// change, on whichever replica the change happened.
//
// # Events
//
// An Event is small and knows no transport: the kind and id of the object
// that changed, its project, and its audience, the ids of the users it
// concerns. Domains publish events after (or inside) the transaction that
// made the change and decide the audience (a node's audience is its
// project's members). The API layer loads the object when it streams the
// event, after the change committed, so a subscriber gets the object as the
// change left it (or later) and as that user may see it then.
//
// # Deliveries and shared loads
//
// A subscription hands out each event as a Delivery, and every subscription
// of a hub that gets one event gets the same Delivery. Shared lets their
// readers share the work the event causes: the first reader to come to the
// event loads the object (and who may see it), the others use that load.
// A change to an object costs its loads once per replica, however many
// subscribers it has; each reader then only decides what its user may see
// of the shared value. On PostgreSQL, where a large audience is split over
// several notifications, each event carries an identity on the wire, so the
// parts of one event are still one delivery.
//
// # Fan-out
//
// A Hub holds the open subscriptions of this process, indexed by user. Hub.Publish
// hands each event to every subscription of every user in its audience and
// never waits for one: each subscription has a bounded buffer (Config.Buffer).
//
// When a buffer is full the subscription ends with ErrLagged; it is not kept
// alive by dropping events. A subscriber that silently misses a change shows
// stale state until something else changes, while one told it lagged can
// resubscribe and reload: the API ends the stream with an error saying so,
// and the reference already tells clients to reopen a stream that goes
// quiet. A stream handler that keeps up never comes near the default buffer;
// one that cannot keep up costs the publishers nothing.
//
// # Replicas
//
// On SQLite one process owns the database file, so the hub is in-process
// only. On PostgreSQL every event goes through the database: Publish sends
// it with pg_notify on the channel "gpcore_events" (or
// "gpcore_events.<schema>" outside the public schema, so that installations
// sharing a database do not hear each other), and every replica's
// hub LISTENs on a connection of its own and hands out what arrives to its
// own subscribers, its own events included. A payload is a small JSON batch
// of events (ids only), always under PostgreSQL's 8000-byte limit: events
// share payloads, and an event with a large audience is split over several.
//
// The listener reconnects with exponential backoff when it loses its
// connection. PostgreSQL does not keep notifications for a listener that is
// away, so when it is back every subscription that was open ends with
// ErrLagged: its subscriber resubscribes and reloads rather than trusting a
// stream with a hole in it.
//
// # Transactions
//
// Subscribers must hear of a change only once they can read it, and never of
// one that was rolled back. Hub.InTx runs a transaction like store.DB.InTx;
// inside it, Hub.PublishTx publishes as part of the transaction. On
// PostgreSQL that is pg_notify in the transaction, which PostgreSQL delivers
// at commit and drops on rollback. On SQLite the events wait in a queue that
// InTx hands out after the commit and throws away on rollback. PublishTx
// refuses a transaction InTx did not begin on both databases, so code that
// forgets InTx fails in the SQLite tests, not silently in production.
//
// # Life cycle
//
// New, then Start (on PostgreSQL it returns once the listener listens),
// then Subscribe and Publish, then Stop, which stops the listener, lets
// subscribers read what their buffers hold and ends their subscriptions with
// ErrStopped. Publishing works at any time; subscribing only between Start
// and Stop. The only goroutine a hub keeps is the PostgreSQL listener; a
// subscription costs none.
//
// # Heartbeats
//
// The stream handler sends a heartbeat every HeartbeatInterval. Stream is its
// loop, with the ticks coming in on a channel so that tests drive heartbeats
// by hand.
package notify
