package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/gpcore/gpcore/internal/billing"
	"github.com/gpcore/gpcore/internal/catalog"
	"github.com/gpcore/gpcore/internal/jobs"
	"github.com/gpcore/gpcore/internal/keyring"
	"github.com/gpcore/gpcore/internal/node"
	"github.com/gpcore/gpcore/internal/project"
	"github.com/gpcore/gpcore/internal/provision"
	"github.com/gpcore/gpcore/internal/provision/sim"
)

// DefaultSimStepDelay is how long the simulated hardware of the embedded
// default stays in each state an operation passes through: long enough that
// a user watching a node sees DEPLOYING, DEPLOY_WAIT, DEPLOY_DONE and ACTIVE
// go by (an install takes four steps), short enough not to bore them.
const DefaultSimStepDelay = 2 * time.Second

// buildNodes creates the node domain and what it runs on: the provisioning
// driver (the simulated hardware, unless Config.Driver), the job queue with
// the node workers (and billing's) and their periodic jobs (billing's sweep,
// the console sweep, the nodes' billing changes), which billing then
// enqueues its jobs in, and the node service, on the notification hub build
// made, which has tokens sign its console tokens. The queue starts with
// Serve (startBackground).
func (a *App) buildNodes(cat *catalog.Catalog, projects *project.Service, keys *keyring.Service,
	bill *billing.Service, tokens node.ConsoleTokens,
) (*node.Service, error) {
	driver := a.cfg.Driver
	if driver == nil {
		driver = sim.New(sim.Config{Durations: simDurations(a.cfg.SimStepDelay)})
	}
	workers := river.NewWorkers()
	if err := node.AddWorkers(workers, a.db, node.WorkerConfig{
		Projects:     projects,
		Hub:          a.hub,
		Driver:       driver,
		PollInterval: simPollInterval(a.cfg.SimStepDelay),
		Now:          a.cfg.Now,
	}); err != nil {
		return nil, err
	}
	if err := billing.AddWorkers(workers, bill); err != nil {
		return nil, err
	}
	queue, err := jobs.New(a.db, jobs.Config{
		Workers: workers, Logger: a.log, PeriodicJobs: append(billing.PeriodicJobs(a.cfg.BillingSweepInterval), node.PeriodicJobs(node.BillingChangeInterval)...),
		JobTimeout: a.cfg.JobTimeout, RescueStuckJobsAfter: a.cfg.JobRescueAfter,
	})
	if err != nil {
		return nil, err
	}
	bill.UseQueue(queue)
	nodes, err := node.New(a.db, node.Config{
		Catalog: cat, Projects: projects, Keys: keys, Hub: a.hub, Queue: queue, Driver: driver, ConsoleTokens: tokens, Now: a.cfg.Now,
	})
	if err != nil {
		return nil, err
	}
	a.queue = queue
	return nodes, nil
}

// simDurations gives every state an operation passes through (those that
// are not settled) the same duration, step.
func simDurations(step time.Duration) map[catalog.ProvisionState]time.Duration {
	durations := map[catalog.ProvisionState]time.Duration{}
	for _, s := range catalog.ProvisionStates() {
		if !provision.Settled(s) {
			durations[s] = step
		}
	}
	return durations
}

// simPollInterval is how often jobs look at the simulated hardware: twice
// a step, so that every state is seen, and at most node.DefaultPollInterval.
func simPollInterval(step time.Duration) time.Duration {
	return max(min(step/2, node.DefaultPollInterval), 10*time.Millisecond)
}

// startBackground starts the notification hub and then the job queue, so
// that the first jobs' notifications reach subscribers.
func (a *App) startBackground(ctx context.Context) error {
	if err := a.hub.Start(ctx); err != nil {
		return fmt.Errorf("start notification hub: %w", err)
	}
	if err := a.queue.Start(ctx); err != nil {
		return errors.Join(err, a.hub.Stop(ctx))
	}
	return nil
}

// stopBackground stops the hub and the queue, when Serve ends without a
// shutdown.
func (a *App) stopBackground(ctx context.Context) {
	a.stopHub(ctx)
	a.stopQueue(ctx)
}

// stopHub stops the notification hub, ending the notification streams.
func (a *App) stopHub(ctx context.Context) {
	if err := a.hub.Stop(ctx); err != nil {
		a.log.Warn("notification hub did not stop cleanly", "err", err)
	}
}

// stopQueue stops the job queue; jobs still running at ctx's deadline go
// back to the queue for the next start (jobs.Queue.Stop logs them).
func (a *App) stopQueue(ctx context.Context) {
	if err := a.queue.Stop(ctx); err != nil {
		a.log.Warn("job queue did not stop cleanly", "err", err)
	}
}
