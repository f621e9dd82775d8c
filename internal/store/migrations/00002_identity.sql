-- +goose Up
-- Identity: users with their roles and tags, OAuth clients and their service
-- accounts, and the embedded OpenID Connect issuer's signing keys and refresh
-- tokens. Owned by internal/identity and internal/auth.

-- Named counters. "customer_number" hands out users.number; taking it with
-- UPDATE ... RETURNING also serialises user creation (see identity.EnsureOperator).
CREATE TABLE identity_counters (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);

INSERT INTO identity_counters (name, value) VALUES ('customer_number', 100000);

-- People (USER) and the service accounts behind OAuth clients
-- (SERVICE_ACCOUNT). E-mail addresses are stored lower-cased; service accounts
-- have neither e-mail nor password.
CREATE TABLE users (
    id                TEXT PRIMARY KEY,
    email             TEXT UNIQUE CHECK (email = lower(email)),
    username          TEXT NOT NULL,
    first_name        TEXT NOT NULL,
    last_name         TEXT NOT NULL,
    full_name         TEXT NOT NULL,
    password_hash     TEXT,
    type              TEXT NOT NULL CHECK (type IN ('USER', 'SERVICE_ACCOUNT')),
    confirmed         BOOLEAN NOT NULL,
    locked            BOOLEAN NOT NULL,
    timezone          TEXT NOT NULL CHECK (timezone <> ''),
    node_limit        INTEGER NOT NULL CHECK (node_limit >= 0),
    number            TEXT NOT NULL UNIQUE,
    default_plan_code TEXT NOT NULL,
    last_login_at     TIMESTAMPTZ,
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    CHECK (type <> 'USER' OR (email IS NOT NULL AND password_hash IS NOT NULL)),
    CHECK (type <> 'SERVICE_ACCOUNT' OR (email IS NULL AND password_hash IS NULL))
);

-- Realm roles, e.g. the operator's "admin", "view-payment", "manage-payment".
CREATE TABLE user_roles (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role    TEXT NOT NULL CHECK (role <> ''),
    PRIMARY KEY (user_id, role)
);

-- The reference's UserTag values, without the USER_TAG_ prefix.
CREATE TABLE user_tags (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    tag     TEXT NOT NULL CHECK (tag IN ('NO_COMPANY', 'NO_CREDIT_CARD', 'ACCESS_TO_CLOUD_PROVIDERS')),
    PRIMARY KEY (user_id, tag)
);

-- Confidential OAuth clients (client_credentials). Each has its own service
-- account user; deleting the owner or the service account needs the client
-- gone first.
CREATE TABLE oauth_clients (
    id                      TEXT PRIMARY KEY,
    secret_hash             TEXT NOT NULL,
    name                    TEXT NOT NULL CHECK (name <> ''),
    description             TEXT NOT NULL,
    owner_user_id           TEXT NOT NULL REFERENCES users (id),
    service_account_user_id TEXT NOT NULL UNIQUE REFERENCES users (id),
    created_at              TIMESTAMPTZ NOT NULL,
    updated_at              TIMESTAMPTZ NOT NULL
);

CREATE INDEX oauth_clients_owner_user_id ON oauth_clients (owner_user_id);

-- The issuer's signing keys; id is the JWK key id (RFC 7638 thumbprint).
-- private_key is PKCS #8 PEM, not yet encrypted at rest. At most one key is
-- active (signs new tokens); the others are only published for verification.
CREATE TABLE oauth_signing_keys (
    id          TEXT PRIMARY KEY,
    algorithm   TEXT NOT NULL CHECK (algorithm IN ('RS256')),
    private_key TEXT NOT NULL,
    active      BOOLEAN NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);

CREATE UNIQUE INDEX oauth_signing_keys_one_active ON oauth_signing_keys (active) WHERE active;

-- Outstanding refresh tokens, by the hex SHA-256 of the token. A token is
-- deleted when it is used (rotation) and goes with its user.
CREATE TABLE oauth_refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id  TEXT NOT NULL,
    scope      TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX oauth_refresh_tokens_user_id ON oauth_refresh_tokens (user_id);

-- +goose Down
DROP TABLE oauth_refresh_tokens;
DROP TABLE oauth_signing_keys;
DROP TABLE oauth_clients;
DROP TABLE user_tags;
DROP TABLE user_roles;
DROP TABLE users;
DROP TABLE identity_counters;
