package notify

import (
	"context"
	"database/sql"
	"errors"

	"github.com/uptrace/bun"
)

// InTx runs fn in a transaction on the hub's database, exactly like
// store.DB.InTx, and lets fn publish with PublishTx: the events reach
// subscribers only if the transaction commits, and only once it has. Use it
// instead of store.DB.InTx for every transaction that publishes.
func (h *Hub) InTx(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	var key *sql.Tx
	defer func() {
		if key != nil {
			h.txMu.Lock()
			delete(h.txs, key)
			h.txMu.Unlock()
		}
	}()
	var queued []Event
	err := h.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		key = tx.Tx
		h.txMu.Lock()
		h.txs[key] = nil
		h.txMu.Unlock()
		if err := fn(ctx, tx); err != nil {
			return err
		}
		h.txMu.Lock()
		queued = h.txs[key]
		h.txMu.Unlock()
		return nil
	})
	if err != nil {
		return err
	}
	if len(queued) > 0 {
		h.deliver(deliveries(queued))
	}
	return nil
}

// PublishTx publishes events as part of tx, which must be a transaction InTx
// runs (or a savepoint inside one): they are delivered when tx commits and
// never if it rolls back. On PostgreSQL it sends them with pg_notify inside
// tx, and PostgreSQL itself delivers them at commit, to every replica; on
// SQLite it queues them, and InTx hands them to this process's subscribers
// after the commit. Either way a subscriber that hears of a change can read
// it.
//
// One difference remains: events published inside a savepoint that is rolled
// back are dropped on PostgreSQL but still delivered on SQLite when the
// transaction commits. Publish outside savepoints that may roll back.
func (h *Hub) PublishTx(ctx context.Context, tx bun.Tx, events ...Event) error {
	evs, err := normalize(events)
	if err != nil {
		return err
	}
	h.txMu.Lock()
	queued, ok := h.txs[tx.Tx]
	if ok && h.channel == "" {
		h.txs[tx.Tx] = append(queued, evs...)
	}
	h.txMu.Unlock()
	if !ok {
		return errors.New("notify: PublishTx: the transaction was not begun by Hub.InTx")
	}
	if h.channel == "" || len(evs) == 0 {
		return nil
	}
	return h.notify(ctx, tx, evs)
}
