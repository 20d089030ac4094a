-- 0002: HQ judges every claim from records it holds itself (sessions, roll-call marks,
-- corrections), keeps no resident ID number in clear, and accredits a person for a programme
-- version at most once.

CREATE TABLE session (
    record_id BLOB PRIMARY KEY,
    site_id   BLOB NOT NULL,
    cohort_id BLOB NOT NULL REFERENCES cohort (record_id),
    starts_at TEXT NOT NULL,
    ends_at   TEXT NOT NULL,
    closed_at TEXT
);
CREATE INDEX session_cohort ON session (cohort_id);
-- A mark is checked against the roster: is the learner enrolled in the session's cohort?
CREATE INDEX enrolment_cohort_learner ON enrolment (cohort_id, learner_id);

-- Roll-call marks in the order HQ received them, which is the order each device recorded
-- them (a device pushes its rows in seq order, exactly once): the same order the site folds.
CREATE TABLE attendance (
    id            INTEGER PRIMARY KEY,
    record_id     BLOB NOT NULL UNIQUE,
    site_id       BLOB NOT NULL,
    session_id    BLOB NOT NULL REFERENCES session (record_id),
    learner_id    BLOB NOT NULL REFERENCES learner (record_id),
    kind          TEXT NOT NULL,
    at            TEXT NOT NULL,
    correction_id BLOB
);
CREATE INDEX attendance_learner ON attendance (learner_id, session_id);

CREATE TABLE correction (
    record_id BLOB PRIMARY KEY,
    site_id   BLOB NOT NULL,
    entity    TEXT NOT NULL,
    target_id BLOB NOT NULL
);

-- A claim may name the claim it replaces (after needs_info).
ALTER TABLE claim ADD COLUMN replaces BLOB;

-- Who and what a decision is for, so HQ accredits one person for one programme version once;
-- a later claim for the same is answered with a decision that repeats the first.
ALTER TABLE decision ADD COLUMN account_id INTEGER REFERENCES credit_account (id);
ALTER TABLE decision ADD COLUMN programme_version_id TEXT;
ALTER TABLE decision ADD COLUMN repeats INTEGER REFERENCES decision (id);

DROP TRIGGER decision_append_only_u;
UPDATE decision SET
    programme_version_id = (SELECT c.programme_version_id FROM claim c WHERE c.record_id = decision.claim_id),
    account_id = (SELECT l.account_id FROM claim c JOIN learner l ON l.record_id = c.learner_id
                  WHERE c.record_id = decision.claim_id);
UPDATE decision SET repeats = (
        SELECT min(f.id) FROM decision f
        WHERE f.account_id = decision.account_id AND f.programme_version_id = decision.programme_version_id
          AND f.status = 'accredited' AND f.id < decision.id)
    WHERE status = 'accredited';
CREATE TRIGGER decision_append_only_u BEFORE UPDATE ON decision
BEGIN SELECT RAISE(ABORT, 'append-only: decisions are never changed'); END;

CREATE UNIQUE INDEX decision_once ON decision (account_id, programme_version_id)
    WHERE status = 'accredited' AND repeats IS NULL;
CREATE INDEX claim_enrolment ON claim (enrolment_id);

-- No resident ID number in clear: learner rows keep the masked form and the account's blind
-- index only. Scrub what version 1 stored in the received payloads.
UPDATE record SET payload = json_remove(payload, '$.id_number')
    WHERE entity = 'learner' AND json_extract(payload, '$.id_number') IS NOT NULL;
