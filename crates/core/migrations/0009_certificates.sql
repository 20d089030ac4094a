-- 0009: a certificate as HQ issued it (protocol 5): the 职业技能等级证书 fields the learner's
-- profile shows and the printed certificate carries, its standing's details, the Open Badges
-- credential HQ signed (the file the learner keeps) and HQ's verify page for it (what the
-- printed QR code opens). NULL on certificates received before.
ALTER TABLE hq_certificate ADD COLUMN learner_name TEXT;
ALTER TABLE hq_certificate ADD COLUMN id_masked TEXT;
ALTER TABLE hq_certificate ADD COLUMN training_start TEXT;
ALTER TABLE hq_certificate ADD COLUMN training_end TEXT;
ALTER TABLE hq_certificate ADD COLUMN institution TEXT;
ALTER TABLE hq_certificate ADD COLUMN issued_at TEXT;
ALTER TABLE hq_certificate ADD COLUMN revoked_at TEXT;
ALTER TABLE hq_certificate ADD COLUMN revoked_reason TEXT;
ALTER TABLE hq_certificate ADD COLUMN superseded_by TEXT;
ALTER TABLE hq_certificate ADD COLUMN credential TEXT;
ALTER TABLE hq_certificate ADD COLUMN verify_url TEXT;
