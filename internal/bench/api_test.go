package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"
	healthv1 "google.golang.org/grpc/health/grpc_health_v1"

	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	"github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1/cloudv1connect"
	cloudv2 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v2"
	"github.com/gpcore/gpcore/gen/gpcore/api/cloud/v2/cloudv2connect"
	"github.com/gpcore/gpcore/internal/testserver"
)

// EnvParallelism names the environment variable that sets how many calling
// goroutines run per GOMAXPROCS (b.SetParallelism).
const EnvParallelism = "GPCORE_BENCH_PARALLELISM"

// defaultParallelism keeps 4×GOMAXPROCS calls in flight: enough to keep both
// the client and the server side busy on a small machine.
const defaultParallelism = 4

// protocols are the client set-ups every method is measured with.
var protocols = []string{"connect-json", "connect-proto", "connect-grpc", "grpc-go"}

// call makes one RPC and checks its answer.
type call func(ctx context.Context) error

// rpc is one unary method as the benchmarks call it.
type rpc[Req, Res any] struct {
	// procedure is the method's path, e.g. /gpcore.api.cloud.v1.CloudService/ListDatacenters.
	procedure string
	// newReq returns the request of one call.
	newReq func() *Req
	// check says whether an answer is the expected one.
	check func(*Res) error
}

// client returns a call of r over protocol, authenticated with token
// (empty: anonymous), and a function that closes the client's connections.
func (r rpc[Req, Res]) client(b *testing.B, s *testserver.Server, protocol, token string) (call, func()) {
	b.Helper()
	if protocol == "grpc-go" {
		conn := s.GRPCConn(b, token)
		return func(ctx context.Context) error {
			res := new(Res)
			if err := conn.Invoke(ctx, r.procedure, r.newReq(), res); err != nil {
				return err
			}
			return r.check(res)
		}, func() { _ = conn.Close() }
	}
	hc, opts := connectTransport(b, protocol)
	c := connect.NewClient[Req, Res](hc, s.URL+r.procedure, testserver.ClientOptions(token, opts...)...)
	return func(ctx context.Context) error {
		res, err := c.CallUnary(ctx, connect.NewRequest(r.newReq()))
		if err != nil {
			return err
		}
		return r.check(res.Msg)
	}, hc.CloseIdleConnections
}

// connectTransport returns the HTTP client and connect-go options of one of
// the connect-* protocols.
func connectTransport(b *testing.B, protocol string) (*http.Client, []connect.ClientOption) {
	switch protocol {
	case "connect-json":
		return http1Client(), []connect.ClientOption{connect.WithProtoJSON()}
	case "connect-proto":
		return http1Client(), nil
	case "connect-grpc":
		return testserver.H2CClient(), []connect.ClientOption{connect.WithGRPC()}
	default:
		b.Fatalf("unknown protocol %q", protocol)
		return nil, nil
	}
}

// http1Client speaks only HTTP/1.1 and keeps one idle connection per calling
// goroutine, so that connections are reused rather than redialled.
func http1Client() *http.Client {
	var p http.Protocols
	p.SetHTTP1(true)
	return &http.Client{Transport: &http.Transport{Protocols: &p, MaxIdleConnsPerHost: 1024}}
}

var (
	listDatacenters = rpc[cloudv1.ListDatacentersRequest, cloudv1.ListDatacentersResponse]{
		procedure: cloudv1connect.CloudServiceListDatacentersProcedure,
		newReq:    func() *cloudv1.ListDatacentersRequest { return &cloudv1.ListDatacentersRequest{} },
		check: func(res *cloudv1.ListDatacentersResponse) error {
			if len(res.GetDatacenters()) == 0 {
				return errors.New("ListDatacenters answered no datacenter")
			}
			return nil
		},
	}
	listPublicImages = rpc[cloudv1.ListPublicImagesRequest, cloudv1.ListPublicImagesResponse]{
		procedure: cloudv1connect.CloudServiceListPublicImagesProcedure,
		newReq:    func() *cloudv1.ListPublicImagesRequest { return &cloudv1.ListPublicImagesRequest{} },
		check: func(res *cloudv1.ListPublicImagesResponse) error {
			if len(res.GetOperatingSystems()) == 0 {
				return errors.New("ListPublicImages answered no operating system")
			}
			return nil
		},
	}
	readinessCheck = rpc[cloudv2.ReadinessCheckRequest, cloudv2.ReadinessCheckResponse]{
		procedure: cloudv2connect.CloudServiceReadinessCheckProcedure,
		newReq:    func() *cloudv2.ReadinessCheckRequest { return &cloudv2.ReadinessCheckRequest{} },
		check: func(res *cloudv2.ReadinessCheckResponse) error {
			if res.GetVersion() == "" {
				return errors.New("ReadinessCheck answered no version")
			}
			return nil
		},
	}
	healthCheck = rpc[healthv1.HealthCheckRequest, healthv1.HealthCheckResponse]{
		procedure: healthv1.Health_Check_FullMethodName,
		newReq:    func() *healthv1.HealthCheckRequest { return &healthv1.HealthCheckRequest{} },
		check: func(res *healthv1.HealthCheckResponse) error {
			if res.GetStatus() != healthv1.HealthCheckResponse_SERVING {
				return fmt.Errorf("health Check answered %v", res.GetStatus())
			}
			return nil
		},
	}
)

// BenchmarkCatalogRead measures catalog reads: USER methods, so each call's
// token is verified before the handler reads the database.
func BenchmarkCatalogRead(b *testing.B) {
	s := testserver.Start(b)
	user := s.Register(b)
	for _, protocol := range protocols {
		// A token per sub-benchmark, so that none expires however long the
		// whole run takes.
		benchCall(b, "ListDatacenters/"+protocol, func() (call, func()) {
			return listDatacenters.client(b, s, protocol, s.PasswordToken(b, user.Email, user.Password))
		})
	}
	for _, protocol := range protocols {
		benchCall(b, "ListPublicImages/"+protocol, func() (call, func()) {
			return listPublicImages.client(b, s, protocol, s.PasswordToken(b, user.Email, user.Password))
		})
	}
}

// BenchmarkCeiling measures the framework's ceiling on the same server stack:
// public methods, called without a token, whose handlers only ping the
// database. ReadinessCheck runs through gpcore's interceptors; the gRPC
// health service does not.
func BenchmarkCeiling(b *testing.B) {
	s := testserver.Start(b)
	for _, protocol := range protocols {
		benchCall(b, "ReadinessCheck/"+protocol, func() (call, func()) {
			return readinessCheck.client(b, s, protocol, "")
		})
	}
	for _, protocol := range protocols {
		benchCall(b, "HealthCheck/"+protocol, func() (call, func()) {
			return healthCheck.client(b, s, protocol, "")
		})
	}
}

// benchCall runs the sub-benchmark name on the call newCall builds. The
// client is built once, outside the sub-benchmark, so that its connections
// are reused across the framework's runs of increasing b.N, and closed at
// the end.
func benchCall(b *testing.B, name string, newCall func() (call, func())) {
	c, closeClient := newCall()
	defer closeClient()
	// One call before measuring: it fails fast on a broken set-up and opens
	// the first connection.
	if err := c(context.Background()); err != nil {
		b.Fatalf("%s: first call: %v", name, err)
	}
	b.Run(name, func(b *testing.B) { measure(b, c) })
}

// measure calls c b.N times from parallel goroutines and reports throughput
// (req/s), the p50 and p99 latency of single calls, and the CPU time the
// process (client and server together) spent per call (cpu-us/op): unlike
// wall-clock figures, the last one barely moves when other programs compete
// for the CPUs.
func measure(b *testing.B, c call) {
	var (
		mu        sync.Mutex
		latencies = make([]time.Duration, 0, b.N)
		failed    atomic.Bool
	)
	ctx := context.Background()
	b.SetParallelism(parallelism(b))
	cpu0, cpuKnown := processCPU()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		local := make([]time.Duration, 0, 1024)
		for pb.Next() {
			start := time.Now()
			err := c(ctx)
			local = append(local, time.Since(start))
			if err != nil {
				// The other goroutines carry on with the remaining
				// iterations; one failure is enough to fail the benchmark.
				if failed.CompareAndSwap(false, true) {
					b.Errorf("call failed: %v", err)
				}
				break
			}
		}
		mu.Lock()
		latencies = append(latencies, local...)
		mu.Unlock()
	})
	b.StopTimer()
	if cpu1, ok := processCPU(); ok && cpuKnown {
		b.ReportMetric(micros(cpu1-cpu0)/float64(b.N), "cpu-us/op")
	}
	if len(latencies) == 0 {
		return
	}
	slices.Sort(latencies)
	b.ReportMetric(micros(percentile(latencies, 50)), "p50-us")
	b.ReportMetric(micros(percentile(latencies, 99)), "p99-us")
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(b.N)/s, "req/s")
	}
}

// parallelism reads GPCORE_BENCH_PARALLELISM.
func parallelism(b *testing.B) int {
	v := os.Getenv(EnvParallelism)
	if v == "" {
		return defaultParallelism
	}
	p, err := strconv.Atoi(v)
	if err != nil || p < 1 {
		b.Fatalf("%s=%q: want a positive integer (goroutines per GOMAXPROCS=%d)", EnvParallelism, v, runtime.GOMAXPROCS(0))
	}
	return p
}

// percentile returns the nearest-rank p-th percentile of sorted.
func percentile(sorted []time.Duration, p float64) time.Duration {
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
