-- +goose Up
-- Metering and bills: what every node uses, and the monthly bills of the
-- billing profiles. Owned by internal/billing (node_usage and
-- node_usage_phases through internal/billing/usage, which the node domain
-- calls inside its own transactions). Reads (never writes) nodes, projects,
-- project_members, users and billing_profiles.

-- One row per node ever ordered: its prices in its project's currency,
-- captured when it was ordered (later catalog changes never reach it), and
-- the span it is billed for. started_at is the order; ended_at the
-- destruction, NULL while the node lives. A licence (a Windows image with a
-- SPLA licence) is priced like catalog.SPLAPrice: licence_base for the first
-- 8 of licence_cores cores, licence_per_2_cores for every started pair
-- beyond; all three are NULL for a node without one. billed_until is the end
-- of the last bill period that covered the node (NULL before its first
-- bill): everything due before it is on an issued bill, everything from it on
-- is not. The rows go with their node (and so with its project, which the
-- billing deletion guard keeps while anything is unbilled).
CREATE TABLE node_usage (
    node_id             TEXT PRIMARY KEY REFERENCES nodes (id) ON DELETE CASCADE,
    project_id          TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    flavour_id          TEXT NOT NULL REFERENCES flavours (id),
    currency            TEXT NOT NULL CHECK (currency IN ('EUR', 'USD')),
    price_per_hour      BIGINT NOT NULL CHECK (price_per_hour >= 0),
    price_per_month     BIGINT NOT NULL CHECK (price_per_month >= 0),
    licence_cores       INTEGER CHECK (licence_cores > 0),
    licence_base        BIGINT CHECK (licence_base >= 0),
    licence_per_2_cores BIGINT CHECK (licence_per_2_cores >= 0),
    started_at          TIMESTAMPTZ NOT NULL,
    ended_at            TIMESTAMPTZ,
    billed_until        TIMESTAMPTZ,
    CHECK (ended_at IS NULL OR ended_at >= started_at),
    CHECK ((licence_cores IS NULL) = (licence_base IS NULL) AND (licence_cores IS NULL) = (licence_per_2_cores IS NULL))
);

CREATE INDEX node_usage_project_id ON node_usage (project_id);

-- How a node is billed over time: from starts_at on, by period, until the
-- next phase of the node starts (or the node ends). The first phase starts
-- with the order; a change of billing period adds a phase that starts when
-- the current term ends, possibly in the future (pending until then). anchor
-- is where the phase's hours are counted from (the clock hour of the order,
-- or starts_at) and its monthly terms begin (starts_at).
CREATE TABLE node_usage_phases (
    node_id   TEXT NOT NULL REFERENCES node_usage (node_id) ON DELETE CASCADE,
    starts_at TIMESTAMPTZ NOT NULL,
    anchor    TIMESTAMPTZ NOT NULL,
    period    TEXT NOT NULL CHECK (period IN ('HOURLY', 'MONTHLY')),
    PRIMARY KEY (node_id, starts_at),
    CHECK (anchor <= starts_at)
);

-- Counters of gapless number series. The row 'bills' holds the last bill
-- number issued; the transaction that inserts a bill increments it, so a bill
-- that is not committed uses up no number.
CREATE TABLE bill_counters (
    name        TEXT PRIMARY KEY,
    last_number BIGINT NOT NULL CHECK (last_number >= 0)
);

INSERT INTO bill_counters (name, last_number) VALUES ('bills', 0);

-- A bill: what a billing profile owes for one calendar month (period_year,
-- period_month in the owner's time zone, timezone) in one currency. It is
-- immutable once inserted, except for its payment columns (status,
-- status_reason, payment_provider, payment_ref, charge_attempts,
-- status_changed_at). charge_attempts counts the payments asked for; each
-- attempt's idempotency key at the provider is the bill id and its number. The buyer_* columns are
-- the billing profile as it was at issue, seller_* the operator's
-- configuration then: the invoice shows who it was between, whatever changes
-- later. billing_profile_id has no FOREIGN KEY: a paid bill outlives its
-- profile, and stays its owner's (user_id). Amounts are minor units:
-- gross = net + tax, total = gross - credit; tax is net times tax_rate_bp
-- (basis points) rounded half away from zero (internal/money.ApplyRate).
CREATE TABLE bills (
    id                 TEXT PRIMARY KEY,
    seq                BIGINT NOT NULL UNIQUE CHECK (seq > 0),
    number             TEXT NOT NULL UNIQUE CHECK (number <> ''),
    billing_profile_id TEXT NOT NULL,
    user_id            TEXT NOT NULL REFERENCES users (id),
    currency           TEXT NOT NULL CHECK (currency IN ('EUR', 'USD')),
    period_year        INTEGER NOT NULL CHECK (period_year BETWEEN 2000 AND 9999),
    period_month       INTEGER NOT NULL CHECK (period_month BETWEEN 1 AND 12),
    period_start       TIMESTAMPTZ NOT NULL,
    period_end         TIMESTAMPTZ NOT NULL,
    timezone           TEXT NOT NULL CHECK (timezone <> ''),
    tax_rate_bp        INTEGER NOT NULL CHECK (tax_rate_bp BETWEEN 0 AND 10000),
    net_amount         BIGINT NOT NULL CHECK (net_amount >= 0),
    tax_amount         BIGINT NOT NULL CHECK (tax_amount >= 0),
    gross_amount       BIGINT NOT NULL,
    credit_amount      BIGINT NOT NULL,
    total_amount       BIGINT NOT NULL,
    buyer_name         TEXT NOT NULL,
    buyer_company      TEXT NOT NULL,
    buyer_vat_id       TEXT NOT NULL,
    buyer_street       TEXT NOT NULL,
    buyer_postcode     TEXT NOT NULL,
    buyer_city         TEXT NOT NULL,
    buyer_state        TEXT NOT NULL,
    buyer_country      TEXT NOT NULL,
    buyer_email        TEXT NOT NULL,
    seller_name        TEXT NOT NULL,
    seller_address     TEXT NOT NULL,
    seller_vat_id      TEXT NOT NULL,
    seller_country     TEXT NOT NULL,
    status             TEXT NOT NULL CHECK (status IN ('PENDING', 'SUCCEEDED', 'FAILED')),
    status_reason      TEXT NOT NULL,
    payment_provider   TEXT CHECK (payment_provider <> ''),
    payment_ref        TEXT CHECK (payment_ref <> ''),
    charge_attempts    INTEGER NOT NULL CHECK (charge_attempts >= 0),
    issued_at          TIMESTAMPTZ NOT NULL,
    status_changed_at  TIMESTAMPTZ NOT NULL,
    CHECK (period_start < period_end),
    CHECK (gross_amount = net_amount + tax_amount),
    CHECK (credit_amount BETWEEN 0 AND gross_amount),
    CHECK (total_amount = gross_amount - credit_amount),
    CHECK ((payment_provider IS NULL) = (payment_ref IS NULL)),
    UNIQUE (billing_profile_id, currency, period_year, period_month),
    UNIQUE (payment_provider, payment_ref)
);

CREATE INDEX bills_billing_profile_id ON bills (billing_profile_id, period_year, seq);
CREATE INDEX bills_unpaid ON bills (status) WHERE status <> 'SUCCEEDED';

-- The lines of a bill, in the order they are printed: one per node and
-- billing phase (hours), per monthly term, and per licence month. The
-- project, node and flavour are named as they were at issue; their ids have
-- no FOREIGN KEY because a bill outlives them. units are HOURS, MONTHS or
-- CORES (unit_type); amount is units times unit_price for hours and months,
-- and the licence's monthly fee for the cores (unit_price) for CORES.
-- starts_at and ends_at are the span the line pays for.
CREATE TABLE bill_lines (
    bill_id      TEXT NOT NULL REFERENCES bills (id),
    position     INTEGER NOT NULL CHECK (position > 0),
    project_id   TEXT NOT NULL,
    project_name TEXT NOT NULL,
    node_id      TEXT NOT NULL,
    node_name    TEXT NOT NULL,
    flavour_id   TEXT NOT NULL,
    flavour_name TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('NODE', 'LICENCE')),
    period       TEXT NOT NULL CHECK (period IN ('HOURLY', 'MONTHLY')),
    unit_type    TEXT NOT NULL CHECK (unit_type IN ('HOURS', 'MONTHS', 'CORES')),
    units        BIGINT NOT NULL CHECK (units > 0),
    unit_price   BIGINT NOT NULL CHECK (unit_price >= 0),
    amount       BIGINT NOT NULL CHECK (amount >= 0),
    starts_at    TIMESTAMPTZ NOT NULL,
    ends_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (bill_id, position),
    CHECK (starts_at < ends_at),
    CHECK (unit_type = 'CORES' OR amount = units * unit_price)
);

CREATE INDEX bill_lines_project_id ON bill_lines (project_id);

-- +goose Down
DROP TABLE bill_lines;
DROP TABLE bills;
DROP TABLE bill_counters;
DROP TABLE node_usage_phases;
DROP TABLE node_usage;
