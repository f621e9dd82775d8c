package node

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/gpcore/gpcore/internal/billing/metering"
	"github.com/gpcore/gpcore/internal/billing/usage"
	"github.com/gpcore/gpcore/internal/catalog"
	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/identity"
	"github.com/gpcore/gpcore/internal/keyring"
	"github.com/gpcore/gpcore/internal/provision"
	"github.com/gpcore/gpcore/internal/store"
)

// Limits of an order, and of the credentials and user data it carries.
const (
	// MaxNodesPerOrder bounds the FQDNs, and so the nodes, of one order.
	MaxNodesPerOrder = 50
	// MinPasswordLength and MaxPasswordLength bound a root password, in
	// characters: the bounds of an account's password (a node's root
	// password guards a server on the internet).
	MinPasswordLength = identity.MinPasswordLength
	MaxPasswordLength = identity.MaxPasswordLength
	// MaxUserDataBytes bounds cloud-init user data, as Ironic's config drive
	// carries it.
	MaxUserDataBytes = 64 << 10
)

// Order is what CreateNode asks for: one node per FQDN, alike in all else.
type Order struct {
	ProjectID    string
	DatacenterID string
	FlavourID    string
	ImageID      string
	// FQDNs name the nodes, one each; see NormalizeFQDN.
	FQDNs []string
	// SSHKeyIDs are keys of project members to install for root.
	SSHKeyIDs []string
	// Password is the root password; with neither keys nor a password, a
	// random one is generated.
	Password string
	// UserData is cloud-init user data, passed on unchanged.
	UserData string
	// BillingPeriod is HOURLY or MONTHLY; empty means HOURLY.
	BillingPeriod BillingPeriod
}

// installedKey is an SSH key as a node keeps it: a copy of the key as it
// was when installed (nodes.ssh_keys).
type installedKey struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Fingerprint string `json:"fingerprint"`
	PublicKey   string `json:"public_key"`
}

// credentials are how root logs in to an installation.
type credentials struct {
	keys []installedKey
	// password is the root password given; generate is true when there is
	// none and no key either, and each node gets a random one.
	password string
	generate bool
}

// rootPassword returns the password one node is installed with.
func (c credentials) rootPassword() string {
	if c.generate {
		return rand.Text()
	}
	return c.password
}

// Create orders nodes for userID in a project, one per FQDN, and returns
// them, DEPLOYING: the servers, their addresses, the nodes and their
// install jobs are written in one transaction, and the jobs install them in
// the background.
//
// Every precondition is checked before anything is written; the first that
// fails refuses the whole order with a fault error:
//
//   - InvalidArgument for a malformed FQDN, password, user data or billing
//     period, naming the field;
//   - NotFound for a project userID is not a confirmed member of;
//   - FailedPrecondition when the project is locked (GetProjectLocks);
//   - ResourceExhausted when the nodes would exceed the user's node limit;
//   - NotFound for an unknown datacenter, FailedPrecondition naming
//     "datacenter_id" for one that is not AVAILABLE;
//   - NotFound for a flavour the datacenter does not offer,
//     ResourceExhausted naming "flavour_id" when it has fewer free servers
//     than FQDNs, or naming "datacenter_id" when its address pool has too
//     few free addresses;
//   - NotFound for an unknown image, FailedPrecondition naming "image_id"
//     for one that is unavailable or not installable on the flavour;
//   - InvalidArgument naming "ssh_key_ids" for a key that is not a project
//     member's; FailedPrecondition naming "ssh_key_ids" or "password" when
//     the image does not accept that way of logging in;
//   - AlreadyExists naming "fqdns" when a live node has one of the names.
//
// The transaction checks stock, the node limit and the names again under
// locks: two orders racing for the last server never both get it, the
// loser is refused as above.
func (s *Service) Create(ctx context.Context, userID string, o Order) ([]Node, error) {
	nodes, err := s.create(ctx, userID, o)
	return nodes, wrap("create", err)
}

func (s *Service) create(ctx context.Context, userID string, o Order) ([]Node, error) {
	fqdns, err := checkFQDNs(o.FQDNs)
	if err != nil {
		return nil, err
	}
	if err := checkPassword(o.Password); err != nil {
		return nil, err
	}
	if err := checkUserData(o.UserData); err != nil {
		return nil, err
	}
	period := o.BillingPeriod
	if period == "" {
		period = Hourly
	}
	if !period.Valid() {
		return nil, fault.Invalid("billing_period", "unknown billing period %q", period)
	}
	n := len(fqdns)

	cur, err := s.memberCurrency(ctx, userID, o.ProjectID, fault.NotFound("project", o.ProjectID))
	if err != nil {
		return nil, err
	}
	locks, err := s.projects.Locks(ctx, userID, o.ProjectID)
	if err != nil {
		return nil, err
	}
	if len(locks) > 0 {
		names := make([]string, len(locks))
		for i, l := range locks {
			names[i] = string(l)
		}
		return nil, fault.Precondition("the project is locked (%s): no new nodes until that is resolved", strings.Join(names, ", "))
	}
	limit, current, err := s.NodeLimit(ctx, userID)
	if err != nil {
		return nil, err
	}
	if current+n > limit {
		return nil, errOverLimit(limit, current, n)
	}
	dc, err := s.catalog.GetDatacenter(ctx, o.DatacenterID)
	if err != nil {
		return nil, err
	}
	if dc.Status != catalog.DatacenterAvailable {
		return nil, &fault.Error{Kind: fault.KindFailedPrecondition, Field: "datacenter_id",
			Message: fmt.Sprintf("datacenter %s is %s: orders are taken only in AVAILABLE datacenters", dc.Name, dc.Status)}
	}
	flavour, err := s.catalog.GetFlavour(ctx, dc.ID, o.FlavourID, cur)
	if err != nil {
		return nil, err
	}
	if flavour.FreeServers < int64(n) {
		return nil, errOutOfStock(flavour.Name, dc.Name)
	}
	free, err := freeAddresses(ctx, s.db.DB, dc.ID)
	if err != nil {
		return nil, err
	}
	if free < int64(n) {
		return nil, errNoAddresses(dc.Name)
	}
	image, err := s.installableImage(ctx, o.ImageID, flavour.Flavour)
	if err != nil {
		return nil, err
	}
	creds, err := s.credentials(ctx, o.ProjectID, image, o.SSHKeyIDs, o.Password)
	if err != nil {
		return nil, err
	}
	if err := fqdnsFree(ctx, s.db.DB, "fqdns", "", fqdns...); err != nil {
		return nil, err
	}

	keysJSON, err := json.Marshal(creds.keys)
	if err != nil {
		return nil, fmt.Errorf("encode keys: %w", err)
	}
	now := s.now()
	rows := make([]nodeRow, n)
	for i, fqdn := range fqdns {
		id, err := uuid.NewV7()
		if err != nil {
			return nil, fmt.Errorf("node id: %w", err)
		}
		rows[i] = nodeRow{
			ID: id.String(), ProjectID: o.ProjectID, DatacenterID: dc.ID, FlavourID: flavour.ID, ImageID: image.ID,
			OrderedBy: userID, FQDN: fqdn, Tags: "{}", TagsSearch: tagsSearch(nil),
			BillingPeriod: string(period), PaidUntilAt: period.firstTermEnd(now),
			SSHKeys: string(keysJSON), HasPassword: creds.password != "" || creds.generate, UserData: o.UserData,
			Operation: opDeploy, CreatedAt: now, UpdatedAt: now,
		}
	}
	err = s.hub.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := lockProjectRow(ctx, tx, o.ProjectID); err != nil {
			return err
		}
		limit, err := nodeLimit(ctx, tx, userID, true)
		if err != nil {
			return err
		}
		current, err := liveNodesOf(ctx, tx, userID)
		if err != nil {
			return err
		}
		if current+n > limit {
			return errOverLimit(limit, current, n)
		}
		servers, err := takeServers(ctx, tx, dc.ID, flavour.ID, n, now)
		if err != nil {
			return err
		}
		if len(servers) < n {
			return errOutOfStock(flavour.Name, dc.Name)
		}
		ifaces, err := publicInterfaces(ctx, tx, servers)
		if err != nil {
			return err
		}
		if err := assignAddresses(ctx, tx, dc, ifaces, now); err != nil {
			return err
		}
		for i := range rows {
			rows[i].ServerID = servers[i].ID
		}
		if _, err := tx.NewInsert().Model(&rows).Exec(ctx); err != nil {
			if store.IsUniqueViolation(err) {
				return errNamesRaced
			}
			return fmt.Errorf("insert nodes: %w", err)
		}
		for i, r := range rows {
			// Metering starts with the order (internal/billing/usage); its
			// first term ends on the payer's clock, which differs from
			// UTC's (firstTermEnd) in zones with a half-hour offset.
			paidUntil, err := usage.StartTx(ctx, tx, usage.ForOrder(r.ID, o.ProjectID, flavour, image, metering.Period(period), now))
			if err != nil {
				return err
			}
			if !paidUntil.Equal(r.PaidUntilAt) {
				if _, err := tx.NewUpdate().Model((*nodeRow)(nil)).Set("paid_until_at = ?", paidUntil).Where("id = ?", r.ID).Exec(ctx); err != nil {
					return fmt.Errorf("record paid until of node %s: %w", r.ID, err)
				}
			}
			if r.HasPassword {
				if err := s.setSecret(ctx, tx, r.ID, secretRootPassword, creds.rootPassword()); err != nil {
					return err
				}
			}
			logIDs, err := s.writeLogs(ctx, tx, servers[i].ID, r.ID,
				info(SourceInternal, "Node %s ordered: installing %s", r.FQDN, image.Name))
			if err != nil {
				return err
			}
			if err := s.projects.Log(ctx, tx, o.ProjectID, userID,
				fmt.Sprintf("ordered the node %s (%s in %s, %s)", r.FQDN, flavour.Name, dc.Name, image.Name)); err != nil {
				return err
			}
			if _, err := s.queue.InsertTx(ctx, tx, installArgs{NodeID: r.ID}, nil); err != nil {
				return err
			}
			if err := s.publish(ctx, tx, o.ProjectID, r.ID, logIDs...); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, errNamesRaced) {
		return nil, s.nameTakenInRace(ctx, fqdns)
	}
	if err != nil {
		return nil, err
	}
	ids := make([]string, n)
	for i, r := range rows {
		ids[i] = r.ID
	}
	return s.loadLive(ctx, cur, o.ProjectID, ids...)
}

// The refusals an order meets both before and inside its transaction.

func errOverLimit(limit, current, ordered int) error {
	inUse := fmt.Sprintf("%d nodes in use", current)
	if current == 1 {
		inUse = "1 node in use"
	}
	return fault.Exhausted("node limit of %d exceeded: %s, %d ordered", limit, inUse, ordered)
}

func errOutOfStock(flavour, datacenter string) error {
	return &fault.Error{Kind: fault.KindResourceExhausted, Field: "flavour_id",
		Message: fmt.Sprintf("not enough free %s servers in %s", flavour, datacenter)}
}

func errNoAddresses(datacenter string) error {
	return &fault.Error{Kind: fault.KindResourceExhausted, Field: "datacenter_id",
		Message: fmt.Sprintf("not enough free IP addresses in %s", datacenter)}
}

// errNamesRaced is an order's insert meeting the unique index on the names
// of live nodes: another order or a rename took a name after the check.
var errNamesRaced = errors.New("node: a name was taken while the order was written")

// nameTakenInRace is the refusal of an order that met errNamesRaced: the one
// fqdnsFree gives, naming the name taken, now that the other transaction
// has committed. Should that node be gone again already, every name of the
// order is named.
func (s *Service) nameTakenInRace(ctx context.Context, fqdns []string) error {
	if err := fqdnsFree(ctx, s.db.DB, "fqdns", "", fqdns...); err != nil {
		return err
	}
	return errNameTaken("fqdns", strings.Join(fqdns, " or "))
}

func errNameTaken(field, fqdn string) error {
	return &fault.Error{Kind: fault.KindAlreadyExists, Field: field, Message: fmt.Sprintf("a node named %s exists already", fqdn)}
}

// checkFQDNs normalises the names of an order: at least one, at most
// MaxNodesPerOrder, each valid, none twice.
func checkFQDNs(raw []string) ([]string, error) {
	if len(raw) == 0 {
		return nil, fault.Invalid("fqdns", "at least one FQDN is required, one per node")
	}
	if len(raw) > MaxNodesPerOrder {
		return nil, fault.Invalid("fqdns", "at most %d nodes per order", MaxNodesPerOrder)
	}
	out := make([]string, len(raw))
	for i, name := range raw {
		fqdn, err := NormalizeFQDN(name)
		if err != nil {
			return nil, fault.Invalid("fqdns", "%q: %v", name, err)
		}
		if slices.Contains(out[:i], fqdn) {
			return nil, fault.Invalid("fqdns", "%q is ordered twice", fqdn)
		}
		out[i] = fqdn
	}
	return out, nil
}

// checkPassword checks a root password a customer chose; empty is none.
// It must be 10 to 128 characters of at least two kinds
// (identity.CharacterKinds), without control characters.
func checkPassword(password string) error {
	if password == "" {
		return nil
	}
	n := utf8.RuneCountInString(password)
	switch {
	case !utf8.ValidString(password):
		return fault.Invalid("password", "not valid UTF-8")
	case n < MinPasswordLength || n > MaxPasswordLength:
		return fault.Invalid("password", "must be %d to %d characters long", MinPasswordLength, MaxPasswordLength)
	case strings.IndexFunc(password, unicode.IsControl) >= 0:
		return fault.Invalid("password", "must not contain control characters")
	case identity.CharacterKinds(password) < 2:
		return fault.Invalid("password", "must mix at least two kinds of characters (lower-case letters, upper-case letters, digits, other characters)")
	}
	return nil
}

// checkUserData checks the size of cloud-init user data.
func checkUserData(data string) error {
	if len(data) > MaxUserDataBytes {
		return fault.Invalid("user_data", "at most %d bytes", MaxUserDataBytes)
	}
	return nil
}

// installableImage returns the image with the given id if new nodes of the
// flavour may be installed with it.
func (s *Service) installableImage(ctx context.Context, imageID string, flavour catalog.Flavour) (catalog.Image, error) {
	img, err := s.catalog.GetImage(ctx, imageID)
	if err != nil {
		return catalog.Image{}, err
	}
	refuse := func(format string, args ...any) error {
		return &fault.Error{Kind: fault.KindFailedPrecondition, Field: "image_id", Message: fmt.Sprintf(format, args...)}
	}
	if !img.Public {
		return catalog.Image{}, fault.NotFound("image", imageID)
	}
	if !img.Available {
		return catalog.Image{}, refuse("image %s is not available for new installations", img.Name)
	}
	ok, err := s.catalog.ImageInstallable(ctx, img.ID, flavour.ID)
	if err != nil {
		return catalog.Image{}, err
	}
	if !ok {
		return catalog.Image{}, refuse("image %s cannot be installed on %s", img.Name, flavour.Name)
	}
	return img, nil
}

// credentials checks how root is to log in to an installation of img: the
// keys must belong to members of the project and the image must accept
// each way asked for; with neither keys nor a password, a password is
// generated, which the image must accept.
func (s *Service) credentials(ctx context.Context, projectID string, img catalog.Image, keyIDs []string, password string) (credentials, error) {
	accepts := func(a catalog.AuthenticationType) bool { return slices.Contains(img.AuthenticationTypes, a) }
	refuse := func(field, format string, args ...any) error {
		return &fault.Error{Kind: fault.KindFailedPrecondition, Field: field, Message: fmt.Sprintf(format, args...)}
	}
	var c credentials
	if len(keyIDs) > 0 {
		if !accepts(catalog.AuthSSH) {
			return credentials{}, refuse(keyring.KeyIDsField, "image %s does not accept SSH keys; set a password", img.Name)
		}
		keys, err := s.keys.KeysForProject(ctx, projectID, keyIDs)
		if err != nil {
			return credentials{}, err
		}
		for _, k := range keys {
			c.keys = append(c.keys, installedKey{ID: k.ID, Name: k.Name, Fingerprint: k.Fingerprint, PublicKey: k.PublicKey})
		}
	}
	switch {
	case password != "":
		if !accepts(catalog.AuthPassword) {
			return credentials{}, refuse("password", "image %s does not accept passwords; give SSH keys", img.Name)
		}
		c.password = password
	case len(c.keys) == 0:
		if !accepts(catalog.AuthPassword) {
			return credentials{}, refuse(keyring.KeyIDsField, "image %s logs in with SSH keys only; give at least one", img.Name)
		}
		c.generate = true
	}
	return c, nil
}

// fqdnsFree refuses names a live node other than exceptID has, with
// AlreadyExists naming field and the first of fqdns that is taken.
func fqdnsFree(ctx context.Context, db bun.IDB, field, exceptID string, fqdns ...string) error {
	var taken []string
	q := db.NewSelect().Model((*nodeRow)(nil)).Column("fqdn").
		Where("fqdn IN (?)", bun.In(fqdns)).Where("deleted_at IS NULL")
	if exceptID != "" {
		q = q.Where("id <> ?", exceptID)
	}
	if err := q.Scan(ctx, &taken); err != nil {
		return fmt.Errorf("check names: %w", err)
	}
	for _, fqdn := range fqdns {
		if slices.Contains(taken, fqdn) {
			return errNameTaken(field, fqdn)
		}
	}
	return nil
}

// lockProjectRow holds the project's row until tx ends, before anything
// else is locked (see lock.go), and reports a project that is gone.
func lockProjectRow(ctx context.Context, tx bun.Tx, projectID string) error {
	var id string
	err := lockForKeyShare(tx.NewSelect().TableExpr("projects").Column("id").Where("id = ?", projectID)).Scan(ctx, &id)
	if errors.Is(err, sql.ErrNoRows) {
		return fault.NotFound("project", projectID)
	}
	if err != nil {
		return fmt.Errorf("lock project %s: %w", projectID, err)
	}
	return nil
}

// freeServersQuery selects the servers of a flavour in a datacenter that a
// new node may take: in the pool, not in use, AVAILABLE.
func freeServersQuery(q *bun.SelectQuery, datacenterID, flavourID string) *bun.SelectQuery {
	return q.Where("s.datacenter_id = ?", datacenterID).Where("s.flavour_id = ?", flavourID).
		Where("s.in_pool = ?", true).Where("s.in_use = ?", false).
		Where("s.provision_state = ?", catalog.StateAvailable)
}

// takeServers takes up to n free servers for new nodes: locked, marked in
// use and DEPLOYING. Concurrent takers skip each other's rows, so each gets
// different servers; fewer than n means the stock ran out.
func takeServers(ctx context.Context, tx bun.Tx, datacenterID, flavourID string, n int, now time.Time) ([]serverRow, error) {
	var servers []serverRow
	q := freeServersQuery(tx.NewSelect().Model(&servers), datacenterID, flavourID).OrderExpr("s.name").Limit(int64(n))
	if err := store.ForUpdateSkipLocked(q).Scan(ctx); err != nil {
		return nil, fmt.Errorf("take servers: %w", err)
	}
	if len(servers) < n {
		return servers, nil
	}
	deploying, err := provision.Transition(catalog.StateAvailable, provision.Deploy)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(servers))
	for i := range servers {
		ids[i] = servers[i].ID
		servers[i].InUse, servers[i].ProvisionState = true, deploying
	}
	if _, err := tx.NewUpdate().Model((*serverRow)(nil)).
		Set("in_use = ?", true).Set("provision_state = ?", deploying).Set("last_error = ''").
		Set("provision_state_changed_at = ?", now).Set("updated_at = ?", now).
		Where("id IN (?)", bun.In(ids)).
		Exec(ctx); err != nil {
		return nil, fmt.Errorf("mark servers in use: %w", err)
	}
	return servers, nil
}

// publicInterfaces returns the id of each server's PUBLIC interface, in the
// servers' order.
func publicInterfaces(ctx context.Context, tx bun.Tx, servers []serverRow) ([]string, error) {
	ids := make([]string, len(servers))
	for i, s := range servers {
		ids[i] = s.ID
	}
	var rows []struct {
		ID       string `bun:"id"`
		ServerID string `bun:"server_id"`
	}
	if err := tx.NewSelect().TableExpr("server_interfaces").Column("id", "server_id").
		Where("server_id IN (?)", bun.In(ids)).Where("type = ?", catalog.NetworkPublic).
		Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("read public interfaces: %w", err)
	}
	of := make(map[string]string, len(rows))
	for _, r := range rows {
		of[r.ServerID] = r.ID
	}
	out := make([]string, len(servers))
	for i, s := range servers {
		if out[i] = of[s.ID]; out[i] == "" {
			return nil, fmt.Errorf("server %s has no public interface", s.Name)
		}
	}
	return out, nil
}

// publicSubnets returns the ids of the subnets of a datacenter's PUBLIC
// networks, IPv4 first.
func publicSubnets(ctx context.Context, db bun.IDB, datacenterID string) ([]string, error) {
	var ids []string
	if err := db.NewSelect().TableExpr("subnets AS sn").Column("sn.id").
		Join("JOIN networks AS nw ON nw.id = sn.network_id").
		Where("nw.datacenter_id = ?", datacenterID).Where("nw.type = ?", catalog.NetworkPublic).
		OrderExpr("sn.ip_version, sn.cidr").
		Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("read public subnets of %s: %w", datacenterID, err)
	}
	return ids, nil
}

// freeAddresses returns how many nodes the datacenter's address pool can
// still serve: the fewest free addresses of any of its public subnets
// (each node gets one address of each).
func freeAddresses(ctx context.Context, db bun.IDB, datacenterID string) (int64, error) {
	subnets, err := publicSubnets(ctx, db, datacenterID)
	if err != nil {
		return 0, err
	}
	fewest := int64(-1)
	for _, id := range subnets {
		n, err := db.NewSelect().Model((*ipAddressRow)(nil)).
			Where("a.subnet_id = ?", id).Where("a.interface_id IS NULL").
			Count(ctx)
		if err != nil {
			return 0, fmt.Errorf("count free addresses of subnet %s: %w", id, err)
		}
		if fewest < 0 || int64(n) < fewest {
			fewest = int64(n)
		}
	}
	if fewest < 0 {
		return MaxNodesPerOrder, nil // no public subnet: nodes get no address, any number of them
	}
	return fewest, nil
}

// assignAddresses gives each interface one free address of each public
// subnet of the datacenter, the lowest free ones of the pool.
func assignAddresses(ctx context.Context, tx bun.Tx, dc catalog.Datacenter, interfaceIDs []string, now time.Time) error {
	subnets, err := publicSubnets(ctx, tx, dc.ID)
	if err != nil {
		return err
	}
	for _, subnet := range subnets {
		var free []ipAddressRow
		q := tx.NewSelect().Model(&free).
			Where("a.subnet_id = ?", subnet).Where("a.interface_id IS NULL").
			OrderExpr("a.pool_index").Limit(int64(len(interfaceIDs)))
		if err := store.ForUpdateSkipLocked(q).Scan(ctx); err != nil {
			return fmt.Errorf("take addresses of subnet %s: %w", subnet, err)
		}
		if len(free) < len(interfaceIDs) {
			return errNoAddresses(dc.Name)
		}
		for i, iface := range interfaceIDs {
			if _, err := tx.NewUpdate().Model((*ipAddressRow)(nil)).
				Set("interface_id = ?", iface).Set("allocated_at = ?", now).
				Where("id = ?", free[i].ID).
				Exec(ctx); err != nil {
				return fmt.Errorf("assign address %s: %w", free[i].Address, err)
			}
		}
	}
	return nil
}

// setSecret stores a one-time secret of a node, replacing one of the same
// kind.
func (c *core) setSecret(ctx context.Context, tx bun.Tx, nodeID string, kind secretKind, secret string) error {
	row := secretRow{NodeID: nodeID, Kind: kind, Secret: secret, CreatedAt: c.now()}
	if _, err := tx.NewInsert().Model(&row).
		On("CONFLICT (node_id, kind) DO UPDATE").Set("secret = EXCLUDED.secret").Set("created_at = EXCLUDED.created_at").
		Exec(ctx); err != nil {
		return fmt.Errorf("store %s of node %s: %w", kind, nodeID, err)
	}
	return nil
}
