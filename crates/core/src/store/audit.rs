//! The append-only audit log: who did what to which record, and when. Unmasking personal
//! data, corrections, locks and account changes are written here in the write's transaction.

use rusqlite::{Connection, Transaction, params};
use serde::Serialize;
use uuid::Uuid;

use super::actor::Actor;
use crate::Result;

/// Appends one audit entry inside the caller's transaction.
pub fn record(
    tx: &Transaction<'_>,
    actor: Option<&Actor>,
    action: &str,
    target: Option<(&str, Uuid)>,
    detail: &str,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO audit_log (at, actor_id, actor_role, action, entity, entity_id, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        super::now(),
        actor.map(|a| a.id),
        actor.map(|a| a.role.as_str()),
        action,
        target.map(|t| t.0),
        target.map(|t| t.1),
        detail,
    ])?;
    Ok(())
}

/// One audit entry as shown to a site manager.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    /// When (device clock).
    pub at: String,
    /// Actor's role, if any.
    pub actor_role: Option<String>,
    /// What was done.
    pub action: String,
    /// Free detail.
    pub detail: Option<String>,
}

/// The latest `limit` entries, newest first.
pub fn recent(conn: &Connection, limit: usize) -> Result<Vec<AuditEntry>> {
    let mut stmt = conn.prepare_cached(
        "SELECT at, actor_role, action, detail FROM audit_log ORDER BY id DESC LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit as i64], |r| {
        Ok(AuditEntry {
            at: r.get(0)?,
            actor_role: r.get(1)?,
            action: r.get(2)?,
            detail: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
