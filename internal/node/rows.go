package node

import (
	"time"

	"github.com/uptrace/bun"

	"github.com/gpcore/gpcore/internal/catalog"
)

// The rows of the tables this package reads and writes, as bun maps them.
// The catalog's tables (servers, server_interfaces, ip_addresses) get their
// own narrow rows here: only the columns node code touches.

// operation is a provisioning operation under way on a node.
type operation string

// The operations, as stored in nodes.operation.
const (
	opDeploy   operation = "DEPLOY"
	opRebuild  operation = "REBUILD"
	opDestroy  operation = "DESTROY"
	opRescue   operation = "RESCUE"
	opUnrescue operation = "UNRESCUE"
)

type nodeRow struct {
	bun.BaseModel `bun:"table:nodes,alias:n"`

	ID                   string     `bun:"id,pk"`
	ProjectID            string     `bun:"project_id"`
	ServerID             string     `bun:"server_id"`
	DatacenterID         string     `bun:"datacenter_id"`
	FlavourID            string     `bun:"flavour_id"`
	ImageID              string     `bun:"image_id"`
	OrderedBy            string     `bun:"ordered_by,nullzero"`
	FQDN                 string     `bun:"fqdn"`
	Tags                 string     `bun:"tags"`
	TagsSearch           string     `bun:"tags_search"`
	BillingPeriod        string     `bun:"billing_period"`
	TargetBillingPeriod  string     `bun:"target_billing_period,nullzero"`
	PaidUntilAt          time.Time  `bun:"paid_until_at"`
	SSHKeys              string     `bun:"ssh_keys"`
	HasPassword          bool       `bun:"has_password"`
	UserData             string     `bun:"user_data"`
	Operation            operation  `bun:"operation,nullzero"`
	OperationAskedAt     *time.Time `bun:"operation_asked_at"`
	OperationRequestedAt *time.Time `bun:"operation_requested_at"`
	PowerTarget          string     `bun:"power_target,nullzero"`
	UsageEndedAt         *time.Time `bun:"usage_ended_at"`
	CreatedAt            time.Time  `bun:"created_at"`
	UpdatedAt            time.Time  `bun:"updated_at"`
	DeletedAt            *time.Time `bun:"deleted_at"`
}

// destroyed reports whether the customer has destroyed the node: its usage
// has ended, and it takes no request but DestroyNode (again, when its
// teardown failed) while its server is torn down and cleaned.
func (r *nodeRow) destroyed() bool { return r.UsageEndedAt != nil }

// serverRow is the part of a catalog servers row that nodes use.
type serverRow struct {
	bun.BaseModel `bun:"table:servers,alias:s"`

	ID                      string                 `bun:"id,pk"`
	Name                    string                 `bun:"name"`
	DatacenterID            string                 `bun:"datacenter_id"`
	IronicID                *string                `bun:"ironic_id"`
	PlatformManagementIP    string                 `bun:"platform_management_ip"`
	ProvisionState          catalog.ProvisionState `bun:"provision_state"`
	PowerState              catalog.PowerState     `bun:"power_state"`
	InPool                  bool                   `bun:"in_pool"`
	InUse                   bool                   `bun:"in_use"`
	LastError               string                 `bun:"last_error"`
	ProvisionStateChangedAt time.Time              `bun:"provision_state_changed_at"`
	UpdatedAt               time.Time              `bun:"updated_at"`
}

// ipAddressRow is a catalog ip_addresses row.
type ipAddressRow struct {
	bun.BaseModel `bun:"table:ip_addresses,alias:a"`

	ID          string     `bun:"id,pk"`
	SubnetID    string     `bun:"subnet_id"`
	Address     string     `bun:"address"`
	PoolIndex   int64      `bun:"pool_index"`
	InterfaceID *string    `bun:"interface_id"`
	AllocatedAt *time.Time `bun:"allocated_at"`
}

// secretKind names a one-time secret of a node.
type secretKind string

// The secret kinds, as stored in node_secrets.kind.
const (
	secretRootPassword   secretKind = "ROOT_PASSWORD"
	secretRescuePassword secretKind = "RESCUE_PASSWORD"
)

type secretRow struct {
	bun.BaseModel `bun:"table:node_secrets"`

	NodeID    string     `bun:"node_id,pk"`
	Kind      secretKind `bun:"kind,pk"`
	Secret    string     `bun:"secret"`
	CreatedAt time.Time  `bun:"created_at"`
}

type serverLogRow struct {
	bun.BaseModel `bun:"table:server_logs,alias:l"`

	ID        string    `bun:"id,pk"`
	ServerID  string    `bun:"server_id"`
	NodeID    string    `bun:"node_id,nullzero"`
	Level     LogLevel  `bun:"level"`
	Source    LogSource `bun:"source"`
	Message   string    `bun:"message"`
	CreatedAt time.Time `bun:"created_at"`
}

type consoleSessionRow struct {
	bun.BaseModel `bun:"table:node_console_sessions"`

	ID             string    `bun:"id,pk"`
	NodeID         string    `bun:"node_id"`
	UserID         string    `bun:"user_id,nullzero"`
	Username       string    `bun:"username"`
	TokenSHA256    string    `bun:"token_sha256"`
	PasswordSHA256 string    `bun:"password_sha256"`
	ExpiresAt      time.Time `bun:"expires_at"`
	CreatedAt      time.Time `bun:"created_at"`
}
