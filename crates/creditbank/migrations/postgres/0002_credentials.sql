-- 0002 (SQLite 0005): certificates anyone can verify (ADR 0007). A certificate keeps the 职业技能等级证书
-- fields as they were when issued (name, masked identity, training dates, the site that
-- trained), its standing (revoked with a reason and a date, or superseded by another number),
-- and the Open Badges 3.0 credential HQ signed for it. Its place in the revocation status
-- lists is its id less one. Certificates issued before carry none of this (NULL).
ALTER TABLE certificate ADD COLUMN learner_name TEXT;
ALTER TABLE certificate ADD COLUMN id_masked TEXT;
ALTER TABLE certificate ADD COLUMN training_start TEXT;
ALTER TABLE certificate ADD COLUMN training_end TEXT;
ALTER TABLE certificate ADD COLUMN institution TEXT;
ALTER TABLE certificate ADD COLUMN revoked_at TIMESTAMPTZ;
ALTER TABLE certificate ADD COLUMN revoked_reason TEXT;
ALTER TABLE certificate ADD COLUMN superseded_by TEXT;
ALTER TABLE certificate ADD COLUMN credential TEXT;
CREATE INDEX certificate_revoked ON certificate (id) WHERE status = 'revoked';
