//! Corrections: a new record that names the one it corrects, with a reason code, a reason in
//! words and who approved it. Nothing is edited in place; views show the corrected value.

use rusqlite::{Transaction, params};
use serde::{Deserialize, Serialize};
use siteline_proto::Entity;
use siteline_proto::records::{self, Record};
use uuid::Uuid;

use super::actor::Actor;
use super::{audit, outbox};
use crate::{Error, Result};
use siteline_domain::Rule;
use siteline_domain::ids::CorrectionId;

pub use siteline_proto::vocab::ReasonCode;

/// Why and by whose approval a correction is made.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Reason {
    /// Category.
    pub code: ReasonCode,
    /// In words; required.
    pub text: String,
}

/// A correction as its record's history shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CorrectionLine {
    /// Category.
    pub code: ReasonCode,
    /// In words.
    pub reason: String,
    /// Who approved it (display name), when the account is known on this device.
    pub approved_by: Option<String>,
    /// When it was recorded (RFC 3339, UTC).
    pub recorded_at: String,
}

/// Every correction naming `target`, oldest first, from whichever device recorded it.
pub fn of(conn: &rusqlite::Connection, target: Uuid) -> Result<Vec<CorrectionLine>> {
    let mut stmt = conn.prepare_cached(
        "SELECT c.reason_code, c.reason, s.display_name, c.recorded_at
           FROM correction c LEFT JOIN staff_user s ON s.id = c.approved_by
          WHERE c.target_id = ?1 ORDER BY c.recorded_at, c.id",
    )?;
    let rows = stmt.query_map([target], |r| {
        Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (code, reason, approved_by, recorded_at) = row?;
        out.push(CorrectionLine {
            code: [
                ReasonCode::EntryError,
                ReasonCode::LateEvidence,
                ReasonCode::Appeal,
            ]
            .into_iter()
            .find(|c| c.as_str() == code)
            .unwrap_or(ReasonCode::Other),
            reason,
            approved_by,
            recorded_at,
        });
    }
    Ok(out)
}

/// Writes the correction record (with its outbox row and audit entry) and returns its id.
pub(crate) fn insert(
    tx: &Transaction<'_>,
    actor: &Actor,
    entity: Entity,
    target: Uuid,
    reason: &Reason,
) -> Result<CorrectionId> {
    let text = reason.text.trim();
    if text.is_empty() {
        return Err(Error::rule("correction.reason", Rule::Required));
    }
    if text.chars().count() > 500 {
        return Err(Error::rule(
            "correction.reason",
            Rule::TooLong { limit: 500 },
        ));
    }
    let id = CorrectionId::new();
    tx.prepare_cached(
        "INSERT INTO correction (id, entity, target_id, reason_code, reason, approved_by,
             approver_role, recorded_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        id,
        entity.as_str(),
        target,
        reason.code.as_str(),
        text,
        actor.id,
        actor.role.as_str(),
        super::now()
    ])?;
    let record = records::Correction {
        entity,
        target_id: target,
        reason_code: reason.code,
        reason: text.into(),
        approved_by: actor.id.0,
        approver_role: actor.role,
    };
    outbox::append(tx, id.0, &Record::Correction(record))?;
    audit::record(
        tx,
        Some(actor),
        "correction",
        Some((entity.as_str(), target)),
        text,
    )?;
    Ok(id)
}
