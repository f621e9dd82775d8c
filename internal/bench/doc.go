// Package bench holds gpcore's API benchmarks. It has no code of its own: the
// benchmarks live in its _test.go files.
//
// Each benchmark starts a whole control plane with testserver.Start (the real
// HTTP server on a 127.0.0.1 port, every interceptor, a fresh SQLite database,
// or a fresh PostgreSQL schema when GPCORE_TEST_POSTGRES_DSN is set), signs a
// user up with AuthService.Register and calls the API through real clients
// over the loopback network, from b.RunParallel goroutines so that the
// server is measured under concurrent load:
//
//   - BenchmarkCatalogRead: CloudService v1 ListDatacenters and
//     ListPublicImages, USER methods, so every call carries a bearer token
//     that the policy interceptor verifies (an RS256 signature check) before
//     the handler reads the catalog from the database.
//   - BenchmarkCeiling: the framework's ceiling on the same server stack:
//     CloudService v2 ReadinessCheck (PUBLIC, no token; the handler only
//     pings the database) and the standard gRPC health Check (also a
//     database ping, served without gpcore's interceptors).
//
// Every method is called with four client set-ups: connect-json and
// connect-proto (the Connect protocol over HTTP/1.1, one keep-alive
// connection per goroutine), connect-grpc (connect-go with connect.WithGRPC
// over h2c, one multiplexed connection) and grpc-go (google.golang.org/grpc,
// one multiplexed connection).
//
// Besides ns/op (wall time divided by calls, i.e. the inverse of throughput),
// each benchmark reports req/s, the p50 and p99 latency of single calls in
// microseconds (p50-us, p99-us), measured by the calling goroutine around
// each call, and cpu-us/op, the CPU time (user + system) the process spent
// per call. Client and server share the process and its CPUs, so cpu-us/op,
// B/op and allocs/op count both sides (not the PostgreSQL server's own CPU).
// On a busy machine the wall-clock figures drop; cpu-us/op stays put.
//
// The number of concurrent callers is GOMAXPROCS times
// GPCORE_BENCH_PARALLELISM (default 4); set GPCORE_BENCH_PARALLELISM=1 for
// the latency of a lightly loaded server.
//
// Run them, on SQLite, with
//
//	go test -run '^$' -bench . -benchmem ./internal/bench/
//
// and on PostgreSQL by setting GPCORE_TEST_POSTGRES_DSN (make bench does).
// docs/performance.md has the figures and how to read them.
package bench
