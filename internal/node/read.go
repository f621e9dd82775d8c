package node

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/uptrace/bun"

	"github.com/gpcore/gpcore/internal/billing/usage"
	"github.com/gpcore/gpcore/internal/catalog"
	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/project"
)

// nodeView is a node row with what its server says about it.
type nodeView struct {
	nodeRow `bun:",extend"`

	ServerName           string                 `bun:"server_name"`
	ProvisionState       catalog.ProvisionState `bun:"provision_state"`
	PowerState           catalog.PowerState     `bun:"power_state"`
	LastError            string                 `bun:"last_error"`
	PlatformManagementIP string                 `bun:"platform_management_ip"`
}

// selectViews starts a query for node views into dst, with the server
// joined as "s".
func selectViews(db bun.IDB, dst *[]nodeView) *bun.SelectQuery {
	return db.NewSelect().Model(dst).
		ColumnExpr("n.*").
		ColumnExpr("s.name AS server_name, s.provision_state, s.power_state, s.last_error, s.platform_management_ip").
		Join("JOIN servers AS s ON s.id = n.server_id")
}

// errNodeNotFound is the one answer for a node that does not exist, one in
// another project and one the caller may not see.
func errNodeNotFound(nodeID string) error { return fault.NotFound("node", nodeID) }

// Get returns a live node of a project userID is a confirmed member of;
// anything else is fault.NotFound.
func (s *Service) Get(ctx context.Context, userID, projectID, nodeID string) (Node, error) {
	cur, err := s.memberCurrency(ctx, userID, projectID, errNodeNotFound(nodeID))
	if err != nil {
		return Node{}, wrap("get", err)
	}
	n, err := s.read(ctx, cur, projectID, nodeID, false)
	return n, wrap("get", err)
}

// read reads a node of a project, priced in cur; a deleted one only if
// deleted is true.
func (s *Service) read(ctx context.Context, cur catalog.Currency, projectID, nodeID string, deleted bool) (Node, error) {
	var views []nodeView
	q := selectViews(s.db.DB, &views).Where("n.id = ?", nodeID).Where("n.project_id = ?", projectID)
	if !deleted {
		q = q.Where("n.deleted_at IS NULL")
	}
	if err := q.Scan(ctx); err != nil {
		return Node{}, fmt.Errorf("read node %s: %w", nodeID, err)
	}
	if len(views) == 0 {
		return Node{}, errNodeNotFound(nodeID)
	}
	nodes, err := s.assemble(ctx, s.db.DB, cur, views)
	if err != nil {
		return Node{}, err
	}
	return nodes[0], nil
}

// Viewers are the users who may see a change: the confirmed members of the
// project it belongs to, read after the change itself, so that nobody who
// was no longer a member by then sees it.
type Viewers struct {
	// ids are in id order.
	ids []string
}

// VisibleTo reports whether userID may see the change.
func (v Viewers) VisibleTo(userID string) bool {
	_, ok := slices.BinarySearch(v.ids, userID)
	return ok
}

// viewers reads the Viewers of a change to something of projectID.
func (s *Service) viewers(ctx context.Context, projectID string) (Viewers, error) {
	ids, err := s.projects.Audience(ctx, s.db.DB, projectID)
	return Viewers{ids: ids}, err
}

// Change is a changed node as change notifications show it, with who may
// see it.
type Change struct {
	Node Node
	Viewers
}

// Changed reads a node for a change notification, once for everyone who may
// see it (Change.VisibleTo says who): it checks no caller, and it also
// returns a node that has been deleted (DeletedAt set, Status DELETED), so
// that subscribers learn it is gone. A node that does not exist (in
// projectID) is fault.NotFound.
func (s *Service) Changed(ctx context.Context, projectID, nodeID string) (Change, error) {
	cur, err := s.projects.Currency(ctx, projectID)
	if fault.KindOf(err) == fault.KindNotFound {
		return Change{}, errNodeNotFound(nodeID)
	}
	if err != nil {
		return Change{}, wrap("read change", err)
	}
	n, err := s.read(ctx, catalog.Currency(cur), projectID, nodeID, true)
	if err != nil {
		return Change{}, wrap("read change", err)
	}
	v, err := s.viewers(ctx, projectID)
	if err != nil {
		return Change{}, wrap("read change", err)
	}
	return Change{Node: n, Viewers: v}, nil
}

// memberCurrency returns the currency of a project userID is a confirmed
// member of, and notFound for anyone else: what a non-member asks about does
// not exist for them.
func (s *Service) memberCurrency(ctx context.Context, userID, projectID string, notFound error) (catalog.Currency, error) {
	p, err := s.projects.Get(ctx, userID, projectID)
	if fault.KindOf(err) == fault.KindNotFound {
		return "", notFound
	}
	if err != nil {
		return "", err
	}
	return catalog.Currency(p.Currency), nil
}

// loadLive reads live nodes of a project by id, in the order given, for the
// answer to a change (the caller checked membership).
func (s *Service) loadLive(ctx context.Context, cur catalog.Currency, projectID string, ids ...string) ([]Node, error) {
	var views []nodeView
	if err := selectViews(s.db.DB, &views).
		Where("n.id IN (?)", bun.In(ids)).Where("n.project_id = ?", projectID).Where("n.deleted_at IS NULL").
		Scan(ctx); err != nil {
		return nil, fmt.Errorf("read nodes: %w", err)
	}
	byID := make(map[string]nodeView, len(views))
	for _, v := range views {
		byID[v.ID] = v
	}
	ordered := make([]nodeView, 0, len(ids))
	for _, id := range ids {
		if v, ok := byID[id]; ok {
			ordered = append(ordered, v)
		}
	}
	return s.assemble(ctx, s.db.DB, cur, ordered)
}

// catalogCache remembers the catalog objects of one answer, which nodes
// share: a page of nodes usually has one or two datacenters, flavours and
// images between them.
type catalogCache struct {
	catalog     *catalog.Catalog
	currency    catalog.Currency
	datacenters map[string]catalog.Datacenter
	flavours    map[[2]string]catalog.DatacenterFlavour
	images      map[string]catalog.Image
}

func newCatalogCache(cat *catalog.Catalog, cur catalog.Currency) *catalogCache {
	return &catalogCache{
		catalog: cat, currency: cur,
		datacenters: map[string]catalog.Datacenter{},
		flavours:    map[[2]string]catalog.DatacenterFlavour{},
		images:      map[string]catalog.Image{},
	}
}

func (c *catalogCache) datacenter(ctx context.Context, id string) (catalog.Datacenter, error) {
	if dc, ok := c.datacenters[id]; ok {
		return dc, nil
	}
	dc, err := c.catalog.GetDatacenter(ctx, id)
	if err != nil {
		return catalog.Datacenter{}, err
	}
	c.datacenters[id] = dc
	return dc, nil
}

func (c *catalogCache) flavour(ctx context.Context, datacenterID, flavourID string) (catalog.DatacenterFlavour, error) {
	key := [2]string{datacenterID, flavourID}
	if f, ok := c.flavours[key]; ok {
		return f, nil
	}
	f, err := c.catalog.GetFlavour(ctx, datacenterID, flavourID, c.currency)
	if err != nil {
		return catalog.DatacenterFlavour{}, err
	}
	c.flavours[key] = f
	return f, nil
}

func (c *catalogCache) image(ctx context.Context, id string) (catalog.Image, error) {
	if img, ok := c.images[id]; ok {
		return img, nil
	}
	img, err := c.catalog.GetImage(ctx, id)
	if err != nil {
		return catalog.Image{}, err
	}
	c.images[id] = img
	return img, nil
}

// assemble turns node views into Nodes: their interfaces and addresses,
// their billing now, and the catalog objects they name, priced in cur. Its
// queries do not grow with the number of nodes: one for the interfaces, one
// for the billing, and one per distinct catalog object.
func (s *Service) assemble(ctx context.Context, db bun.IDB, cur catalog.Currency, views []nodeView) ([]Node, error) {
	serverIDs := make([]string, 0, len(views))
	liveIDs := make([]string, 0, len(views))
	for _, v := range views {
		if v.DeletedAt == nil {
			serverIDs = append(serverIDs, v.ServerID)
			liveIDs = append(liveIDs, v.ID)
		}
	}
	interfaces, err := loadInterfaces(ctx, db, serverIDs)
	if err != nil {
		return nil, err
	}
	// The rows show the billing as of their last change; the usage says how
	// it is now (an hour on, paid_until_at has moved).
	billed, err := usage.CurrentManyTx(ctx, db, liveIDs, s.now())
	if err != nil {
		return nil, err
	}
	cache := newCatalogCache(s.catalog, cur)
	nodes := make([]Node, len(views))
	for i, v := range views {
		n, err := v.node()
		if err != nil {
			return nil, err
		}
		if n.Datacenter, err = cache.datacenter(ctx, v.DatacenterID); err != nil {
			return nil, err
		}
		if n.Flavour, err = cache.flavour(ctx, v.DatacenterID, v.FlavourID); err != nil {
			return nil, err
		}
		if n.Image, err = cache.image(ctx, v.ImageID); err != nil {
			return nil, err
		}
		n.Login.Username = n.Image.Username
		if n.Status == catalog.StateRescue {
			n.Login = LoginHint{Username: "root", HasPassword: true}
		}
		if v.DeletedAt == nil {
			n.Interfaces = interfaces[v.ServerID]
			st := billed[v.ID]
			n.BillingPeriod, n.TargetBillingPeriod, n.PaidUntil = BillingPeriod(st.Period), BillingPeriod(st.Target), st.PaidUntil.UTC()
		}
		nodes[i] = n
	}
	return nodes, nil
}

// node is the view's Node, without what assemble adds.
func (v nodeView) node() (Node, error) {
	tags := map[string]string{}
	if err := json.Unmarshal([]byte(v.Tags), &tags); err != nil {
		return Node{}, fmt.Errorf("node %s: tags: %w", v.ID, err)
	}
	n := Node{
		ID:                  v.ID,
		ProjectID:           v.ProjectID,
		FQDN:                v.FQDN,
		Status:              v.ProvisionState,
		PowerState:          v.PowerState,
		LastError:           v.LastError,
		Tags:                tags,
		HasConsoleAccess:    v.PlatformManagementIP != "" && !v.destroyed(),
		BillingPeriod:       BillingPeriod(v.BillingPeriod),
		TargetBillingPeriod: BillingPeriod(v.TargetBillingPeriod),
		PaidUntil:           v.PaidUntilAt.UTC(),
		Login:               LoginHint{HasPassword: v.HasPassword},
		Busy:                v.Operation != "" || v.PowerTarget != "",
		CreatedAt:           v.CreatedAt.UTC(),
		UpdatedAt:           v.UpdatedAt.UTC(),
	}
	if catalog.PowerState(v.PowerTarget) == catalog.PowerReset {
		// A reset leaves the power as it was: RESET is how the node shows
		// that one is under way, and ON again that it has ended.
		n.PowerState = catalog.PowerReset
	}
	if v.DeletedAt != nil {
		// The server may run another node by now: nothing of it is this
		// node's any more.
		n.DeletedAt = v.DeletedAt.UTC()
		n.Status, n.PowerState, n.LastError, n.HasConsoleAccess = catalog.StateDeleted, catalog.PowerOff, "", false
	}
	return n, nil
}

// loadInterfaces reads the public interfaces of servers with their
// addresses, IPv4 first, by server id.
func loadInterfaces(ctx context.Context, db bun.IDB, serverIDs []string) (map[string][]Interface, error) {
	out := map[string][]Interface{}
	if len(serverIDs) == 0 {
		return out, nil
	}
	var rows []struct {
		ServerID   string              `bun:"server_id"`
		MACAddress string              `bun:"mac_address"`
		Type       catalog.NetworkType `bun:"type"`
		Address    sql.NullString      `bun:"address"`
	}
	err := db.NewSelect().TableExpr("server_interfaces AS i").
		ColumnExpr("i.server_id, i.mac_address, i.type, a.address").
		Join("LEFT JOIN ip_addresses AS a ON a.interface_id = i.id").
		Join("LEFT JOIN subnets AS sn ON sn.id = a.subnet_id").
		Where("i.server_id IN (?)", bun.In(serverIDs)).
		Where("i.type = ?", catalog.NetworkPublic).
		OrderExpr("i.server_id, i.mac_address, sn.ip_version, a.pool_index").
		Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("read interfaces: %w", err)
	}
	for _, r := range rows {
		ifaces := out[r.ServerID]
		if len(ifaces) == 0 || ifaces[len(ifaces)-1].MAC != r.MACAddress {
			ifaces = append(ifaces, Interface{MAC: r.MACAddress, Type: r.Type})
		}
		if r.Address.Valid {
			last := &ifaces[len(ifaces)-1]
			last.IPs = append(last.IPs, r.Address.String)
		}
		out[r.ServerID] = ifaces
	}
	return out, nil
}

// NodeLimit returns how many live nodes userID may have at once and how
// many they have: the nodes they ordered, in any project, that are not
// deleted yet.
func (s *Service) NodeLimit(ctx context.Context, userID string) (limit, current int, err error) {
	limit, err = nodeLimit(ctx, s.db.DB, userID, false)
	if err != nil {
		return 0, 0, wrap("node limit", err)
	}
	current, err = liveNodesOf(ctx, s.db.DB, userID)
	return limit, current, wrap("node limit", err)
}

// nodeLimit reads the node limit of a user from the identity domain's users
// table; lock locks the user's row until the transaction db ends, so that
// orders by one user are checked against the limit one at a time.
func nodeLimit(ctx context.Context, db bun.IDB, userID string, lock bool) (int, error) {
	var limit int
	q := db.NewSelect().TableExpr("users").Column("node_limit").Where("id = ?", userID)
	if lock {
		q = lockForNoKeyUpdate(q)
	}
	err := q.Scan(ctx, &limit)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fault.NotFound("user", userID)
	}
	if err != nil {
		return 0, fmt.Errorf("read node limit of %s: %w", userID, err)
	}
	return limit, nil
}

// liveNodesOf counts the live nodes a user ordered.
func liveNodesOf(ctx context.Context, db bun.IDB, userID string) (int, error) {
	n, err := db.NewSelect().Model((*nodeRow)(nil)).
		Where("ordered_by = ?", userID).Where("deleted_at IS NULL").
		Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count nodes of %s: %w", userID, err)
	}
	return int(n), nil
}

// DeletionGuard keeps a project with live nodes from being deleted; it is
// the node domain's project.DeletionGuard.
type DeletionGuard struct{}

var _ project.DeletionGuard = DeletionGuard{}

// DeletionBlocker implements project.DeletionGuard: a project that still has
// live nodes (destroyed ones count until their server is cleaned) cannot be
// deleted.
func (DeletionGuard) DeletionBlocker(ctx context.Context, db bun.IDB, projectID string) (string, error) {
	n, err := db.NewSelect().Model((*nodeRow)(nil)).
		Where("project_id = ?", projectID).Where("deleted_at IS NULL").
		Count(ctx)
	if err != nil {
		return "", fmt.Errorf("node: count nodes of project %s: %w", projectID, err)
	}
	switch n {
	case 0:
		return "", nil
	case 1:
		return "it still has a node", nil
	default:
		return fmt.Sprintf("it still has %d nodes", n), nil
	}
}
