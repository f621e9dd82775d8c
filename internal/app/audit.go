package app

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	"github.com/gpcore/gpcore/internal/audit"
)

// AuditLog returns the audit log, for operators' tools and tests; Serve runs
// its writer.
func (a *App) AuditLog() *audit.Log { return a.audit }

// background runs run in a goroutine until the returned stop is called: stop
// ends run's context and waits for run to return. An error run returns is
// logged under name.
func (a *App) background(ctx context.Context, name string, run func(context.Context) error) (stop func()) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := run(ctx); err != nil {
			a.log.Error(name+" stopped", "err", err)
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// parseTrustedProxies reads --trusted-proxies: CIDR prefixes, or single
// addresses meaning just that address.
func parseTrustedProxies(list []string) ([]netip.Prefix, error) {
	var prefixes []netip.Prefix
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if p, err := netip.ParsePrefix(s); err == nil {
			prefixes = append(prefixes, p.Masked())
			continue
		}
		addr, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("--trusted-proxies: %q is neither a CIDR prefix (10.0.0.0/8) nor an IP address", s)
		}
		addr = addr.Unmap()
		prefixes = append(prefixes, netip.PrefixFrom(addr, addr.BitLen()))
	}
	return prefixes, nil
}
