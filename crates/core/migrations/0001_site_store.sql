-- 0001: the offline site store. Ids are UUIDv7 as 16-byte blobs; instants are RFC 3339 UTC.
-- Append-only tables refuse UPDATE and DELETE by trigger; lock points are enforced here as
-- well as in Rust so no code path can slip past them.

CREATE TABLE device (
    singleton   INTEGER PRIMARY KEY CHECK (singleton = 1),
    device_id   BLOB    NOT NULL,
    epoch       INTEGER NOT NULL DEFAULT 1 CHECK (epoch >= 1),
    next_seq    INTEGER NOT NULL DEFAULT 1 CHECK (next_seq >= 1),
    site_code   TEXT,
    created_at  TEXT    NOT NULL
);

-- Every local write appends here in the same transaction (SYNC.md).
CREATE TABLE outbox (
    seq         INTEGER PRIMARY KEY,
    epoch       INTEGER NOT NULL,
    entity      TEXT    NOT NULL,
    op          TEXT    NOT NULL CHECK (op IN ('insert', 'update')),
    record_id   BLOB    NOT NULL,
    payload     TEXT    NOT NULL,
    recorded_at TEXT    NOT NULL
);
CREATE INDEX outbox_record ON outbox (record_id);

-- Catalogue: reference data published by HQ, read-only at the site.
CREATE TABLE catalogue_meta (
    singleton    INTEGER PRIMARY KEY CHECK (singleton = 1),
    version      TEXT NOT NULL,
    source       TEXT NOT NULL CHECK (source IN ('seed', 'hq')),
    installed_at TEXT NOT NULL
);

CREATE TABLE occupation (
    code    TEXT PRIMARY KEY,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL
);

CREATE TABLE programme (
    id              TEXT PRIMARY KEY,
    occupation_code TEXT NOT NULL REFERENCES occupation (code),
    name_zh         TEXT NOT NULL,
    name_en         TEXT NOT NULL
);

CREATE TABLE competency_unit (
    id             TEXT PRIMARY KEY,
    code           TEXT    NOT NULL,
    version        INTEGER NOT NULL,
    programme_id   TEXT    NOT NULL REFERENCES programme (id),
    level          INTEGER NOT NULL CHECK (level BETWEEN 1 AND 5),
    name_zh        TEXT    NOT NULL,
    name_en        TEXT    NOT NULL,
    theory_hours   INTEGER NOT NULL CHECK (theory_hours >= 0),
    practice_hours INTEGER NOT NULL CHECK (practice_hours >= 0),
    credits_tenths INTEGER NOT NULL CHECK (credits_tenths >= 0),
    UNIQUE (code, version)
);

CREATE TABLE programme_version (
    id                      TEXT PRIMARY KEY,
    programme_id            TEXT    NOT NULL REFERENCES programme (id),
    level                   INTEGER NOT NULL CHECK (level BETWEEN 1 AND 5),
    version                 INTEGER NOT NULL CHECK (version >= 1),
    total_hours             INTEGER NOT NULL CHECK (total_hours > 0),
    min_attendance_permille INTEGER NOT NULL CHECK (min_attendance_permille BETWEEN 1 AND 1000),
    credits_tenths          INTEGER NOT NULL CHECK (credits_tenths >= 0),
    published_at            TEXT    NOT NULL,
    UNIQUE (programme_id, level, version)
);

CREATE TABLE programme_unit (
    programme_version_id TEXT    NOT NULL REFERENCES programme_version (id),
    position             INTEGER NOT NULL,
    unit_id              TEXT    NOT NULL REFERENCES competency_unit (id),
    PRIMARY KEY (programme_version_id, position)
) WITHOUT ROWID;

CREATE TABLE rubric_item (
    id                   TEXT PRIMARY KEY,
    programme_version_id TEXT    NOT NULL REFERENCES programme_version (id),
    position             INTEGER NOT NULL,
    name_zh              TEXT    NOT NULL,
    name_en              TEXT    NOT NULL,
    max_points           INTEGER NOT NULL CHECK (max_points BETWEEN 0 AND 100),
    critical             INTEGER NOT NULL CHECK (critical IN (0, 1))
);
CREATE INDEX rubric_item_programme ON rubric_item (programme_version_id, position);

CREATE TRIGGER programme_version_published BEFORE UPDATE ON programme_version
BEGIN SELECT RAISE(ABORT, 'locked: a published programme version never changes'); END;

-- Site records.
CREATE TABLE staff_user (
    id            BLOB PRIMARY KEY,
    username      TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    display_name  TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('instructor', 'site_manager', 'assessor')),
    password_hash TEXT    NOT NULL,
    active        INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at    TEXT    NOT NULL
);

CREATE TABLE learner (
    id               BLOB PRIMARY KEY,
    name             TEXT    NOT NULL CHECK (length(name) > 0),
    id_type          TEXT    NOT NULL CHECK (id_type IN ('resident_id', 'passport', 'other')),
    id_cipher        BLOB,
    id_masked        TEXT    NOT NULL,
    id_index         BLOB    NOT NULL UNIQUE,
    id_tail_index    BLOB    NOT NULL,
    phone_cipher     BLOB,
    phone_masked     TEXT,
    phone_tail_index BLOB,
    sex              TEXT CHECK (sex IN ('female', 'male')),
    birth_date       TEXT,
    created_at       TEXT    NOT NULL,
    created_by       BLOB REFERENCES staff_user (id),
    version          INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX learner_name ON learner (name);
CREATE INDEX learner_id_tail ON learner (id_tail_index);
CREATE INDEX learner_phone_tail ON learner (phone_tail_index);

-- Per-learner data key, wrapped by the site key. Destroying it (crypto-shredding) leaves the
-- append-only ledgers intact with the personal fields unreadable.
CREATE TABLE learner_key (
    learner_id  BLOB PRIMARY KEY REFERENCES learner (id),
    wrapped_key BLOB,
    shredded_at TEXT
);

CREATE TABLE consent (
    id             BLOB PRIMARY KEY,
    learner_id     BLOB    NOT NULL REFERENCES learner (id),
    purpose        TEXT    NOT NULL CHECK (purpose IN ('credit_bank', 'face_photos')),
    notice_version TEXT    NOT NULL,
    granted        INTEGER NOT NULL CHECK (granted IN (0, 1)),
    recorded_at    TEXT    NOT NULL,
    recorded_by    BLOB REFERENCES staff_user (id)
);
CREATE INDEX consent_learner ON consent (learner_id, purpose);

CREATE TABLE cohort (
    id                   BLOB PRIMARY KEY,
    programme_version_id TEXT    NOT NULL REFERENCES programme_version (id),
    name                 TEXT    NOT NULL CHECK (length(name) > 0),
    start_date           TEXT    NOT NULL,
    end_date             TEXT    NOT NULL CHECK (end_date >= start_date),
    capacity             INTEGER NOT NULL CHECK (capacity BETWEEN 1 AND 200),
    status               TEXT    NOT NULL CHECK (status IN ('draft', 'running', 'closed')),
    created_at           TEXT    NOT NULL,
    created_by           BLOB REFERENCES staff_user (id),
    version              INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX cohort_programme ON cohort (programme_version_id);

CREATE TABLE cohort_instructor (
    cohort_id BLOB NOT NULL REFERENCES cohort (id),
    staff_id  BLOB NOT NULL REFERENCES staff_user (id),
    PRIMARY KEY (cohort_id, staff_id)
) WITHOUT ROWID;

CREATE TABLE enrolment (
    id          BLOB PRIMARY KEY,
    cohort_id   BLOB NOT NULL REFERENCES cohort (id),
    learner_id  BLOB NOT NULL REFERENCES learner (id),
    enrolled_at TEXT NOT NULL,
    enrolled_by BLOB REFERENCES staff_user (id),
    UNIQUE (cohort_id, learner_id)
);
CREATE INDEX enrolment_learner ON enrolment (learner_id);

CREATE TABLE session (
    id            BLOB PRIMARY KEY,
    cohort_id     BLOB NOT NULL REFERENCES cohort (id),
    unit_id       TEXT REFERENCES competency_unit (id),
    starts_at     TEXT NOT NULL,
    ends_at       TEXT NOT NULL CHECK (ends_at > starts_at),
    instructor_id BLOB REFERENCES staff_user (id),
    closed_at     TEXT,
    closed_by     BLOB REFERENCES staff_user (id)
);
CREATE INDEX session_cohort ON session (cohort_id, starts_at);
CREATE INDEX session_day ON session (starts_at);

CREATE TABLE correction (
    id            BLOB PRIMARY KEY,
    entity        TEXT NOT NULL,
    target_id     BLOB NOT NULL,
    reason_code   TEXT NOT NULL,
    reason        TEXT NOT NULL CHECK (length(reason) > 0),
    approved_by   BLOB NOT NULL REFERENCES staff_user (id),
    approver_role TEXT NOT NULL,
    recorded_at   TEXT NOT NULL
);
CREATE INDEX correction_target ON correction (target_id);

CREATE TABLE attendance_event (
    id            BLOB PRIMARY KEY,
    session_id    BLOB    NOT NULL REFERENCES session (id),
    learner_id    BLOB    NOT NULL REFERENCES learner (id),
    kind          TEXT    NOT NULL CHECK (kind IN ('check_in', 'check_out', 'absent', 'excused')),
    at            TEXT    NOT NULL,
    method        TEXT    NOT NULL CHECK (method IN ('roll_call', 'self', 'card')),
    attested_by   BLOB REFERENCES staff_user (id),
    seq           INTEGER NOT NULL,
    recorded_at   TEXT    NOT NULL,
    correction_id BLOB REFERENCES correction (id)
);
CREATE INDEX attendance_by_session ON attendance_event (session_id, learner_id, seq);

-- Derived from attendance_event (rebuilt for a learner and session on every mark); not synced.
CREATE TABLE session_attendance (
    session_id BLOB    NOT NULL REFERENCES session (id),
    learner_id BLOB    NOT NULL REFERENCES learner (id),
    status     TEXT    NOT NULL,
    minutes    INTEGER NOT NULL CHECK (minutes >= 0),
    PRIMARY KEY (session_id, learner_id)
) WITHOUT ROWID;

CREATE TABLE assessment_attempt (
    id              BLOB PRIMARY KEY,
    enrolment_id    BLOB    NOT NULL REFERENCES enrolment (id),
    component       TEXT    NOT NULL CHECK (component IN ('theory', 'practical', 'review')),
    attempt_no      INTEGER NOT NULL CHECK (attempt_no >= 1),
    held_at         TEXT    NOT NULL,
    assessors       TEXT    NOT NULL,
    score           INTEGER NOT NULL CHECK (score BETWEEN 0 AND 100),
    critical_failed INTEGER NOT NULL DEFAULT 0 CHECK (critical_failed IN (0, 1)),
    passed          INTEGER NOT NULL CHECK (passed IN (0, 1)),
    locked_at       TEXT,
    recorded_by     BLOB REFERENCES staff_user (id),
    recorded_at     TEXT    NOT NULL,
    corrects_id     BLOB REFERENCES assessment_attempt (id),
    correction_id   BLOB REFERENCES correction (id)
);
CREATE UNIQUE INDEX attempt_number ON assessment_attempt (enrolment_id, component, attempt_no)
    WHERE corrects_id IS NULL;
CREATE INDEX attempt_enrolment ON assessment_attempt (enrolment_id);
CREATE UNIQUE INDEX attempt_corrects ON assessment_attempt (corrects_id) WHERE corrects_id IS NOT NULL;

CREATE TABLE rubric_score (
    attempt_id     BLOB    NOT NULL REFERENCES assessment_attempt (id),
    rubric_item_id TEXT    NOT NULL REFERENCES rubric_item (id),
    points         INTEGER NOT NULL CHECK (points BETWEEN 0 AND 100),
    failed         INTEGER NOT NULL CHECK (failed IN (0, 1)),
    PRIMARY KEY (attempt_id, rubric_item_id)
) WITHOUT ROWID;

CREATE TABLE outcome_claim (
    id                   BLOB PRIMARY KEY,
    enrolment_id         BLOB    NOT NULL REFERENCES enrolment (id),
    programme_version_id TEXT    NOT NULL REFERENCES programme_version (id),
    attended_minutes     INTEGER NOT NULL,
    attempt_ids          TEXT    NOT NULL,
    submitted_at         TEXT    NOT NULL,
    submitted_by         BLOB REFERENCES staff_user (id)
);
CREATE INDEX outcome_claim_enrolment ON outcome_claim (enrolment_id);

CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         TEXT NOT NULL,
    actor_id   BLOB,
    actor_role TEXT,
    action     TEXT NOT NULL,
    entity     TEXT,
    entity_id  BLOB,
    detail     TEXT
);

-- Lock points.
CREATE TRIGGER attendance_after_close BEFORE INSERT ON attendance_event
WHEN NEW.correction_id IS NULL
     AND (SELECT closed_at FROM session WHERE id = NEW.session_id) IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'locked: the session is closed'); END;

CREATE TRIGGER session_reopen BEFORE UPDATE OF closed_at ON session
WHEN OLD.closed_at IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'locked: a closed session cannot be reopened'); END;

CREATE TRIGGER attempt_locked BEFORE UPDATE ON assessment_attempt
WHEN OLD.locked_at IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'locked: the assessment attempt is locked'); END;

CREATE TRIGGER rubric_score_locked_insert BEFORE INSERT ON rubric_score
WHEN (SELECT locked_at FROM assessment_attempt WHERE id = NEW.attempt_id) IS NOT NULL
     AND (SELECT corrects_id FROM assessment_attempt WHERE id = NEW.attempt_id) IS NULL
BEGIN SELECT RAISE(ABORT, 'locked: the assessment attempt is locked'); END;

CREATE TRIGGER rubric_score_locked_update BEFORE UPDATE ON rubric_score
WHEN (SELECT locked_at FROM assessment_attempt WHERE id = OLD.attempt_id) IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'locked: the assessment attempt is locked'); END;

CREATE TRIGGER rubric_score_locked_delete BEFORE DELETE ON rubric_score
WHEN (SELECT locked_at FROM assessment_attempt WHERE id = OLD.attempt_id) IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'locked: the assessment attempt is locked'); END;

-- Append-only and never-deleted records.
CREATE TRIGGER attendance_event_no_update BEFORE UPDATE ON attendance_event
BEGIN SELECT RAISE(ABORT, 'append-only: attendance events are never changed; record a correction'); END;
CREATE TRIGGER attendance_event_no_delete BEFORE DELETE ON attendance_event
BEGIN SELECT RAISE(ABORT, 'append-only: attendance events are never deleted'); END;
CREATE TRIGGER consent_no_update BEFORE UPDATE ON consent
BEGIN SELECT RAISE(ABORT, 'append-only: record a new consent instead'); END;
CREATE TRIGGER consent_no_delete BEFORE DELETE ON consent
BEGIN SELECT RAISE(ABORT, 'append-only: consents are never deleted'); END;
CREATE TRIGGER correction_no_update BEFORE UPDATE ON correction
BEGIN SELECT RAISE(ABORT, 'append-only: corrections are never changed'); END;
CREATE TRIGGER correction_no_delete BEFORE DELETE ON correction
BEGIN SELECT RAISE(ABORT, 'append-only: corrections are never deleted'); END;
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'append-only: the audit log is never changed'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'append-only: the audit log is never deleted'); END;
CREATE TRIGGER claim_no_update BEFORE UPDATE ON outcome_claim
BEGIN SELECT RAISE(ABORT, 'locked: a submitted claim never changes'); END;
CREATE TRIGGER claim_no_delete BEFORE DELETE ON outcome_claim
BEGIN SELECT RAISE(ABORT, 'locked: a submitted claim is never deleted'); END;
CREATE TRIGGER attempt_no_delete BEFORE DELETE ON assessment_attempt
BEGIN SELECT RAISE(ABORT, 'append-only: assessment attempts are never deleted'); END;
CREATE TRIGGER learner_no_delete BEFORE DELETE ON learner
BEGIN SELECT RAISE(ABORT, 'learners are never deleted; destroy their key instead'); END;
