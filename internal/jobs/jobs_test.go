package jobs_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/uptrace/bun"

	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/jobs"
	"github.com/gpcore/gpcore/internal/store"
	"github.com/gpcore/gpcore/internal/store/storetest"
	"github.com/gpcore/gpcore/internal/testserver"
)

// waitTimeout bounds every wait for a job; it fails a stuck test, it never
// paces one.
const waitTimeout = 30 * time.Second

// testArgs is a job on one target, unique per target while unfinished.
type testArgs struct {
	Target string `json:"target" river:"unique"`
	Note   string `json:"note"`
}

func (testArgs) Kind() string { return "test_job" }

func (testArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: jobs.OnePerTarget()}
}

// otherArgs is a second unique kind on the same targets.
type otherArgs struct {
	Target string `json:"target" river:"unique"`
}

func (otherArgs) Kind() string { return "test_other" }

func (otherArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: jobs.OnePerTarget()}
}

// funcWorker works testArgs jobs with a function set by each test.
type funcWorker[T river.JobArgs] struct {
	river.WorkerDefaults[T]
	work func(ctx context.Context, job *river.Job[T]) error
}

func (w *funcWorker[T]) Work(ctx context.Context, job *river.Job[T]) error {
	return w.work(ctx, job)
}

// workersFor returns a bundle with work for testArgs and a no-op worker for
// otherArgs.
func workersFor(work func(ctx context.Context, job *river.Job[testArgs]) error) *river.Workers {
	workers := river.NewWorkers()
	river.AddWorker(workers, &funcWorker[testArgs]{work: work})
	river.AddWorker(workers, &funcWorker[otherArgs]{work: func(context.Context, *river.Job[otherArgs]) error { return nil }})
	return workers
}

// retryNow schedules a failed job's next attempt at once, so retry tests do
// not wait out River's backoff.
type retryNow struct{}

func (retryNow) NextRetry(*rivertype.JobRow) time.Time { return time.Now() }

// newDB returns a fresh database with the store's and River's tables.
func newDB(t *testing.T) *store.DB {
	t.Helper()
	db := storetest.New(t)
	if err := jobs.Migrate(t.Context(), db); err != nil {
		t.Fatalf("jobs.Migrate: %v", err)
	}
	return db
}

// testLogger logs to the test's output.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// newQueue builds a queue (not started) and makes sure it is stopped when
// the test ends.
func newQueue(t *testing.T, db *store.DB, cfg jobs.Config) *jobs.Queue {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	q, err := jobs.New(db, cfg)
	if err != nil {
		t.Fatalf("jobs.New: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		if err := q.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return q
}

func startQueue(t *testing.T, db *store.DB, cfg jobs.Config) *jobs.Queue {
	t.Helper()
	q := newQueue(t, db, cfg)
	if err := q.Start(t.Context()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	return q
}

// insert inserts args in a transaction of its own and commits it.
func insert(t *testing.T, db *store.DB, q *jobs.Queue, args river.JobArgs) *rivertype.JobRow {
	t.Helper()
	var job *rivertype.JobRow
	err := db.InTx(t.Context(), func(ctx context.Context, tx bun.Tx) error {
		var err error
		job, err = q.InsertTx(ctx, tx, args, nil)
		return err
	})
	if err != nil {
		t.Fatalf("insert %s: %v", args.Kind(), err)
	}
	return job
}

// receive waits for a value on ch.
func receive[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitTimeout):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// jobState reads a job's state and attempt from River's table.
func jobState(t *testing.T, db *store.DB, id int64) (state rivertype.JobState, attempt int) {
	t.Helper()
	if err := db.QueryRowContext(t.Context(),
		"SELECT state, attempt FROM river_job WHERE id = ?", id).Scan(&state, &attempt); err != nil {
		t.Fatalf("job %d: %v", id, err)
	}
	return state, attempt
}

// stop stops q gracefully and fails the test if that did not work.
func stop(t *testing.T, q *jobs.Queue) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	if err := q.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
}

// TestMigrateReplicasStartingTogether migrates one database from several
// handles at once on PostgreSQL (in turn on SQLite, whose file belongs to one
// process), then again: every River migration is applied exactly once.
func TestMigrateReplicasStartingTogether(t *testing.T) {
	t.Parallel()
	cfg := storetest.NewConfig(t)
	const replicas = 4
	dbs := make([]*store.DB, replicas)
	for i := range dbs {
		dbs[i] = storetest.Open(t, cfg)
	}
	if err := dbs[0].Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	errs := make([]error, replicas)
	if dbs[0].Dialect == store.Postgres {
		var wg sync.WaitGroup
		for i, db := range dbs {
			wg.Go(func() { errs[i] = jobs.Migrate(t.Context(), db) })
		}
		wg.Wait()
	} else {
		for i, db := range dbs {
			errs[i] = jobs.Migrate(t.Context(), db)
		}
	}
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d: Migrate: %v", i, err)
		}
	}
	if err := jobs.Migrate(t.Context(), dbs[0]); err != nil {
		t.Fatalf("Migrate again: %v", err)
	}
	var rows, versions int
	if err := dbs[0].QueryRowContext(t.Context(),
		"SELECT count(*), count(DISTINCT version) FROM river_migration").Scan(&rows, &versions); err != nil {
		t.Fatal(err)
	}
	if rows == 0 || rows != versions {
		t.Fatalf("river_migration has %d rows for %d versions, want one row per version", rows, versions)
	}
}

func TestNewRequiresWorkers(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	if _, err := jobs.New(db, jobs.Config{}); err == nil {
		t.Fatal("New without workers succeeded")
	}
}

// TestInsertTxFollowsTheTransaction checks the transactional contract: a job
// inserted in a transaction that rolls back never exists, so it never runs;
// one whose transaction commits runs once, and a worker that completes it
// with its own writes (CompleteTx) leaves both committed together.
func TestInsertTxFollowsTheTransaction(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	if _, err := db.ExecContext(t.Context(),
		"CREATE TABLE effects (target TEXT PRIMARY KEY, runs INTEGER NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	var logs testserver.Output
	ran := make(chan string, 10)
	q := startQueue(t, db, jobs.Config{
		Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Workers: workersFor(func(ctx context.Context, job *river.Job[testArgs]) error {
			err := db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
				if _, err := tx.ExecContext(ctx,
					"INSERT INTO effects (target, runs) VALUES (?, 1) ON CONFLICT (target) DO UPDATE SET runs = effects.runs + 1",
					job.Args.Target); err != nil {
					return err
				}
				return jobs.CompleteTx(ctx, tx, job)
			})
			if err == nil {
				ran <- job.Args.Target
			}
			return err
		}),
	})

	errRollback := errors.New("roll back")
	err := db.InTx(t.Context(), func(ctx context.Context, tx bun.Tx) error {
		if _, err := q.InsertTx(ctx, tx, testArgs{Target: "ghost"}, nil); err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("InTx = %v, want the rollback", err)
	}
	committed := insert(t, db, q, testArgs{Target: "real"})

	if got := receive(t, ran, "the committed job"); got != "real" {
		t.Fatalf("worked %q, want the committed job", got)
	}
	// Completed in the worker's transaction: already visible.
	if state, attempt := jobState(t, db, committed.ID); state != rivertype.JobStateCompleted || attempt != 1 {
		t.Fatalf("committed job: state %s, attempt %d; want completed, 1", state, attempt)
	}
	stop(t, q)

	select {
	case target := <-ran:
		t.Fatalf("a second run (%q) after the committed job", target)
	default:
	}
	var jobsStored int
	if err := db.QueryRowContext(t.Context(), "SELECT count(*) FROM river_job").Scan(&jobsStored); err != nil {
		t.Fatal(err)
	}
	if jobsStored != 1 {
		t.Fatalf("river_job holds %d jobs, want only the committed one", jobsStored)
	}
	var runs int
	if err := db.QueryRowContext(t.Context(), "SELECT runs FROM effects WHERE target = 'real'").Scan(&runs); err != nil {
		t.Fatal(err)
	}
	if runs != 1 {
		t.Fatalf("the committed job's effect was applied %d times, want 1", runs)
	}

	// The attempt is in the logs, with its job attributes.
	var done bool
	for line := range strings.Lines(logs.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec["msg"] == "job done" && rec["job_kind"] == "test_job" &&
			rec["job_id"] == float64(committed.ID) && rec["attempt"] == float64(1) {
			done = true
		}
	}
	if !done {
		t.Fatalf("no \"job done\" line for job %d in the logs:\n%s", committed.ID, logs.String())
	}
}

// TestFailingJobIsRetried fails a job's first attempt; it runs again and
// completes on the second.
func TestFailingJobIsRetried(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	attempts := make(chan int, 10)
	q := startQueue(t, db, jobs.Config{
		RetryPolicy: retryNow{},
		Workers: workersFor(func(_ context.Context, job *river.Job[testArgs]) error {
			attempts <- job.Attempt
			if job.Attempt == 1 {
				return errors.New("BMC unreachable")
			}
			return nil
		}),
	})
	job := insert(t, db, q, testArgs{Target: "flaky"})
	if got := receive(t, attempts, "the first attempt"); got != 1 {
		t.Fatalf("first attempt numbered %d", got)
	}
	if got := receive(t, attempts, "the retry"); got != 2 {
		t.Fatalf("retry numbered %d", got)
	}
	stop(t, q) // records the completion
	if state, attempt := jobState(t, db, job.ID); state != rivertype.JobStateCompleted || attempt != 2 {
		t.Fatalf("state %s, attempt %d; want completed, 2", state, attempt)
	}
	if len(attempts) != 0 {
		t.Fatalf("%d attempts after the successful one", len(attempts))
	}
}

// TestFailingJobIsDiscardedAfterMaxAttempts checks that retries end.
func TestFailingJobIsDiscardedAfterMaxAttempts(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	attempts := make(chan int, 10)
	q := startQueue(t, db, jobs.Config{
		MaxAttempts: 2,
		RetryPolicy: retryNow{},
		Workers: workersFor(func(_ context.Context, job *river.Job[testArgs]) error {
			attempts <- job.Attempt
			return errors.New("always broken")
		}),
	})
	job := insert(t, db, q, testArgs{Target: "broken"})
	receive(t, attempts, "the first attempt")
	receive(t, attempts, "the second attempt")
	stop(t, q)
	if state, attempt := jobState(t, db, job.ID); state != rivertype.JobStateDiscarded || attempt != 2 {
		t.Fatalf("state %s, attempt %d; want discarded, 2", state, attempt)
	}
}

// TestOnePerTarget checks uniqueness: while a job for a target is
// unfinished, a second of the same kind is refused; other targets and other
// kinds are not; once the job has finished, the target takes a new one.
func TestOnePerTarget(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	done := make(chan string, 10)
	q := newQueue(t, db, jobs.Config{
		Workers: workersFor(func(_ context.Context, job *river.Job[testArgs]) error {
			done <- job.Args.Target
			return nil
		}),
	})
	first := insert(t, db, q, testArgs{Target: "node-1", Note: "first"})

	// Pending (not started): the same target is refused, even with other
	// non-unique fields, and the refusal rolls nothing else back by itself.
	err := db.InTx(t.Context(), func(ctx context.Context, tx bun.Tx) error {
		_, err := q.InsertTx(ctx, tx, testArgs{Target: "node-1", Note: "second"}, nil)
		return err
	})
	var dup *jobs.DuplicateError
	if !errors.As(err, &dup) {
		t.Fatalf("duplicate insert = %v, want a *DuplicateError", err)
	}
	if dup.JobID != first.ID || dup.Kind != "test_job" {
		t.Errorf("DuplicateError = %+v, want job %d of kind test_job", dup, first.ID)
	}
	if !errors.Is(err, fault.ErrFailedPrecondition) || fault.KindOf(err) != fault.KindFailedPrecondition {
		t.Errorf("duplicate insert error %v is not a failed precondition", err)
	}
	insert(t, db, q, testArgs{Target: "node-2"})
	insert(t, db, q, otherArgs{Target: "node-1"})

	// Once the first job has finished, node-1 takes a new one.
	if err := q.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for range 2 {
		seen[receive(t, done, "the pending jobs")] = true
	}
	if !seen["node-1"] || !seen["node-2"] {
		t.Fatalf("worked %v, want node-1 and node-2", seen)
	}
	stop(t, q)
	if state, _ := jobState(t, db, first.ID); state != rivertype.JobStateCompleted {
		t.Fatalf("first job %s, want completed", state)
	}
	insert(t, db, q, testArgs{Target: "node-1", Note: "after"})
}

// TestStopMidJobThenRestart stops a queue while a job runs and its stop
// deadline has passed: the job is cut off and put back, and a queue started
// afterwards (a restarted process) completes it.
func TestStopMidJobThenRestart(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	started := make(chan int64, 1)
	finished := make(chan int, 1)
	var runs atomic.Int32
	workers := workersFor(func(ctx context.Context, job *river.Job[testArgs]) error {
		if runs.Add(1) == 1 {
			started <- job.ID
			<-ctx.Done() // the first run is still busy when the queue stops
			return ctx.Err()
		}
		// A fetch that was under way when the stop began can hand the
		// put-back job to the stopping queue again, already cancelled.
		if err := ctx.Err(); err != nil {
			return err
		}
		finished <- job.Attempt
		return nil
	})
	first := startQueue(t, db, jobs.Config{Workers: workers})
	job := insert(t, db, first, testArgs{Target: "node-1"})
	receive(t, started, "the first run")

	expired, cancel := context.WithCancel(t.Context())
	cancel()
	if err := first.Stop(expired); !errors.Is(err, context.Canceled) {
		t.Fatalf("Stop past its deadline = %v, want an error wrapping context.Canceled", err)
	}
	if state, attempt := jobState(t, db, job.ID); state != rivertype.JobStateAvailable || attempt != 0 {
		t.Fatalf("cut-off job: state %s, attempt %d; want available, 0 (not counted)", state, attempt)
	}

	second := startQueue(t, db, jobs.Config{Workers: workers})
	if got := receive(t, finished, "the run after the restart"); got != 1 {
		t.Fatalf("run after the restart is attempt %d, want 1", got)
	}
	stop(t, second)
	if state, _ := jobState(t, db, job.ID); state != rivertype.JobStateCompleted {
		t.Fatalf("job %s after the restart, want completed", state)
	}
}

// crashChildEnv carries the store.Config of the database that
// TestCrashChild works on, when it runs as the process TestResumesAfterCrash
// kills.
const crashChildEnv = "GPCORE_JOBS_CRASH_CHILD"

// TestCrashChild is not a test of its own: TestResumesAfterCrash runs the
// test binary with only this test selected and crashChildEnv set, and kills
// it while its worker runs. Without the variable it does nothing.
func TestCrashChild(t *testing.T) {
	raw := os.Getenv(crashChildEnv)
	if raw == "" {
		return
	}
	var cfg store.Config
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	q, err := jobs.New(db, jobs.Config{
		Logger: slog.New(slog.DiscardHandler),
		Workers: workersFor(func(ctx context.Context, job *river.Job[testArgs]) error {
			fmt.Printf("working %d\n", job.ID)
			<-ctx.Done()
			return ctx.Err()
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	<-time.After(waitTimeout)
	t.Fatal("not killed")
}

// TestResumesAfterCrash kills a process in the middle of a job. The job is
// left running in the database; a new process's rescuer takes it for a
// crash leftover and the job completes there.
func TestResumesAfterCrash(t *testing.T) {
	t.Parallel()
	cfg := storetest.NewConfig(t)
	db := storetest.Open(t, cfg)
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := jobs.Migrate(t.Context(), db); err != nil {
		t.Fatal(err)
	}
	finished := make(chan int, 1)
	workers := workersFor(func(_ context.Context, job *river.Job[testArgs]) error {
		finished <- job.Attempt
		return nil
	})
	job := insert(t, db, newQueue(t, db, jobs.Config{Workers: workers}), testArgs{Target: "node-1"})

	rawCfg, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	child := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	child.Env = append(os.Environ(), crashChildEnv+"="+string(rawCfg))
	child.Stderr = t.Output()
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	working := make(chan string, 1)
	go func() {
		lines := bufio.NewScanner(out)
		for lines.Scan() {
			if strings.HasPrefix(lines.Text(), "working ") {
				working <- lines.Text()
				return
			}
		}
		close(working)
	}()
	if got, want := receive(t, working, "the child's worker"), fmt.Sprintf("working %d", job.ID); got != want {
		t.Fatalf("child said %q, want %q", got, want)
	}
	if err := child.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait() // killed: the error is expected

	if state, attempt := jobState(t, db, job.ID); state != rivertype.JobStateRunning || attempt != 1 {
		t.Fatalf("after the crash: state %s, attempt %d; want running, 1", state, attempt)
	}
	// The dead process was River's leader; its lease would lapse within
	// seconds. Let it lapse now, so the new process leads (and rescues) at
	// once.
	if _, err := db.ExecContext(t.Context(), "DELETE FROM river_leader"); err != nil {
		t.Fatal(err)
	}
	// A job is rescued once it has been running for longer than both the
	// job timeout and RescueStuckJobsAfter; make them short so that the
	// rescuer's first pass, when the new process starts leading, takes it.
	restarted := startQueue(t, db, jobs.Config{
		Workers:              workers,
		RetryPolicy:          retryNow{},
		JobTimeout:           10 * time.Millisecond,
		RescueStuckJobsAfter: 10 * time.Millisecond,
	})
	if got := receive(t, finished, "the job after the restart"); got != 2 {
		t.Fatalf("run after the restart is attempt %d, want 2", got)
	}
	stop(t, restarted)
	if state, _ := jobState(t, db, job.ID); state != rivertype.JobStateCompleted {
		t.Fatalf("job %s after the restart, want completed", state)
	}
}

// TestStartLogsTheClientIDJobsRecord: the "job queue started" line names
// the queue's River client id, and River records that id in the
// attempted_by of the jobs the queue works.
func TestStartLogsTheClientIDJobsRecord(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	var logs testserver.Output
	ran := make(chan struct{}, 1)
	q := startQueue(t, db, jobs.Config{
		Logger: slog.New(slog.NewJSONHandler(&logs, nil)),
		Workers: workersFor(func(ctx context.Context, job *river.Job[testArgs]) error {
			ran <- struct{}{}
			return nil
		}),
	})
	var clientID string
	for line := range strings.Lines(logs.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec["msg"] == "job queue started" {
			clientID, _ = rec["river_client_id"].(string)
		}
	}
	if clientID == "" {
		t.Fatalf("no river_client_id on the \"job queue started\" line:\n%s", logs.String())
	}
	job := insert(t, db, q, testArgs{Target: "recorded"})
	receive(t, ran, "the job")
	stop(t, q)
	var attemptedBy string
	if err := db.QueryRowContext(t.Context(), "SELECT CAST(attempted_by AS TEXT) FROM river_job WHERE id = ?", job.ID).Scan(&attemptedBy); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(attemptedBy, clientID) {
		t.Fatalf("attempted_by = %s, want it to name %s", attemptedBy, clientID)
	}
}
