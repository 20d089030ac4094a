//! Backups of the site database with SQLite's online backup API: a consistent copy taken while
//! the app keeps working, written under a temporary name and renamed only when complete, so a
//! backup file is either whole or absent. Restore checks the file is a Siteline backup this
//! device and its site key can use, keeps a safety copy of the current database, copies the
//! backup in one step and takes a new device epoch (docs/SYNC.md) so HQ never confuses the restored
//! device's new operations with ones it already has.

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDateTime, Utc};
use rusqlite::backup::Backup;
use rusqlite::{Connection, MAIN_DB, OpenFlags, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::actor::Actor;
use super::{Site, audit, outbox, schema};
use crate::{Error, Result};

/// `PRAGMA application_id` of a Siteline site database ('SLSD'); set by migration 0003.
pub const APPLICATION_ID: i32 = 0x534C_5344;

/// Why a backup was taken; part of its file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum BackupKind {
    /// The automatic daily backup (pruned after the days kept).
    Daily,
    /// "Back up now".
    Manual,
    /// The copy of the current database taken just before a restore.
    BeforeRestore,
}

impl BackupKind {
    fn as_str(self) -> &'static str {
        match self {
            BackupKind::Daily => "daily",
            BackupKind::Manual => "manual",
            BackupKind::BeforeRestore => "before-restore",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "daily" => Some(BackupKind::Daily),
            "manual" => Some(BackupKind::Manual),
            "before-restore" => Some(BackupKind::BeforeRestore),
            _ => None,
        }
    }
}

/// One backup file in a folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BackupFile {
    /// Full path.
    pub path: String,
    /// File name.
    pub file_name: String,
    /// Why it was taken.
    pub kind: BackupKind,
    /// When (from the name).
    pub taken_at: DateTime<Utc>,
    /// Size in bytes.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub bytes: u64,
}

const PREFIX: &str = "siteline-";
const EXT: &str = "sqlite";
const STAMP: &str = "%Y%m%d-%H%M%S";

fn file_name(kind: BackupKind, at: DateTime<Utc>) -> String {
    format!("{PREFIX}{}Z-{}.{EXT}", at.format(STAMP), kind.as_str())
}

fn parse_name(name: &str) -> Option<(DateTime<Utc>, BackupKind)> {
    let rest = name
        .strip_prefix(PREFIX)?
        .strip_suffix(&format!(".{EXT}"))?;
    let (stamp, kind) = rest.split_once("Z-")?;
    let at = NaiveDateTime::parse_from_str(stamp, STAMP).ok()?.and_utc();
    Some((at, BackupKind::parse(kind)?))
}

/// Writes a consistent copy of the database behind `conn` into `dir` (created if missing).
/// `conn` may be a read-only connection of its own, so the app's writer is not held up.
pub fn back_up(conn: &Connection, dir: &Path, kind: BackupKind) -> Result<BackupFile> {
    siteline_domain::crypto::private_dir(dir).map_err(Error::io(dir))?;
    let mut at = super::now();
    let mut name = file_name(kind, at);
    // Two backups in one second (a click after the daily one) get distinct names.
    while dir.join(&name).exists() {
        at += chrono::Duration::seconds(1);
        name = file_name(kind, at);
    }
    let path = dir.join(&name);
    let partial = dir.join(format!("{name}.partial"));
    let result = (|| -> Result<()> {
        siteline_domain::crypto::private_file(&partial).map_err(Error::io(&partial))?;
        let mut dst = Connection::open(&partial)?;
        {
            let backup = Backup::new(conn, &mut dst)?;
            backup.run_to_completion(1024, std::time::Duration::from_millis(0), None)?;
        }
        // One self-contained file: no -wal beside it on the stick.
        dst.pragma_update(None, "journal_mode", "DELETE")?;
        drop(dst);
        std::fs::File::open(&partial)
            .and_then(|f| f.sync_all())
            .map_err(Error::io(&partial))?;
        std::fs::rename(&partial, &path).map_err(Error::io(&path))?;
        Ok(())
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&partial);
        return Err(e);
    }
    let bytes = std::fs::metadata(&path).map_err(Error::io(&path))?.len();
    Ok(BackupFile {
        path: path.display().to_string(),
        file_name: name,
        kind,
        taken_at: at,
        bytes,
    })
}

/// The Siteline backups in `dir`, newest first (other files are ignored).
pub fn list(dir: &Path) -> Result<Vec<BackupFile>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(dir)(e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(Error::io(dir))?;
        let name = entry.file_name().to_string_lossy().to_string();
        let Some((taken_at, kind)) = parse_name(&name) else {
            continue;
        };
        let bytes = entry.metadata().map(|m| m.len()).unwrap_or(0);
        out.push(BackupFile {
            path: entry.path().display().to_string(),
            file_name: name,
            kind,
            taken_at,
            bytes,
        });
    }
    out.sort_by_key(|b| std::cmp::Reverse(b.taken_at));
    Ok(out)
}

/// Takes the daily backup if the newest one is a day old or more, then deletes daily backups
/// older than `keep_days` (the newest is always kept). Manual and before-restore backups are
/// never deleted here. Returns the backup taken, if one was due.
pub fn daily(conn: &Connection, dir: &Path, keep_days: u32) -> Result<Option<BackupFile>> {
    let now = super::now();
    let existing = list(dir)?;
    let due = existing
        .iter()
        .find(|b| b.kind == BackupKind::Daily)
        .is_none_or(|b| now - b.taken_at >= chrono::Duration::hours(24) || b.taken_at > now);
    let taken = if due {
        Some(back_up(conn, dir, BackupKind::Daily)?)
    } else {
        None
    };
    let cutoff = now - chrono::Duration::days(i64::from(keep_days.max(1)));
    let dailies = list(dir)?
        .into_iter()
        .filter(|b| b.kind == BackupKind::Daily)
        .skip(1);
    for old in dailies.filter(|b| b.taken_at < cutoff) {
        std::fs::remove_file(&old.path).map_err(Error::io(Path::new(&old.path)))?;
    }
    Ok(taken)
}

/// [`daily`] for the database file at `db_path`, on a read-only connection of its own (the
/// app's writer keeps working while the copy is taken).
pub fn daily_of_file(db_path: &Path, dir: &Path, keep_days: u32) -> Result<Option<BackupFile>> {
    let conn = Connection::open_with_flags(db_path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    daily(&conn, dir, keep_days)
}

/// What a backup file holds, as the restore dialog shows it before asking to confirm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BackupCheck {
    /// The device that wrote it.
    pub device_id: Uuid,
    /// Its device epoch.
    pub epoch: u32,
    /// Schema version.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub schema_version: i64,
    /// Learners in it.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub learners: u64,
    /// Changes in it not yet synced when it was taken.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub pending_changes: u64,
}

fn refuse(problem: impl std::fmt::Display) -> Error {
    Error::invalid("backup", problem)
}

/// Checks that `path` is a whole Siteline backup this device can restore: a SQLite file with
/// Siteline's application id, a schema this build knows, passing SQLite's integrity check,
/// written by this device, with learner data this site key opens. Changes nothing.
pub fn check(site: &Site, path: &Path) -> Result<BackupCheck> {
    let name = path.display();
    if !path.is_file() {
        return Err(refuse(format!(
            "{name} does not exist or is not a file; choose a backup file"
        )));
    }
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let app_id: i32 = conn
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .map_err(|_| {
            refuse(format!(
                "{name} is not a Siteline backup (not a SQLite database)"
            ))
        })?;
    if app_id != APPLICATION_ID {
        return Err(refuse(format!(
            "{name} is not a Siteline backup; choose a file named siteline-….sqlite from the backup folder"
        )));
    }
    let schema_version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if schema_version < 1 {
        return Err(refuse(format!(
            "{name} says schema version {schema_version}, which no Siteline writes; it is not a usable backup"
        )));
    }
    if schema_version > schema::SCHEMA_VERSION {
        return Err(Error::NewerSchema {
            found: schema_version,
            supported: schema::SCHEMA_VERSION,
        });
    }
    let integrity: String = conn.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
    if integrity != "ok" {
        return Err(refuse(format!(
            "{name} is damaged ({integrity}); choose an older backup"
        )));
    }
    let here = outbox::device(&site.conn)?;
    let (device_id, epoch): (Uuid, u32) = conn
        .query_row("SELECT device_id, epoch FROM device", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .map_err(|_| {
            refuse(format!(
                "{name} holds no device record; it is not a usable backup"
            ))
        })?;
    if device_id != here.device_id {
        return Err(refuse(format!(
            "{name} was made on another device ({device_id}); restore it on that device, or move that device's whole data folder (site.db, site.key, device.key) to this computer"
        )));
    }
    let sample: Option<(Uuid, Vec<u8>)> = conn
        .query_row(
            "SELECT learner_id, wrapped_key FROM learner_key WHERE wrapped_key IS NOT NULL LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    if let Some((learner, wrapped)) = sample {
        site.keys
            .unwrap_data_key(learner.as_bytes(), &wrapped)
            .map_err(|_| {
                refuse(format!(
                    "{name} was sealed with another site key; this device's key cannot open its personal data"
                ))
            })?;
    }
    let learners: u64 = conn.query_row("SELECT count(*) FROM learner", [], |r| r.get(0))?;
    let pending_changes: u64 = conn.query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))?;
    Ok(BackupCheck {
        device_id,
        epoch,
        schema_version,
        learners,
        pending_changes,
    })
}

/// What a restore did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Restored {
    /// The backup restored.
    pub from: BackupCheck,
    /// The copy of the database as it was just before.
    pub safety_copy: BackupFile,
    /// The device's new epoch.
    pub new_epoch: u32,
}

/// Replaces the site database with the backup at `path` (site manager only): checks it, saves
/// the current database into `safety_dir`, copies the backup in, brings it to this build's
/// schema, keeps this device's HQ enrolment and settings, and takes a new device epoch.
pub fn restore(site: &mut Site, actor: &Actor, path: &Path, safety_dir: &Path) -> Result<Restored> {
    actor.require_manager("restore a backup")?;
    let from = check(site, path)?;
    let safety_copy = back_up(&site.conn, safety_dir, BackupKind::BeforeRestore)?;
    let enrolment: Option<SyncEnrolment> = site
        .conn
        .query_row(
            "SELECT hq_url, site_id, site_code, site_name, enrolled_at, clock_offset_ms, revoked_at,
                    hq_public_key, hq_seal_key
             FROM sync_state WHERE site_id IS NOT NULL",
            [],
            |r| {
                Ok(SyncEnrolment {
                    hq_url: r.get(0)?,
                    site_id: r.get(1)?,
                    site_code: r.get(2)?,
                    site_name: r.get(3)?,
                    enrolled_at: r.get(4)?,
                    clock_offset_ms: r.get(5)?,
                    revoked_at: r.get(6)?,
                    hq_public_key: r.get(7)?,
                    hq_seal_key: r.get(8)?,
                })
            },
        )
        .optional()?;
    let settings: Vec<(String, String)> = site
        .conn
        .prepare("SELECT key, value FROM setting")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let old_epoch = outbox::device(&site.conn)?.epoch;
    // Everything is done to a staging copy first (schema, new epoch, enrolment, settings), and
    // only the finished copy replaces the live database, in one step: a crash at any point
    // leaves either the old database or the restored one with its new epoch, never the
    // backup's old epoch (whose seqs HQ already holds and would silently drop).
    let staging = safety_dir.join(format!(".restoring-{}.sqlite", Uuid::now_v7()));
    let result = (|| -> Result<u32> {
        siteline_domain::crypto::private_file(&staging).map_err(Error::io(&staging))?;
        let mut work = Connection::open(&staging)?;
        {
            let src = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
            let backup = Backup::new(&src, &mut work)?;
            backup.run_to_completion(1024, std::time::Duration::from_millis(0), None)?;
        }
        work.pragma_update(None, "journal_mode", "DELETE")?;
        work.pragma_update(None, "foreign_keys", "ON")?;
        schema::migrate(&mut work)?;
        outbox::ensure_device(&work)?;
        let tx = work.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        // Unique across restores of the same backup: never below the seconds since 1970,
        // never at or below any epoch this device used before.
        let unix = u32::try_from(super::now().timestamp()).unwrap_or(u32::MAX);
        let new_epoch = unix.max(old_epoch.max(from.epoch) + 1);
        tx.execute("UPDATE device SET epoch = ?1", [new_epoch])?;
        let file = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        tx.execute(
            "INSERT OR REPLACE INTO device_epoch (epoch, started_at, restored_from) VALUES (?1, ?2, ?3)",
            params![new_epoch, super::now(), file],
        )?;
        if let Some(e) = &enrolment {
            tx.execute(
                "UPDATE sync_state SET hq_url = ?1, site_id = ?2, site_code = ?3, site_name = ?4,
                        enrolled_at = ?5, clock_offset_ms = ?6, revoked_at = ?7, hq_public_key = ?8,
                        hq_seal_key = ?9",
                params![
                    e.hq_url,
                    e.site_id,
                    e.site_code,
                    e.site_name,
                    e.enrolled_at,
                    e.clock_offset_ms,
                    e.revoked_at,
                    e.hq_public_key,
                    e.hq_seal_key
                ],
            )?;
        }
        for (k, v) in &settings {
            tx.execute(
                "INSERT OR REPLACE INTO setting (key, value) VALUES (?1, ?2)",
                params![k, v],
            )?;
        }
        audit::record(
            &tx,
            Some(actor),
            "restore_backup",
            None,
            &format!("{file}; new device epoch {new_epoch}"),
        )?;
        tx.commit()?;
        {
            let backup = Backup::new_with_names(&work, MAIN_DB, &mut site.conn, MAIN_DB)?;
            // All pages in one step: one write transaction on the live database, all or nothing.
            if backup.step(-1)? != rusqlite::backup::StepResult::Done {
                return Err(refuse(
                    "the database or the backup file was busy and nothing was restored; close other programs using them and try again",
                ));
            }
        }
        Ok(new_epoch)
    })();
    let _ = std::fs::remove_file(&staging);
    let new_epoch = result?;
    site.conn.pragma_update(None, "journal_mode", "WAL")?;
    Ok(Restored {
        from,
        safety_copy,
        new_epoch,
    })
}

struct SyncEnrolment {
    hq_url: Option<String>,
    site_id: Option<Uuid>,
    site_code: Option<String>,
    site_name: Option<String>,
    enrolled_at: Option<String>,
    clock_offset_ms: i64,
    revoked_at: Option<String>,
    hq_public_key: Option<Vec<u8>>,
    hq_seal_key: Option<Vec<u8>>,
}

/// Where daily backups go unless the manager chose a folder: `backups` beside the database.
pub fn default_dir(db_path: &Path) -> PathBuf {
    db_path
        .parent()
        .map(|p| p.join("backups"))
        .unwrap_or_else(|| PathBuf::from("backups"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_other_files_are_not_backups() {
        let at = DateTime::parse_from_rfc3339("2026-11-29T02:03:04Z")
            .unwrap()
            .with_timezone(&Utc);
        for kind in [
            BackupKind::Daily,
            BackupKind::Manual,
            BackupKind::BeforeRestore,
        ] {
            let name = file_name(kind, at);
            assert_eq!(parse_name(&name), Some((at, kind)), "{name}");
        }
        assert_eq!(
            file_name(BackupKind::Daily, at),
            "siteline-20261129-020304Z-daily.sqlite"
        );
        assert_eq!(
            parse_name("siteline-20261129-020304Z-daily.sqlite.partial"),
            None
        );
        assert_eq!(parse_name("notes.txt"), None);
    }
}
