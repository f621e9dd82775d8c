package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	authv1 "github.com/gpcore/gpcore/gen/gpcore/api/auth/v1"
	"github.com/gpcore/gpcore/gen/gpcore/api/auth/v1/authv1connect"
	cloudv1 "github.com/gpcore/gpcore/gen/gpcore/api/cloud/v1"
	"github.com/gpcore/gpcore/internal/store/storetest"
	"github.com/gpcore/gpcore/internal/testserver"
)

// TestMain lets the test binary stand in for the gpcore binary: with
// GPCORE_TEST_RUN_MAIN=1 it runs main with its arguments.
func TestMain(m *testing.M) {
	if os.Getenv("GPCORE_TEST_RUN_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// process is a `gpcore serve` child process.
type process struct {
	cmd    *exec.Cmd
	addr   string
	stdout testserver.Output
	stderr testserver.Output // its log
	done   chan error
}

var servingRE = regexp.MustCompile(`msg=serving addr=(\S+)`)

// startServe runs `gpcore serve` configured by environment variables only and
// returns once it logs that it is serving.
func startServe(t *testing.T, env ...string) *process {
	t.Helper()
	p := &process{done: make(chan error, 1)}
	p.cmd = exec.Command(os.Args[0], "serve")
	p.cmd.Env = append(os.Environ(), append([]string{"GPCORE_TEST_RUN_MAIN=1", "GPCORE_LISTEN=127.0.0.1:0"}, env...)...)
	p.cmd.Stdout = &p.stdout
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addrc := make(chan string, 1)
	logged := make(chan struct{})
	go func() {
		defer close(logged)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			_, _ = p.stderr.Write([]byte(sc.Text() + "\n"))
			if m := servingRE.FindStringSubmatch(sc.Text()); m != nil {
				addrc <- m[1]
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	// Wait reads the log to its end first: Wait closes the pipe.
	go func() {
		<-logged
		p.done <- p.cmd.Wait()
	}()
	t.Cleanup(func() { _ = p.cmd.Process.Kill() })
	select {
	case p.addr = <-addrc:
	case err := <-p.done:
		t.Fatalf("gpcore serve exited before serving: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("gpcore serve did not start within a minute")
	}
	return p
}

// stop sends SIGTERM and waits for a clean exit.
func (p *process) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	p.exited(t)
}

// exited waits for a clean exit after SIGTERM.
func (p *process) exited(t *testing.T) {
	t.Helper()
	select {
	case err := <-p.done:
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			t.Fatalf("gpcore serve exited with %d after SIGTERM, want 0", exit.ExitCode())
		} else if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute):
		t.Fatal("gpcore serve did not exit within a minute of SIGTERM")
	}
}

func TestServeFromEnvironmentRestartsCleanly(t *testing.T) {
	db := storetest.NewConfig(t)
	// A fixed public URL: the port changes between runs, the token issuer must not.
	env := []string{"GPCORE_DATA_DIR=" + db.DataDir, "GPCORE_DATABASE=" + db.DSN, "GPCORE_PUBLIC_URL=http://gpcore.test"}

	first := startServe(t, env...)
	s := &testserver.Server{URL: "http://" + first.addr, Addr: first.addr}
	user := s.Register(t)
	first.stop(t)
	if out := first.stdout.String(); !strings.Contains(out, "password:") {
		t.Fatalf("first start printed no operator credentials:\n%s", out)
	}

	second := startServe(t, env...)
	defer second.stop(t)
	if out := second.stdout.String(); strings.Contains(out, "password:") {
		t.Fatalf("second start printed operator credentials again:\n%s", out)
	}
	// The signing key survived the restart: the first run's token still works.
	client := authv1connect.NewAuthServiceClient(testserver.HTTPClient(), "http://"+second.addr, testserver.ClientOptions(user.Token)...)
	if _, err := client.GetUser(context.Background(), connect.NewRequest(&authv1.GetUserRequest{})); err != nil {
		t.Fatalf("GetUser with the first run's token after restart: %v", err)
	}
}

func TestHelpNamesEnvironmentVariables(t *testing.T) {
	cmd := newRootCommand()
	var out strings.Builder
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"serve", "--help"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"--listen", "GPCORE_LISTEN", "--data-dir", "GPCORE_DATA_DIR", "--database", "GPCORE_DATABASE", "127.0.0.1:8080"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("serve --help does not mention %q", want)
		}
	}
}

func TestBadEnvironmentValueIsNamed(t *testing.T) {
	t.Setenv("GPCORE_SHUTDOWN_TIMEOUT", "soon")
	cmd := newRootCommand()
	cmd.SetArgs([]string{"serve"})
	err := cmd.Execute()
	if err == nil || !strings.Contains(err.Error(), "GPCORE_SHUTDOWN_TIMEOUT") {
		t.Fatalf("err = %v, want it to name GPCORE_SHUTDOWN_TIMEOUT", err)
	}
}

// TestShutdownEndsHealthWatches: a gRPC health Watch open when gpcore serve
// gets SIGTERM hears NOT_SERVING and ends, and does not hold the shutdown up
// (here for as long as a shutdown may take: ten minutes).
func TestShutdownEndsHealthWatches(t *testing.T) {
	db := storetest.NewConfig(t)
	p := startServe(t, "GPCORE_DATA_DIR="+db.DataDir, "GPCORE_DATABASE="+db.DSN, "GPCORE_SHUTDOWN_TIMEOUT=10m")
	conn, err := grpc.NewClient(p.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	watch, err := healthpb.NewHealthClient(conn).Watch(t.Context(), &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := watch.Recv(); err != nil || res.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("Watch: %v, %v; want SERVING", res, err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if res, err := watch.Recv(); err != nil || res.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Fatalf("Watch during the shutdown: %v, %v; want NOT_SERVING", res, err)
	}
	if _, err := watch.Recv(); err == nil {
		t.Fatal("the Watch goes on after NOT_SERVING")
	}
	p.exited(t)
}

// TestShutdownEndsStreamsAsExpected: SIGTERM ends an open notification
// stream with Unavailable, telling the client to subscribe again, and the
// log shows that end at info level: no error is logged.
func TestShutdownEndsStreamsAsExpected(t *testing.T) {
	db := storetest.NewConfig(t)
	p := startServe(t, "GPCORE_DATA_DIR="+db.DataDir, "GPCORE_DATABASE="+db.DSN)
	s := &testserver.Server{URL: "http://" + p.addr, Addr: p.addr}
	user := s.Register(t)
	stream, err := s.Cloud(user.Token).SubscribeNotifications(t.Context(), connect.NewRequest(&cloudv1.SubscribeNotificationsRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	if !stream.Receive() || stream.Msg().GetNotification().GetHeartbeat() == nil {
		t.Fatalf("no first heartbeat: %v", stream.Err())
	}
	ended := make(chan error, 1)
	go func() {
		for stream.Receive() {
		}
		ended <- stream.Err()
	}()
	p.stop(t)
	err = <-ended
	if connect.CodeOf(err) != connect.CodeUnavailable || !strings.Contains(err.Error(), "shutting down") {
		t.Fatalf("the stream ended with %v, want unavailable saying the server is shutting down", err)
	}
	log := p.stderr.String()
	if !regexp.MustCompile(`(?m)^.*level=INFO msg=rpc procedure=/gpcore\.api\.cloud\.v1\.CloudService/SubscribeNotifications code=unavailable .*$`).MatchString(log) {
		t.Errorf("no rpc line at info level for the stream's end in the log:\n%s", log)
	}
	if strings.Contains(log, "level=ERROR") {
		t.Errorf("the shutdown logged an error:\n%s", log)
	}
}
