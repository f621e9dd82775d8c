// Package jobs is gpcore's durable job queue: River
// (github.com/riverqueue/river) storing its jobs in gpcore's own database, so
// that a domain transaction can write its rows and the jobs that follow from
// them together. A job inserted in a transaction that rolls back never
// exists; one inserted in a transaction that commits is worked by some
// replica, even if the process that inserted it dies right after the commit.
//
// # Set-up
//
// [Migrate] creates River's tables (river_job, river_leader, ...) after the
// store's own migrations. The app then builds one [Queue] with the store and
// the bundle of workers ([river.Workers]) this process runs, hands the Queue
// to the domain services that enqueue jobs, and calls [Queue.Start] once
// everything is built and [Queue.Stop] on shutdown.
//
// On SQLite River uses its riversqlite driver, on PostgreSQL its
// riverdatabasesql driver; both work on the *sql.DB under bun, so a job is
// inserted with the *sql.Tx of the caller's bun.Tx ([Queue.InsertTx]). On
// PostgreSQL the store's pgx pool also serves River's LISTEN connection, so
// replicas learn of new jobs at once; SQLite polls a notification table.
//
// # Conventions for job kinds
//
// Args: a job's args are a JSON struct with a Kind (snake_case, e.g.
// "node_install") that never changes once jobs of it have been stored. Never
// put secrets in args (they are stored as plain JSON and visible to
// operators); store them encrypted with the domain object and look them up.
//
// One job per target operation: a kind that acts on one object (a node, a
// server) tags the fields naming the object with `river:"unique"` and returns
// [OnePerTarget] from its InsertOpts method. Then at most one job of that kind
// per object is unfinished at a time, and InsertTx refuses a second with a
// [*DuplicateError] (a fault.ErrFailedPrecondition).
//
//	type InstallArgs struct {
//		NodeID string `json:"node_id" river:"unique"`
//	}
//
//	func (InstallArgs) Kind() string { return "node_install" }
//
//	func (InstallArgs) InsertOpts() river.InsertOpts {
//		return river.InsertOpts{UniqueOpts: jobs.OnePerTarget()}
//	}
//
// Retries: a Work call that returns an error is retried with River's
// exponential backoff (attempt⁴ seconds: 1 s, 16 s, 81 s, 4 min, ...) until
// Config.MaxAttempts (default 10, about four hours in all), then the job is
// discarded and an error is logged. river.JobSnooze(d) re-runs a job after d
// without using up an attempt; river.JobCancel(err) ends it for good.
//
// Logs: every attempt is logged through the Queue's slog.Logger with job_id,
// job_kind and attempt: its start at debug level, its end at info (done, or
// interrupted by a shutdown), debug (snoozed), warn (failed and will be
// retried, or cancelled) or error (failed for good). Arguments are never
// logged. A worker logs through [Logger](ctx), which carries the same
// attributes. River's own lines come at warn and error only. The "job queue
// started" line names the process's river_client_id: River appends it to a
// job's attempted_by (in river_job) for every attempt the process works, so
// an operator can tell which replica worked, or holds, a job.
//
// # Workers must be idempotent
//
// River runs a job at least once, not exactly once. A job runs again when
// the process died in it (the leader's rescuer retries a job that has been
// running longer than Config.RescueStuckJobsAfter, once River's leadership
// has passed to a live process), when Stop's deadline cut it off (it goes
// back to the queue at once, without using up an attempt), or when its
// success could not be recorded. A worker must therefore be safe to re-run
// from any point, and never do a thing twice:
//
//  1. Decide from the database, not from the args: load the target in the
//     attempt, and if what the job asks for is already done, return nil.
//  2. Record progress in the database as it happens, in the same transaction
//     as the state it belongs to (for instance "deploy requested" with the
//     DEPLOYING state), so a re-run knows which steps are behind it.
//  3. Make outside effects safe to repeat: ask the outside world before
//     acting (the driver's GetState), or use requests it treats as
//     idempotent (provision.Driver asks this of every driver).
//  4. Finish with one transaction that writes the outcome and completes the
//     job ([CompleteTx]): the outcome and "job done" commit together, so a
//     crash before the commit re-runs an attempt that finds nothing done,
//     and a crash after it never re-runs the job.
//  5. Keep each attempt short. Long hardware operations are a request and
//     then polls: while the hardware is busy, record what was seen and
//     return river.JobSnooze(interval). The job keeps its uniqueness slot
//     while it snoozes, and a crash costs at most one short attempt.
//  6. Return an error only for what a retry can fix (database or driver
//     unreachable). A refusal or failure that is the operation's outcome
//     (the deploy failed) is recorded on the target and the job ends
//     normally.
//  7. Honour ctx: it ends at Config.JobTimeout (a failed attempt) and when
//     Stop gives up waiting (the job goes back to the queue). Check it
//     before starting anything: a job can be handed out again during a
//     stop, with its context already cancelled.
package jobs
