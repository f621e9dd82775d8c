package notify_test

import (
	"context"
	"fmt"
	"os"

	"github.com/uptrace/bun"

	"github.com/gpcore/gpcore/internal/notify"
	"github.com/gpcore/gpcore/internal/store"
)

// A subscriber hears of changes to the objects it is associated with; a
// change made in a transaction is published with it.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "notify-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	db, err := store.Open(ctx, store.Config{DataDir: dir})
	if err != nil {
		panic(err)
	}
	defer db.Close()

	hub, err := notify.New(ctx, db, notify.Config{})
	if err != nil {
		panic(err)
	}
	if err := hub.Start(ctx); err != nil {
		panic(err)
	}
	defer hub.Stop(ctx)

	sub, err := hub.Subscribe(ctx, "alice")
	if err != nil {
		panic(err)
	}
	defer sub.Close()

	// A node of a project whose members are alice and bob changed.
	err = hub.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		// ... update the node in tx ...
		return hub.PublishTx(ctx, tx, notify.Event{
			Kind:      notify.KindNode,
			ID:        "node-1",
			ProjectID: "project-1",
			Audience:  []string{"alice", "bob"},
		})
	})
	if err != nil {
		panic(err)
	}

	e := <-sub.Events()
	fmt.Println(e.Kind, e.ID, e.ProjectID)
	// Output: node node-1 project-1
}
