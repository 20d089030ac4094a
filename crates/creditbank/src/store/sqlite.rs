//! The embedded SQLite database: one file in the data directory, WAL, one connection behind a
//! mutex (SQLite has one writer anyway, so every [`Lock`] is held by whoever holds the
//! connection), migrations by `PRAGMA user_version`.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, ToSql, TransactionBehavior};

use super::sql::{Database, Dialect, Lock, Row, Tx, Value};
use crate::{Error, Result};

pub(crate) const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/0001_credit_bank.sql"),
    include_str!("../../migrations/0002_hq_judges.sql"),
    include_str!("../../migrations/0003_many_devices.sql"),
    include_str!("../../migrations/0004_server_database.sql"),
    include_str!("../../migrations/0005_credentials.sql"),
    include_str!("../../migrations/0006_xapi.sql"),
];

/// SQLite's durability setting for HQ: `FULL` syncs the WAL on every commit, so a commit that
/// was acknowledged to a site survives a power cut (with `NORMAL` the last commits can roll
/// back, the high-water mark goes back and the site's next pushes are refused for ever).
pub const SYNCHRONOUS: &str = "FULL";

/// The credit bank's SQLite database.
pub(crate) struct Sqlite {
    conn: Mutex<Connection>,
}

impl Sqlite {
    /// Opens (creating and migrating) `creditbank.db` in `dir`.
    pub fn open(dir: &Path) -> Result<Self> {
        let db = dir.join("creditbank.db");
        siteline_domain::crypto::private_file(&db)
            .map_err(|e| Error::Internal(format!("{}: {e}", db.display())))?;
        Self::init(Connection::open(&db)?)
    }

    /// An in-memory database (tests).
    pub fn open_in_memory() -> Result<Self> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(mut conn: Connection) -> Result<Self> {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", SYNCHRONOUS)?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.set_prepared_statement_cache_capacity(128);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let current: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let latest = MIGRATIONS.len() as i64;
        if current > latest {
            return Err(Error::Internal(format!(
                "the database is at schema {current}, newer than this creditbank ({latest}); run the newer creditbank"
            )));
        }
        for sql in &MIGRATIONS[current as usize..] {
            tx.execute_batch(sql)?;
        }
        tx.pragma_update(None, "user_version", latest)?;
        tx.commit()?;
        Ok(Sqlite {
            conn: Mutex::new(conn),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (the transaction rolls back
        // on drop), so a poisoned lock is safe to keep using.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Database for Sqlite {
    fn write(&self, f: &mut (dyn FnMut(&dyn Tx) -> Result<()> + Send)) -> Result<()> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        f(&SqliteTx(&tx))?;
        tx.commit()?;
        Ok(())
    }

    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }
}

struct SqliteTx<'a>(&'a rusqlite::Transaction<'a>);

impl Tx for SqliteTx<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn execute(&self, sql: &str, args: &[Value]) -> Result<u64> {
        let mut stmt = self.0.prepare_cached(sql)?;
        Ok(stmt.execute(rusqlite::params_from_iter(args))? as u64)
    }

    fn query(&self, sql: &str, args: &[Value]) -> Result<Vec<Row>> {
        let mut stmt = self.0.prepare_cached(sql)?;
        let columns = stmt.column_count();
        let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let mut values = Vec::with_capacity(columns);
            for i in 0..columns {
                values.push(match r.get_ref(i)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(i) => Value::Int(i),
                    ValueRef::Real(f) => Value::Real(f),
                    ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(b) => Value::Bytes(b.to_vec()),
                });
            }
            out.push(Row(values));
        }
        Ok(out)
    }

    fn lock(&self, _: Lock) -> Result<()> {
        // One connection, one writer: the transaction already excludes every other.
        Ok(())
    }

    fn next_value(&self, sequence: &str) -> Result<i64> {
        let rows = self.query(
            "UPDATE sequence SET value = value + 1 WHERE name = ?1 RETURNING value",
            &[Value::Text(sequence.into())],
        )?;
        rows.first()
            .ok_or_else(|| Error::Internal(format!("no sequence {sequence}")))?
            .get(0)
    }
}

impl ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Value::Null => ToSqlOutput::Owned(rusqlite::types::Value::Null),
            Value::Int(i) => ToSqlOutput::Owned(rusqlite::types::Value::Integer(*i)),
            Value::Real(f) => ToSqlOutput::Owned(rusqlite::types::Value::Real(*f)),
            Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Value::Bytes(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
            Value::Bool(b) => ToSqlOutput::Owned(rusqlite::types::Value::Integer(i64::from(*b))),
            // The forms the store always used: 16-byte blobs and rusqlite's instant text.
            Value::Uuid(u) => {
                ToSqlOutput::Owned(rusqlite::types::Value::Blob(u.as_bytes().to_vec()))
            }
            Value::Time(t) => t.to_sql()?,
        })
    }
}

/// A failure that concerns the whole database (disk full, I/O error, corruption, a lock held
/// too long) rather than one row.
pub(crate) fn is_fatal(e: &rusqlite::Error) -> bool {
    use rusqlite::ErrorCode::*;
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _) if matches!(
            f.code,
            DiskFull
                | SystemIoFailure
                | DatabaseCorrupt
                | NotADatabase
                | DatabaseBusy
                | DatabaseLocked
                | OutOfMemory
                | CannotOpen
                | ReadOnly
                | PermissionDenied
        )
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Bank, Store};
    use chrono::Utc;
    use uuid::Uuid;

    #[test]
    fn migrating_a_version_1_store_scrubs_the_id_numbers_it_held_in_clear() {
        let dir = tempfile::tempdir().unwrap();
        {
            let conn = Connection::open(dir.path().join("creditbank.db")).unwrap();
            conn.execute_batch(MIGRATIONS[0]).unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
            let site = Uuid::now_v7();
            conn.execute(
                "INSERT INTO site (id, code, name, province, seq, created_at) VALUES (?1, 'S', 'S', '44', 1, ?2)",
                rusqlite::params![site, Utc::now()],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO record (device_id, epoch, seq, site_id, entity, op, record_id, payload,
                     recorded_at, received_at, status)
                 VALUES (?1, 1, 1, ?2, 'learner', 'insert', ?1, ?3, ?4, ?4, 'applied')",
                rusqlite::params![
                    Uuid::now_v7(),
                    site,
                    r#"{"name":"王芳","id_number":"11010519491231002X"}"#,
                    Utc::now()
                ],
            )
            .unwrap();
        }
        let store = Bank::open(dir.path(), None).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode =
                |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(dir.path()), 0o700);
            for f in [
                "creditbank.db",
                "creditbank.db-wal",
                "hq.key",
                "hq-signing.key",
            ] {
                assert_eq!(mode(&dir.path().join(f)), 0o600, "{f}");
            }
        }
        assert_eq!(
            store.find_text("11010519491231002X").unwrap(),
            Vec::<String>::new()
        );
        assert_eq!(store.find_text("王芳").unwrap(), vec!["record.payload"]);
        assert!(store.find_resident_ids().unwrap().is_empty());
        assert_eq!(
            store.query_i64("PRAGMA user_version").unwrap(),
            MIGRATIONS.len() as i64
        );
        // The sequences go on from what version 1 held.
        assert_eq!(store.create_site("T", "T", "44").unwrap().code, "T");
        assert_eq!(
            store
                .query_i64("SELECT seq FROM site WHERE code = 'T'")
                .unwrap(),
            2
        );
    }
}
