package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/uptrace/bun"

	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/jobs"
)

// ResumeInterval is how often the job node_operations_resume looks for
// nodes whose operation or power change has no job left to carry it out.
const ResumeInterval = 5 * time.Minute

// resumeArgs are the args of the job that takes up the operations whose
// job ended without ending them (resumeLost).
type resumeArgs struct{}

// Kind implements river.JobArgs.
func (resumeArgs) Kind() string { return "node_operations_resume" }

// InsertOpts keeps one such job at a time queued or running.
func (resumeArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: jobs.OnePerTarget()}
}

// resumeWorker works the node_operations_resume job.
type resumeWorker struct {
	river.WorkerDefaults[resumeArgs]
	w *worker
}

// Work implements river.Worker. A node whose job could not be queued again
// fails the job, which is retried; the others are done.
func (r *resumeWorker) Work(ctx context.Context, _ *river.Job[resumeArgs]) error {
	return r.w.resumeLost(ctx)
}

// resumeJob schedules node_operations_resume every ResumeInterval and
// whenever a replica becomes River's leader.
func resumeJob() *river.PeriodicJob {
	return river.NewPeriodicJob(
		river.PeriodicInterval(ResumeInterval),
		func() (river.JobArgs, *river.InsertOpts) { return resumeArgs{}, nil },
		&river.PeriodicJobOpts{ID: resumeArgs{}.Kind(), RunOnStart: true},
	)
}

// resumeLost queues a job again for every live node whose operation
// (nodes.operation) or power change (power_target) is under way with no
// unfinished job to carry it out. A job ends that way only when its last
// attempt could not record the end either, as when the database was out of
// reach for all of its attempts; without this the node would stay busy, and
// refuse every request, for good. The new job goes on from what the node
// records, as a retry would. Each node is one transaction; the errors of
// those that fail are returned together, once the others are done.
func (w *worker) resumeLost(ctx context.Context) error {
	var ids []string
	if err := w.db.NewSelect().Model((*nodeRow)(nil)).Column("id").
		Where("deleted_at IS NULL").
		WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where("operation IS NOT NULL").WhereOr("power_target IS NOT NULL")
		}).
		Order("id").
		Scan(ctx, &ids); err != nil {
		return fmt.Errorf("node: find nodes under way: %w", err)
	}
	var errs []error
	for _, id := range ids {
		if err := w.resume(ctx, id); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// resume queues the jobs a node's operation and power change need, unless
// they have one, and says so in its server log.
func (w *worker) resume(ctx context.Context, nodeID string) error {
	return w.hub.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		n, err := lockNode(ctx, tx, "", nodeID)
		if fault.KindOf(err) == fault.KindNotFound {
			return nil
		}
		if err != nil {
			return err
		}
		var entries []logEntry
		if n.node.Operation != "" {
			resumed, err := resumeTx(ctx, tx, jobFor(n.node.Operation, nodeID))
			if err != nil {
				return err
			}
			if resumed {
				entries = append(entries, warning(SourceInternal, "The %s had no job left to carry it out: taken up again", describe[n.node.Operation]))
			}
		}
		if n.node.PowerTarget != "" {
			resumed, err := resumeTx(ctx, tx, powerArgs{NodeID: nodeID})
			if err != nil {
				return err
			}
			if resumed {
				entries = append(entries, warning(SourceInternal, "The power %s had no job left to carry it out: taken up again", n.node.PowerTarget))
			}
		}
		if len(entries) == 0 {
			return nil
		}
		jobs.Logger(ctx).WarnContext(ctx, "node job lost: queued again", "node_id", nodeID)
		ids, err := w.writeLogs(ctx, tx, n.server.ID, nodeID, entries...)
		if err != nil {
			return err
		}
		return w.publish(ctx, tx, n.node.ProjectID, nodeID, ids...)
	})
}

// resumeTx queues the job args as part of tx, and reports whether it had
// to: false when its target has an unfinished job of that kind already.
func resumeTx(ctx context.Context, tx bun.Tx, args river.JobArgs) (bool, error) {
	_, err := jobs.InsertFromJobTx(ctx, tx, args, nil)
	var dup *jobs.DuplicateError
	if errors.As(err, &dup) {
		return false, nil
	}
	return err == nil, err
}
