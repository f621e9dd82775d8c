package catalog_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/gpcore/gpcore/internal/catalog"
	"github.com/gpcore/gpcore/internal/fault"
	"github.com/gpcore/gpcore/internal/store"
	"github.com/gpcore/gpcore/internal/store/storetest"
)

// rowCounts counts the rows of every catalog table.
func rowCounts(t *testing.T, db *store.DB) map[string]int64 {
	t.Helper()
	counts := map[string]int64{}
	for _, table := range []string{
		"regions", "datacenters", "datacenter_management_vlans", "switches", "flavours", "flavour_prices",
		"flavour_datacenters", "flavour_datacenter_prices", "networks", "subnets", "ip_addresses", "servers",
		"server_interfaces", "operating_systems", "images", "image_flavours", "cloud_provider_images", "countries",
	} {
		n, err := db.NewSelect().TableExpr(table).Count(t.Context())
		if err != nil {
			t.Fatalf("count %s: %v", table, err)
		}
		counts[table] = n
	}
	return counts
}

func TestSeedDefault(t *testing.T) {
	t.Parallel()
	db, _ := seeded(t)
	want := map[string]int64{
		"regions": 1, "datacenters": 2, "datacenter_management_vlans": 1, "switches": 2,
		"flavours": 4, "flavour_prices": 8, "flavour_datacenters": 6, "flavour_datacenter_prices": 2,
		"networks": 2, "subnets": 3,
		// 198.51.100.10-250, 2001:db8:100::10-ff, 10.10.0.100-199
		"ip_addresses": 241 + 240 + 100,
		"servers":      12, "server_interfaces": 24,
		"operating_systems": 4, "images": 5,
		// 4 images on every flavour, Windows on 3
		"image_flavours":        4*4 + 3,
		"cloud_provider_images": 0, "countries": 15,
	}
	got := rowCounts(t, db)
	for table, n := range want {
		if got[table] != n {
			t.Errorf("%s: %d rows, want %d", table, got[table], n)
		}
	}

	var free int64
	free, err := db.NewSelect().TableExpr("servers").
		Where("in_pool = ?", true).Where("in_use = ?", false).Where("provision_state = ?", catalog.StateAvailable).
		Count(t.Context())
	if err != nil || free != 12 {
		t.Errorf("free servers = %d (%v), want 12", free, err)
	}
	var first, last string
	subnet := idOf(t, db, "subnets", "cidr", "198.51.100.0/24")
	if err := db.QueryRowContext(t.Context(),
		"SELECT address FROM ip_addresses WHERE subnet_id = ? AND pool_index = 0", subnet).Scan(&first); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(t.Context(),
		"SELECT address FROM ip_addresses WHERE subnet_id = ? AND pool_index = 240", subnet).Scan(&last); err != nil {
		t.Fatal(err)
	}
	if first != "198.51.100.10" || last != "198.51.100.250" {
		t.Errorf("pool = %s-%s, want 198.51.100.10-198.51.100.250", first, last)
	}
}

func TestSeedLeavesNonEmptyCatalogAlone(t *testing.T) {
	t.Parallel()
	db, _ := seeded(t)
	before := rowCounts(t, db)
	for _, seed := range [][]byte{catalog.DefaultSeed(), []byte(testSeed)} {
		if err := catalog.Seed(t.Context(), db, seed); err != nil {
			t.Fatalf("Seed on a seeded catalog: %v", err)
		}
	}
	after := rowCounts(t, db)
	for table, n := range before {
		if after[table] != n {
			t.Errorf("%s: %d rows after seeding again, want %d", table, after[table], n)
		}
	}
}

// TestSeedOnceWhenReplicasStartTogether seeds from several goroutines at
// once; the catalog must end up seeded exactly once, without errors.
func TestSeedOnceWhenReplicasStartTogether(t *testing.T) {
	t.Parallel()
	db := storetest.New(t)
	const replicas = 4
	errs := make([]error, replicas)
	var wg sync.WaitGroup
	for i := range replicas {
		wg.Go(func() { errs[i] = catalog.Seed(t.Context(), db, catalog.DefaultSeed()) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d: %v", i, err)
		}
	}
	if got := rowCounts(t, db); got["servers"] != 12 || got["countries"] != 15 {
		t.Fatalf("after concurrent seeding: %d servers, %d countries; want 12 and 15", got["servers"], got["countries"])
	}
}

// testSeed is a small valid seed that the rejection cases below break one
// field at a time.
const testSeed = `
regions:
  - id: 00000000-0000-4000-8000-000000000001
    name: Test
    country_code: DE
    datacenters:
      - id: 00000000-0000-4000-8000-000000000002
        name: Test One
        short: tst1
        status: AVAILABLE
        switches:
          - id: 00000000-0000-4000-8000-000000000003
            name: sw1
            type: FS
            ip_address: 10.0.0.2
        networks:
          - id: 00000000-0000-4000-8000-000000000004
            name: public
            type: PUBLIC
            vlan_id: 100
            subnets:
              - id: 00000000-0000-4000-8000-000000000005
                cidr: 203.0.113.0/28
                gateway: 203.0.113.1
                pool_start: 203.0.113.4
                pool_end: 203.0.113.14
        servers:
          - id: 00000000-0000-4000-8000-000000000006
            name: s1
            flavour: small
            platform_management: {type: IPMI, ip: 10.0.0.11, username: admin}
            interfaces:
              - {id: 00000000-0000-4000-8000-000000000007, type: PUBLIC, mac_address: "02:00:00:00:00:01", speed: 1000, switch: sw1}
              - {id: 00000000-0000-4000-8000-000000000008, type: MANAGEMENT, mac_address: "02:00:00:00:01:01", speed: 1000}
          - id: 00000000-0000-4000-8000-000000000009
            name: s2
            flavour: small
            platform_management: {type: IPMI, ip: 10.0.0.12, username: admin}
            interfaces:
              - {id: 00000000-0000-4000-8000-00000000000a, type: PUBLIC, mac_address: "02:00:00:00:00:02", speed: 1000}
flavours:
  - id: 00000000-0000-4000-8000-000000000010
    name: small
    cpu: 4 cores
    memory: 16 GB
    disk: 1 TB
    network: 1 Gbit/s
    cpu_cores: 4
    traffic_gb: 10000
    prices:
      EUR: {per_hour: 5, per_month: 3000}
      USD: {per_hour: 6, per_month: 3300}
    datacenters:
      - datacenter: tst1
operating_systems:
  - id: 00000000-0000-4000-8000-000000000020
    name: Debian
    family: LINUX
    images:
      - id: 00000000-0000-4000-8000-000000000021
        alias: debian-12
        name: Debian 12
        username: debian
        authentication_types: [SSH]
countries:
  - {code: DE, tax_rate: 19, net_support: true}
`

func TestSeedTestSeedIsValid(t *testing.T) {
	t.Parallel()
	db := storetest.New(t)
	if err := catalog.Seed(t.Context(), db, []byte(testSeed)); err != nil {
		t.Fatalf("Seed(testSeed): %v", err)
	}
	if got := rowCounts(t, db); got["servers"] != 2 || got["ip_addresses"] != 11 {
		t.Fatalf("%d servers and %d addresses, want 2 and 11", got["servers"], got["ip_addresses"])
	}
}

func TestSeedRejectsBadFiles(t *testing.T) {
	t.Parallel()
	db := storetest.New(t)
	for _, tc := range []struct {
		name     string
		old, new string // the change to testSeed
		want     string // must appear in the error: the path of the field, or the YAML problem
	}{
		{"unknown flavour", "flavour: small\n            platform_management: {type: IPMI, ip: 10.0.0.11",
			"flavour: huge\n            platform_management: {type: IPMI, ip: 10.0.0.11",
			`regions[Test].datacenters[tst1].servers[s1].flavour: unknown flavour "huge"`},
		{"bad CIDR", "cidr: 203.0.113.0/28", "cidr: 203.0.113.0/33",
			"regions[Test].datacenters[tst1].networks[public].subnets[0].cidr"},
		{"host bits in CIDR", "cidr: 203.0.113.0/28", "cidr: 203.0.113.3/28",
			"subnets[0].cidr: \"203.0.113.3/28\" has host bits set"},
		{"gateway outside", "gateway: 203.0.113.1", "gateway: 198.51.100.1", "subnets[0].gateway"},
		{"gateway in pool", "gateway: 203.0.113.1", "gateway: 203.0.113.5", "subnets[0].gateway: 203.0.113.5 lies inside the pool"},
		{"pool end before start", "pool_end: 203.0.113.14", "pool_end: 203.0.113.3", "subnets[0].pool_end"},
		{"broadcast in pool", "pool_end: 203.0.113.14", "pool_end: 203.0.113.15", "network or broadcast address"},
		{"duplicate MAC", `mac_address: "02:00:00:00:00:02"`, `mac_address: "02:00:00:00:00:01"`,
			`servers[s2].interfaces[0].mac_address: duplicate MAC address "02:00:00:00:00:01"`},
		{"bad MAC", `mac_address: "02:00:00:00:00:02"`, `mac_address: "02:00:00:00:00"`,
			"servers[s2].interfaces[0].mac_address"},
		{"no public interface", "type: PUBLIC, mac_address: \"02:00:00:00:00:02\"", "type: MANAGEMENT, mac_address: \"02:00:00:00:00:02\"",
			"servers[s2].interfaces: a server needs exactly one PUBLIC interface, found 0"},
		{"unknown switch", "speed: 1000, switch: sw1", "speed: 1000, switch: sw9", `interfaces[0].switch: unknown switch "sw9"`},
		{"duplicate id", "id: 00000000-0000-4000-8000-000000000009", "id: 00000000-0000-4000-8000-000000000006",
			"servers[s2].id: 00000000-0000-4000-8000-000000000006 is already the id of regions[Test].datacenters[tst1].servers[s1]"},
		{"id not a UUID", "id: 00000000-0000-4000-8000-000000000010", "id: small-flavour", "flavours[small].id"},
		{"upper-case UUID", "id: 00000000-0000-4000-8000-00000000000a", "id: 00000000-0000-4000-8000-00000000000A",
			"interfaces[0].id"},
		{"duplicate server name", "name: s2", "name: s1", `servers[s1].name: duplicate server name "s1"`},
		{"unknown field", "traffic_gb: 10000", "traffic_gb: 10000\n    trafic: 1", "field trafic not found"},
		{"missing USD", "      USD: {per_hour: 6, per_month: 3300}\n", "", "flavours[small].prices: no USD prices"},
		{"missing per_month", "EUR: {per_hour: 5, per_month: 3000}", "EUR: {per_hour: 5}", "flavours[small].prices.EUR.per_month: required"},
		{"unknown currency", "EUR: {per_hour: 5, per_month: 3000}", "EUR: {per_hour: 5, per_month: 3000}\n      GBP: {per_hour: 5, per_month: 3000}",
			`flavours[small].prices.GBP: unsupported currency "GBP"`},
		{"unknown datacenter", "- datacenter: tst1", "- datacenter: tst9", `flavours[small].datacenters[tst9].datacenter: unknown datacenter "tst9"`},
		{"flavour not offered", "    datacenters:\n      - datacenter: tst1\n", "",
			`servers[s1].flavour: flavour "small" is not offered in this datacenter`},
		{"bad status", "status: AVAILABLE", "status: OPEN", `datacenters[tst1].status: "OPEN" is not one of`},
		{"bad short code", "short: tst1", "short: Tst 1", "datacenters[Tst 1].short"},
		{"bad provision state", "name: s2\n", "name: s2\n            provision_state: READY\n", `servers[s2].provision_state: "READY"`},
		{"bad platform IP", "ip: 10.0.0.12", "ip: bmc-2", "servers[s2].platform_management.ip"},
		{"SPLA on Linux", "authentication_types: [SSH]", "authentication_types: [SSH]\n        contains_spla_license: true",
			"images[debian-12].contains_spla_license"},
		{"no authentication", "authentication_types: [SSH]", "authentication_types: []", "images[debian-12].authentication_types"},
		{"bad authentication", "authentication_types: [SSH]", "authentication_types: [SSH, KEY]", "images[debian-12].authentication_types[1]"},
		{"two defaults", "authentication_types: [SSH]\n",
			"authentication_types: [SSH]\n        default: true\n      - {id: 00000000-0000-4000-8000-000000000022, alias: d11, name: Debian 11, username: debian, authentication_types: [SSH], default: true}\n",
			"operating_systems[Debian].images: mark exactly one of the 2 images default, found 2"},
		{"image on unknown flavour", "authentication_types: [SSH]", "authentication_types: [SSH]\n        flavours: [tiny]",
			`images[debian-12].flavours[0]: unknown flavour "tiny"`},
		{"bad country", "code: DE, tax_rate: 19", "code: UK, tax_rate: 19", `countries[UK].code: "UK" is not an ISO 3166-1 alpha-2 country code`},
		{"tax rate decimals", "tax_rate: 19,", "tax_rate: 19.555,", "countries[DE].tax_rate: 19.555 has more than two decimals"},
		{"tax rate range", "tax_rate: 19,", "tax_rate: 119,", "countries[DE].tax_rate"},
		{"bad region country", "country_code: DE", "country_code: EU", "regions[Test].country_code"},
		{"pool too large", "            subnets:\n", `            subnets:
              - id: 00000000-0000-4000-8000-000000000030
                cidr: 2001:db8::/64
                gateway: 2001:db8::1
                pool_start: 2001:db8::2
                pool_end: 2001:db8::ffff:ffff
`, "subnets[0].pool_end: the pool 2001:db8::2-2001:db8::ffff:ffff holds more than 65536 addresses"},
		{"overlapping subnets", "            subnets:\n", `            subnets:
              - id: 00000000-0000-4000-8000-000000000031
                cidr: 203.0.113.0/24
                gateway: 203.0.113.129
                pool_start: 203.0.113.130
                pool_end: 203.0.113.140
`, "subnets[1].cidr: 203.0.113.0/28 overlaps 203.0.113.0/24"},
		{"not YAML", "regions:", "regions: [", "catalog: seed file: yaml"},
		{"empty", testSeed, "", "seed file is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(testSeed, tc.old) {
				t.Fatalf("testSeed lacks %q", tc.old)
			}
			seed := strings.Replace(testSeed, tc.old, tc.new, 1)
			err := catalog.Seed(t.Context(), db, []byte(seed))
			if err == nil {
				t.Fatal("Seed accepted the file")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Seed error does not mention %q:\n%v", tc.want, err)
			}
			if strings.Contains(tc.want, "[") && fault.KindOf(err) != fault.KindInvalidArgument {
				t.Errorf("kind = %v, want InvalidArgument", fault.KindOf(err))
			}
		})
	}

	// Nothing was written: the catalog is still empty and takes a good seed.
	for table, n := range rowCounts(t, db) {
		if n != 0 {
			t.Errorf("%s has %d rows after rejected seeds", table, n)
		}
	}
	if err := catalog.Seed(t.Context(), db, []byte(testSeed)); err != nil {
		t.Fatalf("Seed(testSeed) after rejections: %v", err)
	}
}
