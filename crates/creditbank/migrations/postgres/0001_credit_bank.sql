-- The credit bank on PostgreSQL: the schema the SQLite migrations 0001 to 0004 build, in
-- PostgreSQL's types (UUID ids, TIMESTAMPTZ instants, BYTEA keys, BOOLEAN flags, BIGINT
-- numbers from identities and sequences). Every table of a site's data carries `site_id` and
-- every table of the credit ledger `account_id`: the keys to partition or distribute them by
-- (docs/HQ-OPERATIONS.md).

CREATE SEQUENCE site_seq;
CREATE SEQUENCE credit_account_id;

CREATE TABLE site (
    id         UUID PRIMARY KEY,
    code       TEXT        NOT NULL UNIQUE,
    name       TEXT        NOT NULL,
    province   TEXT        NOT NULL DEFAULT '00' CHECK (length(province) = 2),
    seq        BIGINT      NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE enrolment_code (
    code_hash  BYTEA PRIMARY KEY,
    site_id    UUID        NOT NULL REFERENCES site (id),
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ,
    used_by    UUID
);

CREATE TABLE device (
    id           UUID PRIMARY KEY,
    site_id      UUID        NOT NULL REFERENCES site (id),
    public_key   BYTEA       NOT NULL,
    label        TEXT        NOT NULL,
    enrolled_at  TIMESTAMPTZ NOT NULL,
    revoked_at   TIMESTAMPTZ,
    last_push_at TIMESTAMPTZ,
    last_pull_at TIMESTAMPTZ
);
CREATE INDEX device_site ON device (site_id);

-- The exactly-once high-water mark, per device and epoch, moved in the batch's transaction.
CREATE TABLE device_epoch (
    device_id  UUID   NOT NULL REFERENCES device (id),
    epoch      BIGINT NOT NULL,
    high_water BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (device_id, epoch)
);

CREATE TABLE seen_signature (
    signature BYTEA PRIMARY KEY,
    at_ms     BIGINT NOT NULL
);
CREATE INDEX seen_signature_at ON seen_signature (at_ms);

-- Every operation received, applied or quarantined, exactly once.
CREATE TABLE record (
    device_id   UUID        NOT NULL,
    epoch       BIGINT      NOT NULL,
    seq         BIGINT      NOT NULL,
    site_id     UUID        NOT NULL REFERENCES site (id),
    entity      TEXT        NOT NULL,
    op          TEXT        NOT NULL,
    record_id   UUID        NOT NULL,
    payload     TEXT        NOT NULL,
    -- The writer's instant exactly as it sent it (nanoseconds; TIMESTAMPTZ keeps
    -- microseconds): the row is relayed to the site's other devices as received.
    recorded_at TEXT        NOT NULL,
    received_at TIMESTAMPTZ NOT NULL,
    status      TEXT        NOT NULL CHECK (status IN ('applied', 'quarantined', 'resolved')),
    reason      TEXT,
    resolution  TEXT,
    hlc         TEXT,
    PRIMARY KEY (device_id, epoch, seq)
);
CREATE INDEX record_quarantined ON record (status) WHERE status = 'quarantined';
CREATE INDEX record_record ON record (record_id);
CREATE INDEX record_site ON record (site_id);

CREATE TABLE record_owner (
    record_id UUID PRIMARY KEY,
    site_id   UUID NOT NULL,
    entity    TEXT NOT NULL
);

CREATE TABLE catalogue_version (
    version      TEXT PRIMARY KEY,
    document     TEXT        NOT NULL,
    published_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE programme_version (
    id                TEXT PRIMARY KEY,
    catalogue_version TEXT NOT NULL REFERENCES catalogue_version (version),
    document          TEXT NOT NULL
);

CREATE TABLE credit_account (
    id         BIGINT PRIMARY KEY,
    account_no TEXT        NOT NULL UNIQUE,
    id_index   BYTEA       NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE learner (
    record_id  UUID PRIMARY KEY,
    site_id    UUID   NOT NULL,
    account_id BIGINT REFERENCES credit_account (id),
    name       TEXT   NOT NULL,
    id_masked  TEXT
);
CREATE INDEX learner_account ON learner (account_id);

CREATE TABLE cohort (
    record_id            UUID PRIMARY KEY,
    site_id              UUID NOT NULL,
    programme_version_id TEXT NOT NULL
);

CREATE TABLE enrolment (
    record_id  UUID PRIMARY KEY,
    site_id    UUID NOT NULL,
    cohort_id  UUID NOT NULL REFERENCES cohort (record_id),
    learner_id UUID NOT NULL REFERENCES learner (record_id)
);
CREATE INDEX enrolment_cohort_learner ON enrolment (cohort_id, learner_id);

-- `rowid`: the order rows arrived in, as SQLite's implicit rowid (the rules order by it).
CREATE TABLE attempt (
    rowid           BIGINT GENERATED ALWAYS AS IDENTITY,
    record_id       UUID PRIMARY KEY,
    site_id         UUID    NOT NULL,
    enrolment_id    UUID    NOT NULL REFERENCES enrolment (record_id),
    component       TEXT    NOT NULL,
    attempt_no      BIGINT  NOT NULL,
    score           BIGINT  NOT NULL,
    critical_failed BOOLEAN NOT NULL,
    locked          BOOLEAN NOT NULL,
    corrects        UUID
);
CREATE INDEX attempt_enrolment ON attempt (enrolment_id, component);
CREATE INDEX attempt_corrects ON attempt (corrects) WHERE corrects IS NOT NULL;

CREATE TABLE claim (
    rowid                BIGINT GENERATED ALWAYS AS IDENTITY,
    record_id            UUID PRIMARY KEY,
    site_id              UUID        NOT NULL,
    enrolment_id         UUID        NOT NULL,
    learner_id           UUID        NOT NULL,
    programme_version_id TEXT        NOT NULL,
    attended_minutes     BIGINT      NOT NULL,
    attempt_ids          TEXT        NOT NULL,
    received_at          TIMESTAMPTZ NOT NULL,
    replaces             UUID
);
CREATE INDEX claim_enrolment ON claim (enrolment_id);

CREATE TABLE decision (
    id                   BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    claim_id             UUID        NOT NULL UNIQUE REFERENCES claim (record_id),
    status               TEXT        NOT NULL CHECK (status IN ('accredited', 'rejected', 'needs_info')),
    reason               TEXT        NOT NULL,
    credits_tenths       BIGINT      NOT NULL,
    catalogue_version    TEXT        NOT NULL,
    decided_at           TIMESTAMPTZ NOT NULL,
    account_id           BIGINT REFERENCES credit_account (id),
    programme_version_id TEXT,
    repeats              BIGINT REFERENCES decision (id)
);
CREATE UNIQUE INDEX decision_once ON decision (account_id, programme_version_id)
    WHERE status = 'accredited' AND repeats IS NULL;

CREATE TABLE credit_posting (
    id             BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    account_id     BIGINT      NOT NULL REFERENCES credit_account (id),
    decision_id    BIGINT      NOT NULL REFERENCES decision (id),
    site_id        UUID        NOT NULL,
    credits_tenths BIGINT      NOT NULL,
    reverses       BIGINT REFERENCES credit_posting (id),
    posted_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX credit_posting_account ON credit_posting (account_id);
CREATE UNIQUE INDEX credit_posting_reversed_once ON credit_posting (reverses)
    WHERE reverses IS NOT NULL;

CREATE TABLE certificate (
    id                   BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    number               TEXT        NOT NULL UNIQUE,
    account_id           BIGINT      NOT NULL REFERENCES credit_account (id),
    decision_id          BIGINT      NOT NULL REFERENCES decision (id),
    learner_id           UUID        NOT NULL,
    programme_version_id TEXT        NOT NULL,
    status               TEXT        NOT NULL CHECK (status IN ('valid', 'revoked', 'superseded')),
    issued_at            TIMESTAMPTZ NOT NULL
);
CREATE INDEX certificate_account ON certificate (account_id);
CREATE INDEX certificate_decision ON certificate (decision_id);

CREATE TABLE certificate_series (
    series      TEXT PRIMARY KEY,
    last_serial BIGINT NOT NULL
);

CREATE TABLE session (
    record_id  UUID PRIMARY KEY,
    site_id    UUID        NOT NULL,
    cohort_id  UUID        NOT NULL REFERENCES cohort (record_id),
    starts_at  TIMESTAMPTZ NOT NULL,
    ends_at    TIMESTAMPTZ NOT NULL,
    closed_at  TIMESTAMPTZ,
    closed_hlc TEXT
);
CREATE INDEX session_cohort ON session (cohort_id);

CREATE TABLE attendance (
    id            BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    record_id     UUID        NOT NULL UNIQUE,
    site_id       UUID        NOT NULL,
    session_id    UUID        NOT NULL REFERENCES session (record_id),
    learner_id    UUID        NOT NULL REFERENCES learner (record_id),
    kind          TEXT        NOT NULL,
    at            TIMESTAMPTZ NOT NULL,
    correction_id UUID,
    hlc           TEXT
);
CREATE INDEX attendance_learner ON attendance (learner_id, session_id);
CREATE INDEX attendance_session_stamp ON attendance (session_id, learner_id, hlc);

CREATE TABLE correction (
    record_id UUID PRIMARY KEY,
    site_id   UUID NOT NULL,
    entity    TEXT NOT NULL,
    target_id UUID NOT NULL
);

-- What sites pull: one log, one increasing sequence. site_id NULL = for every site. Its
-- writers hold the site's log lock (a transaction-scoped advisory lock) from their first
-- entry to their commit, so a site's entries commit in sequence order (ADR 0006).
CREATE TABLE change_log (
    seq           BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    site_id       UUID,
    kind          TEXT        NOT NULL,
    payload       TEXT        NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    origin_device UUID
);
CREATE INDEX change_log_site ON change_log (site_id, seq);

CREATE FUNCTION refuse() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%', TG_ARGV[0];
END $$;
CREATE TRIGGER posting_append_only BEFORE UPDATE OR DELETE ON credit_posting
    FOR EACH ROW EXECUTE FUNCTION refuse('append-only: a posting is reversed by a negative posting');
CREATE TRIGGER decision_append_only BEFORE UPDATE OR DELETE ON decision
    FOR EACH ROW EXECUTE FUNCTION refuse('append-only: decisions are never changed');
CREATE TRIGGER change_log_append_only BEFORE UPDATE OR DELETE ON change_log
    FOR EACH ROW EXECUTE FUNCTION refuse('append-only: the change log is never changed');
CREATE TRIGGER certificate_no_delete BEFORE DELETE ON certificate
    FOR EACH ROW EXECUTE FUNCTION refuse('append-only: certificates are never deleted');
