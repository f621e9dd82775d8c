package jobs_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/riverqueue/river"
	"github.com/uptrace/bun"

	"github.com/gpcore/gpcore/internal/jobs"
	"github.com/gpcore/gpcore/internal/store"
)

// PaintArgs asks for a widget to be painted: one job per widget at a time.
type PaintArgs struct {
	WidgetID string `json:"widget_id" river:"unique"`
}

// Kind implements river.JobArgs.
func (PaintArgs) Kind() string { return "widget_paint" }

// InsertOpts makes the kind unique per widget.
func (PaintArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: jobs.OnePerTarget()}
}

// PaintWorker paints widgets. It is idempotent: it decides from the
// database, and records the outcome and the job's completion in one
// transaction, so a re-run after a crash never paints twice.
type PaintWorker struct {
	river.WorkerDefaults[PaintArgs]
	DB   *store.DB
	Done chan<- string
}

// Work implements river.Worker.
func (w *PaintWorker) Work(ctx context.Context, job *river.Job[PaintArgs]) error {
	err := w.DB.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var painted bool
		err := store.ForUpdate(tx.NewSelect().Table("widgets").Column("painted").
			Where("id = ?", job.Args.WidgetID)).Scan(ctx, &painted)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			jobs.Logger(ctx).WarnContext(ctx, "widget gone; nothing to paint", "widget_id", job.Args.WidgetID)
		case err != nil:
			return err // retried
		case !painted: // the real work; with hardware, a request and then polls (river.JobSnooze)
			if _, err := tx.NewUpdate().Table("widgets").Set("painted = TRUE").
				Where("id = ?", job.Args.WidgetID).Exec(ctx); err != nil {
				return err
			}
		}
		return jobs.CompleteTx(ctx, tx, job)
	})
	if err == nil {
		w.Done <- job.Args.WidgetID
	}
	return err
}

// Example shows the whole cycle: a domain transaction writes a row and the
// job that follows from it; the worker finishes the job.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "jobs-example")
	defer os.RemoveAll(dir)
	db, err := store.Open(ctx, store.Config{DataDir: dir})
	if err != nil {
		panic(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		panic(err)
	}
	if err := jobs.Migrate(ctx, db); err != nil {
		panic(err)
	}
	if _, err := db.ExecContext(ctx, "CREATE TABLE widgets (id TEXT PRIMARY KEY, painted BOOLEAN NOT NULL)"); err != nil {
		panic(err)
	}

	// The app builds the workers and the queue, then starts it.
	done := make(chan string, 1)
	workers := river.NewWorkers()
	river.AddWorker(workers, &PaintWorker{DB: db, Done: done})
	q, err := jobs.New(db, jobs.Config{Workers: workers, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		panic(err)
	}
	if err := q.Start(ctx); err != nil {
		panic(err)
	}
	defer func() {
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		_ = q.Stop(sctx)
	}()

	// A domain service: the row and its job commit together, or neither.
	err = db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.ExecContext(ctx, "INSERT INTO widgets (id, painted) VALUES ('w1', FALSE)"); err != nil {
			return err
		}
		_, err := q.InsertTx(ctx, tx, PaintArgs{WidgetID: "w1"}, nil)
		return err
	})
	if err != nil {
		panic(err)
	}

	fmt.Println("painted", <-done)
	// Output: painted w1
}
