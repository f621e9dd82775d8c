package catalog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"
	"golang.org/x/text/language"
	"gopkg.in/yaml.v3"

	"github.com/gpcore/gpcore/internal/fault"
)

// The seed file as YAML decodes it. The format is documented at the top of
// seed/default.yaml. Optional fields with a non-zero default are pointers.

type seedFile struct {
	Regions          []seedRegion          `yaml:"regions"`
	Flavours         []seedFlavour         `yaml:"flavours"`
	OperatingSystems []seedOperatingSystem `yaml:"operating_systems"`
	Countries        []seedCountry         `yaml:"countries"`
}

type seedRegion struct {
	ID          string           `yaml:"id"`
	Name        string           `yaml:"name"`
	CountryCode string           `yaml:"country_code"`
	NetboxID    int64            `yaml:"netbox_id"`
	Datacenters []seedDatacenter `yaml:"datacenters"`
}

type seedDatacenter struct {
	ID                string           `yaml:"id"`
	Name              string           `yaml:"name"`
	Short             string           `yaml:"short"`
	Status            DatacenterStatus `yaml:"status"`
	LatencyEndpoint   string           `yaml:"latency_endpoint"`
	ServerPrefix      string           `yaml:"server_prefix"`
	NetboxID          int64            `yaml:"netbox_id"`
	ManagementVLANIDs []int32          `yaml:"management_vlan_ids"`
	Switches          []seedSwitch     `yaml:"switches"`
	Networks          []seedNetwork    `yaml:"networks"`
	Servers           []seedServer     `yaml:"servers"`
}

type seedSwitch struct {
	ID        string     `yaml:"id"`
	Name      string     `yaml:"name"`
	Type      SwitchType `yaml:"type"`
	IPAddress string     `yaml:"ip_address"`
	NetboxID  int64      `yaml:"netbox_id"`
}

type seedNetwork struct {
	ID      string       `yaml:"id"`
	Name    string       `yaml:"name"`
	Type    NetworkType  `yaml:"type"`
	VLANID  int32        `yaml:"vlan_id"`
	Subnets []seedSubnet `yaml:"subnets"`
}

type seedSubnet struct {
	ID        string `yaml:"id"`
	CIDR      string `yaml:"cidr"`
	Gateway   string `yaml:"gateway"`
	PoolStart string `yaml:"pool_start"`
	PoolEnd   string `yaml:"pool_end"`
	DHCP      *bool  `yaml:"dhcp"`
}

type seedServer struct {
	ID                 string                 `yaml:"id"`
	Name               string                 `yaml:"name"`
	Flavour            string                 `yaml:"flavour"`
	IronicID           string                 `yaml:"ironic_id"`
	NetboxLink         string                 `yaml:"netbox_link"`
	PlatformManagement seedPlatformManagement `yaml:"platform_management"`
	ProvisionState     ProvisionState         `yaml:"provision_state"`
	PowerState         PowerState             `yaml:"power_state"`
	InPool             *bool                  `yaml:"in_pool"`
	Interfaces         []seedInterface        `yaml:"interfaces"`
}

type seedPlatformManagement struct {
	Type     PlatformManagementType `yaml:"type"`
	IP       string                 `yaml:"ip"`
	Username string                 `yaml:"username"`
}

type seedInterface struct {
	ID         string      `yaml:"id"`
	Type       NetworkType `yaml:"type"`
	MACAddress string      `yaml:"mac_address"`
	Speed      int32       `yaml:"speed"`
	Driver     string      `yaml:"driver"`
	Switch     string      `yaml:"switch"`
	SwitchPort string      `yaml:"switch_port"`
}

type seedFlavour struct {
	ID          string                  `yaml:"id"`
	Name        string                  `yaml:"name"`
	CPU         string                  `yaml:"cpu"`
	Memory      string                  `yaml:"memory"`
	Disk        string                  `yaml:"disk"`
	Network     string                  `yaml:"network"`
	CPUCores    int32                   `yaml:"cpu_cores"`
	TrafficGB   int64                   `yaml:"traffic_gb"`
	Prices      map[Currency]seedPrice  `yaml:"prices"`
	Datacenters []seedFlavourDatacenter `yaml:"datacenters"`
}

type seedPrice struct {
	PerHour         *int64 `yaml:"per_hour"`
	PerMonth        *int64 `yaml:"per_month"`
	WindowsPerMonth *int64 `yaml:"windows_per_month"`
	SPLABase        int64  `yaml:"spla_base"`
	SPLAPer2Cores   int64  `yaml:"spla_per_2_cores"`
}

type seedFlavourDatacenter struct {
	Datacenter    string                         `yaml:"datacenter"`
	PreOrderLimit int32                          `yaml:"pre_order_limit"`
	Prices        map[Currency]seedPriceOverride `yaml:"prices"`
}

type seedPriceOverride struct {
	PerHour  *int64 `yaml:"per_hour"`
	PerMonth *int64 `yaml:"per_month"`
}

type seedOperatingSystem struct {
	ID     string                `yaml:"id"`
	Name   string                `yaml:"name"`
	Family OperatingSystemFamily `yaml:"family"`
	Images []seedImage           `yaml:"images"`
}

type seedImage struct {
	ID                  string                   `yaml:"id"`
	Alias               string                   `yaml:"alias"`
	Name                string                   `yaml:"name"`
	Username            string                   `yaml:"username"`
	AuthenticationTypes []AuthenticationType     `yaml:"authentication_types"`
	Release             ImageRelease             `yaml:"release"`
	Available           *bool                    `yaml:"available"`
	Default             bool                     `yaml:"default"`
	ContainsSPLALicense bool                     `yaml:"contains_spla_license"`
	VendorData          string                   `yaml:"vendor_data"`
	Flavours            []string                 `yaml:"flavours"`
	CloudProviderImages []seedCloudProviderImage `yaml:"cloud_provider_images"`
}

type seedCloudProviderImage struct {
	ID                   string            `yaml:"id"`
	Type                 CloudProviderType `yaml:"type"`
	CloudProviderImageID string            `yaml:"cloud_provider_image_id"`
}

type seedCountry struct {
	Code       string  `yaml:"code"`
	TaxRate    float64 `yaml:"tax_rate"`
	NetSupport bool    `yaml:"net_support"`
}

// maxPoolSize bounds a subnet's pool, since every pool address is a row.
const maxPoolSize = 65536

// maxSeedProblems bounds the problems one validation reports.
const maxSeedProblems = 50

// shortCode is the form of a datacenter's short code.
var shortCode = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// seedRows is a validated seed file turned into the rows to insert.
type seedRows struct {
	regions             []regionRow
	datacenters         []datacenterRow
	managementVLANs     []managementVLANRow
	switches            []switchRow
	flavours            []flavourRow
	flavourPrices       []flavourPriceRow
	flavourDatacenters  []flavourDatacenterRow
	flavourDCPrices     []flavourDatacenterPriceRow
	networks            []networkRow
	subnets             []subnetRow
	ipAddresses         []ipAddressRow
	servers             []serverRow
	interfaces          []serverInterfaceRow
	operatingSystems    []operatingSystemRow
	images              []imageRow
	imageFlavours       []imageFlavourRow
	cloudProviderImages []cloudProviderImageRow
	countries           []countryRow
}

// parseSeed decodes and validates a seed file and returns its rows, stamped
// with now. Every problem found is reported, each a fault.Invalid error whose
// field is the path of the offending entry and field.
func parseSeed(data []byte, now time.Time) (*seedRows, error) {
	var f seedFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("catalog: seed file is empty")
		}
		return nil, fmt.Errorf("catalog: seed file: %w", err)
	}
	v := &seedValidator{
		now:          now,
		ids:          map[string]string{},
		datacenters:  map[string]*datacenterInfo{},
		flavours:     map[string]*flavourInfo{},
		macs:         map[string]string{},
		ironicIDs:    map[string]string{},
		serverNames:  map[string]string{},
		imageAliases: map[string]string{},
		rows:         &seedRows{},
	}
	v.check(&f)
	if len(v.problems) > 0 {
		problems := v.problems
		if len(problems) > maxSeedProblems {
			problems = append(problems[:maxSeedProblems:maxSeedProblems],
				fmt.Errorf("and %d more problems", len(v.problems)-maxSeedProblems))
		}
		return nil, fmt.Errorf("catalog: invalid seed file:\n%w", errors.Join(problems...))
	}
	return v.rows, nil
}

// datacenterInfo is what later sections need to know about a datacenter.
type datacenterInfo struct {
	id       string
	path     string
	switches map[string]string // name -> id
	subnets  []subnetInfo
}

// subnetInfo is a checked subnet, for the overlap checks.
type subnetInfo struct {
	prefix netip.Prefix
	path   string
}

// seedDatacenterEntry is a datacenter whose servers are checked once the
// flavours are known.
type seedDatacenterEntry struct {
	info    *datacenterInfo
	servers []seedServer
}

// flavourInfo is what later sections need to know about a flavour.
type flavourInfo struct {
	id          string
	datacenters map[string]bool // ids of the datacenters offering it
}

type seedValidator struct {
	now      time.Time
	problems []error
	rows     *seedRows

	ids            map[string]string          // id -> path of its first use
	datacenters    map[string]*datacenterInfo // short -> info, for references
	datacenterList []seedDatacenterEntry      // every datacenter, in file order
	flavours       map[string]*flavourInfo    // name -> info
	macs           map[string]string          // MAC -> path
	ironicIDs      map[string]string          // Ironic id -> path
	serverNames    map[string]string          // name -> path
	imageAliases   map[string]string          // alias -> path
	publicSubnet   []subnetInfo
}

func (v *seedValidator) fail(path, format string, args ...any) {
	v.problems = append(v.problems, fault.Invalid(path, format, args...))
}

// entry names a list element in a path: list[key] when the entry has a key
// (its name), list[index] otherwise.
func entry(parent, list string, index int, key string) string {
	if parent != "" {
		list = parent + "." + list
	}
	if key != "" {
		return fmt.Sprintf("%s[%s]", list, key)
	}
	return fmt.Sprintf("%s[%d]", list, index)
}

// id checks that id is a canonical UUID not used before, and returns it.
func (v *seedValidator) id(path, id string) string {
	field := path + ".id"
	u, err := uuid.Parse(id)
	switch {
	case id == "":
		v.fail(field, "required")
	case err != nil || u.String() != id:
		v.fail(field, "%q is not a lower-case UUID (8-4-4-4-12 hex digits)", id)
	case v.ids[id] != "":
		v.fail(field, "%s is already the id of %s", id, v.ids[id])
	default:
		v.ids[id] = path
	}
	return id
}

// unique records key in seen for path and reports a duplicate.
func (v *seedValidator) unique(seen map[string]string, field, what, key string) {
	if key == "" {
		return
	}
	if prev, ok := seen[key]; ok {
		v.fail(field, "duplicate %s %q (also %s)", what, key, prev)
		return
	}
	seen[key] = field
}

func (v *seedValidator) required(field, value string) {
	if value == "" {
		v.fail(field, "required")
	}
}

func (v *seedValidator) nonNegative(field string, n int64) {
	if n < 0 {
		v.fail(field, "must not be negative, got %d", n)
	}
}

func (v *seedValidator) countryCode(field, code string) {
	r, err := language.ParseRegion(code)
	switch {
	case code == "":
		v.fail(field, "required")
	case err != nil || !r.IsCountry() || r.String() != code:
		v.fail(field, "%q is not an ISO 3166-1 alpha-2 country code", code)
	case r.Canonicalize() != r:
		v.fail(field, "%q is not an ISO 3166-1 alpha-2 country code; use %s", code, r.Canonicalize())
	}
}

func (v *seedValidator) check(f *seedFile) {
	// Datacenters and flavours first: the other sections refer to them.
	regionNames := map[string]string{}
	dcNames := map[string]string{}
	for i, r := range f.Regions {
		v.region(entry("", "regions", i, r.Name), r, regionNames, dcNames)
	}
	flavourNames := map[string]string{}
	for i, fl := range f.Flavours {
		v.flavour(entry("", "flavours", i, fl.Name), fl, flavourNames)
	}
	for _, dc := range v.datacenterList {
		v.servers(dc.info.path, dc.info, dc.servers)
	}
	osNames := map[string]string{}
	for i, os := range f.OperatingSystems {
		v.operatingSystem(entry("", "operating_systems", i, os.Name), os, osNames)
	}
	codes := map[string]string{}
	for i, c := range f.Countries {
		v.country(entry("", "countries", i, c.Code), c, codes)
	}
}

func (v *seedValidator) region(path string, r seedRegion, names, dcNames map[string]string) {
	id := v.id(path, r.ID)
	v.required(path+".name", r.Name)
	v.unique(names, path+".name", "region name", r.Name)
	v.countryCode(path+".country_code", r.CountryCode)
	v.nonNegative(path+".netbox_id", r.NetboxID)
	v.rows.regions = append(v.rows.regions, regionRow{
		ID: id, Name: r.Name, CountryCode: r.CountryCode, NetboxID: r.NetboxID,
		CreatedAt: v.now, UpdatedAt: v.now,
	})
	for i, dc := range r.Datacenters {
		v.datacenter(entry(path, "datacenters", i, dc.Short), id, dc, dcNames)
	}
}

func (v *seedValidator) datacenter(path, regionID string, dc seedDatacenter, names map[string]string) {
	id := v.id(path, dc.ID)
	info := &datacenterInfo{id: id, path: path, switches: map[string]string{}}
	v.datacenterList = append(v.datacenterList, seedDatacenterEntry{info: info, servers: dc.Servers})
	v.required(path+".name", dc.Name)
	v.unique(names, path+".name", "datacenter name", dc.Name)
	switch {
	case dc.Short == "":
		v.fail(path+".short", "required")
	case !shortCode.MatchString(dc.Short):
		v.fail(path+".short", "%q must be lower-case letters, digits and dashes", dc.Short)
	case v.datacenters[dc.Short] != nil:
		v.fail(path+".short", "duplicate datacenter short code %q (also %s)", dc.Short, v.datacenters[dc.Short].path)
	default:
		v.datacenters[dc.Short] = info
	}
	if !dc.Status.Valid() {
		v.fail(path+".status", "%q is not one of AVAILABLE, COMING_SOON, UNAVAILABLE", dc.Status)
	}
	v.nonNegative(path+".netbox_id", dc.NetboxID)
	v.rows.datacenters = append(v.rows.datacenters, datacenterRow{
		ID: id, RegionID: regionID, Name: dc.Name, Short: dc.Short, Status: dc.Status,
		LatencyEndpoint: dc.LatencyEndpoint, ServerPrefix: dc.ServerPrefix, NetboxID: dc.NetboxID,
		CreatedAt: v.now, UpdatedAt: v.now,
	})
	vlans := map[string]string{}
	for i, vlan := range dc.ManagementVLANIDs {
		field := fmt.Sprintf("%s.management_vlan_ids[%d]", path, i)
		if vlan < 1 || vlan > 4094 {
			v.fail(field, "VLAN id %d is not between 1 and 4094", vlan)
		}
		v.unique(vlans, field, "VLAN id", strconv.Itoa(int(vlan)))
		v.rows.managementVLANs = append(v.rows.managementVLANs, managementVLANRow{DatacenterID: id, VLANID: vlan})
	}

	switchNames := map[string]string{}
	for i, sw := range dc.Switches {
		sp := entry(path, "switches", i, sw.Name)
		swID := v.id(sp, sw.ID)
		v.required(sp+".name", sw.Name)
		v.unique(switchNames, sp+".name", "switch name", sw.Name)
		info.switches[sw.Name] = swID
		if !sw.Type.Valid() {
			v.fail(sp+".type", "%q is not one of JUNIPER, JUNIPER_LEGACY, FS, ARISTA_EOS", sw.Type)
		}
		if _, err := netip.ParseAddr(sw.IPAddress); err != nil {
			v.fail(sp+".ip_address", "%q is not an IP address", sw.IPAddress)
		}
		v.nonNegative(sp+".netbox_id", sw.NetboxID)
		v.rows.switches = append(v.rows.switches, switchRow{
			ID: swID, DatacenterID: id, Name: sw.Name, Type: sw.Type, IPAddress: sw.IPAddress,
			NetboxID: sw.NetboxID, CreatedAt: v.now, UpdatedAt: v.now,
		})
	}
	networkNames := map[string]string{}
	for i, n := range dc.Networks {
		v.network(entry(path, "networks", i, n.Name), id, info, n, networkNames)
	}
}

func (v *seedValidator) network(path, datacenterID string, dc *datacenterInfo, n seedNetwork, names map[string]string) {
	id := v.id(path, n.ID)
	v.required(path+".name", n.Name)
	v.unique(names, path+".name", "network name", n.Name)
	if !n.Type.Valid() {
		v.fail(path+".type", "%q is not one of PUBLIC, MANAGEMENT", n.Type)
	}
	if n.VLANID < 0 || n.VLANID > 4094 {
		v.fail(path+".vlan_id", "VLAN id %d is not between 0 and 4094", n.VLANID)
	}
	v.rows.networks = append(v.rows.networks, networkRow{
		ID: id, DatacenterID: datacenterID, Name: n.Name, Type: n.Type, VLANID: n.VLANID,
		CreatedAt: v.now, UpdatedAt: v.now,
	})
	for i, s := range n.Subnets {
		v.subnet(entry(path, "subnets", i, ""), id, n.Type == NetworkPublic, dc, s)
	}
}

func (v *seedValidator) subnet(path, networkID string, public bool, dc *datacenterInfo, s seedSubnet) {
	id := v.id(path, s.ID)
	prefix, err := netip.ParsePrefix(s.CIDR)
	if err != nil {
		v.fail(path+".cidr", "%q is not a CIDR prefix like 198.51.100.0/24", s.CIDR)
		return
	}
	if prefix != prefix.Masked() {
		v.fail(path+".cidr", "%q has host bits set; the network is %s", s.CIDR, prefix.Masked())
		return
	}
	addr := func(field, value string) (netip.Addr, bool) {
		a, err := netip.ParseAddr(value)
		switch {
		case err != nil:
			v.fail(path+"."+field, "%q is not an IP address", value)
		case !prefix.Contains(a):
			v.fail(path+"."+field, "%s is outside %s", a, prefix)
		case a.Is4() && prefix.Bits() < 31 && (a == prefix.Addr() || a == lastAddr(prefix)):
			v.fail(path+"."+field, "%s is the network or broadcast address of %s", a, prefix)
		default:
			return a, true
		}
		return netip.Addr{}, false
	}
	gateway, okGateway := addr("gateway", s.Gateway)
	start, okStart := addr("pool_start", s.PoolStart)
	end, okEnd := addr("pool_end", s.PoolEnd)
	if !okGateway || !okStart || !okEnd {
		return
	}
	if end.Less(start) {
		v.fail(path+".pool_end", "%s comes before pool_start %s", end, start)
		return
	}
	if !gateway.Less(start) && !end.Less(gateway) {
		v.fail(path+".gateway", "%s lies inside the pool %s-%s", gateway, start, end)
	}

	this := subnetInfo{prefix: prefix, path: path}
	for _, other := range dc.subnets {
		if other.prefix.Overlaps(prefix) {
			v.fail(path+".cidr", "%s overlaps %s of %s in the same datacenter", prefix, other.prefix, other.path)
		}
	}
	dc.subnets = append(dc.subnets, this)
	if public {
		for _, other := range v.publicSubnet {
			if other.prefix.Overlaps(prefix) && !containsPath(dc.subnets, other.path) {
				v.fail(path+".cidr", "%s overlaps public subnet %s of %s", prefix, other.prefix, other.path)
			}
		}
		v.publicSubnet = append(v.publicSubnet, this)
	}

	version := int32(4)
	if prefix.Addr().Is6() {
		version = 6
	}
	dhcp := s.DHCP == nil || *s.DHCP
	v.rows.subnets = append(v.rows.subnets, subnetRow{
		ID: id, NetworkID: networkID, IPVersion: version, CIDR: prefix.String(), Gateway: gateway.String(),
		DHCP: dhcp, PoolStart: start.String(), PoolEnd: end.String(), CreatedAt: v.now, UpdatedAt: v.now,
	})
	// Address rows get ids derived from the subnet's id and the address, so
	// the same file always yields the same ids.
	namespace, err := uuid.Parse(id)
	if err != nil {
		return // reported by v.id
	}
	var pool []ipAddressRow
	for a := start; ; a = a.Next() {
		if len(pool) == maxPoolSize {
			v.fail(path+".pool_end", "the pool %s-%s holds more than %d addresses", start, end, maxPoolSize)
			return
		}
		pool = append(pool, ipAddressRow{
			ID:        uuid.NewSHA1(namespace, []byte(a.String())).String(),
			SubnetID:  id,
			Address:   a.String(),
			PoolIndex: int64(len(pool)),
		})
		if a == end {
			break
		}
	}
	v.rows.ipAddresses = append(v.rows.ipAddresses, pool...)
}

// containsPath reports whether one of subnets has the given path.
func containsPath(subnets []subnetInfo, path string) bool {
	return slices.ContainsFunc(subnets, func(s subnetInfo) bool { return s.path == path })
}

// lastAddr returns the highest address of p.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := range b {
		bits := p.Bits() - i*8
		switch {
		case bits <= 0:
			b[i] = 0xff
		case bits < 8:
			b[i] |= 0xff >> bits
		}
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

func (v *seedValidator) flavour(path string, f seedFlavour, names map[string]string) {
	id := v.id(path, f.ID)
	v.required(path+".name", f.Name)
	v.unique(names, path+".name", "flavour name", f.Name)
	v.required(path+".cpu", f.CPU)
	v.required(path+".memory", f.Memory)
	v.required(path+".disk", f.Disk)
	v.required(path+".network", f.Network)
	if f.CPUCores <= 0 {
		v.fail(path+".cpu_cores", "must be positive, got %d", f.CPUCores)
	}
	v.nonNegative(path+".traffic_gb", f.TrafficGB)
	v.rows.flavours = append(v.rows.flavours, flavourRow{
		ID: id, Name: f.Name, CPU: f.CPU, Memory: f.Memory, Disk: f.Disk, Network: f.Network,
		CPUCores: f.CPUCores, TrafficGB: f.TrafficGB, CreatedAt: v.now, UpdatedAt: v.now,
	})

	for _, cur := range slices.Sorted(maps.Keys(f.Prices)) {
		p := f.Prices[cur]
		pp := fmt.Sprintf("%s.prices.%s", path, cur)
		if !cur.Valid() {
			v.fail(pp, "unsupported currency %q; use %v", cur, Currencies())
			continue
		}
		perHour, perMonth := v.priceAmounts(pp, p.PerHour, p.PerMonth)
		if p.WindowsPerMonth != nil {
			v.nonNegative(pp+".windows_per_month", *p.WindowsPerMonth)
		}
		v.nonNegative(pp+".spla_base", p.SPLABase)
		v.nonNegative(pp+".spla_per_2_cores", p.SPLAPer2Cores)
		v.rows.flavourPrices = append(v.rows.flavourPrices, flavourPriceRow{
			FlavourID: id, Currency: cur, PerHour: perHour, PerMonth: perMonth,
			WindowsPerMonth: p.WindowsPerMonth, SPLABase: p.SPLABase, SPLAPer2Cores: p.SPLAPer2Cores,
		})
	}
	for _, cur := range Currencies() {
		if _, ok := f.Prices[cur]; !ok {
			v.fail(path+".prices", "no %s prices; every flavour needs prices in %v", cur, Currencies())
		}
	}

	info := &flavourInfo{id: id, datacenters: map[string]bool{}}
	if _, dup := v.flavours[f.Name]; !dup && f.Name != "" {
		v.flavours[f.Name] = info
	}
	for i, m := range f.Datacenters {
		mp := entry(path, "datacenters", i, m.Datacenter)
		dc := v.datacenters[m.Datacenter]
		switch {
		case m.Datacenter == "":
			v.fail(mp+".datacenter", "required")
			continue
		case dc == nil:
			v.fail(mp+".datacenter", "unknown datacenter %q", m.Datacenter)
			continue
		case info.datacenters[dc.id]:
			v.fail(mp+".datacenter", "flavour is already offered in %q", m.Datacenter)
			continue
		}
		info.datacenters[dc.id] = true
		v.nonNegative(mp+".pre_order_limit", int64(m.PreOrderLimit))
		v.rows.flavourDatacenters = append(v.rows.flavourDatacenters, flavourDatacenterRow{
			FlavourID: id, DatacenterID: dc.id, PreOrderLimit: m.PreOrderLimit,
		})
		for _, cur := range slices.Sorted(maps.Keys(m.Prices)) {
			p := m.Prices[cur]
			pp := fmt.Sprintf("%s.prices.%s", mp, cur)
			if !cur.Valid() {
				v.fail(pp, "unsupported currency %q; use %v", cur, Currencies())
				continue
			}
			perHour, perMonth := v.priceAmounts(pp, p.PerHour, p.PerMonth)
			v.rows.flavourDCPrices = append(v.rows.flavourDCPrices, flavourDatacenterPriceRow{
				FlavourID: id, DatacenterID: dc.id, Currency: cur, PerHour: perHour, PerMonth: perMonth,
			})
		}
	}
}

// priceAmounts checks a required per_hour and per_month pair.
func (v *seedValidator) priceAmounts(path string, perHour, perMonth *int64) (int64, int64) {
	var h, m int64
	if perHour == nil {
		v.fail(path+".per_hour", "required (minor units, e.g. 12 for 0.12)")
	} else {
		h = *perHour
		v.nonNegative(path+".per_hour", h)
	}
	if perMonth == nil {
		v.fail(path+".per_month", "required (minor units, e.g. 8900 for 89.00)")
	} else {
		m = *perMonth
		v.nonNegative(path+".per_month", m)
	}
	return h, m
}

func (v *seedValidator) servers(dcPath string, dc *datacenterInfo, servers []seedServer) {
	for i, s := range servers {
		path := entry(dcPath, "servers", i, s.Name)
		id := v.id(path, s.ID)
		v.required(path+".name", s.Name)
		v.unique(v.serverNames, path+".name", "server name", s.Name)

		var flavourID string
		switch fl := v.flavours[s.Flavour]; {
		case s.Flavour == "":
			v.fail(path+".flavour", "required")
		case fl == nil:
			v.fail(path+".flavour", "unknown flavour %q", s.Flavour)
		case !fl.datacenters[dc.id]:
			v.fail(path+".flavour", "flavour %q is not offered in this datacenter; add it to the flavour's datacenters", s.Flavour)
		default:
			flavourID = fl.id
		}

		var ironicID *string
		if s.IronicID != "" {
			if u, err := uuid.Parse(s.IronicID); err != nil || u.String() != s.IronicID {
				v.fail(path+".ironic_id", "%q is not a lower-case UUID", s.IronicID)
			}
			v.unique(v.ironicIDs, path+".ironic_id", "Ironic id", s.IronicID)
			ironicID = &s.IronicID
		}
		pm := s.PlatformManagement
		if !pm.Type.Valid() {
			v.fail(path+".platform_management.type", "%q is not one of IDRAC8, IDRAC9, ILO5, ASRR, IPMI, XCLARITY2", pm.Type)
		}
		if _, err := netip.ParseAddr(pm.IP); err != nil {
			v.fail(path+".platform_management.ip", "%q is not an IP address", pm.IP)
		}
		v.required(path+".platform_management.username", pm.Username)

		state := s.ProvisionState
		if state == "" {
			state = StateAvailable
		}
		if !state.Valid() {
			v.fail(path+".provision_state", "%q is not an Ironic provisioning state", state)
		}
		power := s.PowerState
		if power == "" {
			power = PowerOff
		}
		if !power.Valid() {
			v.fail(path+".power_state", "%q is not one of ON, OFF, RESET", power)
		}
		v.rows.servers = append(v.rows.servers, serverRow{
			ID: id, Name: s.Name, DatacenterID: dc.id, FlavourID: flavourID, IronicID: ironicID,
			NetboxLink: s.NetboxLink, Status: ServerImported,
			PlatformManagementType: pm.Type, PlatformManagementIP: pm.IP, PlatformManagementUsername: pm.Username,
			ProvisionState: state, PowerState: power, InPool: s.InPool == nil || *s.InPool,
			ProvisionStateChangedAt: v.now, CreatedAt: v.now, UpdatedAt: v.now,
		})
		v.interfaces(path, id, dc, s.Interfaces)
	}
}

func (v *seedValidator) interfaces(serverPath, serverID string, dc *datacenterInfo, ifaces []seedInterface) {
	public := 0
	for i, nic := range ifaces {
		path := entry(serverPath, "interfaces", i, "")
		id := v.id(path, nic.ID)
		if !nic.Type.Valid() {
			v.fail(path+".type", "%q is not one of PUBLIC, MANAGEMENT", nic.Type)
		}
		if nic.Type == NetworkPublic {
			public++
		}
		mac, err := net.ParseMAC(nic.MACAddress)
		switch {
		case nic.MACAddress == "":
			v.fail(path+".mac_address", "required")
		case err != nil || len(mac) != 6:
			v.fail(path+".mac_address", "%q is not an EUI-48 MAC address like 02:67:70:00:01:01", nic.MACAddress)
		default:
			v.unique(v.macs, path+".mac_address", "MAC address", mac.String())
		}
		if nic.Speed < 0 {
			v.fail(path+".speed", "must not be negative, got %d", nic.Speed)
		}
		var switchID *string
		if nic.Switch != "" {
			if sw, ok := dc.switches[nic.Switch]; ok {
				switchID = &sw
			} else {
				v.fail(path+".switch", "unknown switch %q in this datacenter", nic.Switch)
			}
		}
		v.rows.interfaces = append(v.rows.interfaces, serverInterfaceRow{
			ID: id, ServerID: serverID, Type: nic.Type, MACAddress: mac.String(), Driver: nic.Driver,
			Speed: nic.Speed, SwitchID: switchID, SwitchPort: nic.SwitchPort, CreatedAt: v.now, UpdatedAt: v.now,
		})
	}
	if public != 1 {
		v.fail(serverPath+".interfaces", "a server needs exactly one PUBLIC interface, found %d", public)
	}
}

func (v *seedValidator) operatingSystem(path string, os seedOperatingSystem, names map[string]string) {
	id := v.id(path, os.ID)
	v.required(path+".name", os.Name)
	v.unique(names, path+".name", "operating system name", os.Name)
	if !os.Family.Valid() {
		v.fail(path+".family", "%q is not one of LINUX, WINDOWS", os.Family)
	}
	v.rows.operatingSystems = append(v.rows.operatingSystems, operatingSystemRow{
		ID: id, Name: os.Name, Family: os.Family, CreatedAt: v.now, UpdatedAt: v.now,
	})
	defaults := 0
	for _, img := range os.Images {
		if img.Default {
			defaults++
		}
	}
	switch {
	case len(os.Images) == 0:
		v.fail(path+".images", "an operating system needs at least one image")
	case len(os.Images) > 1 && defaults != 1:
		v.fail(path+".images", "mark exactly one of the %d images default, found %d", len(os.Images), defaults)
	}
	for i, img := range os.Images {
		v.image(entry(path, "images", i, img.Alias), id, os.Family, img, len(os.Images) == 1 || img.Default)
	}
}

func (v *seedValidator) image(path, osID string, family OperatingSystemFamily, img seedImage, isDefault bool) {
	id := v.id(path, img.ID)
	v.required(path+".alias", img.Alias)
	v.unique(v.imageAliases, path+".alias", "image alias", img.Alias)
	v.required(path+".name", img.Name)
	v.required(path+".username", img.Username)
	row := imageRow{
		ID: id, OperatingSystemID: osID, Alias: img.Alias, Name: img.Name, Username: img.Username,
		Public: true, Available: img.Available == nil || *img.Available, Release: img.Release,
		ContainsSPLALicense: img.ContainsSPLALicense, IsDefault: isDefault, VendorData: img.VendorData,
		CreatedAt: v.now, UpdatedAt: v.now,
	}
	if len(img.AuthenticationTypes) == 0 {
		v.fail(path+".authentication_types", "list at least one of PASSWORD, SSH")
	}
	for i, a := range img.AuthenticationTypes {
		field := fmt.Sprintf("%s.authentication_types[%d]", path, i)
		switch {
		case a == AuthPassword && !row.AuthPassword:
			row.AuthPassword = true
		case a == AuthSSH && !row.AuthSSH:
			row.AuthSSH = true
		case a.Valid():
			v.fail(field, "duplicate authentication type %q", a)
		default:
			v.fail(field, "%q is not one of PASSWORD, SSH", a)
		}
	}
	if row.Release == "" {
		row.Release = ReleaseStable
	}
	if !row.Release.Valid() {
		v.fail(path+".release", "%q is not one of STABLE, PRE_RELEASE, END_OF_LIFE", row.Release)
	}
	if img.ContainsSPLALicense && family != Windows {
		v.fail(path+".contains_spla_license", "only WINDOWS images carry a SPLA licence")
	}
	v.rows.images = append(v.rows.images, row)

	if img.Flavours == nil {
		for _, fl := range v.rows.flavours {
			v.rows.imageFlavours = append(v.rows.imageFlavours, imageFlavourRow{ImageID: id, FlavourID: fl.ID})
		}
	}
	seen := map[string]string{}
	for i, name := range img.Flavours {
		field := fmt.Sprintf("%s.flavours[%d]", path, i)
		fl := v.flavours[name]
		if fl == nil {
			v.fail(field, "unknown flavour %q", name)
			continue
		}
		if _, dup := seen[name]; dup {
			v.fail(field, "duplicate flavour %q", name)
			continue
		}
		seen[name] = field
		v.rows.imageFlavours = append(v.rows.imageFlavours, imageFlavourRow{ImageID: id, FlavourID: fl.id})
	}

	types := map[string]string{}
	for i, cp := range img.CloudProviderImages {
		cpPath := entry(path, "cloud_provider_images", i, "")
		cpID := v.id(cpPath, cp.ID)
		if !cp.Type.Valid() {
			v.fail(cpPath+".type", "%q is not one of AWS, TENCENT", cp.Type)
		}
		v.unique(types, cpPath+".type", "cloud provider", string(cp.Type))
		v.required(cpPath+".cloud_provider_image_id", cp.CloudProviderImageID)
		v.rows.cloudProviderImages = append(v.rows.cloudProviderImages, cloudProviderImageRow{
			ID: cpID, ImageID: id, Type: cp.Type, CloudProviderImageID: cp.CloudProviderImageID,
			CreatedAt: v.now, UpdatedAt: v.now,
		})
	}
}

func (v *seedValidator) country(path string, c seedCountry, codes map[string]string) {
	v.countryCode(path+".code", c.Code)
	v.unique(codes, path+".code", "country", c.Code)
	bp := math.Round(c.TaxRate * 100)
	switch {
	case c.TaxRate < 0 || c.TaxRate >= 100:
		v.fail(path+".tax_rate", "%v is not a percentage between 0 and 100", c.TaxRate)
	case math.Abs(c.TaxRate*100-bp) > 1e-6:
		v.fail(path+".tax_rate", "%v has more than two decimals", c.TaxRate)
	}
	v.rows.countries = append(v.rows.countries, countryRow{Code: c.Code, TaxRateBP: int32(bp), NetSupport: c.NetSupport})
}
