package node

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/uptrace/bun"

	"github.com/gpcore/gpcore/internal/billing/usage"
	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/jobs"
)

// BillingChangeInterval is how often the job node_billing_changes looks for
// nodes whose change of billing period has taken effect: a node's row, and
// the notification that tells its project, are at most this late.
const BillingChangeInterval = time.Minute

// billingChangesArgs are the args of the job that records the changes of
// billing period that have taken effect (applyBillingChanges).
type billingChangesArgs struct{}

// Kind implements river.JobArgs.
func (billingChangesArgs) Kind() string { return "node_billing_changes" }

// InsertOpts keeps one such job at a time queued or running.
func (billingChangesArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: jobs.OnePerTarget()}
}

// billingChangesWorker works the node_billing_changes job.
type billingChangesWorker struct {
	river.WorkerDefaults[billingChangesArgs]
	w *worker
}

// Work implements river.Worker. A node whose change could not be recorded
// fails the job, which is retried; the others are done.
func (b *billingChangesWorker) Work(ctx context.Context, _ *river.Job[billingChangesArgs]) error {
	return b.w.applyBillingChanges(ctx)
}

// PeriodicJobs returns the node jobs to schedule (jobs.Config.PeriodicJobs);
// their workers are AddWorkers'. Each runs whenever a replica becomes River's
// leader too, so that what fell due while no replica ran is done at the next
// start:
//   - node_billing_changes every interval (BillingChangeInterval in
//     production): records the changes of billing period that took effect;
//   - node_console_sweep every ConsoleSweepInterval: deletes expired console
//     sessions;
//   - node_operations_resume every ResumeInterval: queues again the node
//     operations whose job was lost.
func PeriodicJobs(interval time.Duration) []*river.PeriodicJob {
	return []*river.PeriodicJob{river.NewPeriodicJob(
		river.PeriodicInterval(interval),
		func() (river.JobArgs, *river.InsertOpts) { return billingChangesArgs{}, nil },
		&river.PeriodicJobOpts{ID: billingChangesArgs{}.Kind(), RunOnStart: true},
	), consoleSweepJob(), resumeJob()}
}

// applyBillingChanges records on every live node whose pending change of
// billing period has taken effect by now (its term, paid_until_at, is over)
// how it is billed now, by metering (usage.CurrentTx), which reads already
// show; then its project's log says so, and its members hear of the node.
// Each node is one transaction; the errors of those that fail are returned
// together, once the others are done.
func (c *core) applyBillingChanges(ctx context.Context) error {
	now := c.now()
	var ids []string
	if err := c.db.NewSelect().Model((*nodeRow)(nil)).Column("id").
		Where("deleted_at IS NULL").Where("target_billing_period IS NOT NULL").Where("paid_until_at <= ?", now).
		OrderExpr("paid_until_at, id").
		Scan(ctx, &ids); err != nil {
		return fmt.Errorf("node: find billing changes due: %w", err)
	}
	var errs []error
	for _, id := range ids {
		if err := c.applyBillingChange(ctx, id, now); err != nil {
			errs = append(errs, fmt.Errorf("node: billing change of node %s: %w", id, err))
		}
	}
	return errors.Join(errs...)
}

// applyBillingChange records on a node how it is billed at now, when a
// change of its billing period was due by then.
func (c *core) applyBillingChange(ctx context.Context, nodeID string, now time.Time) error {
	return c.hub.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		n, err := lockNode(ctx, tx, "", nodeID)
		if fault.KindOf(err) == fault.KindNotFound {
			return nil
		}
		if err != nil {
			return err
		}
		if n.node.TargetBillingPeriod == "" || n.node.PaidUntilAt.After(now) {
			return nil // recorded meanwhile, or asked for again
		}
		st, err := usage.CurrentTx(ctx, tx, nodeID, now)
		if err != nil {
			return err
		}
		if _, err := tx.NewUpdate().Model((*nodeRow)(nil)).
			Set("billing_period = ?", st.Period).Set("target_billing_period = NULLIF(?, '')", string(st.Target)).
			Set("paid_until_at = ?", st.PaidUntil).Set("updated_at = ?", now).
			Where("id = ?", nodeID).Exec(ctx); err != nil {
			return fmt.Errorf("record billing of node %s: %w", nodeID, err)
		}
		if BillingPeriod(st.Period) == BillingPeriod(n.node.BillingPeriod) {
			return nil // the change never took effect (it was dropped): the row only catches up
		}
		message := fmt.Sprintf("the node %s is billed %s since %s, as asked", n.node.FQDN,
			strings.ToLower(string(st.Period)), n.node.PaidUntilAt.UTC().Format(time.RFC3339))
		if err := c.projects.Log(ctx, tx, n.node.ProjectID, "", message); err != nil {
			return err
		}
		return c.publish(ctx, tx, n.node.ProjectID, nodeID)
	})
}
