-- +goose Up
-- Identity, continued: revocation of OAuth clients' tokens, e-mail
-- confirmation tokens (internal/identity) and the mail outbox
-- (internal/mail).

-- secret_generation counts the client's secrets: ResetClientSecret adds one.
-- Tokens issued to the client carry the generation they were issued under and
-- stop verifying once it changes (see internal/auth).
ALTER TABLE oauth_clients ADD COLUMN secret_generation BIGINT NOT NULL DEFAULT 1 CHECK (secret_generation > 0);

-- Outstanding e-mail confirmation links, by the hex SHA-256 of their token.
-- A token is deleted when it is used (and with every other token of its user
-- once the address is confirmed). email is the address the link was sent to:
-- the link confirms that address only.
CREATE TABLE email_confirmations (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email      TEXT NOT NULL CHECK (email <> ''),
    expires_at TIMESTAMPTZ NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX email_confirmations_user_id_created_at ON email_confirmations (user_id, created_at);

-- Mail waiting to be delivered. A domain writes the row in the transaction
-- that causes the mail; the relay delivers it and deletes it. attempts counts
-- the deliveries begun; a pending row (failed_at NULL) is due at
-- next_attempt_at, which a relay moves ahead when it takes the row, so
-- replicas do not send it twice. A row that failed too often keeps its last
-- error and failed_at.
CREATE TABLE mail_outbox (
    id              TEXT PRIMARY KEY,
    recipient       TEXT NOT NULL CHECK (recipient <> ''),
    subject         TEXT NOT NULL CHECK (subject <> ''),
    body            TEXT NOT NULL,
    attempts        INTEGER NOT NULL CHECK (attempts >= 0),
    next_attempt_at TIMESTAMPTZ NOT NULL,
    last_error      TEXT NOT NULL,
    failed_at       TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL
);

CREATE INDEX mail_outbox_pending ON mail_outbox (next_attempt_at) WHERE failed_at IS NULL;

-- +goose Down
DROP TABLE mail_outbox;
DROP TABLE email_confirmations;
ALTER TABLE oauth_clients DROP COLUMN secret_generation;
