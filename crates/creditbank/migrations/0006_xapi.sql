-- 0006: learning records for a Learning Record Store (xAPI 2.0, `crate::xapi`). Each statement
-- HQ's records call for is queued once under its deterministic id, then marked sent when the
-- LRS accepts its batch; the export's last attempt, success and error are kept for the operator.
CREATE TABLE xapi_statement (
    id           INTEGER PRIMARY KEY,
    statement_id TEXT    NOT NULL UNIQUE,
    body         TEXT    NOT NULL,
    queued_at    TEXT    NOT NULL,
    sent_at      TEXT
);
CREATE INDEX xapi_statement_pending ON xapi_statement (id) WHERE sent_at IS NULL;

CREATE TABLE xapi_export (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    last_attempt_at TEXT,
    last_success_at TEXT,
    last_error      TEXT
);
