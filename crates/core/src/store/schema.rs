//! Numbered SQL migrations applied by `PRAGMA user_version` in one IMMEDIATE transaction.
//! A shipped migration is never edited; a change is a new numbered file.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use crate::{Error, Result};

const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/0001_site_store.sql"),
    include_str!("../../migrations/0002_sync.sql"),
    include_str!("../../migrations/0003_backup_settings.sql"),
    include_str!("../../migrations/0004_rubric_units.sql"),
    include_str!("../../migrations/0005_signed_answers.sql"),
    include_str!("../../migrations/0006_many_devices.sql"),
    include_str!("../../migrations/0007_field_edits.sql"),
    include_str!("../../migrations/0008_one_fact_twice.sql"),
    include_str!("../../migrations/0009_certificates.sql"),
];

/// The schema version this build brings a database to.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Applies every migration newer than the database, all or nothing. Foreign keys are off
/// while they run (a migration may rebuild a table, as SQLite's ALTER TABLE procedure asks) and
/// every reference is checked before the commit.
pub(crate) fn migrate(conn: &mut Connection) -> Result<()> {
    let enforced: bool = conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?;
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    let outcome = migrate_unchecked(conn);
    if enforced {
        conn.pragma_update(None, "foreign_keys", "ON")?;
    }
    outcome
}

fn migrate_unchecked(conn: &mut Connection) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let current: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current < 0 {
        return Err(Error::invalid(
            "database.schema",
            format!(
                "the database says schema version {current}, which no Siteline writes; it is not a Siteline database"
            ),
        ));
    }
    if current > SCHEMA_VERSION {
        return Err(Error::NewerSchema {
            found: current,
            supported: SCHEMA_VERSION,
        });
    }
    for sql in &MIGRATIONS[current as usize..] {
        tx.execute_batch(sql)?;
    }
    let broken: Option<String> = tx
        .query_row(
            "SELECT \"table\" FROM pragma_foreign_key_check LIMIT 1",
            [],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(table) = broken {
        return Err(Error::invalid(
            "database.schema",
            format!(
                "the database's {table} table refers to rows that do not exist; restore a backup"
            ),
        ));
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrating_twice_is_a_no_op_and_sets_user_version() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        migrate(&mut conn).unwrap();
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, SCHEMA_VERSION);
    }

    #[test]
    fn a_database_from_a_newer_build_is_refused_untouched() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        let err = migrate(&mut conn).unwrap_err();
        assert_eq!(err.kind(), "newer_schema");
        let tables: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(tables, 0);
    }
}
