// Package catalog owns what the operator owns and offers: regions and
// datacenters, flavours and their prices, physical servers with their
// interfaces, the networks and IP pools of each datacenter, operating systems
// and public images, the countries customers may do business from, and the
// time zones users may choose.
//
// Its tables are created by migration 00001_catalog.sql in internal/store.
// They are filled once, on first start, from a seed file (Seed, DefaultSeed;
// the format is documented at the top of seed/default.yaml) and read through
// a Catalog:
//
//   - ListCountries: every country, sorted by English name (names come from
//     CLDR via golang.org/x/text, never from a table of our own).
//   - ListTimezones: the IANA zones of zone.tab plus UTC, generated into
//     timezones_gen.go by ./gentimezones (`go generate`); the binary embeds
//     its own tz database (time/tzdata), so every listed zone loads anywhere.
//   - ListDatacenters, GetDatacenter: datacenters with their region, whatever
//     their status (COMING_SOON ones are listed; only AVAILABLE ones take
//     orders).
//   - ListFlavours, GetFlavour: the flavours offered in a datacenter, priced
//     in one currency with per-datacenter overrides applied, and their
//     availability computed from free servers (see AvailabilityOf).
//   - ListPublicImages: public images grouped by operating system, filtered
//     by flavour and by cloud provider.
//
// List calls take an effective pagination.Page (resolved against the
// *PageLimit defaults here) and return the page and the total number of
// items. Domain refusals are internal/fault errors.
//
// Taking a free server or IP address for a node happens elsewhere, in the
// node-creation transaction: a server is free when it is in the pool, not in
// use and AVAILABLE; an IP address is free while its ip_addresses row has no
// interface. Both are taken with store.ForUpdateSkipLocked.
package catalog
