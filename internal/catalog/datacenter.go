package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/pagination"
)

// Region is a geographic region grouping datacenters.
type Region struct {
	ID   string
	Name string
	// CountryCode is the ISO 3166-1 alpha-2 code of the region's country.
	CountryCode string
	// NetboxID is the region's id in NetBox; 0 when it has none.
	NetboxID  int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Datacenter is a site where servers stand.
type Datacenter struct {
	ID   string
	Name string
	// Short is the datacenter's short code, e.g. "fra1".
	Short  string
	Region Region
	// Status tells whether the datacenter takes orders (AVAILABLE) or is only
	// announced (COMING_SOON) or closed for now (UNAVAILABLE).
	Status DatacenterStatus
	// LatencyEndpoint is a URL or host clients can measure latency against;
	// empty when there is none.
	LatencyEndpoint string
	// ManagementVLANIDs are the VLANs of the datacenter's management network,
	// ascending.
	ManagementVLANIDs []int32
	// ServerPrefix prefixes the names of the datacenter's servers.
	ServerPrefix string
	// NetboxID is the datacenter's site id in NetBox; 0 when it has none.
	NetboxID int64
}

// datacenterWithRegion is a datacenter row joined with its region.
type datacenterWithRegion struct {
	datacenterRow `bun:",extend"`

	Region *regionRow `bun:"rel:belongs-to,join:region_id=id"`
}

func (r *datacenterWithRegion) datacenter(vlans []int32) Datacenter {
	return Datacenter{
		ID:    r.ID,
		Name:  r.Name,
		Short: r.Short,
		Region: Region{
			ID:          r.Region.ID,
			Name:        r.Region.Name,
			CountryCode: r.Region.CountryCode,
			NetboxID:    r.Region.NetboxID,
			CreatedAt:   r.Region.CreatedAt.UTC(),
			UpdatedAt:   r.Region.UpdatedAt.UTC(),
		},
		Status:            r.Status,
		LatencyEndpoint:   r.LatencyEndpoint,
		ManagementVLANIDs: vlans,
		ServerPrefix:      r.ServerPrefix,
		NetboxID:          r.NetboxID,
	}
}

// ListDatacenters returns page p of all datacenters, whatever their status,
// sorted by name, and the number of datacenters.
func (c *Catalog) ListDatacenters(ctx context.Context, p pagination.Page) ([]Datacenter, int64, error) {
	var rows []datacenterWithRegion
	total, err := c.db.NewSelect().Model(&rows).Relation("Region").
		OrderExpr("dc.name, dc.id").
		Limit(int64(p.Limit)).Offset(p.Offset()).
		ScanAndCount(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("catalog: list datacenters: %w", err)
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	vlans, err := c.managementVLANs(ctx, ids...)
	if err != nil {
		return nil, 0, err
	}
	dcs := make([]Datacenter, len(rows))
	for i := range rows {
		dcs[i] = rows[i].datacenter(vlans[rows[i].ID])
	}
	return dcs, int64(total), nil
}

// GetDatacenter returns the datacenter with the given id, or a NotFound fault.
func (c *Catalog) GetDatacenter(ctx context.Context, id string) (Datacenter, error) {
	var row datacenterWithRegion
	err := c.db.NewSelect().Model(&row).Relation("Region").
		Where("dc.id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return Datacenter{}, fault.NotFound("datacenter", id)
	}
	if err != nil {
		return Datacenter{}, fmt.Errorf("catalog: get datacenter %s: %w", id, err)
	}
	vlans, err := c.managementVLANs(ctx, id)
	if err != nil {
		return Datacenter{}, err
	}
	return row.datacenter(vlans[id]), nil
}

// managementVLANs returns the management VLANs of the given datacenters.
func (c *Catalog) managementVLANs(ctx context.Context, datacenterIDs ...string) (map[string][]int32, error) {
	if len(datacenterIDs) == 0 {
		return nil, nil
	}
	var rows []managementVLANRow
	if err := c.db.NewSelect().Model(&rows).
		Where("datacenter_id IN (?)", bun.In(datacenterIDs)).
		Order("datacenter_id", "vlan_id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("catalog: management VLANs: %w", err)
	}
	vlans := make(map[string][]int32, len(datacenterIDs))
	for _, r := range rows {
		vlans[r.DatacenterID] = append(vlans[r.DatacenterID], r.VLANID)
	}
	return vlans, nil
}
