-- +goose Up
-- Nodes: the servers customers rent in their projects, the server logs of
-- what happens to them, the one-time secrets handed to them and the remote
-- console sessions opened on them. Owned by internal/node, which also writes
-- the allocation columns of the catalog's tables: servers.in_use, in_pool,
-- provision_state, power_state, last_error and provision_state_changed_at
-- (a node's status is its server's provisioning state), and
-- ip_addresses.interface_id and allocated_at.

-- A node is live until deleted_at is set, when its server has been cleaned
-- and released (or given up on). Rows are kept after that for billing and
-- the logs. fqdn is the normalised name (lower case, no trailing dot), unique
-- among live nodes, as is the server. tags is a JSON object of strings;
-- tags_search is "key=value" per tag, one per line, lower-cased in Go for
-- search (see projects.name_lower). ssh_keys is a JSON array of the keys
-- installed (a copy taken when ordered or reinstalled: deleting a key later
-- does not change a node). operation is the provisioning operation under way
-- (NULL at rest), operation_requested_at when the driver accepted it;
-- power_target a power change asked for and not yet made. usage_ended_at is
-- when the customer destroyed the node: billing stops there.
-- A project with live nodes cannot be deleted (node.DeletionGuard, under the
-- project's row lock, which node orders take first); once it may be, the
-- rows of its deleted nodes go with it.
CREATE TABLE nodes (
    id                     TEXT PRIMARY KEY,
    project_id             TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    server_id              TEXT NOT NULL REFERENCES servers (id),
    datacenter_id          TEXT NOT NULL REFERENCES datacenters (id),
    flavour_id             TEXT NOT NULL REFERENCES flavours (id),
    image_id               TEXT NOT NULL REFERENCES images (id),
    ordered_by             TEXT REFERENCES users (id) ON DELETE SET NULL,
    fqdn                   TEXT NOT NULL CHECK (length(fqdn) BETWEEN 1 AND 253 AND fqdn = lower(fqdn) AND fqdn NOT LIKE '%.'),
    tags                   TEXT NOT NULL,
    tags_search            TEXT NOT NULL,
    billing_period         TEXT NOT NULL CHECK (billing_period IN ('HOURLY', 'MONTHLY')),
    target_billing_period  TEXT CHECK (target_billing_period IN ('HOURLY', 'MONTHLY')),
    paid_until_at          TIMESTAMPTZ NOT NULL,
    ssh_keys               TEXT NOT NULL,
    has_password           BOOLEAN NOT NULL,
    user_data              TEXT NOT NULL,
    operation              TEXT CHECK (operation IN ('DEPLOY', 'REBUILD', 'DESTROY', 'RESCUE', 'UNRESCUE')),
    operation_requested_at TIMESTAMPTZ,
    power_target           TEXT CHECK (power_target IN ('ON', 'OFF', 'RESET')),
    usage_ended_at         TIMESTAMPTZ,
    created_at             TIMESTAMPTZ NOT NULL,
    updated_at             TIMESTAMPTZ NOT NULL,
    deleted_at             TIMESTAMPTZ,
    CHECK (operation IS NOT NULL OR operation_requested_at IS NULL),
    CHECK (deleted_at IS NULL OR usage_ended_at IS NOT NULL)
);

CREATE UNIQUE INDEX nodes_live_fqdn ON nodes (fqdn) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX nodes_live_server ON nodes (server_id) WHERE deleted_at IS NULL;
CREATE INDEX nodes_live_project_fqdn ON nodes (project_id, fqdn) WHERE deleted_at IS NULL;
CREATE INDEX nodes_live_ordered_by ON nodes (ordered_by) WHERE deleted_at IS NULL;
CREATE INDEX nodes_server_id ON nodes (server_id);

-- What happened to a server, step by step: one row per provisioning step,
-- power change or failure. node_id names the node the server ran at the
-- time, NULL for what happened outside any node (or once that node's
-- project is deleted: the entries are the server's history).
CREATE TABLE server_logs (
    id         TEXT PRIMARY KEY,
    server_id  TEXT NOT NULL REFERENCES servers (id),
    node_id    TEXT REFERENCES nodes (id) ON DELETE SET NULL,
    level      TEXT NOT NULL CHECK (level IN ('INFO', 'WARNING', 'ERROR')),
    source     TEXT NOT NULL CHECK (source IN ('INTERNAL', 'METADATA', 'IRONIC', 'NETBOX')),
    message    TEXT NOT NULL CHECK (message <> ''),
    created_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX server_logs_server_id_created_at ON server_logs (server_id, created_at);
CREATE INDEX server_logs_node_id_created_at ON server_logs (node_id, created_at);

-- Secrets a node is given once: the root password of an installation and
-- the root password of the rescue system. A row lives from the request that
-- sets it until the provisioning driver has accepted the request carrying
-- it, and is deleted in the transaction that records that; the API never
-- returns it afterwards.
CREATE TABLE node_secrets (
    node_id    TEXT NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('ROOT_PASSWORD', 'RESCUE_PASSWORD')),
    secret     TEXT NOT NULL CHECK (secret <> ''),
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (node_id, kind)
);

-- Remote console credentials handed out by GetRemoteConsoleAccess: only the
-- SHA-256 of the token and of the password are kept, for the console gateway
-- to check until expires_at.
CREATE TABLE node_console_sessions (
    id              TEXT PRIMARY KEY,
    node_id         TEXT NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
    user_id         TEXT REFERENCES users (id) ON DELETE CASCADE,
    username        TEXT NOT NULL CHECK (username <> ''),
    token_sha256    TEXT NOT NULL UNIQUE CHECK (length(token_sha256) = 64),
    password_sha256 TEXT NOT NULL CHECK (length(password_sha256) = 64),
    expires_at      TIMESTAMPTZ NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    CHECK (expires_at > created_at)
);

CREATE INDEX node_console_sessions_node_id ON node_console_sessions (node_id);

-- +goose Down
DROP TABLE node_console_sessions;
DROP TABLE node_secrets;
DROP TABLE server_logs;
DROP TABLE nodes;
