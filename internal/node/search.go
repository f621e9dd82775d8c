package node

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/gpcore/gpcore/internal/billing/metering"
	"github.com/gpcore/gpcore/internal/billing/usage"
	"github.com/gpcore/gpcore/internal/catalog"
	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/pagination"
)

// NodesPageLimit is the default (and largest) page of List. ListNodes is one
// of the costlier calls, each node bringing its server, addresses and
// catalog objects, so its pages are smaller than those of the light lists.
const NodesPageLimit = 50

// Query narrows List; zero fields do not filter.
type Query struct {
	// Search keeps the nodes that match every space-separated term, each in
	// one of: the FQDN, an IP address, a tag ("key=value"), the status; all
	// ignoring case, as substrings.
	Search string
	// Filters keep the nodes that pass every filter; SearchOptions lists
	// them.
	Filters []Filter
}

// Filter is one condition of an extended search: a SearchOption's name and
// a value, one of the option's Values for a DROPDOWN.
type Filter struct {
	Name  string
	Value string
}

// SearchOptionType says how a filter's value is given.
type SearchOptionType string

// The option types used: free text, and a choice from Values.
const (
	SearchString   SearchOptionType = "STRING"
	SearchDropdown SearchOptionType = "DROPDOWN"
)

// SearchOption is a filter the extended search of List accepts.
type SearchOption struct {
	Name        string
	Label       string
	Description string
	Type        SearchOptionType
	// Values are the choices of a DROPDOWN: value to label.
	Values map[string]string
}

// The filters, by name.
const (
	filterFQDN          = "fqdn"
	filterIP            = "ip"
	filterTag           = "tag"
	filterStatus        = "status"
	filterPowerState    = "power_state"
	filterDatacenter    = "datacenter_id"
	filterFlavour       = "flavour_id"
	filterImage         = "image_id"
	filterBillingPeriod = "billing_period"
)

// List returns page of the live nodes of a project userID is a confirmed
// member of (fault.NotFound otherwise) that q keeps, ordered by FQDN, and
// their number. An unknown filter, an empty value, or a status, power state
// or billing period the filter does not know, is InvalidArgument naming the
// filter ("extended_search.filters[i]"); an id that no node uses simply
// matches nothing.
func (s *Service) List(ctx context.Context, userID, projectID string, q Query, page pagination.Page) ([]Node, int64, error) {
	nodes, total, err := s.list(ctx, userID, projectID, q, page)
	return nodes, total, wrap("list", err)
}

func (s *Service) list(ctx context.Context, userID, projectID string, q Query, page pagination.Page) ([]Node, int64, error) {
	cur, err := s.memberCurrency(ctx, userID, projectID, fault.NotFound("project", projectID))
	if err != nil {
		return nil, 0, err
	}
	var views []nodeView
	sel := selectViews(s.db.DB, &views).
		Where("n.project_id = ?", projectID).Where("n.deleted_at IS NULL")
	for _, pattern := range likePatterns(q.Search) {
		sel = sel.WhereGroup(" AND ", func(g *bun.SelectQuery) *bun.SelectQuery {
			return g.Where("n.fqdn LIKE ? ESCAPE '!'", pattern).
				WhereOr("n.tags_search LIKE ? ESCAPE '!'", pattern).
				WhereOr("lower(s.provision_state) LIKE ? ESCAPE '!'", pattern).
				WhereOr(addressLike, pattern)
		})
	}
	now := s.now()
	for i, f := range q.Filters {
		if sel, err = applyFilter(sel, f, now); err != nil {
			return nil, 0, fault.Invalid(fmt.Sprintf("extended_search.filters[%d]", i), "%v", err)
		}
	}
	total, err := sel.OrderExpr("n.fqdn, n.id").Limit(int64(page.Limit)).Offset(page.Offset()).ScanAndCount(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("list nodes of project %s: %w", projectID, err)
	}
	nodes, err := s.assemble(ctx, s.db.DB, cur, views)
	if err != nil {
		return nil, 0, err
	}
	return nodes, int64(total), nil
}

// addressLike matches a node one of whose addresses is LIKE the argument.
// The subquery does not refer to the node, so both databases run it once
// per query rather than once per node.
const addressLike = "n.server_id IN (SELECT si.server_id FROM server_interfaces AS si JOIN ip_addresses AS ia ON ia.interface_id = si.id" +
	" WHERE ia.address LIKE ? ESCAPE '!')"

// likeEscaper escapes LIKE wildcards with '!', which needs no escaping in
// SQL string literals on either database (unlike a backslash).
var likeEscaper = strings.NewReplacer("!", "!!", "%", "!%", "_", "!_")

// likePatterns turns a search into one "contains" LIKE pattern per
// space-separated term, lower-cased (the searched columns are lower case).
func likePatterns(search string) []string {
	terms := strings.Fields(strings.ToLower(search))
	patterns := make([]string, len(terms))
	for i, t := range terms {
		patterns[i] = contains(t)
	}
	return patterns
}

// contains is the LIKE pattern of values containing s.
func contains(s string) string { return "%" + likeEscaper.Replace(s) + "%" }

// applyFilter adds the condition of f to q, a query of the nodes as they
// are at now.
func applyFilter(q *bun.SelectQuery, f Filter, now time.Time) (*bun.SelectQuery, error) {
	v := strings.TrimSpace(f.Value)
	if v == "" {
		return nil, fmt.Errorf("filter %q needs a value", f.Name)
	}
	switch f.Name {
	case filterFQDN:
		return q.Where("n.fqdn LIKE ? ESCAPE '!'", contains(strings.ToLower(v))), nil
	case filterIP:
		return q.Where(addressLike, contains(strings.ToLower(v))), nil
	case filterTag:
		// A whole tag "key=value", or a key: its line starts with "key=".
		pattern := "%\n" + likeEscaper.Replace(strings.ToLower(v)) + "\n%"
		if !strings.Contains(v, "=") {
			pattern = "%\n" + likeEscaper.Replace(strings.ToLower(v)) + "=%"
		}
		return q.Where("n.tags_search LIKE ? ESCAPE '!'", pattern), nil
	case filterStatus:
		state := catalog.ProvisionState(strings.ToUpper(v))
		if !state.Valid() {
			return nil, fmt.Errorf("unknown status %q", v)
		}
		return q.Where("s.provision_state = ?", state), nil
	case filterPowerState:
		power := catalog.PowerState(strings.ToUpper(v))
		if power != catalog.PowerOn && power != catalog.PowerOff {
			return nil, fmt.Errorf("unknown power state %q", v)
		}
		return q.Where("s.power_state = ?", power), nil
	case filterDatacenter, filterFlavour, filterImage:
		id, err := uuid.Parse(v)
		if err != nil {
			return nil, fmt.Errorf("%s %q is not an id (a UUID): GetNodeSearchOptions lists the ids", f.Name, v)
		}
		return q.Where("? = ?", bun.Ident("n."+f.Name), id.String()), nil
	case filterBillingPeriod:
		period := BillingPeriod(strings.ToUpper(v))
		if !period.Valid() {
			return nil, fmt.Errorf("unknown billing period %q", v)
		}
		// How the node is billed now is metering's, as the nodes read show
		// it: a pending change may have taken effect since the row was
		// written.
		return q.Where("n.id IN (?)", usage.NodesBilledBy(q.DB(), metering.Period(period), now)), nil
	}
	return nil, fmt.Errorf("unknown filter %q", f.Name)
}

// SearchOptions lists the filters List accepts for a project userID is a
// confirmed member of (fault.NotFound otherwise). The choices of the
// datacenter, flavour and image filters are those the project's live nodes
// use.
func (s *Service) SearchOptions(ctx context.Context, userID, projectID string) ([]SearchOption, error) {
	opts, err := s.searchOptions(ctx, userID, projectID)
	return opts, wrap("search options", err)
}

func (s *Service) searchOptions(ctx context.Context, userID, projectID string) ([]SearchOption, error) {
	cur, err := s.memberCurrency(ctx, userID, projectID, fault.NotFound("project", projectID))
	if err != nil {
		return nil, err
	}
	var used []struct {
		DatacenterID string `bun:"datacenter_id"`
		FlavourID    string `bun:"flavour_id"`
		ImageID      string `bun:"image_id"`
	}
	if err := s.db.NewSelect().Model((*nodeRow)(nil)).Distinct().
		Column("datacenter_id", "flavour_id", "image_id").
		Where("project_id = ?", projectID).Where("deleted_at IS NULL").
		Scan(ctx, &used); err != nil {
		return nil, fmt.Errorf("read what the nodes of %s use: %w", projectID, err)
	}
	cache := newCatalogCache(s.catalog, cur)
	datacenters, flavours, images := map[string]string{}, map[string]string{}, map[string]string{}
	for _, u := range used {
		dc, err := cache.datacenter(ctx, u.DatacenterID)
		if err != nil {
			return nil, err
		}
		f, err := cache.flavour(ctx, u.DatacenterID, u.FlavourID)
		if err != nil {
			return nil, err
		}
		img, err := cache.image(ctx, u.ImageID)
		if err != nil {
			return nil, err
		}
		datacenters[dc.ID], flavours[f.ID], images[img.ID] = dc.Name, f.Name, img.Name
	}
	states := map[string]string{}
	for _, st := range catalog.ProvisionStates() {
		states[string(st)] = string(st)
	}
	return []SearchOption{
		{Name: filterFQDN, Label: "FQDN", Description: "Nodes whose FQDN contains the text", Type: SearchString},
		{Name: filterIP, Label: "IP address", Description: "Nodes with an IP address that contains the text", Type: SearchString},
		{Name: filterTag, Label: "Tag", Description: `Nodes with the tag "key=value", or with a tag "key"`, Type: SearchString},
		{Name: filterStatus, Label: "Status", Description: "Nodes in the provisioning state", Type: SearchDropdown, Values: states},
		{Name: filterPowerState, Label: "Power", Description: "Nodes that are on or off", Type: SearchDropdown,
			Values: map[string]string{string(catalog.PowerOn): "On", string(catalog.PowerOff): "Off"}},
		{Name: filterDatacenter, Label: "Datacenter", Description: "Nodes in the datacenter", Type: SearchDropdown, Values: datacenters},
		{Name: filterFlavour, Label: "Flavour", Description: "Nodes of the flavour", Type: SearchDropdown, Values: flavours},
		{Name: filterImage, Label: "Image", Description: "Nodes installed with the image", Type: SearchDropdown, Values: images},
		{Name: filterBillingPeriod, Label: "Billing period", Description: "Nodes billed hourly or monthly", Type: SearchDropdown,
			Values: map[string]string{string(Hourly): "Hourly", string(Monthly): "Monthly"}},
	}, nil
}
