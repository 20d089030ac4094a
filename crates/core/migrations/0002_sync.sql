-- 0002: sync with the credit bank: enrolment, cursor and status, HQ's answers kept read-only.

CREATE TABLE sync_state (
    singleton       INTEGER PRIMARY KEY CHECK (singleton = 1),
    hq_url          TEXT,
    site_id         BLOB,
    site_code       TEXT,
    site_name       TEXT,
    enrolled_at     TEXT,
    pull_cursor     INTEGER NOT NULL DEFAULT 0 CHECK (pull_cursor >= 0),
    last_success_at TEXT,
    last_error      TEXT,
    last_error_at   TEXT,
    clock_offset_ms INTEGER NOT NULL DEFAULT 0,
    revoked_at      TEXT
);
INSERT INTO sync_state (singleton) VALUES (1);

-- The pull cursor only moves forward, whatever a buggy or replayed answer says.
CREATE TRIGGER sync_cursor_forward BEFORE UPDATE OF pull_cursor ON sync_state
WHEN NEW.pull_cursor < OLD.pull_cursor
BEGIN SELECT RAISE(ABORT, 'the pull cursor never goes back'); END;

-- HQ quarantined this record's operation; the reason is shown on the record.
CREATE TABLE record_quarantine (
    record_id   BLOB PRIMARY KEY,
    seq         INTEGER NOT NULL,
    reason      TEXT    NOT NULL,
    received_at TEXT    NOT NULL
);

CREATE TABLE hq_decision (
    claim_id             BLOB PRIMARY KEY,
    learner_id           BLOB,
    status               TEXT    NOT NULL,
    reason               TEXT    NOT NULL,
    credits_tenths       INTEGER NOT NULL,
    account_no           TEXT,
    programme_version_id TEXT,
    hq_seq               INTEGER NOT NULL
);
CREATE INDEX hq_decision_learner ON hq_decision (learner_id);

CREATE TABLE hq_credit (
    posting_id     INTEGER PRIMARY KEY,
    claim_id       BLOB,
    learner_id     BLOB,
    account_no     TEXT,
    credits_tenths INTEGER NOT NULL,
    hq_seq         INTEGER NOT NULL
);
CREATE INDEX hq_credit_learner ON hq_credit (learner_id);

CREATE TABLE hq_certificate (
    number               TEXT PRIMARY KEY,
    learner_id           BLOB,
    account_no           TEXT,
    programme_version_id TEXT,
    status               TEXT NOT NULL,
    hq_seq               INTEGER NOT NULL
);
