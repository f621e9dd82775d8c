package e2e_test

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// TestJourneyScript runs scripts/journey.sh against a `gpcore serve` child
// process, when the tools it needs are installed (CI installs them).
func TestJourneyScript(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "jq", "grpcurl", "ssh-keygen"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	srv := startServer(t, append(newDatabase(t), "GPCORE_SIM_STEP_DELAY=100ms")...)
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "..", "..", "scripts", "journey.sh")
	cmd := exec.CommandContext(t.Context(), "bash", script, srv.URL)
	cmd.Env = append(cmd.Environ(), "JOURNEY_TIMEOUT=60")
	out, err := cmd.CombinedOutput()
	t.Logf("journey.sh:\n%s", out)
	if err != nil {
		t.Fatalf("journey.sh: %v", err)
	}
}
