package billing

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/gpcore/gpcore/internal/jobs"
)

// SweepInterval is how often the sweep job runs: a billing period is closed
// at most this long after it ends, and a failed close or an unreachable
// payment provider is tried again this much later.
const SweepInterval = 10 * time.Minute

// sweepArgs are the args of the billing sweep job, which runs Sweep.
type sweepArgs struct{}

// Kind implements river.JobArgs.
func (sweepArgs) Kind() string { return "billing_sweep" }

// InsertOpts keeps one sweep at a time queued or running.
func (sweepArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: jobs.OnePerTarget()}
}

// sweepWorker works the sweep job.
type sweepWorker struct {
	river.WorkerDefaults[sweepArgs]
	billing *Service
}

// Work runs Sweep. What fails in it (a profile, a bill) is logged there and
// tried again by the next sweep, so the job ends normally; only a
// cancellation (a shutdown) ends it with an error, so it is put back.
func (w *sweepWorker) Work(ctx context.Context, _ *river.Job[sweepArgs]) error {
	if err := w.billing.Sweep(ctx); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		jobs.Logger(ctx).WarnContext(ctx, "billing sweep: some work failed; the next sweep tries it again", "err", err)
	}
	return nil
}

// retryArgs are the args of the job that charges the failed bills of a
// billing profile again once it has another default card (makeDefault
// enqueues it with the change). It is not unique: a job for a change made
// while another one runs must still run, and a retry finds nothing left to
// charge when one before it, or the sweep, charged the bills.
type retryArgs struct {
	ProfileID string `json:"billing_profile_id"`
}

// Kind implements river.JobArgs.
func (retryArgs) Kind() string { return "billing_retry_failed_bills" }

// retryWorker works the retry job.
type retryWorker struct {
	river.WorkerDefaults[retryArgs]
	billing *Service
}

// Work charges the profile's failed bills again (retryFailed). A declined
// charge is an outcome, recorded on the bill; an error (the provider or the
// database unreachable) is retried by the queue, and by the sweep after
// that.
func (w *retryWorker) Work(ctx context.Context, job *river.Job[retryArgs]) error {
	return w.billing.retryFailed(ctx, job.Args.ProfileID)
}

// AddWorkers registers the billing jobs' workers with workers: the sweep
// that closes billing periods and charges bills (Sweep), which
// PeriodicJobs schedules, and the retry of a profile's failed bills when it
// gets another default card, which the Service enqueues (UseQueue).
func AddWorkers(workers *river.Workers, s *Service) error {
	if err := river.AddWorkerSafely(workers, &sweepWorker{billing: s}); err != nil {
		return err
	}
	return river.AddWorkerSafely(workers, &retryWorker{billing: s})
}

// PeriodicJobs returns the billing jobs to schedule (jobs.Config.PeriodicJobs):
// the sweep, every interval (SweepInterval if zero) and whenever a replica
// becomes River's leader, so a period that ended while no replica ran is
// closed at the next start.
func PeriodicJobs(interval time.Duration) []*river.PeriodicJob {
	if interval <= 0 {
		interval = SweepInterval
	}
	return []*river.PeriodicJob{river.NewPeriodicJob(
		river.PeriodicInterval(interval),
		func() (river.JobArgs, *river.InsertOpts) { return sweepArgs{}, nil },
		&river.PeriodicJobOpts{ID: sweepArgs{}.Kind(), RunOnStart: true},
	)}
}
