package catalog

import (
	"context"
	_ "embed" // the default seed file
	"fmt"
	"slices"
	"time"

	"github.com/uptrace/bun"

	"github.com/gpcore/gpcore/internal/store"
)

//go:embed seed/default.yaml
var defaultSeed []byte

// DefaultSeed returns the embedded default seed file: a simulated datacenter
// with servers, networks, flavours, public images and countries. Its header
// comment documents the seed file format.
func DefaultSeed() []byte { return slices.Clone(defaultSeed) }

// Seed loads a seed file into the catalog if the catalog is empty: no
// regions, flavours, operating systems or countries yet. A catalog that has
// any of them is left alone, so Seed can run on every start.
//
// The whole file is checked before anything is written; a bad file fails
// with every problem found, each a fault.Invalid error naming the entry and
// field (e.g. "regions[Europe].datacenters[fra1].servers[fra1-bm001].flavour"),
// even when the catalog is not empty. The rows are written in one
// transaction, under a lock, so replicas starting together seed once.
func Seed(ctx context.Context, db *store.DB, seedYAML []byte) error {
	rows, err := parseSeed(seedYAML, time.Now().UTC())
	if err != nil {
		return err
	}
	return db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := store.LockTx(ctx, tx, "catalog.seed"); err != nil {
			return err
		}
		empty, err := catalogEmpty(ctx, tx)
		if err != nil || !empty {
			return err
		}
		return rows.insert(ctx, tx)
	})
}

// catalogEmpty reports whether none of the catalog's root tables has rows.
func catalogEmpty(ctx context.Context, tx bun.Tx) (bool, error) {
	for _, model := range []any{
		(*regionRow)(nil), (*flavourRow)(nil), (*operatingSystemRow)(nil), (*countryRow)(nil),
	} {
		exists, err := tx.NewSelect().Model(model).Exists(ctx)
		if err != nil {
			return false, fmt.Errorf("catalog: check for an empty catalog: %w", err)
		}
		if exists {
			return false, nil
		}
	}
	return true, nil
}

// insert writes the rows, parents before children.
func (r *seedRows) insert(ctx context.Context, tx bun.Tx) error {
	for _, batch := range []struct {
		table string
		rows  any
		n     int
	}{
		{"regions", &r.regions, len(r.regions)},
		{"datacenters", &r.datacenters, len(r.datacenters)},
		{"datacenter_management_vlans", &r.managementVLANs, len(r.managementVLANs)},
		{"switches", &r.switches, len(r.switches)},
		{"flavours", &r.flavours, len(r.flavours)},
		{"flavour_prices", &r.flavourPrices, len(r.flavourPrices)},
		{"flavour_datacenters", &r.flavourDatacenters, len(r.flavourDatacenters)},
		{"flavour_datacenter_prices", &r.flavourDCPrices, len(r.flavourDCPrices)},
		{"networks", &r.networks, len(r.networks)},
		{"subnets", &r.subnets, len(r.subnets)},
		{"ip_addresses", &r.ipAddresses, len(r.ipAddresses)},
		{"servers", &r.servers, len(r.servers)},
		{"server_interfaces", &r.interfaces, len(r.interfaces)},
		{"operating_systems", &r.operatingSystems, len(r.operatingSystems)},
		{"images", &r.images, len(r.images)},
		{"image_flavours", &r.imageFlavours, len(r.imageFlavours)},
		{"cloud_provider_images", &r.cloudProviderImages, len(r.cloudProviderImages)},
		{"countries", &r.countries, len(r.countries)},
	} {
		if batch.n == 0 {
			continue
		}
		if _, err := tx.NewInsert().Model(batch.rows).Exec(ctx); err != nil {
			return fmt.Errorf("catalog: seed %s: %w", batch.table, err)
		}
	}
	return nil
}
