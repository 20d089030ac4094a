-- 0008: one fact recorded on two devices before they synced (docs/SYNC.md, "Several devices,
-- one site"; ADR 0005). Two laptops can each enrol a learner in the same cohort, or each record
-- attempt n of a component for her. Both rows are kept, because each is another device's signed
-- operation and attempts and claims refer to them, and every view folds them into one:
--
-- - the enrolments of one learner in one cohort are one enrolment, shown under the smallest
--   id; the attempts and claims of each count for it;
-- - of attempts with one number, the one with the later stamp is current; both stay in the
--   history;
-- - two staff accounts given one sign-in name are both kept: each signs in with its own
--   password, and the manager sees both in the staff list.
--
-- Before, the second row broke a UNIQUE constraint and was held for ever, with every attempt,
-- claim and mark that depended on it. SQLite cannot drop a UNIQUE constraint: the enrolment
-- table is rebuilt (foreign keys are off while migrations run and checked before commit).
CREATE TABLE enrolment_new (
    id          BLOB PRIMARY KEY,
    cohort_id   BLOB NOT NULL REFERENCES cohort (id),
    learner_id  BLOB NOT NULL REFERENCES learner (id),
    enrolled_at TEXT NOT NULL,
    enrolled_by BLOB REFERENCES staff_user (id)
);
INSERT INTO enrolment_new (id, cohort_id, learner_id, enrolled_at, enrolled_by)
    SELECT id, cohort_id, learner_id, enrolled_at, enrolled_by FROM enrolment;
DROP TABLE enrolment;
ALTER TABLE enrolment_new RENAME TO enrolment;
CREATE INDEX enrolment_cohort_learner ON enrolment (cohort_id, learner_id, id);
CREATE INDEX enrolment_learner ON enrolment (learner_id);
CREATE TRIGGER enrolment_no_delete BEFORE DELETE ON enrolment
BEGIN SELECT RAISE(ABORT, 'enrolments are never deleted'); END;

DROP INDEX attempt_number;
CREATE INDEX attempt_number ON assessment_attempt (enrolment_id, component, attempt_no)
    WHERE corrects_id IS NULL;
DROP INDEX attempt_corrects;
CREATE INDEX attempt_corrects ON assessment_attempt (corrects_id) WHERE corrects_id IS NOT NULL;

-- Sign-in names stay unique on each device (an account is refused a name this device knows),
-- but another device's account may arrive with a name taken here.
CREATE TABLE staff_user_new (
    id            BLOB PRIMARY KEY,
    username      TEXT    NOT NULL COLLATE NOCASE,
    display_name  TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('instructor', 'site_manager', 'assessor')),
    password_hash TEXT    NOT NULL,
    active        INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at    TEXT    NOT NULL
);
INSERT INTO staff_user_new (id, username, display_name, role, password_hash, active, created_at)
    SELECT id, username, display_name, role, password_hash, active, created_at FROM staff_user;
DROP TABLE staff_user;
ALTER TABLE staff_user_new RENAME TO staff_user;
CREATE INDEX staff_user_name ON staff_user (username);
