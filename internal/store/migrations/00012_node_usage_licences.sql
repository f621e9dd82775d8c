-- +goose Up
-- Licences follow a node's image: one row per span of a node's life with a
-- licence on it (a Windows image with a SPLA licence), owned by
-- internal/billing/usage. A span starts at starts_at, the order or the
-- reinstall that installed such an image, and its licence months run from
-- then; ends_at is the reinstall that replaced it with an image without one,
-- NULL while it is installed (the node's node_usage.ended_at ends it too).
-- It is priced like catalog.SPLAPrice, captured when it starts: base for the
-- first 8 cores, per_2_cores for every started pair of cores beyond.
--
-- Until now the licence was node_usage's licence_cores, licence_base and
-- licence_per_2_cores, captured at the order and never changed; each node
-- with one gets its span from its order on here. Those columns are no longer
-- read or written (SQLite cannot drop columns a CHECK constraint names).
CREATE TABLE node_usage_licences (
    node_id     TEXT NOT NULL REFERENCES node_usage (node_id) ON DELETE CASCADE,
    starts_at   TIMESTAMPTZ NOT NULL,
    ends_at     TIMESTAMPTZ,
    cores       INTEGER NOT NULL CHECK (cores > 0),
    base        BIGINT NOT NULL CHECK (base >= 0),
    per_2_cores BIGINT NOT NULL CHECK (per_2_cores >= 0),
    PRIMARY KEY (node_id, starts_at),
    CHECK (ends_at IS NULL OR ends_at > starts_at)
);

INSERT INTO node_usage_licences (node_id, starts_at, cores, base, per_2_cores)
SELECT node_id, started_at, licence_cores, licence_base, licence_per_2_cores
FROM node_usage
WHERE licence_cores IS NOT NULL;

-- +goose Down
DROP TABLE node_usage_licences;
