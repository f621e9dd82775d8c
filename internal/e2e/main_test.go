package e2e_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/gpcore/gpcore/internal/store/storetest"
)

// binary is the gpcore binary built once by TestMain.
var binary string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "gpcore-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "gpcore")
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	args := []string{"build", "-o", binary}
	if raceEnabled {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, "./cmd/gpcore")...)
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: build gpcore:", err)
		return 1
	}
	return m.Run()
}

// server is a `gpcore serve` child process.
type server struct {
	cmd  *exec.Cmd
	Addr string
	URL  string
	log  lockedBuffer
	done chan struct{}
}

// lockedBuffer collects a server's log while the test reads it. (It is not
// testserver.Output: these tests are the public SDK's clients, whose
// generated code clashes with gpcore's own, which testserver links.)
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) WriteString(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.WriteString(s)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var servingRE = regexp.MustCompile(`msg=serving addr=(\S+)`)

// newDatabase returns the environment of a fresh database for t: SQLite in a
// temporary directory, or a new schema on GPCORE_TEST_POSTGRES_DSN.
func newDatabase(t *testing.T) []string {
	cfg := storetest.NewConfig(t)
	if cfg.DSN != "" {
		return []string{"GPCORE_DATABASE=" + cfg.DSN, "GPCORE_DATA_DIR=" + t.TempDir()}
	}
	return []string{"GPCORE_DATA_DIR=" + cfg.DataDir}
}

// startServer runs `gpcore serve` on 127.0.0.1:0 with env and waits until it
// logs its address. Its log is printed if the test fails.
func startServer(t *testing.T, env ...string) *server {
	t.Helper()
	s := &server{done: make(chan struct{})}
	s.cmd = exec.Command(binary, "serve", "--listen", "127.0.0.1:0")
	s.cmd.Env = append(os.Environ(), env...)
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	s.cmd.Stdout = io.Discard
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addrc := make(chan string, 1)
	go func() {
		defer close(s.done)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			s.log.WriteString(line + "\n")
			if m := servingRE.FindStringSubmatch(line); m != nil {
				select {
				case addrc <- m[1]:
				default:
				}
			}
		}
		_ = s.cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = s.cmd.Process.Kill()
		<-s.done
		if t.Failed() {
			t.Logf("gpcore serve log:\n%s", s.log.String())
		}
	})
	select {
	case s.Addr = <-addrc:
	case <-s.done:
		t.Fatalf("gpcore serve exited before serving:\n%s", s.log.String())
	case <-time.After(time.Minute):
		t.Fatal("gpcore serve did not start within a minute")
	}
	s.URL = "http://" + s.Addr
	return s
}

// kill ends the process with SIGKILL and waits for it.
func (s *server) kill() {
	_ = s.cmd.Process.Kill()
	<-s.done
}

// dial opens a gRPC connection to s.
func (s *server) dial(t *testing.T) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(s.Addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// token signs in at the Keycloak-style token endpoint as the GPCORE SDK does:
// password grant, public client gpcore-cli.
func (s *server) token(t *testing.T, email, password string) string {
	t.Helper()
	resp, err := http.PostForm(s.URL+"/realms/gpcore/protocol/openid-connect/token", url.Values{
		"grant_type": {"password"},
		"client_id":  {"gpcore-cli"},
		"username":   {email},
		"password":   {password},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || tok.AccessToken == "" {
		t.Fatalf("token endpoint: %s: %s %s", resp.Status, tok.Error, tok.Description)
	}
	if !strings.EqualFold(tok.TokenType, "bearer") {
		t.Fatalf("token_type = %q, want Bearer", tok.TokenType)
	}
	return tok.AccessToken
}

// authed returns ctx carrying the token as the SDK sends it.
func authed(ctx context.Context, token string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
}

// eventually polls f every interval until it returns nil or d passes.
func eventually(t *testing.T, d time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v: %v", what, d, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
