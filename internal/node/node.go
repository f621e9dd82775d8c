package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/gpcore/gpcore/internal/auth"
	"github.com/gpcore/gpcore/internal/billing/metering"
	"github.com/gpcore/gpcore/internal/catalog"
	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/jobs"
	"github.com/gpcore/gpcore/internal/keyring"
	"github.com/gpcore/gpcore/internal/notify"
	"github.com/gpcore/gpcore/internal/project"
	"github.com/gpcore/gpcore/internal/provision"
	"github.com/gpcore/gpcore/internal/store"
)

// BillingPeriod is how a node is billed.
type BillingPeriod string

// The billing periods, as stored.
const (
	Hourly  BillingPeriod = "HOURLY"
	Monthly BillingPeriod = "MONTHLY"
)

// Valid reports whether p is one of the billing periods.
func (p BillingPeriod) Valid() bool { return p == Hourly || p == Monthly }

// firstTermEnd is when the first term of a node ordered at t and billed by
// p ends, its first paid_until_at, by the billing domain's rules
// (metering.TermEnd): the end of the clock hour t falls in, or the same time
// a month on. Hours are counted on UTC's clock, which differs from the
// payer's only in time zones whose offset is not a whole number of hours.
func (p BillingPeriod) firstTermEnd(t time.Time) time.Time {
	anchor := t
	if p == Hourly {
		anchor = metering.HourAnchor(t, time.UTC)
	}
	return metering.TermEnd(metering.Period(p), anchor, t)
}

// Node is a server a customer rents in a project.
type Node struct {
	ID        string
	ProjectID string
	// FQDN is the node's normalised host name (see NormalizeFQDN).
	FQDN string
	// Status is the provisioning state of the node's server; DELETED once
	// the node is gone.
	Status catalog.ProvisionState
	// PowerState is the server's power state as last reported; RESET while
	// a reset is under way (from the request until its job has ended).
	PowerState catalog.PowerState
	// LastError says why the last provisioning operation failed; empty
	// after a success.
	LastError string
	// Interfaces are the node's public network interfaces with their
	// addresses; none once the node is gone.
	Interfaces []Interface
	Tags       map[string]string
	Datacenter catalog.Datacenter
	// Flavour is priced in the project's currency.
	Flavour catalog.DatacenterFlavour
	Image   catalog.Image
	// HasConsoleAccess is true when the server has a platform management
	// controller to open a remote console on (GetRemoteConsoleAccess).
	HasConsoleAccess bool
	BillingPeriod    BillingPeriod
	// TargetBillingPeriod is the billing period the node changes to when
	// the current period ends; empty when no change is pending.
	TargetBillingPeriod BillingPeriod
	// PaidUntil is when the node's current term (the started hour, or the
	// paid month) ends, and a pending change of billing period applies.
	PaidUntil time.Time
	// Login says how to log in to the node.
	Login LoginHint
	// Busy is true while a provisioning operation or a power change is
	// under way; the node takes no other request until it is done.
	Busy bool
	// DeletedAt is when the node was deleted; zero while it is live.
	DeletedAt time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Interface is a network interface of a node.
type Interface struct {
	// MAC is the lower-case, colon-separated EUI-48 address.
	MAC  string
	Type catalog.NetworkType
	// IPs are the addresses assigned to the interface, IPv4 first.
	IPs []string
}

// LoginHint tells a customer how to log in to a node.
type LoginHint struct {
	// Username is the image's default login, or root in rescue mode.
	Username string
	// HasPassword is true when a root password was set (given or
	// generated); false when only SSH keys log in.
	HasPassword bool
}

// Defaults of the Config fields left zero.
const (
	// DefaultConsoleTTL is how long remote console credentials work.
	DefaultConsoleTTL = 5 * time.Minute
	// DefaultPollInterval is how long a provisioning job waits between two
	// looks at the hardware.
	DefaultPollInterval = time.Second
)

// Config wires a Service; every field but ConsoleTTL and Now is required.
type Config struct {
	Catalog  *catalog.Catalog
	Projects *project.Service
	Keys     *keyring.Service
	// Hub carries the change notifications; every transaction that changes
	// a node runs through it.
	Hub *notify.Hub
	// Queue takes the jobs that carry out orders and operations.
	Queue *jobs.Queue
	// Driver opens remote consoles on the servers' BMCs; it is the
	// workers' driver (WorkerConfig.Driver).
	Driver provision.Driver
	// ConsoleTokens signs the tokens of console sessions.
	ConsoleTokens ConsoleTokens
	// ConsoleTTL is how long remote console credentials work
	// (DefaultConsoleTTL if 0; at most auth.MaxConsoleTokenTTL).
	ConsoleTTL time.Duration
	// Now is the clock (time.Now if nil).
	Now func() time.Time
}

// Service orders, reads and operates nodes. It is safe for concurrent use.
type Service struct {
	core
	catalog    *catalog.Catalog
	keys       *keyring.Service
	queue      *jobs.Queue
	driver     provision.Driver
	tokens     ConsoleTokens
	consoleTTL time.Duration
}

// New returns a Service on db, which must be migrated (store and jobs).
func New(db *store.DB, cfg Config) (*Service, error) {
	if cfg.Catalog == nil || cfg.Projects == nil || cfg.Keys == nil || cfg.Hub == nil || cfg.Queue == nil ||
		cfg.Driver == nil || cfg.ConsoleTokens == nil {
		return nil, errors.New("node: Config needs Catalog, Projects, Keys, Hub, Queue, Driver and ConsoleTokens")
	}
	ttl := cfg.ConsoleTTL
	if ttl == 0 {
		ttl = DefaultConsoleTTL
	}
	if ttl < time.Second || ttl > auth.MaxConsoleTokenTTL {
		return nil, fmt.Errorf("node: console TTL %s is not between a second and %s", ttl, auth.MaxConsoleTokenTTL)
	}
	return &Service{
		core:       newCore(db, cfg.Hub, cfg.Projects, cfg.Now),
		catalog:    cfg.Catalog,
		keys:       cfg.Keys,
		queue:      cfg.Queue,
		driver:     cfg.Driver,
		tokens:     cfg.ConsoleTokens,
		consoleTTL: ttl,
	}, nil
}

// core is what the Service and the job workers share: the database, the
// hub every changing transaction runs through, and the projects that name
// who hears of a change.
type core struct {
	db       *store.DB
	hub      *notify.Hub
	projects *project.Service
	clock    func() time.Time
}

func newCore(db *store.DB, hub *notify.Hub, projects *project.Service, now func() time.Time) core {
	if now == nil {
		now = time.Now
	}
	return core{db: db, hub: hub, projects: projects, clock: now}
}

// now is the clock's time in UTC, to the microsecond both databases keep.
func (c *core) now() time.Time { return c.clock().UTC().Truncate(time.Microsecond) }

// publish tells the project's members that a node changed, and about the
// server log entries logIDs, as part of tx.
func (c *core) publish(ctx context.Context, tx bun.Tx, projectID, nodeID string, logIDs ...string) error {
	audience, err := c.projects.Audience(ctx, tx, projectID)
	if err != nil {
		return err
	}
	events := make([]notify.Event, 0, 1+len(logIDs))
	events = append(events, notify.Event{Kind: notify.KindNode, ID: nodeID, ProjectID: projectID, Audience: audience})
	for _, id := range logIDs {
		events = append(events, notify.Event{Kind: notify.KindServerLog, ID: id, ProjectID: projectID, Audience: audience})
	}
	if err := c.hub.PublishTx(ctx, tx, events...); err != nil {
		return fmt.Errorf("publish node %s: %w", nodeID, err)
	}
	return nil
}

// wrap returns fault errors (refusals meant for the caller) as they are and
// gives other errors context.
func wrap(op string, err error) error {
	if err == nil || fault.KindOf(err) != fault.KindInternal {
		return err
	}
	return fmt.Errorf("node: %s: %w", op, err)
}
