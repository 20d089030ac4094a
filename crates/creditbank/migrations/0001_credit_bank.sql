-- 0001: the credit bank's store. Ids are UUID blobs; instants are RFC 3339 UTC text.

CREATE TABLE site (
    id         BLOB PRIMARY KEY,
    code       TEXT    NOT NULL UNIQUE,
    name       TEXT    NOT NULL,
    province   TEXT    NOT NULL DEFAULT '00' CHECK (length(province) = 2),
    seq        INTEGER NOT NULL UNIQUE,
    created_at TEXT    NOT NULL
);

CREATE TABLE enrolment_code (
    code_hash  BLOB PRIMARY KEY,
    site_id    BLOB NOT NULL REFERENCES site (id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT,
    used_by    BLOB
);

CREATE TABLE device (
    id           BLOB PRIMARY KEY,
    site_id      BLOB NOT NULL REFERENCES site (id),
    public_key   BLOB NOT NULL,
    label        TEXT NOT NULL,
    enrolled_at  TEXT NOT NULL,
    revoked_at   TEXT,
    last_push_at TEXT,
    last_pull_at TEXT
);

-- The exactly-once high-water mark, per device and epoch, moved in the batch's transaction.
CREATE TABLE device_epoch (
    device_id  BLOB    NOT NULL REFERENCES device (id),
    epoch      INTEGER NOT NULL,
    high_water INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (device_id, epoch)
) WITHOUT ROWID;

CREATE TABLE seen_signature (
    signature BLOB PRIMARY KEY,
    at_ms     INTEGER NOT NULL
);
CREATE INDEX seen_signature_at ON seen_signature (at_ms);

-- Every operation received, applied or quarantined, exactly once.
CREATE TABLE record (
    device_id   BLOB    NOT NULL,
    epoch       INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    site_id     BLOB    NOT NULL REFERENCES site (id),
    entity      TEXT    NOT NULL,
    op          TEXT    NOT NULL,
    record_id   BLOB    NOT NULL,
    payload     TEXT    NOT NULL,
    recorded_at TEXT    NOT NULL,
    received_at TEXT    NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN ('applied', 'quarantined', 'resolved')),
    reason      TEXT,
    resolution  TEXT,
    PRIMARY KEY (device_id, epoch, seq)
);
CREATE INDEX record_quarantined ON record (status) WHERE status = 'quarantined';
CREATE INDEX record_record ON record (record_id);

CREATE TABLE record_owner (
    record_id BLOB PRIMARY KEY,
    site_id   BLOB NOT NULL,
    entity    TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE catalogue_version (
    version      TEXT PRIMARY KEY,
    document     TEXT NOT NULL,
    published_at TEXT NOT NULL
);

CREATE TABLE programme_version (
    id                      TEXT PRIMARY KEY,
    catalogue_version       TEXT    NOT NULL REFERENCES catalogue_version (version),
    document                TEXT    NOT NULL
);

CREATE TABLE credit_account (
    id         INTEGER PRIMARY KEY,
    account_no TEXT NOT NULL UNIQUE,
    id_index   BLOB NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);

CREATE TABLE learner (
    record_id  BLOB PRIMARY KEY,
    site_id    BLOB    NOT NULL,
    account_id INTEGER REFERENCES credit_account (id),
    name       TEXT    NOT NULL,
    id_masked  TEXT
);
CREATE INDEX learner_account ON learner (account_id);

CREATE TABLE cohort (
    record_id            BLOB PRIMARY KEY,
    site_id              BLOB NOT NULL,
    programme_version_id TEXT NOT NULL
);

CREATE TABLE enrolment (
    record_id  BLOB PRIMARY KEY,
    site_id    BLOB NOT NULL,
    cohort_id  BLOB NOT NULL REFERENCES cohort (record_id),
    learner_id BLOB NOT NULL REFERENCES learner (record_id)
);

CREATE TABLE attempt (
    record_id       BLOB PRIMARY KEY,
    site_id         BLOB    NOT NULL,
    enrolment_id    BLOB    NOT NULL REFERENCES enrolment (record_id),
    component       TEXT    NOT NULL,
    attempt_no      INTEGER NOT NULL,
    score           INTEGER NOT NULL,
    critical_failed INTEGER NOT NULL,
    locked          INTEGER NOT NULL,
    corrects        BLOB
);

CREATE TABLE claim (
    record_id            BLOB PRIMARY KEY,
    site_id              BLOB    NOT NULL,
    enrolment_id         BLOB    NOT NULL,
    learner_id           BLOB    NOT NULL,
    programme_version_id TEXT    NOT NULL,
    attended_minutes     INTEGER NOT NULL,
    attempt_ids          TEXT    NOT NULL,
    received_at          TEXT    NOT NULL
);

CREATE TABLE decision (
    id                INTEGER PRIMARY KEY,
    claim_id          BLOB    NOT NULL UNIQUE REFERENCES claim (record_id),
    status            TEXT    NOT NULL CHECK (status IN ('accredited', 'rejected', 'needs_info')),
    reason            TEXT    NOT NULL,
    credits_tenths    INTEGER NOT NULL,
    catalogue_version TEXT    NOT NULL,
    decided_at        TEXT    NOT NULL
);

CREATE TABLE credit_posting (
    id             INTEGER PRIMARY KEY,
    account_id     INTEGER NOT NULL REFERENCES credit_account (id),
    decision_id    INTEGER NOT NULL REFERENCES decision (id),
    site_id        BLOB    NOT NULL,
    credits_tenths INTEGER NOT NULL,
    reverses       INTEGER REFERENCES credit_posting (id),
    posted_at      TEXT    NOT NULL
);
CREATE INDEX credit_posting_account ON credit_posting (account_id);

CREATE TABLE certificate (
    id                   INTEGER PRIMARY KEY,
    number               TEXT    NOT NULL UNIQUE,
    account_id           INTEGER NOT NULL REFERENCES credit_account (id),
    decision_id          INTEGER NOT NULL REFERENCES decision (id),
    learner_id           BLOB    NOT NULL,
    programme_version_id TEXT    NOT NULL,
    status               TEXT    NOT NULL CHECK (status IN ('valid', 'revoked', 'superseded')),
    issued_at            TEXT    NOT NULL
);

-- What sites pull: one log, one increasing sequence. site_id NULL = for every site.
CREATE TABLE change_log (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    site_id    BLOB,
    kind       TEXT NOT NULL,
    payload    TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX change_log_site ON change_log (site_id, seq);

CREATE TRIGGER posting_append_only_u BEFORE UPDATE ON credit_posting
BEGIN SELECT RAISE(ABORT, 'append-only: a posting is reversed by a negative posting'); END;
CREATE TRIGGER posting_append_only_d BEFORE DELETE ON credit_posting
BEGIN SELECT RAISE(ABORT, 'append-only: a posting is reversed by a negative posting'); END;
CREATE TRIGGER decision_append_only_u BEFORE UPDATE ON decision
BEGIN SELECT RAISE(ABORT, 'append-only: decisions are never changed'); END;
CREATE TRIGGER decision_append_only_d BEFORE DELETE ON decision
BEGIN SELECT RAISE(ABORT, 'append-only: decisions are never deleted'); END;
CREATE TRIGGER change_log_append_only_u BEFORE UPDATE ON change_log
BEGIN SELECT RAISE(ABORT, 'append-only: the change log is never changed'); END;
CREATE TRIGGER change_log_append_only_d BEFORE DELETE ON change_log
BEGIN SELECT RAISE(ABORT, 'append-only: the change log is never deleted'); END;
CREATE TRIGGER certificate_no_delete BEFORE DELETE ON certificate
BEGIN SELECT RAISE(ABORT, 'append-only: certificates are never deleted'); END;
