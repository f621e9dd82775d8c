package jobs

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// loggerKey is the context key of the job-scoped logger.
type loggerKey struct{}

// Logger returns the logger of the job ctx belongs to, which tags every line
// with job_id, job_kind and attempt. Outside a job it returns slog.Default().
func Logger(ctx context.Context) *slog.Logger {
	if log, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok {
		return log
	}
	return slog.Default()
}

// logMiddleware logs every attempt of every job and gives its worker a
// job-scoped Logger. Arguments are never logged: they may name customers.
type logMiddleware struct {
	river.MiddlewareDefaults
	log *slog.Logger
	// interrupting is the Queue's: set once Stop has cancelled running jobs.
	interrupting *atomic.Bool
}

// Work wraps one attempt of job.
func (m *logMiddleware) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
	log := m.log.With("job_id", job.ID, "job_kind", job.Kind, "attempt", job.Attempt)
	ctx = context.WithValue(ctx, loggerKey{}, log)
	log.DebugContext(ctx, "job started")
	start := time.Now()
	err := doInner(ctx)
	took := time.Since(start)

	var snooze *river.JobSnoozeError
	var cancel *river.JobCancelError
	switch {
	case err == nil:
		log.InfoContext(ctx, "job done", "took", took)
	case errors.As(err, &snooze):
		log.DebugContext(ctx, "job snoozed", "took", took, "for", snooze.Duration)
	case m.interrupting.Load() && errors.Is(err, context.Canceled):
		log.InfoContext(ctx, "job interrupted by shutdown; back in the queue", "took", took)
	case errors.As(err, &cancel):
		log.WarnContext(ctx, "job cancelled", "took", took, "error", err)
	case job.Attempt >= job.MaxAttempts:
		log.ErrorContext(ctx, "job failed for good", "took", took, "error", err, "max_attempts", job.MaxAttempts)
	default:
		log.WarnContext(ctx, "job failed; will retry", "took", took, "error", err, "max_attempts", job.MaxAttempts)
	}
	return err
}

// minLevel is a slog.Handler that drops records below a level, for River's
// own logging: its debug and info lines repeat what logMiddleware says.
type minLevel struct {
	min slog.Level
	slog.Handler
}

// Enabled reports whether level is at least the minimum and the wrapped
// handler wants it.
func (h minLevel) Enabled(ctx context.Context, level slog.Level) bool {
	return level >= h.min && h.Handler.Enabled(ctx, level)
}

// WithAttrs keeps the minimum on the derived handler.
func (h minLevel) WithAttrs(attrs []slog.Attr) slog.Handler {
	return minLevel{h.min, h.Handler.WithAttrs(attrs)}
}

// WithGroup keeps the minimum on the derived handler.
func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{h.min, h.Handler.WithGroup(name)}
}
