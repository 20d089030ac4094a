-- 0003: several devices, one site (protocol 4). Every operation carries its writer's
-- hybrid-logical-clock stamp; HQ relays each site's operations to the site's other devices
-- through the change log (never to the device that wrote them, never to another site); roll-call
-- marks fold in stamp order and a mark stamped after its session's close does not count.

ALTER TABLE record ADD COLUMN hlc TEXT;

-- The device whose own operation a change relays (NULL for HQ's own changes): it is not sent
-- back to that device.
ALTER TABLE change_log ADD COLUMN origin_device BLOB;

-- Marks received before stamps existed came from one device each, in seq order: their stamps
-- keep that order and sort before any stamped mark.
ALTER TABLE attendance ADD COLUMN hlc TEXT;
UPDATE attendance SET hlc = printf('%015d-%06d-%032d', 0, id % 1000000, 0);
CREATE INDEX attendance_session_stamp ON attendance (session_id, learner_id, hlc);

-- A session's close stamp; of two closes (two devices) the earlier stands.
ALTER TABLE session ADD COLUMN closed_hlc TEXT;
UPDATE session SET closed_hlc = printf('%015d-%06d-%032d', 0, 999999, 0) WHERE closed_at IS NOT NULL;
