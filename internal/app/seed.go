package app

import (
	"context"
	"fmt"
	"os"

	"github.com/gpcore/gpcore/internal/catalog"
)

// seedCatalog loads the seed file (or the embedded simulated datacenter) into
// an empty catalog; a catalog that has data is left alone.
func (a *App) seedCatalog(ctx context.Context) error {
	seed := catalog.DefaultSeed()
	if a.cfg.SeedFile != "" {
		var err error
		if seed, err = os.ReadFile(a.cfg.SeedFile); err != nil {
			return fmt.Errorf("--seed: %w", err)
		}
	}
	if err := catalog.Seed(ctx, a.db, seed); err != nil {
		if a.cfg.SeedFile != "" {
			return fmt.Errorf("--seed %s: %w", a.cfg.SeedFile, err)
		}
		return fmt.Errorf("embedded seed: %w", err)
	}
	return nil
}
