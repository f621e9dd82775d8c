package notify_test

import (
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gpcore/gpcore/internal/notify"
	"github.com/gpcore/gpcore/internal/store"
	"github.com/gpcore/gpcore/internal/store/storetest"
)

// benchSubscribers is how many subscribers every published event reaches.
const benchSubscribers = 1000

// BenchmarkDelivery measures how long an event takes from Publish to each of
// 1,000 subscribers (1,000 users, one subscription each, all in the event's
// audience), one event at a time:
//
//   - in-process: a hub on SQLite, where Publish hands the event out itself;
//   - postgres: published on one hub and received on another with its own
//     database handle, as between two replicas: pg_notify (five payloads for
//     1,000 user ids), PostgreSQL, the other hub's listener, its fan-out. It
//     needs GPCORE_TEST_POSTGRES_DSN.
//
// ns/op is the time from Publish until the last subscriber has the event;
// p50-us and p99-us are percentiles of the latency of single deliveries,
// each measured by the receiving goroutine.
func BenchmarkDelivery(b *testing.B) {
	b.Run("in-process", func(b *testing.B) {
		h := newHub(b, storetest.Open(b, store.Config{DataDir: b.TempDir()}), notify.Config{})
		benchDelivery(b, h, h)
	})
	b.Run("postgres", func(b *testing.B) {
		cfg := storetest.NewConfig(b)
		if cfg.DSN == "" {
			b.Skipf("set %s", storetest.EnvPostgresDSN)
		}
		publisher := newHub(b, storetest.Open(b, cfg), notify.Config{})
		receiver := newHub(b, storetest.Open(b, cfg), notify.Config{})
		benchDelivery(b, publisher, receiver)
	})
}

// benchDelivery publishes on pub to benchSubscribers subscriptions on sub.
func benchDelivery(b *testing.B, pub, sub *notify.Hub) {
	audience := users(benchSubscribers)
	start := time.Now()
	// sentAt is when the event in flight was published, since start.
	var sentAt atomic.Int64
	var (
		arrived  sync.WaitGroup // the deliveries of the event in flight
		readers  sync.WaitGroup
		latency  = make([][]time.Duration, benchSubscribers)
		received = make([]*notify.Subscription, benchSubscribers)
	)
	for i, u := range audience {
		received[i] = subscribe(b, sub, u)
		readers.Go(func() {
			for range received[i].Events() {
				latency[i] = append(latency[i], time.Since(start)-time.Duration(sentAt.Load()))
				arrived.Done()
			}
		})
	}
	e := nodeEvent(audience...)

	b.ResetTimer()
	for b.Loop() {
		arrived.Add(benchSubscribers)
		sentAt.Store(int64(time.Since(start)))
		publish(b, pub, e)
		arrived.Wait()
	}
	b.StopTimer()

	for _, s := range received {
		s.Close()
	}
	readers.Wait()
	all := slices.Concat(latency...)
	slices.Sort(all)
	b.ReportMetric(percentile(all, 0.50), "p50-us")
	b.ReportMetric(percentile(all, 0.99), "p99-us")
}

// percentile returns the q-quantile of sorted latencies in microseconds.
func percentile(sorted []time.Duration, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	return float64(sorted[int(q*float64(len(sorted)-1))]) / float64(time.Microsecond)
}
