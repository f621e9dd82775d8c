-- +goose Up
-- The SSH public keys users keep for their nodes. Owned by internal/keyring;
-- internal/sshkey parses the keys before they get here.

-- public_key is the key line in normal form ("algorithm base64 [comment]"),
-- fingerprint its SHA-256 fingerprint as `ssh-keygen -lf` prints it. A user
-- holds a key once: the same key under another comment is the same
-- fingerprint. The key goes with its user.
CREATE TABLE ssh_keys (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name        TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    type        TEXT NOT NULL CHECK (type IN ('RSA', 'ECDSA', 'ED25519')),
    fingerprint TEXT NOT NULL CHECK (fingerprint LIKE 'SHA256:%'),
    public_key  TEXT NOT NULL CHECK (public_key <> ''),
    comment     TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    UNIQUE (user_id, fingerprint)
);

-- +goose Down
DROP TABLE ssh_keys;
