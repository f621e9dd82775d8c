package catalog

import (
	"time"

	"github.com/uptrace/bun"
)

// The rows of the catalog's tables as bun reads and writes them. They stay
// inside the package; callers get the domain types.

type regionRow struct {
	bun.BaseModel `bun:"table:regions"`

	ID          string    `bun:"id,pk"`
	Name        string    `bun:"name"`
	CountryCode string    `bun:"country_code"`
	NetboxID    int64     `bun:"netbox_id"`
	CreatedAt   time.Time `bun:"created_at"`
	UpdatedAt   time.Time `bun:"updated_at"`
}

type datacenterRow struct {
	bun.BaseModel `bun:"table:datacenters,alias:dc"`

	ID              string           `bun:"id,pk"`
	RegionID        string           `bun:"region_id"`
	Name            string           `bun:"name"`
	Short           string           `bun:"short"`
	Status          DatacenterStatus `bun:"status"`
	LatencyEndpoint string           `bun:"latency_endpoint"`
	ServerPrefix    string           `bun:"server_prefix"`
	NetboxID        int64            `bun:"netbox_id"`
	CreatedAt       time.Time        `bun:"created_at"`
	UpdatedAt       time.Time        `bun:"updated_at"`
}

type managementVLANRow struct {
	bun.BaseModel `bun:"table:datacenter_management_vlans"`

	DatacenterID string `bun:"datacenter_id,pk"`
	VLANID       int32  `bun:"vlan_id,pk"`
}

type flavourRow struct {
	bun.BaseModel `bun:"table:flavours,alias:f"`

	ID        string    `bun:"id,pk"`
	Name      string    `bun:"name"`
	CPU       string    `bun:"cpu"`
	Memory    string    `bun:"memory"`
	Disk      string    `bun:"disk"`
	Network   string    `bun:"network"`
	CPUCores  int32     `bun:"cpu_cores"`
	TrafficGB int64     `bun:"traffic_gb"`
	CreatedAt time.Time `bun:"created_at"`
	UpdatedAt time.Time `bun:"updated_at"`
}

type flavourPriceRow struct {
	bun.BaseModel `bun:"table:flavour_prices"`

	FlavourID       string   `bun:"flavour_id,pk"`
	Currency        Currency `bun:"currency,pk"`
	PerHour         int64    `bun:"per_hour"`
	PerMonth        int64    `bun:"per_month"`
	WindowsPerMonth *int64   `bun:"windows_per_month"`
	SPLABase        int64    `bun:"spla_base"`
	SPLAPer2Cores   int64    `bun:"spla_per_2_cores"`
}

type flavourDatacenterRow struct {
	bun.BaseModel `bun:"table:flavour_datacenters"`

	FlavourID     string `bun:"flavour_id,pk"`
	DatacenterID  string `bun:"datacenter_id,pk"`
	PreOrderLimit int32  `bun:"pre_order_limit"`
}

type flavourDatacenterPriceRow struct {
	bun.BaseModel `bun:"table:flavour_datacenter_prices"`

	FlavourID    string   `bun:"flavour_id,pk"`
	DatacenterID string   `bun:"datacenter_id,pk"`
	Currency     Currency `bun:"currency,pk"`
	PerHour      int64    `bun:"per_hour"`
	PerMonth     int64    `bun:"per_month"`
}

type switchRow struct {
	bun.BaseModel `bun:"table:switches"`

	ID           string     `bun:"id,pk"`
	DatacenterID string     `bun:"datacenter_id"`
	Name         string     `bun:"name"`
	Type         SwitchType `bun:"type"`
	IPAddress    string     `bun:"ip_address"`
	NetboxID     int64      `bun:"netbox_id"`
	CreatedAt    time.Time  `bun:"created_at"`
	UpdatedAt    time.Time  `bun:"updated_at"`
}

type serverRow struct {
	bun.BaseModel `bun:"table:servers"`

	ID                         string                 `bun:"id,pk"`
	Name                       string                 `bun:"name"`
	DatacenterID               string                 `bun:"datacenter_id"`
	FlavourID                  string                 `bun:"flavour_id"`
	IronicID                   *string                `bun:"ironic_id"`
	NetboxLink                 string                 `bun:"netbox_link"`
	Status                     ServerStatus           `bun:"status"`
	PlatformManagementType     PlatformManagementType `bun:"platform_management_type"`
	PlatformManagementIP       string                 `bun:"platform_management_ip"`
	PlatformManagementUsername string                 `bun:"platform_management_username"`
	ProvisionState             ProvisionState         `bun:"provision_state"`
	PowerState                 PowerState             `bun:"power_state"`
	InPool                     bool                   `bun:"in_pool"`
	InUse                      bool                   `bun:"in_use"`
	LastError                  string                 `bun:"last_error"`
	ProvisionStateChangedAt    time.Time              `bun:"provision_state_changed_at"`
	CreatedAt                  time.Time              `bun:"created_at"`
	UpdatedAt                  time.Time              `bun:"updated_at"`
}

type serverInterfaceRow struct {
	bun.BaseModel `bun:"table:server_interfaces"`

	ID         string      `bun:"id,pk"`
	ServerID   string      `bun:"server_id"`
	Type       NetworkType `bun:"type"`
	MACAddress string      `bun:"mac_address"`
	Driver     string      `bun:"driver"`
	Speed      int32       `bun:"speed"`
	SwitchID   *string     `bun:"switch_id"`
	SwitchPort string      `bun:"switch_port"`
	CreatedAt  time.Time   `bun:"created_at"`
	UpdatedAt  time.Time   `bun:"updated_at"`
}

type networkRow struct {
	bun.BaseModel `bun:"table:networks"`

	ID           string      `bun:"id,pk"`
	DatacenterID string      `bun:"datacenter_id"`
	Name         string      `bun:"name"`
	Type         NetworkType `bun:"type"`
	VLANID       int32       `bun:"vlan_id"`
	CreatedAt    time.Time   `bun:"created_at"`
	UpdatedAt    time.Time   `bun:"updated_at"`
}

type subnetRow struct {
	bun.BaseModel `bun:"table:subnets"`

	ID        string    `bun:"id,pk"`
	NetworkID string    `bun:"network_id"`
	IPVersion int32     `bun:"ip_version"`
	CIDR      string    `bun:"cidr"`
	Gateway   string    `bun:"gateway"`
	DHCP      bool      `bun:"dhcp"`
	PoolStart string    `bun:"pool_start"`
	PoolEnd   string    `bun:"pool_end"`
	CreatedAt time.Time `bun:"created_at"`
	UpdatedAt time.Time `bun:"updated_at"`
}

type ipAddressRow struct {
	bun.BaseModel `bun:"table:ip_addresses"`

	ID          string     `bun:"id,pk"`
	SubnetID    string     `bun:"subnet_id"`
	Address     string     `bun:"address"`
	PoolIndex   int64      `bun:"pool_index"`
	InterfaceID *string    `bun:"interface_id"`
	AllocatedAt *time.Time `bun:"allocated_at"`
}

type operatingSystemRow struct {
	bun.BaseModel `bun:"table:operating_systems"`

	ID        string                `bun:"id,pk"`
	Name      string                `bun:"name"`
	Family    OperatingSystemFamily `bun:"family"`
	CreatedAt time.Time             `bun:"created_at"`
	UpdatedAt time.Time             `bun:"updated_at"`
}

type imageRow struct {
	bun.BaseModel `bun:"table:images,alias:i"`

	ID                  string       `bun:"id,pk"`
	OperatingSystemID   string       `bun:"operating_system_id"`
	Alias               string       `bun:"alias"`
	Name                string       `bun:"name"`
	Username            string       `bun:"username"`
	Public              bool         `bun:"public"`
	Available           bool         `bun:"available"`
	Release             ImageRelease `bun:"release"`
	ContainsSPLALicense bool         `bun:"contains_spla_license"`
	AuthPassword        bool         `bun:"auth_password"`
	AuthSSH             bool         `bun:"auth_ssh"`
	IsDefault           bool         `bun:"is_default"`
	VendorData          string       `bun:"vendor_data"`
	CreatedAt           time.Time    `bun:"created_at"`
	UpdatedAt           time.Time    `bun:"updated_at"`
}

type imageFlavourRow struct {
	bun.BaseModel `bun:"table:image_flavours"`

	ImageID   string `bun:"image_id,pk"`
	FlavourID string `bun:"flavour_id,pk"`
}

type cloudProviderImageRow struct {
	bun.BaseModel `bun:"table:cloud_provider_images"`

	ID                   string            `bun:"id,pk"`
	ImageID              string            `bun:"image_id"`
	Type                 CloudProviderType `bun:"type"`
	CloudProviderImageID string            `bun:"cloud_provider_image_id"`
	CreatedAt            time.Time         `bun:"created_at"`
	UpdatedAt            time.Time         `bun:"updated_at"`
}

type countryRow struct {
	bun.BaseModel `bun:"table:countries"`

	Code       string `bun:"code,pk"`
	TaxRateBP  int32  `bun:"tax_rate_bp"`
	NetSupport bool   `bun:"net_support"`
}
