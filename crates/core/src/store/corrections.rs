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
