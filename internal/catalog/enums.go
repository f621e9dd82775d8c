package catalog

import "slices"

// The catalog's enumerations. Each value is the reference's enum value name
// without its prefix (DATACENTER_STATUS_AVAILABLE is DatacenterAvailable,
// "AVAILABLE"), which is also how it is stored; the schema's CHECK
// constraints list the same values. The unspecified (zero) value of the
// reference is never stored.

// DatacenterStatus tells whether a datacenter takes orders.
type DatacenterStatus string

// The datacenter statuses. Only AVAILABLE datacenters take new orders;
// COMING_SOON ones are listed all the same.
const (
	DatacenterAvailable   DatacenterStatus = "AVAILABLE"
	DatacenterComingSoon  DatacenterStatus = "COMING_SOON"
	DatacenterUnavailable DatacenterStatus = "UNAVAILABLE"
)

// Valid reports whether s is one of the datacenter statuses.
func (s DatacenterStatus) Valid() bool {
	return slices.Contains([]DatacenterStatus{DatacenterAvailable, DatacenterComingSoon, DatacenterUnavailable}, s)
}

// Currency is an ISO 4217 currency code the catalog has prices in.
type Currency string

// The currencies projects can pay in (the reference's CURRENCY_EURO and
// CURRENCY_US_DOLLAR).
const (
	EUR Currency = "EUR"
	USD Currency = "USD"
)

// Currencies lists every currency a flavour must have prices in.
func Currencies() []Currency { return []Currency{EUR, USD} }

// Valid reports whether c is a currency the catalog prices in.
func (c Currency) Valid() bool { return slices.Contains(Currencies(), c) }

// Availability is how readily a flavour can be ordered in a datacenter. It is
// computed from free servers, never stored; see AvailabilityOf.
type Availability string

// The availabilities, from none to plenty.
const (
	OutOfStock Availability = "OUT_OF_STOCK"
	PreOrder   Availability = "PREORDER"
	Low        Availability = "LOW"
	Middle     Availability = "MIDDLE"
	High       Availability = "HIGH"
)

// OperatingSystemFamily groups operating systems.
type OperatingSystemFamily string

// The operating system families.
const (
	Windows OperatingSystemFamily = "WINDOWS"
	Linux   OperatingSystemFamily = "LINUX"
)

// Valid reports whether f is one of the families.
func (f OperatingSystemFamily) Valid() bool {
	return f == Windows || f == Linux
}

// AuthenticationType is a way to log in to a freshly installed node.
type AuthenticationType string

// The authentication types an image can accept.
const (
	AuthPassword AuthenticationType = "PASSWORD"
	AuthSSH      AuthenticationType = "SSH"
)

// Valid reports whether a is one of the authentication types.
func (a AuthenticationType) Valid() bool {
	return a == AuthPassword || a == AuthSSH
}

// ImageRelease is the support stage of an image.
type ImageRelease string

// The image releases.
const (
	ReleaseStable     ImageRelease = "STABLE"
	ReleasePreRelease ImageRelease = "PRE_RELEASE"
	ReleaseEndOfLife  ImageRelease = "END_OF_LIFE"
)

// Valid reports whether r is one of the releases.
func (r ImageRelease) Valid() bool {
	return slices.Contains([]ImageRelease{ReleaseStable, ReleasePreRelease, ReleaseEndOfLife}, r)
}

// CloudProviderType names an external cloud provider vendor.
type CloudProviderType string

// The cloud provider vendors.
const (
	CloudProviderAWS     CloudProviderType = "AWS"
	CloudProviderTencent CloudProviderType = "TENCENT"
)

// Valid reports whether t is one of the cloud provider vendors.
func (t CloudProviderType) Valid() bool {
	return t == CloudProviderAWS || t == CloudProviderTencent
}

// NetworkType is the purpose of a network or of a server interface.
type NetworkType string

// The network types: PUBLIC carries the customers' traffic, MANAGEMENT the
// operator's (provisioning, BMCs).
const (
	NetworkPublic     NetworkType = "PUBLIC"
	NetworkManagement NetworkType = "MANAGEMENT"
)

// Valid reports whether t is one of the network types.
func (t NetworkType) Valid() bool {
	return t == NetworkPublic || t == NetworkManagement
}

// SwitchType is the make of a network switch.
type SwitchType string

// The switch types.
const (
	SwitchJuniper       SwitchType = "JUNIPER"
	SwitchJuniperLegacy SwitchType = "JUNIPER_LEGACY"
	SwitchFS            SwitchType = "FS"
	SwitchAristaEOS     SwitchType = "ARISTA_EOS"
)

// Valid reports whether t is one of the switch types.
func (t SwitchType) Valid() bool {
	return slices.Contains([]SwitchType{SwitchJuniper, SwitchJuniperLegacy, SwitchFS, SwitchAristaEOS}, t)
}

// PlatformManagementType is the kind of a server's baseboard management
// controller.
type PlatformManagementType string

// The platform management types.
const (
	PlatformIDRAC8    PlatformManagementType = "IDRAC8"
	PlatformIDRAC9    PlatformManagementType = "IDRAC9"
	PlatformILO5      PlatformManagementType = "ILO5"
	PlatformASRR      PlatformManagementType = "ASRR"
	PlatformIPMI      PlatformManagementType = "IPMI"
	PlatformXClarity2 PlatformManagementType = "XCLARITY2"
)

// Valid reports whether t is one of the platform management types.
func (t PlatformManagementType) Valid() bool {
	return slices.Contains([]PlatformManagementType{
		PlatformIDRAC8, PlatformIDRAC9, PlatformILO5, PlatformASRR, PlatformIPMI, PlatformXClarity2,
	}, t)
}

// ServerStatus is where a server stands in its import into the inventory.
type ServerStatus string

// The server statuses.
const (
	ServerImporting ServerStatus = "IMPORTING"
	ServerImported  ServerStatus = "IMPORTED"
	ServerDeleting  ServerStatus = "DELETING"
)

// PowerState is a server's power state.
type PowerState string

// The power states.
const (
	PowerOn    PowerState = "ON"
	PowerOff   PowerState = "OFF"
	PowerReset PowerState = "RESET"
)

// Valid reports whether p is one of the power states.
func (p PowerState) Valid() bool {
	return p == PowerOn || p == PowerOff || p == PowerReset
}

// ProvisionState is a server's provisioning state: OpenStack Ironic's state
// machine, which is also the status of the node running on the server.
type ProvisionState string

// The provisioning states. A server can take a new node only when it is
// AVAILABLE (and in the pool, and not in use).
const (
	StateEnroll       ProvisionState = "ENROLL"
	StateVerifying    ProvisionState = "VERIFYING"
	StateManageable   ProvisionState = "MANAGEABLE"
	StateAvailable    ProvisionState = "AVAILABLE"
	StateActive       ProvisionState = "ACTIVE"
	StateDeployWait   ProvisionState = "DEPLOY_WAIT"
	StateDeploying    ProvisionState = "DEPLOYING"
	StateDeployFail   ProvisionState = "DEPLOY_FAIL"
	StateDeployDone   ProvisionState = "DEPLOY_DONE"
	StateDeleting     ProvisionState = "DELETING"
	StateDeleted      ProvisionState = "DELETED"
	StateCleaning     ProvisionState = "CLEANING"
	StateCleanWait    ProvisionState = "CLEAN_WAIT"
	StateCleanFail    ProvisionState = "CLEAN_FAIL"
	StateError        ProvisionState = "ERROR"
	StateRebuild      ProvisionState = "REBUILD"
	StateInspecting   ProvisionState = "INSPECTING"
	StateInspectFail  ProvisionState = "INSPECT_FAIL"
	StateInspectWait  ProvisionState = "INSPECT_WAIT"
	StateAdopting     ProvisionState = "ADOPTING"
	StateAdoptFail    ProvisionState = "ADOPT_FAIL"
	StateRescue       ProvisionState = "RESCUE"
	StateRescueFail   ProvisionState = "RESCUE_FAIL"
	StateRescuing     ProvisionState = "RESCUING"
	StateUnrescueFail ProvisionState = "UNRESCUE_FAIL"
	StateRescueWait   ProvisionState = "RESCUE_WAIT"
	StateUnrescuing   ProvisionState = "UNRESCUING"
)

// ProvisionStates lists every provisioning state in the reference's order.
func ProvisionStates() []ProvisionState {
	return []ProvisionState{
		StateEnroll, StateVerifying, StateManageable, StateAvailable, StateActive, StateDeployWait,
		StateDeploying, StateDeployFail, StateDeployDone, StateDeleting, StateDeleted, StateCleaning,
		StateCleanWait, StateCleanFail, StateError, StateRebuild, StateInspecting, StateInspectFail,
		StateInspectWait, StateAdopting, StateAdoptFail, StateRescue, StateRescueFail, StateRescuing,
		StateUnrescueFail, StateRescueWait, StateUnrescuing,
	}
}

// Valid reports whether s is one of the provisioning states.
func (s ProvisionState) Valid() bool { return slices.Contains(ProvisionStates(), s) }
