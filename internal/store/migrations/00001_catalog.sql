-- +goose Up
-- The catalog: what the operator owns and offers. Regions and datacenters,
-- flavours and their prices, physical servers with their interfaces, the
-- networks and IP pools of each datacenter, operating systems and public
-- images, and the countries customers may do business from.
-- Owned by internal/catalog. Enumerations are stored as the reference's value
-- names without their prefix (DATACENTER_STATUS_AVAILABLE -> 'AVAILABLE').
-- Money is BIGINT minor units (cents) per ISO 4217 currency.

CREATE TABLE regions (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE CHECK (name <> ''),
    country_code TEXT NOT NULL CHECK (length(country_code) = 2 AND country_code = upper(country_code)),
    netbox_id    BIGINT NOT NULL CHECK (netbox_id >= 0),
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);

CREATE TABLE datacenters (
    id               TEXT PRIMARY KEY,
    region_id        TEXT NOT NULL REFERENCES regions (id),
    name             TEXT NOT NULL UNIQUE CHECK (name <> ''),
    short            TEXT NOT NULL UNIQUE CHECK (short <> ''),
    status           TEXT NOT NULL CHECK (status IN ('AVAILABLE', 'COMING_SOON', 'UNAVAILABLE')),
    latency_endpoint TEXT NOT NULL,
    server_prefix    TEXT NOT NULL,
    netbox_id        BIGINT NOT NULL CHECK (netbox_id >= 0),
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);

CREATE INDEX datacenters_region_id ON datacenters (region_id);

CREATE TABLE datacenter_management_vlans (
    datacenter_id TEXT NOT NULL REFERENCES datacenters (id) ON DELETE CASCADE,
    vlan_id       INTEGER NOT NULL CHECK (vlan_id BETWEEN 1 AND 4094),
    PRIMARY KEY (datacenter_id, vlan_id)
);

-- Hardware specifications are display strings; cpu_cores counts the cores
-- that Windows SPLA licensing charges for.
CREATE TABLE flavours (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE CHECK (name <> ''),
    cpu        TEXT NOT NULL,
    memory     TEXT NOT NULL,
    disk       TEXT NOT NULL,
    network    TEXT NOT NULL,
    cpu_cores  INTEGER NOT NULL CHECK (cpu_cores > 0),
    traffic_gb BIGINT NOT NULL CHECK (traffic_gb >= 0),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

-- A flavour's list prices, one row per currency. windows_per_month is NULL
-- when the flavour has no Windows fee. The SPLA licence costs spla_base for
-- the first 8 cores and spla_per_2_cores for every 2 cores beyond.
CREATE TABLE flavour_prices (
    flavour_id        TEXT NOT NULL REFERENCES flavours (id) ON DELETE CASCADE,
    currency          TEXT NOT NULL CHECK (currency IN ('EUR', 'USD')),
    per_hour          BIGINT NOT NULL CHECK (per_hour >= 0),
    per_month         BIGINT NOT NULL CHECK (per_month >= 0),
    windows_per_month BIGINT CHECK (windows_per_month >= 0),
    spla_base         BIGINT NOT NULL CHECK (spla_base >= 0),
    spla_per_2_cores  BIGINT NOT NULL CHECK (spla_per_2_cores >= 0),
    PRIMARY KEY (flavour_id, currency)
);

-- Where a flavour is offered. Availability is never stored: it is computed
-- from the free servers of the flavour in the datacenter.
CREATE TABLE flavour_datacenters (
    flavour_id      TEXT NOT NULL REFERENCES flavours (id) ON DELETE CASCADE,
    datacenter_id   TEXT NOT NULL REFERENCES datacenters (id) ON DELETE CASCADE,
    pre_order_limit INTEGER NOT NULL CHECK (pre_order_limit >= 0),
    PRIMARY KEY (flavour_id, datacenter_id)
);

CREATE INDEX flavour_datacenters_datacenter_id ON flavour_datacenters (datacenter_id);

-- Per-datacenter overrides of flavour_prices' per_hour and per_month.
CREATE TABLE flavour_datacenter_prices (
    flavour_id    TEXT NOT NULL,
    datacenter_id TEXT NOT NULL,
    currency      TEXT NOT NULL CHECK (currency IN ('EUR', 'USD')),
    per_hour      BIGINT NOT NULL CHECK (per_hour >= 0),
    per_month     BIGINT NOT NULL CHECK (per_month >= 0),
    PRIMARY KEY (flavour_id, datacenter_id, currency),
    FOREIGN KEY (flavour_id, datacenter_id) REFERENCES flavour_datacenters (flavour_id, datacenter_id) ON DELETE CASCADE
);

CREATE TABLE switches (
    id            TEXT PRIMARY KEY,
    datacenter_id TEXT NOT NULL REFERENCES datacenters (id),
    name          TEXT NOT NULL CHECK (name <> ''),
    type          TEXT NOT NULL CHECK (type IN ('JUNIPER', 'JUNIPER_LEGACY', 'FS', 'ARISTA_EOS')),
    ip_address    TEXT NOT NULL,
    netbox_id     BIGINT NOT NULL CHECK (netbox_id >= 0),
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    UNIQUE (datacenter_id, name)
);

-- Physical machines. A server is free for a new node when it is in the pool,
-- not in use and its provisioning state is AVAILABLE.
CREATE TABLE servers (
    id                           TEXT PRIMARY KEY,
    name                         TEXT NOT NULL UNIQUE CHECK (name <> ''),
    datacenter_id                TEXT NOT NULL REFERENCES datacenters (id),
    flavour_id                   TEXT NOT NULL REFERENCES flavours (id),
    ironic_id                    TEXT UNIQUE,
    netbox_link                  TEXT NOT NULL,
    status                       TEXT NOT NULL CHECK (status IN ('IMPORTING', 'IMPORTED', 'DELETING')),
    platform_management_type     TEXT NOT NULL CHECK (platform_management_type IN ('IDRAC8', 'IDRAC9', 'ILO5', 'ASRR', 'IPMI', 'XCLARITY2')),
    platform_management_ip       TEXT NOT NULL,
    platform_management_username TEXT NOT NULL,
    provision_state              TEXT NOT NULL CHECK (provision_state IN (
        'ENROLL', 'VERIFYING', 'MANAGEABLE', 'AVAILABLE', 'ACTIVE', 'DEPLOY_WAIT', 'DEPLOYING',
        'DEPLOY_FAIL', 'DEPLOY_DONE', 'DELETING', 'DELETED', 'CLEANING', 'CLEAN_WAIT', 'CLEAN_FAIL',
        'ERROR', 'REBUILD', 'INSPECTING', 'INSPECT_FAIL', 'INSPECT_WAIT', 'ADOPTING', 'ADOPT_FAIL',
        'RESCUE', 'RESCUE_FAIL', 'RESCUING', 'UNRESCUE_FAIL', 'RESCUE_WAIT', 'UNRESCUING')),
    power_state                  TEXT NOT NULL CHECK (power_state IN ('ON', 'OFF', 'RESET')),
    in_pool                      BOOLEAN NOT NULL,
    in_use                       BOOLEAN NOT NULL,
    last_error                   TEXT NOT NULL,
    provision_state_changed_at   TIMESTAMPTZ NOT NULL,
    created_at                   TIMESTAMPTZ NOT NULL,
    updated_at                   TIMESTAMPTZ NOT NULL
);

CREATE INDEX servers_stock ON servers (datacenter_id, flavour_id, provision_state, in_pool, in_use);
CREATE INDEX servers_flavour_id ON servers (flavour_id);

-- Network interfaces; mac_address is lower-case, colon-separated EUI-48.
-- A server has exactly one PUBLIC interface (the one its node's IPs are bound
-- to) and any number of MANAGEMENT interfaces.
CREATE TABLE server_interfaces (
    id          TEXT PRIMARY KEY,
    server_id   TEXT NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
    type        TEXT NOT NULL CHECK (type IN ('PUBLIC', 'MANAGEMENT')),
    mac_address TEXT NOT NULL UNIQUE CHECK (length(mac_address) = 17 AND mac_address = lower(mac_address)),
    driver      TEXT NOT NULL,
    speed       INTEGER NOT NULL CHECK (speed >= 0),
    switch_id   TEXT REFERENCES switches (id),
    switch_port TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

CREATE INDEX server_interfaces_server_id ON server_interfaces (server_id);
CREATE UNIQUE INDEX server_interfaces_one_public ON server_interfaces (server_id) WHERE type = 'PUBLIC';
CREATE INDEX server_interfaces_switch_id ON server_interfaces (switch_id);

CREATE TABLE networks (
    id            TEXT PRIMARY KEY,
    datacenter_id TEXT NOT NULL REFERENCES datacenters (id),
    name          TEXT NOT NULL CHECK (name <> ''),
    type          TEXT NOT NULL CHECK (type IN ('PUBLIC', 'MANAGEMENT')),
    vlan_id       INTEGER NOT NULL CHECK (vlan_id BETWEEN 0 AND 4094),
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    UNIQUE (datacenter_id, name)
);

-- Addresses are canonical text (net/netip); cidr is the masked prefix.
CREATE TABLE subnets (
    id         TEXT PRIMARY KEY,
    network_id TEXT NOT NULL REFERENCES networks (id),
    ip_version INTEGER NOT NULL CHECK (ip_version IN (4, 6)),
    cidr       TEXT NOT NULL,
    gateway    TEXT NOT NULL,
    dhcp       BOOLEAN NOT NULL,
    pool_start TEXT NOT NULL,
    pool_end   TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (network_id, cidr)
);

-- One row per address of a subnet's pool, pool_start at pool_index 0. An
-- address is free while interface_id is NULL; taking one is an UPDATE of a
-- free row (locked with store.ForUpdateSkipLocked) in the transaction that
-- creates the node, so no address is ever handed out twice.
CREATE TABLE ip_addresses (
    id           TEXT PRIMARY KEY,
    subnet_id    TEXT NOT NULL REFERENCES subnets (id) ON DELETE CASCADE,
    address      TEXT NOT NULL,
    pool_index   BIGINT NOT NULL CHECK (pool_index >= 0),
    interface_id TEXT REFERENCES server_interfaces (id),
    allocated_at TIMESTAMPTZ,
    UNIQUE (subnet_id, address),
    UNIQUE (subnet_id, pool_index),
    CHECK ((interface_id IS NULL) = (allocated_at IS NULL))
);

CREATE INDEX ip_addresses_free ON ip_addresses (subnet_id, pool_index) WHERE interface_id IS NULL;
CREATE INDEX ip_addresses_interface_id ON ip_addresses (interface_id);

CREATE TABLE operating_systems (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE CHECK (name <> ''),
    family     TEXT NOT NULL CHECK (family IN ('WINDOWS', 'LINUX')),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

-- Images; public ones belong to the catalog. is_default marks the operating
-- system's default image (at most one each). At least one authentication
-- type (password, SSH key) is accepted.
CREATE TABLE images (
    id                    TEXT PRIMARY KEY,
    operating_system_id   TEXT NOT NULL REFERENCES operating_systems (id),
    alias                 TEXT NOT NULL CHECK (alias <> ''),
    name                  TEXT NOT NULL CHECK (name <> ''),
    username              TEXT NOT NULL,
    public                BOOLEAN NOT NULL,
    available             BOOLEAN NOT NULL,
    release               TEXT NOT NULL CHECK (release IN ('STABLE', 'PRE_RELEASE', 'END_OF_LIFE')),
    contains_spla_license BOOLEAN NOT NULL,
    auth_password         BOOLEAN NOT NULL,
    auth_ssh              BOOLEAN NOT NULL,
    is_default            BOOLEAN NOT NULL,
    vendor_data           TEXT NOT NULL,
    created_at            TIMESTAMPTZ NOT NULL,
    updated_at            TIMESTAMPTZ NOT NULL,
    CHECK (auth_password OR auth_ssh)
);

CREATE INDEX images_operating_system_id ON images (operating_system_id);
CREATE UNIQUE INDEX images_public_alias ON images (alias) WHERE public;
CREATE UNIQUE INDEX images_one_default ON images (operating_system_id) WHERE is_default;

-- The flavours an image may be installed on.
CREATE TABLE image_flavours (
    image_id   TEXT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    flavour_id TEXT NOT NULL REFERENCES flavours (id) ON DELETE CASCADE,
    PRIMARY KEY (image_id, flavour_id)
);

CREATE INDEX image_flavours_flavour_id ON image_flavours (flavour_id);

-- The same image at external cloud providers.
CREATE TABLE cloud_provider_images (
    id                      TEXT PRIMARY KEY,
    image_id                TEXT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    type                    TEXT NOT NULL CHECK (type IN ('AWS', 'TENCENT')),
    cloud_provider_image_id TEXT NOT NULL CHECK (cloud_provider_image_id <> ''),
    created_at              TIMESTAMPTZ NOT NULL,
    updated_at              TIMESTAMPTZ NOT NULL,
    UNIQUE (image_id, type)
);

-- Countries customers may do business from. tax_rate_bp is the VAT rate in
-- basis points (1900 = 19 %).
CREATE TABLE countries (
    code        TEXT PRIMARY KEY CHECK (length(code) = 2 AND code = upper(code)),
    tax_rate_bp INTEGER NOT NULL CHECK (tax_rate_bp >= 0 AND tax_rate_bp < 10000),
    net_support BOOLEAN NOT NULL
);

-- +goose Down
DROP TABLE countries;
DROP TABLE cloud_provider_images;
DROP TABLE image_flavours;
DROP TABLE images;
DROP TABLE operating_systems;
DROP TABLE ip_addresses;
DROP TABLE subnets;
DROP TABLE networks;
DROP TABLE server_interfaces;
DROP TABLE servers;
DROP TABLE switches;
DROP TABLE flavour_datacenter_prices;
DROP TABLE flavour_datacenters;
DROP TABLE flavour_prices;
DROP TABLE flavours;
DROP TABLE datacenter_management_vlans;
DROP TABLE datacenters;
DROP TABLE regions;
