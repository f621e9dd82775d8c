package app_test

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/gpcore/gpcore/internal/app"
)

// TestCurrencyRefusesJunk: --currency takes the currencies the API knows,
// EUR and USD; anything else stops the start and is named.
func TestCurrencyRefusesJunk(t *testing.T) {
	for _, bad := range []string{"GBP", "euro", "$"} {
		_, err := app.New(context.Background(), app.Config{
			Listen: "127.0.0.1:0", DataDir: t.TempDir(), LogLevel: "warn", Currency: bad,
		}, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "--currency") || !strings.Contains(err.Error(), bad) {
			t.Errorf("Currency %q: err = %v, want it refused by name", bad, err)
		}
	}
}
