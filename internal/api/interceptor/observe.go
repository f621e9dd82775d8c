// Package interceptor holds the Connect interceptors every API surface runs:
// metrics, request ids and the audit log, request logging, error mapping and
// the per-method authorization policy read from the gpcore.v1.api method
// option.
package interceptor

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"connectrpc.com/connect"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gpcore/gpcore/internal/api/rpcerr"
)

// Metrics counts requests by procedure and code and observes their latency.
type Metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// NewMetrics registers the RPC metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gpcore_rpc_requests_total",
			Help: "RPCs handled, by procedure and status code.",
		}, []string{"procedure", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gpcore_rpc_duration_seconds",
			Help:    "Time to handle an RPC (for streams: the whole stream), by procedure.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"procedure"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

func (m *Metrics) observe(procedure string, start time.Time, err error) {
	m.requests.WithLabelValues(procedure, codeOf(err)).Inc()
	m.duration.WithLabelValues(procedure).Observe(time.Since(start).Seconds())
}

// WrapUnary implements connect.Interceptor.
func (m *Metrics) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		start := time.Now()
		res, err := next(ctx, req)
		m.observe(req.Spec().Procedure, start, err)
		return res, err
	}
}

// WrapStreamingClient implements connect.Interceptor; clients are not measured.
func (m *Metrics) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

// WrapStreamingHandler implements connect.Interceptor.
func (m *Metrics) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		start := time.Now()
		err := next(ctx, conn)
		m.observe(conn.Spec().Procedure, start, err)
		return err
	}
}

func codeOf(err error) string {
	if err == nil {
		return "ok"
	}
	return connect.CodeOf(err).String()
}

// ErrShuttingDown is what the error of a call the server ends because it is
// shutting down wraps, e.g. a notification stream's Unavailable: an
// expected end, which Logging does not log as a server error.
var ErrShuttingDown = errors.New("the server is shutting down")

// Logging writes one structured line per RPC: procedure, code, duration,
// peer and, inside Audit, the request id; server errors at error level,
// client errors and calls ended by the shutdown (ErrShuttingDown) at info,
// successes at debug.
type Logging struct{ Log *slog.Logger }

func (l Logging) log(ctx context.Context, procedure, peer string, start time.Time, err error) {
	level := slog.LevelDebug
	if err != nil {
		level = slog.LevelInfo
		switch connect.CodeOf(err) {
		case connect.CodeInternal, connect.CodeUnknown, connect.CodeDataLoss, connect.CodeUnavailable:
			if !errors.Is(err, ErrShuttingDown) {
				level = slog.LevelError
			}
		}
	}
	l.Log.Log(ctx, level, "rpc", "procedure", procedure, "code", codeOf(err),
		"duration", time.Since(start), "peer", peer, "request_id", RequestID(ctx))
}

// WrapUnary implements connect.Interceptor.
func (l Logging) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		start := time.Now()
		res, err := next(ctx, req)
		l.log(ctx, req.Spec().Procedure, req.Peer().Addr, start, err)
		return res, err
	}
}

// WrapStreamingClient implements connect.Interceptor.
func (l Logging) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

// WrapStreamingHandler implements connect.Interceptor.
func (l Logging) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		start := time.Now()
		err := next(ctx, conn)
		l.log(ctx, conn.Spec().Procedure, conn.Peer().Addr, start, err)
		return err
	}
}

// Errors maps every error a handler returns to a Connect error through
// rpcerr.From, so domain errors get their codes and internal ones are logged
// and hidden.
type Errors struct{ Log *slog.Logger }

// WrapUnary implements connect.Interceptor.
func (e Errors) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		res, err := next(ctx, req)
		if err != nil {
			return nil, rpcerr.From(ctx, e.Log, req.Spec().Procedure, err)
		}
		return res, nil
	}
}

// WrapStreamingClient implements connect.Interceptor.
func (e Errors) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

// WrapStreamingHandler implements connect.Interceptor.
func (e Errors) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		err := next(ctx, conn)
		if err != nil && !errors.Is(err, context.Canceled) {
			return rpcerr.From(ctx, e.Log, conn.Spec().Procedure, err)
		}
		return err
	}
}
