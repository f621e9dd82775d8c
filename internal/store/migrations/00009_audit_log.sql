-- +goose Up
-- The audit log: one row per API call made with a valid access token.
-- Owned by internal/audit; internal/api/interceptor fills it.

-- rpc_method is the procedure called
-- ("/gpcore.api.cloud.v1.CloudService/CreateProject"), code its result ("ok"
-- or a Connect code name such as "not_found"), empty for a stream, which is
-- recorded when it starts. The token_* columns describe the access token the
-- call was made with; user_id is the account it acts as and client_id the
-- OAuth client that obtained it. No foreign key to users: the log records
-- what was presented and must outlive any change to the accounts it names.
-- ip_address is the caller's address (behind trusted proxies, from
-- X-Forwarded-For), request_id the X-Request-Id the call was answered with,
-- payload the request message as JSON with its secrets redacted.
CREATE TABLE audit_log (
    id               TEXT PRIMARY KEY,
    created_at       TIMESTAMPTZ NOT NULL,
    rpc_method       TEXT NOT NULL CHECK (rpc_method LIKE '/%/%'),
    code             TEXT NOT NULL,
    stream           BOOLEAN NOT NULL,
    user_id          TEXT NOT NULL CHECK (user_id <> ''),
    client_id        TEXT NOT NULL,
    principal_kind   TEXT NOT NULL CHECK (principal_kind IN ('user', 'client')),
    token_subject    TEXT NOT NULL CHECK (token_subject <> ''),
    token_id         TEXT NOT NULL,
    token_issuer     TEXT NOT NULL,
    token_type       TEXT NOT NULL,
    token_issued_at  TIMESTAMPTZ,
    token_expires_at TIMESTAMPTZ NOT NULL,
    ip_address       TEXT NOT NULL,
    user_agent       TEXT NOT NULL,
    request_id       TEXT NOT NULL CHECK (request_id <> ''),
    payload          TEXT NOT NULL,
    CHECK (code <> '' OR stream)
);

-- Who did what, newest first; and the call behind a request id.
CREATE INDEX audit_log_user_created ON audit_log (user_id, created_at);
CREATE INDEX audit_log_request_id ON audit_log (request_id);

-- +goose Down
DROP TABLE audit_log;
