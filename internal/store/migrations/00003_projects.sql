-- +goose Up
-- Projects: the containers customers order nodes in, their members and
-- pending invites, and each project's log. Owned by internal/project.

-- name_lower is name lower-cased in Go, so that search matches the same way
-- on SQLite (whose lower() folds ASCII only) and PostgreSQL.
-- billing_profile_id names the linked billing profile; it has no FOREIGN KEY
-- because billing_profiles arrives with the billing domain (a later issue).
CREATE TABLE projects (
    id                 TEXT PRIMARY KEY,
    name               TEXT NOT NULL CHECK (length(name) BETWEEN 3 AND 64),
    name_lower         TEXT NOT NULL,
    description        TEXT NOT NULL,
    environment        TEXT NOT NULL CHECK (environment IN ('', 'DEVELOPMENT', 'STAGING', 'PRODUCTION')),
    avatar_url         TEXT NOT NULL,
    currency           TEXT NOT NULL CHECK (currency IN ('EUR', 'USD')),
    billing_profile_id TEXT CHECK (billing_profile_id <> ''),
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL
);

-- Members and pending invites: a row with confirmed false is an invite that
-- grants no access yet; the primary key makes "already a member or invited"
-- a constraint. Only confirmed members have a role other than MEMBER or a
-- default project, and each user has at most one default project.
CREATE TABLE project_members (
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       TEXT NOT NULL CHECK (role IN ('OWNER', 'MEMBER')),
    confirmed  BOOLEAN NOT NULL,
    is_default BOOLEAN NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (project_id, user_id),
    CHECK (confirmed OR (role = 'MEMBER' AND NOT is_default))
);

CREATE UNIQUE INDEX project_members_one_default ON project_members (user_id) WHERE is_default;
CREATE INDEX project_members_user_id ON project_members (user_id);

-- What happened in a project, by whom. The entries go with their project;
-- an entry outlives its user (user_id becomes NULL). message_lower is
-- message lower-cased in Go, for search (see projects.name_lower).
CREATE TABLE project_logs (
    id            TEXT PRIMARY KEY,
    project_id    TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id       TEXT REFERENCES users (id) ON DELETE SET NULL,
    message       TEXT NOT NULL CHECK (message <> ''),
    message_lower TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL
);

CREATE INDEX project_logs_project_id_created_at ON project_logs (project_id, created_at);
CREATE INDEX project_logs_user_id ON project_logs (user_id);

-- +goose Down
DROP TABLE project_logs;
DROP TABLE project_members;
DROP TABLE projects;
