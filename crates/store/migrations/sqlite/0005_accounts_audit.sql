-- Accounts of the web application, their sessions and API tokens (secrets only as hashes), the
-- audit log of every write, and recipient sign-offs of projects.

CREATE TABLE users (
    name          TEXT PRIMARY KEY,
    role          TEXT NOT NULL,
    office        TEXT REFERENCES regions (code),
    password_hash TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_name  TEXT NOT NULL REFERENCES users (name),
    csrf       TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_name);

CREATE TABLE api_tokens (
    token_hash TEXT PRIMARY KEY,
    user_name  TEXT NOT NULL REFERENCES users (name),
    label      TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- Append-only: who did what, when, with the record before and after (JSON).
CREATE TABLE audit_log (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    at     TEXT NOT NULL,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    before TEXT,
    after  TEXT
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

-- A recipient office's confirmation that a project arrived as recorded: once per project.
CREATE TABLE signoffs (
    project   TEXT PRIMARY KEY REFERENCES projects (id),
    office    TEXT NOT NULL REFERENCES regions (code),
    signed_by TEXT NOT NULL,
    at        TEXT NOT NULL
);
CREATE TRIGGER signoffs_no_update BEFORE UPDATE ON signoffs
BEGIN
    SELECT RAISE(ABORT, 'a sign-off is final');
END;
