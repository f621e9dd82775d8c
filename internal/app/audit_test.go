package app_test

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/gpcore/gpcore/internal/app"
	"github.com/gpcore/gpcore/internal/testserver"
)

// TestTrustedProxiesRefusesJunk: --trusted-proxies takes CIDR prefixes and
// addresses; anything else stops the start and is named.
func TestTrustedProxiesRefusesJunk(t *testing.T) {
	for _, bad := range []string{"10.0.0.0/33", "proxy.example.com", "10.0.0.1:8080"} {
		_, err := app.New(context.Background(), app.Config{
			Listen: "127.0.0.1:0", DataDir: t.TempDir(), LogLevel: "warn",
			TrustedProxies: []string{"192.0.2.0/24", bad},
		}, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "--trusted-proxies") || !strings.Contains(err.Error(), bad) {
			t.Errorf("TrustedProxies %q: err = %v, want it refused by name", bad, err)
		}
	}
}

// TestAuditMetrics: the audit log's counters are on /metrics from the start,
// drops at zero.
func TestAuditMetrics(t *testing.T) {
	s := testserver.Start(t, func(c *app.Config) { c.TrustedProxies = []string{"127.0.0.1", "fd00::/8"} })
	_, body := get(t, s.URL+"/metrics")
	for _, want := range []string{
		`gpcore_audit_entries_dropped_total{reason="queue_full"} 0`,
		`gpcore_audit_entries_dropped_total{reason="write_failed"} 0`,
		"gpcore_audit_entries_written_total 0",
		"gpcore_audit_queue_length 0",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
