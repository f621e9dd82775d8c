package node

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/uptrace/bun"

	"github.com/gpcore/gpcore/internal/catalog"
	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/jobs"
	"github.com/gpcore/gpcore/internal/notify"
	"github.com/gpcore/gpcore/internal/project"
	"github.com/gpcore/gpcore/internal/provision"
	"github.com/gpcore/gpcore/internal/store"
)

// WorkerConfig wires the node domain's job workers; Projects, Hub and Driver
// are required.
type WorkerConfig struct {
	// Projects names who hears of a change (project.Service.Audience).
	Projects *project.Service
	Hub      *notify.Hub
	// Driver drives the hardware.
	Driver provision.Driver
	// PollInterval is how long a job waits between two looks at hardware
	// that is busy (DefaultPollInterval if 0).
	PollInterval time.Duration
	// Now is the clock (time.Now if nil).
	Now func() time.Time
}

// AddWorkers registers a worker for every node job kind in workers, for the
// queue (jobs.New) that works them; PeriodicJobs are the ones that queue
// schedules (the console sweep, the billing changes). The workers follow the
// rules of package jobs: they decide from the database, record each step as
// it happens, and finish with one
// transaction that writes the outcome and completes the job.
func AddWorkers(workers *river.Workers, db *store.DB, cfg WorkerConfig) error {
	if cfg.Projects == nil || cfg.Hub == nil || cfg.Driver == nil {
		return errors.New("node: WorkerConfig needs Projects, Hub and Driver")
	}
	poll := cfg.PollInterval
	if poll == 0 {
		poll = DefaultPollInterval
	}
	if poll < 0 {
		return fmt.Errorf("node: poll interval %s is negative", poll)
	}
	w := &worker{core: newCore(db, cfg.Hub, cfg.Projects, cfg.Now), driver: cfg.Driver, poll: poll}
	river.AddWorker(workers, &provisionWorker[installArgs]{w: w, op: opDeploy})
	river.AddWorker(workers, &provisionWorker[reinstallArgs]{w: w, op: opRebuild})
	river.AddWorker(workers, &provisionWorker[destroyArgs]{w: w, op: opDestroy})
	river.AddWorker(workers, &provisionWorker[rescueArgs]{w: w, op: opRescue})
	river.AddWorker(workers, &provisionWorker[unrescueArgs]{w: w, op: opUnrescue})
	river.AddWorker(workers, &powerWorker{w: w})
	river.AddWorker(workers, &consoleSweepWorker{c: &w.core})
	river.AddWorker(workers, &billingChangesWorker{w: w})
	river.AddWorker(workers, &resumeWorker{w: w})
	return nil
}

// worker carries out what the nodes record: provisioning operations and
// power changes.
type worker struct {
	core
	driver provision.Driver
	poll   time.Duration
}

// completeFunc completes the running job as part of tx.
type completeFunc func(ctx context.Context, tx bun.Tx) error

// completer returns the completeFunc of job.
func completer[T river.JobArgs](job *river.Job[T]) completeFunc {
	return func(ctx context.Context, tx bun.Tx) error { return jobs.CompleteTx(ctx, tx, job) }
}

// lastAttempt reports whether a failure of this attempt ends the job.
func lastAttempt(job *rivertype.JobRow) bool { return job.Attempt >= job.MaxAttempts }

// provisionWorker carries out one provisioning operation, op.
type provisionWorker[T nodeJob] struct {
	river.WorkerDefaults[T]
	w  *worker
	op operation
}

// Work implements river.Worker.
func (p *provisionWorker[T]) Work(ctx context.Context, job *river.Job[T]) error {
	return p.w.provision(ctx, p.op, job.Args.nodeID(), lastAttempt(job.JobRow), completer(job))
}

// operationID is the id of the driver request for op on a node
// (provision.Server.OperationID), first asked for at askedAt (the node's
// operation_asked_at): every attempt of the job shares it, as does a job
// that takes a lost one's operation up (resumeWorker), and no other request
// has it.
func operationID(op operation, nodeID string, askedAt time.Time) string {
	return fmt.Sprintf("%s-%s-%d", op, nodeID, askedAt.UnixMicro())
}

// powerWorker carries out power changes.
type powerWorker struct {
	river.WorkerDefaults[powerArgs]
	w *worker
}

// Work implements river.Worker.
func (p *powerWorker) Work(ctx context.Context, job *river.Job[powerArgs]) error {
	return p.w.power(ctx, job.Args.NodeID, lastAttempt(job.JobRow), completer(job))
}

// requests are the driver's requests that start each operation.
var requests = map[operation]provision.Event{
	opDeploy:   provision.Deploy,
	opRebuild:  provision.Rebuild,
	opDestroy:  provision.Delete,
	opRescue:   provision.Rescue,
	opUnrescue: provision.Unrescue,
}

// provisionServer is what the driver is told about a node's server: what is
// recorded of it, and the request under way once the driver accepted it.
func (n *lockedNode) provisionServer() provision.Server {
	s := provision.Server{ID: n.server.ID, ProvisionState: n.server.ProvisionState, PowerState: n.server.PowerState,
		BMCAddress: n.server.PlatformManagementIP}
	if n.server.IronicID != nil {
		s.IronicID = *n.server.IronicID
	}
	if n.node.OperationRequestedAt != nil {
		s.Requested, s.RequestedAt = requests[n.node.Operation], *n.node.OperationRequestedAt
	}
	return s
}

// read reads a live node and its server without locking them, for the
// driver calls made outside transactions; nil when the node is gone.
func (w *worker) read(ctx context.Context, nodeID string) (*lockedNode, error) {
	n, err := findNode(ctx, w.db.DB, "", nodeID, false)
	if fault.KindOf(err) == fault.KindNotFound {
		return nil, nil
	}
	return n, err
}

// done completes a job that has nothing (left) to do.
func (w *worker) done(ctx context.Context, complete completeFunc) error {
	return w.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error { return complete(ctx, tx) })
}

// provision makes the driver carry out op on a node, one step per attempt:
// the request (with its operationID) if it has not been made, then a look
// at the hardware whose progress is recorded; until the hardware settles,
// the job snoozes.
func (w *worker) provision(ctx context.Context, op operation, nodeID string, last bool, complete completeFunc) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	giveUp := func(reason string) error { return w.giveUp(ctx, op, nodeID, reason, complete) }
	unreachable := fmt.Sprintf("The provisioning backend could not be reached; the %s was given up", describe[op])
	n, err := w.read(ctx, nodeID)
	if err != nil {
		return w.retry(ctx, nodeID, last, err, unreachable, giveUp)
	}
	if n == nil || n.node.Operation != op {
		return w.done(ctx, complete) // finished, or the node is gone
	}
	if n.node.OperationRequestedAt == nil {
		ask := true
		var opID string
		if n.node.OperationAskedAt != nil {
			// An earlier attempt asked, and a crash (or a cut-off
			// attempt) may have come between the driver's acceptance and
			// its record; a Rebuild or a Rescue asked for twice starts
			// over, so the driver says whether it has the request already.
			opID = operationID(op, nodeID, *n.node.OperationAskedAt)
			hw, err := w.driver.GetState(ctx, n.provisionServer())
			if err != nil {
				return w.retry(ctx, nodeID, last, err, unreachable, giveUp)
			}
			ask = hw.OperationID != opID
		} else {
			at, err := w.asking(ctx, op, nodeID)
			if err != nil {
				return err
			}
			opID = operationID(op, nodeID, at)
		}
		if ask {
			if err := w.ask(ctx, op, n, opID); err != nil {
				if fault.KindOf(err) != fault.KindInternal {
					return giveUp(fmt.Sprintf("The provisioning backend refused the %s: %v", describe[op], err))
				}
				return w.retry(ctx, nodeID, last, err, unreachable, giveUp)
			}
		}
		if err := w.requested(ctx, op, nodeID); err != nil {
			return err
		}
	}
	hw, err := w.driver.GetState(ctx, n.provisionServer())
	if err != nil {
		return w.retry(ctx, nodeID, last, err, unreachable, giveUp)
	}
	settled := provision.Settled(hw.Provision)
	err = w.hub.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		n, err := lockNode(ctx, tx, "", nodeID)
		if fault.KindOf(err) == fault.KindNotFound || err == nil && n.node.Operation != op {
			settled = true
			return complete(ctx, tx)
		}
		if err != nil {
			return err
		}
		entries, changed := progress(n, hw)
		now := w.now()
		if changed {
			if err := setServerState(ctx, tx, n.server.ID, hw.Provision, hw.Power, hw.LastError, now); err != nil {
				return err
			}
		}
		if settled {
			more, err := w.finish(ctx, tx, op, n, hw, now)
			if err != nil {
				return err
			}
			entries = append(entries, more...)
		}
		if changed || settled {
			ids, err := w.writeLogs(ctx, tx, n.server.ID, nodeID, entries...)
			if err != nil {
				return err
			}
			if err := w.publish(ctx, tx, n.node.ProjectID, nodeID, ids...); err != nil {
				return err
			}
		}
		if settled {
			return complete(ctx, tx)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if !settled {
		return river.JobSnooze(w.poll)
	}
	return nil
}

// ask makes the driver's request for op on the node, with operation id
// opID and what the request carries (the image, name, keys, user data and
// one-time password of an installation; the rescue system's password).
func (w *worker) ask(ctx context.Context, op operation, n *lockedNode, opID string) error {
	srv := n.provisionServer()
	srv.OperationID = opID
	switch op {
	case opDeploy, opRebuild:
		d, err := w.deployment(ctx, n)
		if err != nil {
			return err
		}
		if op == opDeploy {
			return w.driver.Deploy(ctx, srv, d)
		}
		return w.driver.Rebuild(ctx, srv, d)
	case opDestroy:
		return w.driver.Destroy(ctx, srv)
	case opRescue:
		password, err := w.secret(ctx, n.node.ID, secretRescuePassword)
		if err != nil {
			return err
		}
		return w.driver.Rescue(ctx, srv, password)
	case opUnrescue:
		return w.driver.Unrescue(ctx, srv)
	}
	return fmt.Errorf("node: unknown operation %q", op)
}

// asking records that the job is about to make the driver's request for op
// on a node (operation_asked_at), so that if it never records the answer a
// resumed job looks before asking again; it returns the time recorded.
func (w *worker) asking(ctx context.Context, op operation, nodeID string) (time.Time, error) {
	at := w.now()
	if _, err := w.db.NewUpdate().Model((*nodeRow)(nil)).
		Set("operation_asked_at = ?", at).
		Where("id = ?", nodeID).Where("operation = ?", op).Where("operation_requested_at IS NULL").
		Exec(ctx); err != nil {
		return time.Time{}, fmt.Errorf("record the asking for %s on node %s: %w", op, nodeID, err)
	}
	return at, nil
}

// deployment is what an installation of the node writes.
func (w *worker) deployment(ctx context.Context, n *lockedNode) (provision.Deployment, error) {
	var keys []installedKey
	if err := json.Unmarshal([]byte(n.node.SSHKeys), &keys); err != nil {
		return provision.Deployment{}, fmt.Errorf("keys of node %s: %w", n.node.ID, err)
	}
	d := provision.Deployment{
		Image:    provision.Image{ID: n.node.ImageID},
		Hostname: n.node.FQDN,
		UserData: []byte(n.node.UserData),
	}
	for _, k := range keys {
		d.SSHKeys = append(d.SSHKeys, k.PublicKey)
	}
	if n.node.HasPassword {
		var err error
		if d.RootPassword, err = w.secret(ctx, n.node.ID, secretRootPassword); err != nil {
			return provision.Deployment{}, err
		}
	}
	return d, nil
}

// secret reads a one-time secret of a node; a missing one is a refusal
// (fault.Precondition), not something a retry fixes.
func (w *worker) secret(ctx context.Context, nodeID string, kind secretKind) (string, error) {
	var secret string
	err := w.db.NewSelect().Model((*secretRow)(nil)).Column("secret").
		Where("node_id = ?", nodeID).Where("kind = ?", kind).
		Scan(ctx, &secret)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fault.Precondition("the %s of the node is gone", kind)
	}
	if err != nil {
		return "", fmt.Errorf("read %s of node %s: %w", kind, nodeID, err)
	}
	return secret, nil
}

// consumes is the secret the request of each operation hands over.
var consumes = map[operation]secretKind{
	opDeploy:  secretRootPassword,
	opRebuild: secretRootPassword,
	opRescue:  secretRescuePassword,
}

// requested records that the driver accepted the request for op, and
// deletes the secret it carried: the node has it now.
func (w *worker) requested(ctx context.Context, op operation, nodeID string) error {
	return w.hub.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		n, err := lockNode(ctx, tx, "", nodeID)
		if err != nil || n.node.Operation != op || n.node.OperationRequestedAt != nil {
			return err
		}
		if _, err := tx.NewUpdate().Model((*nodeRow)(nil)).
			Set("operation_requested_at = ?", w.now()).Where("id = ?", nodeID).Exec(ctx); err != nil {
			return fmt.Errorf("record request of %s on node %s: %w", op, nodeID, err)
		}
		if kind, ok := consumes[op]; ok {
			if err := deleteSecret(ctx, tx, nodeID, kind); err != nil {
				return err
			}
		}
		ids, err := w.writeLogs(ctx, tx, n.server.ID, nodeID,
			info(SourceIronic, "The provisioning backend accepted the %s", describe[op]))
		if err != nil {
			return err
		}
		return w.publish(ctx, tx, n.node.ProjectID, nodeID, ids...)
	})
}

// describe names the operations in logs.
var describe = map[operation]string{
	opDeploy:   "installation",
	opRebuild:  "reinstallation",
	opDestroy:  "teardown and cleaning",
	opRescue:   "rescue boot",
	opUnrescue: "return from rescue",
}

// succeeded is the state each operation ends in when it succeeds.
var succeeded = map[operation]catalog.ProvisionState{
	opDeploy:   catalog.StateActive,
	opRebuild:  catalog.StateActive,
	opDestroy:  catalog.StateAvailable,
	opRescue:   catalog.StateRescue,
	opUnrescue: catalog.StateActive,
}

// stepMessages says what each progress event means, for the server log.
var stepMessages = map[provision.Event]string{
	provision.DeployWait:   "Waiting for the deploy agent to boot",
	provision.DeployResume: "The deploy agent is up: writing the image",
	provision.DeployDone:   "Image written: booting the installed system",
	provision.Activate:     "The installed system is up",
	provision.Redeploy:     "Old instance removed: installing the new one",
	provision.DeleteDone:   "Instance torn down",
	provision.Clean:        "Cleaning the disks",
	provision.CleanWait:    "Waiting for the cleaning agent to boot",
	provision.CleanResume:  "The cleaning agent is up: erasing the disks",
	provision.CleanDone:    "Disks cleaned",
	provision.RescueWait:   "Waiting for the rescue system to boot",
	provision.RescueResume: "The rescue system is booting",
	provision.RescueDone:   "The rescue system is up",
	provision.UnrescueDone: "The installed system is up again",
}

// progress returns the server log entries of what the hardware did since
// the state recorded for the node (one per step, by the transition table),
// and whether anything changed.
func progress(n *lockedNode, hw provision.State) ([]logEntry, bool) {
	from := n.server.ProvisionState
	changed := hw.Provision != from || hw.Power != n.server.PowerState || hw.LastError != n.server.LastError
	if hw.Provision == from {
		return nil, changed
	}
	steps, err := provision.Walk(from, hw.Provision)
	if err != nil {
		return []logEntry{warning(SourceIronic, "The hardware reports %s, which %s does not lead to", hw.Provision, from)}, true
	}
	entries := make([]logEntry, 0, len(steps))
	state := from
	for _, e := range steps {
		next, err := provision.Transition(state, e)
		if err != nil {
			panic(fmt.Sprintf("node: a walk took an illegal step: %v", err)) // Walk follows the table
		}
		if e == provision.Fail {
			entries = append(entries, failure(SourceIronic, "Failed in %s: %s", state, hw.LastError))
		} else {
			entries = append(entries, info(SourceIronic, "%s (%s → %s)", stepMessages[e], state, next))
		}
		state = next
	}
	return entries, true
}

// finish records the end of op on a node whose hardware settled in hw:
// the node is at rest again, and a destroyed node is gone, its addresses
// and server released, unless its teardown failed (ERROR): then the
// instance may still be on the server, so the node keeps it and its
// addresses, and takes DestroyNode again.
func (w *worker) finish(ctx context.Context, tx bun.Tx, op operation, n *lockedNode, hw provision.State, now time.Time) ([]logEntry, error) {
	ok := hw.Provision == succeeded[op]
	var entry logEntry
	if ok {
		entry = info(SourceInternal, "The %s is done", describe[op])
	} else {
		entry = failure(SourceInternal, "The %s failed: the server is %s", describe[op], hw.Provision)
	}
	q := tx.NewUpdate().Model((*nodeRow)(nil)).
		Set("operation = NULL").Set("operation_asked_at = NULL").Set("operation_requested_at = NULL").Set("updated_at = ?", now).
		Where("id = ?", n.node.ID)
	if op == opDestroy && hw.Provision == catalog.StateError {
		entry = failure(SourceInternal, "The teardown of node %s failed (%s): the node keeps its server and addresses, and is no longer billed; destroy it again to retry",
			n.node.FQDN, hw.Provision)
	} else if op == opDestroy {
		q = q.Set("deleted_at = ?", now).Set("power_target = NULL")
		if err := release(ctx, tx, n.server.ID, ok, now); err != nil {
			return nil, err
		}
		if _, err := tx.NewDelete().Model((*secretRow)(nil)).Where("node_id = ?", n.node.ID).Exec(ctx); err != nil {
			return nil, fmt.Errorf("delete secrets of node %s: %w", n.node.ID, err)
		}
		if ok {
			entry = info(SourceInternal, "Node %s deleted: the server is clean and back in the pool", n.node.FQDN)
		} else {
			entry = failure(SourceInternal, "Node %s deleted, but cleaning failed (%s): the server is out of the pool until an operator sees to it",
				n.node.FQDN, hw.Provision)
		}
	}
	if _, err := q.Exec(ctx); err != nil {
		return nil, fmt.Errorf("record end of %s on node %s: %w", op, n.node.ID, err)
	}
	return []logEntry{entry}, nil
}

// release gives a destroyed node's addresses back to the pool and frees its
// server: back in the pool when it was cleaned (clean), out of it otherwise,
// for an operator to see to.
func release(ctx context.Context, tx bun.Tx, serverID string, clean bool, now time.Time) error {
	if _, err := tx.NewUpdate().Model((*ipAddressRow)(nil)).
		Set("interface_id = NULL").Set("allocated_at = NULL").
		Where("interface_id IN (SELECT id FROM server_interfaces WHERE server_id = ?)", serverID).
		Exec(ctx); err != nil {
		return fmt.Errorf("release addresses of server %s: %w", serverID, err)
	}
	q := tx.NewUpdate().Model((*serverRow)(nil)).Set("in_use = ?", false).Set("updated_at = ?", now).Where("id = ?", serverID)
	if !clean {
		q = q.Set("in_pool = ?", false)
	}
	if _, err := q.Exec(ctx); err != nil {
		return fmt.Errorf("release server %s: %w", serverID, err)
	}
	return nil
}

// giveUp ends op on a node for good when the driver refused it or could
// not be reached for as long as the job retried: the server goes to the
// state the operation fails in from where it was recorded
// (provision.Failure: DEPLOY_FAIL, RESCUE_FAIL, ERROR, CLEAN_FAIL, ...) with
// reason as its last error, and finish records the failed operation as the
// hardware's own failure would be, so the node takes the requests its
// failure state allows (reinstall, destroy, rescue again, ...).
func (w *worker) giveUp(ctx context.Context, op operation, nodeID, reason string, complete completeFunc) error {
	return w.hub.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		n, err := lockNode(ctx, tx, "", nodeID)
		if fault.KindOf(err) == fault.KindNotFound || err == nil && n.node.Operation != op {
			return complete(ctx, tx)
		}
		if err != nil {
			return err
		}
		now := w.now()
		failed := provision.State{Provision: provision.Failure(n.server.ProvisionState), Power: n.server.PowerState, LastError: reason}
		if err := setServerState(ctx, tx, n.server.ID, failed.Provision, failed.Power, failed.LastError, now); err != nil {
			return err
		}
		entries := []logEntry{failure(SourceInternal, "%s (%s → %s)", reason, n.server.ProvisionState, failed.Provision)}
		more, err := w.finish(ctx, tx, op, n, failed, now)
		if err != nil {
			return err
		}
		ids, err := w.writeLogs(ctx, tx, n.server.ID, nodeID, append(entries, more...)...)
		if err != nil {
			return err
		}
		if err := w.publish(ctx, tx, n.node.ProjectID, nodeID, ids...); err != nil {
			return err
		}
		return complete(ctx, tx)
	})
}

// retry returns err for the queue to retry the job, unless this was its
// last attempt: then the job gives up with giveUp(reason).
func (w *worker) retry(ctx context.Context, nodeID string, last bool, err error, reason string, giveUp func(reason string) error) error {
	if !last || ctx.Err() != nil {
		return err
	}
	jobs.Logger(ctx).ErrorContext(ctx, "node job: giving up", "node_id", nodeID, "err", err)
	return giveUp(reason)
}

// powerGiveUp ends a power change for good when the driver refused it or
// could not be reached: the power target is dropped and the node at rest
// again, in the state it was in (power changes do not move it).
func (w *worker) powerGiveUp(ctx context.Context, nodeID, reason string, complete completeFunc) error {
	return w.hub.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		n, err := lockNode(ctx, tx, "", nodeID)
		if fault.KindOf(err) == fault.KindNotFound || err == nil && n.node.PowerTarget == "" {
			return complete(ctx, tx)
		}
		if err != nil {
			return err
		}
		if _, err := tx.NewUpdate().Model((*nodeRow)(nil)).
			Set("power_target = NULL").Set("updated_at = ?", w.now()).
			Where("id = ?", nodeID).Exec(ctx); err != nil {
			return fmt.Errorf("end power change of node %s: %w", nodeID, err)
		}
		ids, err := w.writeLogs(ctx, tx, n.server.ID, nodeID, failure(SourceInternal, "%s", reason))
		if err != nil {
			return err
		}
		if err := w.publish(ctx, tx, n.node.ProjectID, nodeID, ids...); err != nil {
			return err
		}
		return complete(ctx, tx)
	})
}

// power makes the driver switch a node's power to its power_target, and
// records the power state the hardware then reports.
func (w *worker) power(ctx context.Context, nodeID string, last bool, complete completeFunc) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	giveUp := func(reason string) error { return w.powerGiveUp(ctx, nodeID, reason, complete) }
	const unreachable = "The provisioning backend could not be reached; the power change was given up"
	n, err := w.read(ctx, nodeID)
	if err != nil {
		return w.retry(ctx, nodeID, last, err, unreachable, giveUp)
	}
	if n == nil || n.node.PowerTarget == "" {
		return w.done(ctx, complete)
	}
	target := catalog.PowerState(n.node.PowerTarget)
	if err := w.driver.SetPower(ctx, n.provisionServer(), target); err != nil {
		if fault.KindOf(err) != fault.KindInternal {
			return giveUp(fmt.Sprintf("Power %s refused: %v", target, err))
		}
		return w.retry(ctx, nodeID, last, err, unreachable, giveUp)
	}
	hw, err := w.driver.GetState(ctx, n.provisionServer())
	if err != nil {
		return w.retry(ctx, nodeID, last, err, unreachable, giveUp)
	}
	return w.hub.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		n, err := lockNode(ctx, tx, "", nodeID)
		if fault.KindOf(err) == fault.KindNotFound || err == nil && n.node.PowerTarget != string(target) {
			return complete(ctx, tx)
		}
		if err != nil {
			return err
		}
		now := w.now()
		if err := setServerState(ctx, tx, n.server.ID, n.server.ProvisionState, hw.Power, n.server.LastError, now); err != nil {
			return err
		}
		if _, err := tx.NewUpdate().Model((*nodeRow)(nil)).
			Set("power_target = NULL").Set("updated_at = ?", now).
			Where("id = ?", nodeID).Exec(ctx); err != nil {
			return fmt.Errorf("record power of node %s: %w", nodeID, err)
		}
		ids, err := w.writeLogs(ctx, tx, n.server.ID, nodeID, info(SourceIronic, "Power %s done: the server is %s", target, hw.Power))
		if err != nil {
			return err
		}
		if err := w.publish(ctx, tx, n.node.ProjectID, nodeID, ids...); err != nil {
			return err
		}
		return complete(ctx, tx)
	})
}
