-- 0003: recognisable backups and site settings.

-- 'SLSD' (Siteline site database) in the file header, so a restore can tell a Siteline backup
-- from any other SQLite file before it touches the live database.
PRAGMA application_id = 1397510980;

-- Site settings the manager changes in the app (backup folder, days kept, idle lock,
-- language). Local to this device; not synced.
CREATE TABLE setting (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- Each device epoch: 1 at creation, a new one whenever a backup is restored (SYNC.md).
CREATE TABLE device_epoch (
    epoch         INTEGER PRIMARY KEY,
    started_at    TEXT NOT NULL,
    restored_from TEXT
);
INSERT INTO device_epoch (epoch, started_at) SELECT epoch, created_at FROM device;
