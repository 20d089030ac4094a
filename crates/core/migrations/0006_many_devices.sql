-- 0006: several devices, one site (docs/SYNC.md, "Several devices, one site"). Every operation
-- carries a hybrid-logical-clock stamp; the operations of the site's other devices are applied
-- here once each, by their identity, and logged with the device's own in site_event; roll-call
-- marks fold in stamp order; the same person may arrive registered on two devices.
-- Runs with foreign keys off (the learner table is rebuilt); checked before commit.

-- A stamp from an instant and a counter: the shape of siteline_proto::hlc::Hlc's text.
-- Rows written before this migration get their stamps from their recorded times.
ALTER TABLE device ADD COLUMN hlc TEXT;
ALTER TABLE outbox ADD COLUMN hlc TEXT;
UPDATE outbox SET hlc = printf('%015d-%06d-%s',
    CAST(round((julianday(recorded_at) - 2440587.5) * 86400000) AS INTEGER), seq % 1000000,
    (SELECT lower(hex(device_id)) FROM device));

-- Every operation this device holds, its own and other devices', applied exactly once.
CREATE TABLE site_event (
    device_id   BLOB    NOT NULL,
    epoch       INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    entity      TEXT    NOT NULL,
    op          TEXT    NOT NULL,
    record_id   BLOB    NOT NULL,
    hlc         TEXT    NOT NULL,
    recorded_at TEXT    NOT NULL,
    -- NULL for this device's own operations; when it arrived for another device's.
    received_at TEXT,
    -- The record as the site's devices exchange it on the LAN (another device's as received;
    -- this device's own as written, sealed for the site as it is served).
    payload     TEXT,
    -- How another device's operation arrived: 'hq' (relayed in a pull) or 'lan' (from a peer).
    via         TEXT CHECK (via IN ('hq', 'lan')),
    PRIMARY KEY (device_id, epoch, seq)
) WITHOUT ROWID;
CREATE INDEX site_event_record ON site_event (record_id, hlc);

-- Another device's operation that cannot apply yet (its parent has not arrived, or it is
-- sealed under a site key this device does not hold): kept whole and retried after each
-- page, never dropped.
CREATE TABLE replica_held (
    device_id BLOB    NOT NULL,
    epoch     INTEGER NOT NULL,
    seq       INTEGER NOT NULL,
    hlc       TEXT    NOT NULL,
    row_json  TEXT    NOT NULL,
    reason    TEXT    NOT NULL,
    held_at   TEXT    NOT NULL,
    via       TEXT    NOT NULL CHECK (via IN ('hq', 'lan')),
    PRIMARY KEY (device_id, epoch, seq)
) WITHOUT ROWID;

-- Roll-call marks: who wrote each (the writer device) and its stamp, the order they fold in.
DROP TRIGGER attendance_event_no_update;
ALTER TABLE attendance_event ADD COLUMN device_id BLOB;
ALTER TABLE attendance_event ADD COLUMN hlc TEXT;
UPDATE attendance_event SET
    device_id = (SELECT device_id FROM device),
    hlc = printf('%015d-%06d-%s',
        CAST(round((julianday(recorded_at) - 2440587.5) * 86400000) AS INTEGER), seq % 1000000,
        (SELECT lower(hex(device_id)) FROM device));
CREATE TRIGGER attendance_event_no_update BEFORE UPDATE ON attendance_event
BEGIN SELECT RAISE(ABORT, 'append-only: attendance events are never changed; record a correction'); END;
CREATE INDEX attendance_by_stamp ON attendance_event (session_id, learner_id, hlc);

-- A session's close carries its stamp: a mark stamped after it does not count until a manager
-- accepts it (a correction). Of two closes, the earlier stamp stands.
ALTER TABLE session ADD COLUMN closed_hlc TEXT;
UPDATE session SET closed_hlc = printf('%015d-%06d-%s',
        CAST(round((julianday(closed_at) - 2440587.5) * 86400000) AS INTEGER), 999999,
        (SELECT lower(hex(device_id)) FROM device))
    WHERE closed_at IS NOT NULL;
DROP TRIGGER session_reopen;
CREATE TRIGGER session_reopen BEFORE UPDATE OF closed_at ON session
WHEN OLD.closed_at IS NOT NULL AND NEW.closed_at IS NULL
BEGIN SELECT RAISE(ABORT, 'locked: a closed session cannot be reopened'); END;
-- This device refuses its own marks in a closed session; another device's arrive as they were
-- (stamped, so the fold can tell whether they came before the close).
DROP TRIGGER attendance_after_close;
CREATE TRIGGER attendance_after_close BEFORE INSERT ON attendance_event
WHEN NEW.correction_id IS NULL
     AND (NEW.device_id IS NULL OR NEW.hlc IS NULL OR NEW.device_id = (SELECT device_id FROM device))
     AND (SELECT closed_at FROM session WHERE id = NEW.session_id) IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'locked: the session is closed'); END;

-- The same person registered on two devices: both rows stay (their enrolments and marks
-- refer to them) until the manager merges them, so the full-ID blind index is no longer
-- unique. SQLite cannot drop a UNIQUE constraint: the table is rebuilt.
CREATE TABLE learner_new (
    id               BLOB PRIMARY KEY,
    name             TEXT    NOT NULL CHECK (length(name) > 0),
    id_type          TEXT    NOT NULL CHECK (id_type IN ('resident_id', 'passport', 'other')),
    id_cipher        BLOB,
    id_masked        TEXT    NOT NULL,
    id_index         BLOB    NOT NULL,
    id_tail_index    BLOB    NOT NULL,
    phone_cipher     BLOB,
    phone_masked     TEXT,
    phone_tail_index BLOB,
    sex              TEXT CHECK (sex IN ('female', 'male')),
    birth_date       TEXT,
    created_at       TEXT    NOT NULL,
    created_by       BLOB REFERENCES staff_user (id),
    version          INTEGER NOT NULL DEFAULT 1,
    -- The learner this one was merged into (a duplicate registration), if any.
    merged_into      BLOB REFERENCES learner_new (id)
);
INSERT INTO learner_new (id, name, id_type, id_cipher, id_masked, id_index, id_tail_index,
        phone_cipher, phone_masked, phone_tail_index, sex, birth_date, created_at, created_by, version)
    SELECT id, name, id_type, id_cipher, id_masked, id_index, id_tail_index,
        phone_cipher, phone_masked, phone_tail_index, sex, birth_date, created_at, created_by, version
    FROM learner;
DROP TABLE learner;
ALTER TABLE learner_new RENAME TO learner;
CREATE INDEX learner_name ON learner (name);
CREATE INDEX learner_id_index ON learner (id_index);
CREATE INDEX learner_id_tail ON learner (id_tail_index);
CREATE INDEX learner_phone_tail ON learner (phone_tail_index);
CREATE TRIGGER learner_no_delete BEFORE DELETE ON learner
BEGIN SELECT RAISE(ABORT, 'learners are never deleted; destroy their key instead'); END;

-- HQ's certificate of this device (its word that the device belongs to the site), shown to the
-- site's other devices on the LAN; and the site's devices HQ revoked, which peers refuse.
ALTER TABLE sync_state ADD COLUMN device_certificate TEXT;
CREATE TABLE revoked_device (
    device_id  BLOB PRIMARY KEY,
    revoked_at TEXT NOT NULL
) WITHOUT ROWID;

-- Store and forward to HQ: a signed bundle another device of the site handed over on the LAN,
-- until this device has delivered it to HQ; and HQ's answer to it, until this device hands it
-- back to its writer on the LAN.
CREATE TABLE forward_bundle (
    signature   TEXT PRIMARY KEY,
    device_id   BLOB NOT NULL,
    bundle_json TEXT NOT NULL,
    received_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE forward_answer (
    bundle      TEXT PRIMARY KEY,
    device_id   BLOB NOT NULL,
    answer_json TEXT NOT NULL,
    received_at TEXT NOT NULL
) WITHOUT ROWID;
