-- 0007: fields of a learner or a cohort corrected from any device of the site (docs/SYNC.md,
-- "Several devices, one site"). Every change of a field is kept, with the stamp of that field's
-- latest change its writer had seen (its base version); the field shows the change with the
-- latest stamp, and a change that had not seen an earlier one of another value is shown to the
-- manager as an overlap. Append-only: a manager settles an overlap with a new change.
CREATE TABLE field_edit (
    entity      TEXT    NOT NULL CHECK (entity IN ('learner', 'cohort')),
    record_id   BLOB    NOT NULL,
    field       TEXT    NOT NULL,
    hlc         TEXT    NOT NULL,
    -- The stamp of the field's latest change the writer had seen; NULL: only the first version.
    base_hlc    TEXT,
    -- The value as screens show it: a name, the masked phone number (NULL: removed, or
    -- erased), 'start/end' dates, a number.
    value       TEXT,
    -- The phone number, sealed under the learner's data key as learner.phone_cipher is (NULL
    -- for other fields, and once the learner's data is erased).
    value_cipher BLOB,
    -- The phone number's tail blind index, for search.
    value_index BLOB,
    device_id   BLOB    NOT NULL,
    seq         INTEGER NOT NULL,
    recorded_by BLOB,
    recorded_at TEXT    NOT NULL,
    PRIMARY KEY (record_id, field, hlc)
) WITHOUT ROWID;
CREATE INDEX field_edit_writer ON field_edit (device_id, seq);

CREATE TRIGGER field_edit_no_delete BEFORE DELETE ON field_edit
BEGIN SELECT RAISE(ABORT, 'append-only: field changes are kept; record a new change'); END;
-- Only a phone number may change, and only to nothing: an erasure shreds it.
CREATE TRIGGER field_edit_no_update BEFORE UPDATE ON field_edit
WHEN OLD.field IS NOT 'phone' OR NEW.field IS NOT 'phone'
     OR NEW.value_cipher IS NOT NULL OR NEW.value IS NOT NULL OR NEW.value_index IS NOT NULL
     OR NEW.hlc IS NOT OLD.hlc OR NEW.base_hlc IS NOT OLD.base_hlc
BEGIN SELECT RAISE(ABORT, 'append-only: field changes are kept; record a new change'); END;
