//! Corrections: a new record that names the one it corrects, with a reason code, a reason in
//! words and who approved it. Nothing is edited in place; views show the corrected value.

use rusqlite::{Transaction, params};
use serde::{Deserialize, Serialize};
use siteline_proto::{Entity, Op};
use uuid::Uuid;

use super::staff::Actor;
use super::{audit, outbox};
use crate::{Error, Result};
use siteline_domain::ids::CorrectionId;

/// Why a locked record is corrected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum ReasonCode {
    /// Typed or clicked wrongly.
    EntryError,
    /// Evidence arrived after the lock (sign-in sheet, note).
    LateEvidence,
    /// The learner appealed and the appeal was upheld.
    Appeal,
    /// Anything else; the reason text says what.
    Other,
}

impl ReasonCode {
    fn as_str(self) -> &'static str {
        match self {
            ReasonCode::EntryError => "entry_error",
            ReasonCode::LateEvidence => "late_evidence",
            ReasonCode::Appeal => "appeal",
            ReasonCode::Other => "other",
        }
    }
}

/// Why and by whose approval a correction is made.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Reason {
    /// Category.
    pub code: ReasonCode,
    /// In words; required.
    pub text: String,
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
        return Err(Error::invalid(
            "correction.reason",
            "say why the record is corrected",
        ));
    }
    if text.chars().count() > 500 {
        return Err(Error::invalid(
            "correction.reason",
            "keep the reason under 500 characters",
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
    outbox::append(
        tx,
        Entity::Correction,
        Op::Insert,
        id.0,
        &serde_json::json!({
            "entity": entity, "target_id": target, "reason_code": reason.code,
            "reason": text, "approved_by": actor.id, "approver_role": actor.role,
        }),
    )?;
    audit::record(
        tx,
        Some(actor),
        "correction",
        Some((entity.as_str(), target)),
        text,
    )?;
    Ok(id)
}
