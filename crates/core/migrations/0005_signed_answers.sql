-- 0005: HQ signs its answers. The device pins HQ's public key at enrolment and remembers each
-- bundle it exported (what it covered), so an answer file is applied only if HQ signed it for
-- a bundle this device made, and never prunes past what it sent.
ALTER TABLE sync_state ADD COLUMN hq_public_key BLOB CHECK (hq_public_key IS NULL OR length(hq_public_key) = 32);
-- HQ's X25519 sealing key: resident ID numbers leave the device sealed to it.
ALTER TABLE sync_state ADD COLUMN hq_seal_key BLOB CHECK (hq_seal_key IS NULL OR length(hq_seal_key) = 32);

CREATE TABLE bundle_sent (
    signature_sha256 TEXT PRIMARY KEY,
    epoch            INTEGER,
    to_seq           INTEGER,
    exported_at      TEXT NOT NULL
);

-- The highest seq of each epoch this device has put into a push or a bundle: an
-- acknowledgement past it is refused (HQ cannot hold rows it was never sent).
CREATE TABLE sent_mark (
    epoch   INTEGER PRIMARY KEY,
    through INTEGER NOT NULL
);

-- Wrong passwords per sign-in name: after five, each further try waits (30 s, doubling, at
-- most 15 min), across restarts of the app.
CREATE TABLE sign_in_throttle (
    username     TEXT PRIMARY KEY COLLATE NOCASE,
    failures     INTEGER NOT NULL,
    locked_until TEXT
);
