package catalog

import (
	"context"
	"fmt"
	"time"

	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/pagination"
)

// Money is an amount in a currency's minor units: {Amount: 8900, Currency:
// EUR} is 89.00 EUR.
type Money struct {
	Amount   int64
	Currency Currency
}

// Flavour is a hardware configuration servers are sold as.
type Flavour struct {
	ID   string
	Name string
	// CPU, Memory, Disk and Network describe the hardware for people, e.g.
	// "AMD EPYC 4464P (12 cores, 3.7 GHz)", "64 GB DDR5 ECC".
	CPU     string
	Memory  string
	Disk    string
	Network string
	// CPUCores is the number of cores Windows SPLA licensing charges for.
	CPUCores int32
	// TrafficGB is the included traffic in GB per month.
	TrafficGB int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// SPLAPrice is the monthly price of the Windows Server SPLA licence on a
// flavour: Base covers the first 8 cores, every 2 cores beyond cost
// Additional2Cores.
type SPLAPrice struct {
	Base             Money
	Additional2Cores Money
}

// SPLABaseCores is the number of cores the SPLA base price covers.
const SPLABaseCores = 8

// MonthlyFee returns the SPLA fee per month for a server with the given
// number of cores: the base price, plus the 2-core price for every started
// pair of cores beyond SPLABaseCores.
func (s SPLAPrice) MonthlyFee(cores int32) Money {
	pairs := int64(0)
	if extra := int64(cores) - SPLABaseCores; extra > 0 {
		pairs = (extra + 1) / 2
	}
	return Money{Amount: s.Base.Amount + pairs*s.Additional2Cores.Amount, Currency: s.Base.Currency}
}

// DatacenterFlavour is a flavour as offered in one datacenter: its stock
// there and its prices in one currency, per-datacenter price overrides
// applied.
type DatacenterFlavour struct {
	Flavour
	DatacenterID string
	// PreOrderLimit is how many nodes may be pre-ordered while the flavour is
	// out of stock in the datacenter; 0 disables pre-orders.
	PreOrderLimit int32
	// FreeServers counts the servers of the flavour in the datacenter that a
	// new node could take now.
	FreeServers int64
	// Availability is computed from FreeServers and PreOrderLimit; see
	// AvailabilityOf.
	Availability  Availability
	PricePerHour  Money
	PricePerMonth Money
	// WindowsMonthlyFee is the monthly fee for Windows on this flavour; nil
	// when there is none.
	WindowsMonthlyFee *Money
	SPLA              SPLAPrice
}

// The stock thresholds of AvailabilityOf.
const (
	// LowStockMax is the most free servers that still count as LOW.
	LowStockMax = 2
	// MiddleStockMax is the most free servers that still count as MIDDLE;
	// more are HIGH.
	MiddleStockMax = 9
)

// AvailabilityOf computes a flavour's availability in a datacenter from its
// number of free servers there (in the pool, not in use, provisioning state
// AVAILABLE) and the datacenter's pre-order limit for it:
//
//	free servers   availability
//	0              PREORDER if preOrderLimit > 0, else OUT_OF_STOCK
//	1-2            LOW
//	3-9            MIDDLE
//	10 or more     HIGH
func AvailabilityOf(free int64, preOrderLimit int32) Availability {
	switch {
	case free <= 0 && preOrderLimit > 0:
		return PreOrder
	case free <= 0:
		return OutOfStock
	case free <= LowStockMax:
		return Low
	case free <= MiddleStockMax:
		return Middle
	default:
		return High
	}
}

// FlavourFilter selects the flavours ListFlavours returns.
type FlavourFilter struct {
	// DatacenterID is the datacenter whose offer is listed (required).
	DatacenterID string
	// Currency is the currency of the prices (required).
	Currency Currency
	// IncludeSoldOut keeps OUT_OF_STOCK flavours in the list. PREORDER ones
	// are always listed since they can be ordered.
	IncludeSoldOut bool
}

// ListFlavours returns page p of the flavours offered in a datacenter, sorted
// by name, and the number of flavours that passed the filter. It fails with
// NotFound naming "datacenter_id" when the datacenter does not exist.
func (c *Catalog) ListFlavours(ctx context.Context, f FlavourFilter, p pagination.Page) ([]DatacenterFlavour, int64, error) {
	flavours, err := c.datacenterFlavours(ctx, f.DatacenterID, "", f.Currency)
	if err != nil {
		return nil, 0, err
	}
	if !f.IncludeSoldOut {
		kept := flavours[:0]
		for _, fl := range flavours {
			if fl.Availability != OutOfStock {
				kept = append(kept, fl)
			}
		}
		flavours = kept
	}
	return pagination.Slice(flavours, p), int64(len(flavours)), nil
}

// GetFlavour returns a flavour as offered in a datacenter, priced in cur. It
// fails with NotFound when the datacenter does not exist (naming
// "datacenter_id") or does not offer the flavour.
func (c *Catalog) GetFlavour(ctx context.Context, datacenterID, flavourID string, cur Currency) (DatacenterFlavour, error) {
	flavours, err := c.datacenterFlavours(ctx, datacenterID, flavourID, cur)
	if err != nil {
		return DatacenterFlavour{}, err
	}
	if len(flavours) == 0 {
		return DatacenterFlavour{}, fault.NotFound("flavour", flavourID)
	}
	return flavours[0], nil
}

// offerRow is a flavour joined with its mapping to one datacenter and its
// prices in one currency.
type offerRow struct {
	flavourRow `bun:",extend"`

	PreOrderLimit   int32  `bun:"pre_order_limit"`
	PerHour         int64  `bun:"per_hour"`
	PerMonth        int64  `bun:"per_month"`
	WindowsPerMonth *int64 `bun:"windows_per_month"`
	SPLABase        int64  `bun:"spla_base"`
	SPLAPer2Cores   int64  `bun:"spla_per_2_cores"`
}

// datacenterFlavours returns the flavours offered in a datacenter (only
// flavourID's when it is not empty), sorted by name, with their stock.
func (c *Catalog) datacenterFlavours(ctx context.Context, datacenterID, flavourID string, cur Currency) ([]DatacenterFlavour, error) {
	if !cur.Valid() {
		return nil, fault.Invalid("currency", "unsupported currency %q", cur)
	}
	exists, err := c.db.NewSelect().Model((*datacenterRow)(nil)).Where("id = ?", datacenterID).Exists(ctx)
	if err != nil {
		return nil, fmt.Errorf("catalog: find datacenter %s: %w", datacenterID, err)
	}
	if !exists {
		// The id is the request's datacenter_id wherever it comes from.
		return nil, &fault.Error{Kind: fault.KindNotFound, Field: "datacenter_id",
			Message: fmt.Sprintf("datacenter %q not found", datacenterID)}
	}

	var rows []offerRow
	q := c.db.NewSelect().Model(&rows).
		ColumnExpr("f.*").
		ColumnExpr("m.pre_order_limit").
		ColumnExpr("COALESCE(o.per_hour, p.per_hour) AS per_hour").
		ColumnExpr("COALESCE(o.per_month, p.per_month) AS per_month").
		ColumnExpr("p.windows_per_month, p.spla_base, p.spla_per_2_cores").
		Join("JOIN flavour_datacenters AS m ON m.flavour_id = f.id").
		Join("JOIN flavour_prices AS p ON p.flavour_id = f.id AND p.currency = ?", cur).
		Join("LEFT JOIN flavour_datacenter_prices AS o"+
			" ON o.flavour_id = m.flavour_id AND o.datacenter_id = m.datacenter_id AND o.currency = ?", cur).
		Where("m.datacenter_id = ?", datacenterID).
		OrderExpr("f.name, f.id")
	if flavourID != "" {
		q = q.Where("f.id = ?", flavourID)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("catalog: flavours of datacenter %s: %w", datacenterID, err)
	}

	free, err := c.freeServers(ctx, datacenterID)
	if err != nil {
		return nil, err
	}
	flavours := make([]DatacenterFlavour, len(rows))
	for i, r := range rows {
		money := func(amount int64) Money { return Money{Amount: amount, Currency: cur} }
		df := DatacenterFlavour{
			Flavour: Flavour{
				ID:        r.ID,
				Name:      r.Name,
				CPU:       r.CPU,
				Memory:    r.Memory,
				Disk:      r.Disk,
				Network:   r.Network,
				CPUCores:  r.CPUCores,
				TrafficGB: r.TrafficGB,
				CreatedAt: r.CreatedAt.UTC(),
				UpdatedAt: r.UpdatedAt.UTC(),
			},
			DatacenterID:  datacenterID,
			PreOrderLimit: r.PreOrderLimit,
			FreeServers:   free[r.ID],
			Availability:  AvailabilityOf(free[r.ID], r.PreOrderLimit),
			PricePerHour:  money(r.PerHour),
			PricePerMonth: money(r.PerMonth),
			SPLA:          SPLAPrice{Base: money(r.SPLABase), Additional2Cores: money(r.SPLAPer2Cores)},
		}
		if r.WindowsPerMonth != nil {
			fee := money(*r.WindowsPerMonth)
			df.WindowsMonthlyFee = &fee
		}
		flavours[i] = df
	}
	return flavours, nil
}

// freeServers counts, per flavour, the servers in a datacenter that a new
// node could take: in the pool, not in use and AVAILABLE.
func (c *Catalog) freeServers(ctx context.Context, datacenterID string) (map[string]int64, error) {
	var counts []struct {
		FlavourID string `bun:"flavour_id"`
		Free      int64  `bun:"free"`
	}
	err := c.db.NewSelect().Model((*serverRow)(nil)).
		ColumnExpr("flavour_id, COUNT(*) AS free").
		Where("datacenter_id = ?", datacenterID).
		Where("in_pool = ?", true).
		Where("in_use = ?", false).
		Where("provision_state = ?", StateAvailable).
		GroupExpr("flavour_id").
		Scan(ctx, &counts)
	if err != nil {
		return nil, fmt.Errorf("catalog: free servers in datacenter %s: %w", datacenterID, err)
	}
	free := make(map[string]int64, len(counts))
	for _, c := range counts {
		free[c.FlavourID] = c.Free
	}
	return free, nil
}
