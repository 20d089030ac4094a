//! The offline site store: one SQLite file per site device, opened with WAL, foreign keys and
//! a busy timeout, migrated by `PRAGMA user_version`, seeded with the catalogue on first run.
//! Each submodule owns one group of tables; writes run in one transaction together with their
//! outbox row.

pub mod actor;
pub mod assessments;
pub mod attendance;
pub mod audit;
pub mod backup;
pub mod catalogue;
pub mod claims;
pub mod cohorts;
pub mod corrections;
pub mod db;
pub mod duplicates;
pub mod edits;
pub mod hq;
pub mod import;
pub mod late_marks;
pub mod learner_list;
pub(crate) mod learner_replica;
pub mod learners;
pub mod outbox;
pub mod progress;
pub mod replica;
pub mod reports;
pub mod review;
mod schema;
pub mod settings;
pub mod site_devices;
pub mod site_key;
pub mod staff;

use std::path::Path;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, Transaction, TransactionBehavior};

use crate::{Error, Result};
use siteline_domain::crypto::SiteKeys;

pub use schema::SCHEMA_VERSION;

/// An open site database with the keys that seal its personal fields.
pub struct Site {
    pub(crate) conn: Connection,
    pub(crate) keys: SiteKeys,
}

/// SQLite's durability setting: `FULL` syncs the WAL on every commit, so nothing a user saw
/// saved (and no `seq` HQ acknowledged) can roll back in a power cut.
pub const SYNCHRONOUS: &str = "FULL";

impl std::fmt::Debug for Site {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Site")
            .field("path", &self.conn.path())
            .finish_non_exhaustive()
    }
}

impl Site {
    /// Opens (creating, migrating and seeding as needed) the database at `path`; the site key
    /// lives beside it in `<path>.key`.
    pub fn open(path: &Path) -> Result<Site> {
        let key_path = path.with_extension("key");
        let keys = SiteKeys::load_or_create(&key_path)?;
        Self::open_with_keys(path, keys)
    }

    /// Opens the database at `path` with keys the caller holds.
    pub fn open_with_keys(path: &Path, keys: SiteKeys) -> Result<Site> {
        // Owner-only before SQLite touches it: its -wal and -shm inherit the mode.
        siteline_domain::crypto::private_file(path).map_err(Error::io(path))?;
        let conn = Connection::open(path)?;
        Self::init(conn, keys)
    }

    /// A private in-memory site with fresh keys (tests, demos).
    pub fn open_in_memory() -> Result<Site> {
        Self::init(Connection::open_in_memory()?, SiteKeys::generate())
    }

    /// A private in-memory device of a site whose key the caller holds (tests of several
    /// devices of one site).
    pub fn open_in_memory_with_keys(keys: SiteKeys) -> Result<Site> {
        Self::init(Connection::open_in_memory()?, keys)
    }

    fn init(mut conn: Connection, keys: SiteKeys) -> Result<Site> {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", SYNCHRONOUS)?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        schema::migrate(&mut conn)?;
        catalogue::seed_if_empty(&mut conn)?;
        outbox::ensure_device(&conn)?;
        Ok(Site { conn, keys })
    }

    /// The underlying connection, for read queries.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Starts an IMMEDIATE write transaction (takes the write lock up front, so a busy
    /// database waits at the start instead of failing half-way).
    pub(crate) fn write(&mut self) -> Result<(Transaction<'_>, &SiteKeys)> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        Ok((tx, &self.keys))
    }
}

static DEVICE_CLOCK_SKEW_MS: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);

/// The device clock: the current instant, from Rust (never from the UI). Recorded for display
/// and audit only; nothing orders or decides by it.
pub fn now() -> DateTime<Utc> {
    Utc::now()
        + chrono::Duration::milliseconds(
            DEVICE_CLOCK_SKEW_MS.load(std::sync::atomic::Ordering::Relaxed),
        )
}

/// Makes this process's device clock run `skew` away from true time, to prove (in tests and
/// drills) that a site whose clock is wrong by a year still syncs to the same outcomes.
pub fn set_device_clock_skew(skew: chrono::Duration) {
    DEVICE_CLOCK_SKEW_MS.store(
        skew.num_milliseconds(),
        std::sync::atomic::Ordering::Relaxed,
    );
}

/// Maps SQLite's trigger refusals (`RAISE(ABORT, 'locked: …')`) to typed errors.
pub(crate) fn map_trigger(err: rusqlite::Error, what: impl FnOnce() -> String) -> Error {
    if let rusqlite::Error::SqliteFailure(_, Some(msg)) = &err
        && msg.starts_with("locked:")
    {
        return Error::Locked {
            what: what(),
            hint: "record a correction with a reason instead",
        };
    }
    Error::Database(err)
}
