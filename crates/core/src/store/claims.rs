//! Outcome claims: what the site asks HQ to accredit for a learner who completed a
//! programme. A claim is immutable once submitted; HQ's decision comes back by sync.

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use siteline_proto::records::{self, Record};

use super::actor::Actor;
use super::learners::{self, ConsentPurpose};
use super::{Site, assessments, outbox, progress};
use crate::{Error, Result};
use siteline_domain::Rule;
use siteline_domain::ids::{ClaimId, EnrolmentId};
use siteline_domain::scores::PassStatus;

/// A submitted claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Claim {
    /// Id.
    pub id: ClaimId,
    /// Whose.
    pub enrolment_id: EnrolmentId,
    /// Programme version claimed.
    pub programme_version_id: String,
    /// Attended minutes at submission.
    pub attended_minutes: i64,
}

/// Submits a claim for a learner who is eligible, passed every component with locked
/// attempts, and consented to sending records to the credit bank.
pub fn submit(site: &mut Site, actor: &Actor, enrolment: EnrolmentId) -> Result<ClaimId> {
    let (tx, _) = site.write()?;
    let (cohort, learner): (
        siteline_domain::ids::CohortId,
        siteline_domain::ids::LearnerId,
    ) = tx
        .query_row(
            "SELECT cohort_id, learner_id FROM enrolment WHERE id = ?1",
            [enrolment],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map_err(|_| Error::not_found("enrolment", enrolment))?;
    let table = progress::cohort_progress(&tx, cohort)?;
    let Some(line) = table.learners.iter().find(|l| l.learner_id == learner) else {
        return Err(Error::not_found("enrolment", enrolment));
    };
    let refuse = |rule: Rule| Error::rule("claim", rule);
    // A claim HQ answered needs_info or rejected can be made again once the records are
    // fixed: the new claim names the one it replaces.
    let replaces = match latest(&tx, enrolment)? {
        None => None,
        Some(_) if line.claimed => {
            return Err(Error::Duplicate {
                what: "claim",
                detail: "a claim for this enrolment was already submitted and is waiting for HQ or accredited".into(),
            });
        }
        Some(earlier) => Some(earlier),
    };
    if !line.eligible {
        return Err(refuse(Rule::ClaimAttendance {
            name: line.name.clone(),
            attended: siteline_domain::attendance::hours_text(line.attended_minutes),
            required: u32::try_from(line.required_minutes / 60).unwrap_or(u32::MAX),
        }));
    }
    if line.status != PassStatus::Passed {
        return Err(refuse(Rule::ClaimNotPassed {
            name: line.name.clone(),
        }));
    }
    // The attempt that counts of each component (after a retake, the retake).
    let attempts = assessments::counting_attempts(&tx, enrolment)?;
    if attempts.iter().any(|a| a.locked_at.is_none()) {
        return Err(refuse(Rule::ClaimUnlocked));
    }
    if !learners::has_consent(&tx, learner, ConsentPurpose::CreditBank)? {
        return Err(refuse(Rule::ClaimNoConsent {
            name: line.name.clone(),
        }));
    }
    let id = ClaimId::new();
    let attempt_ids: Vec<_> = attempts.iter().map(|a| a.id).collect();
    tx.execute(
        "INSERT INTO outcome_claim (id, enrolment_id, programme_version_id, attended_minutes,
             attempt_ids, submitted_at, submitted_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            id,
            enrolment,
            table.programme.id,
            line.attended_minutes,
            serde_json::to_string(&attempt_ids)?,
            super::now(),
            actor.id
        ],
    )?;
    let record = records::OutcomeClaim {
        enrolment_id: enrolment.0,
        learner_id: learner.0,
        programme_version_id: table.programme.id.clone(),
        attended_minutes: line.attended_minutes,
        attempt_ids: attempt_ids.iter().map(|a| a.0).collect(),
        replaces: replaces.map(|c| c.0),
    };
    outbox::append(&tx, id.0, &Record::OutcomeClaim(record))?;
    tx.commit()?;
    Ok(id)
}

/// The enrolment's latest claim.
fn latest(conn: &Connection, enrolment: EnrolmentId) -> Result<Option<ClaimId>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT id FROM outcome_claim WHERE enrolment_id IN ({})
                 ORDER BY submitted_at DESC, rowid DESC LIMIT 1",
            super::cohorts::SAME_ENROLMENT
        ))?
        .query_row([enrolment], |r| r.get(0))
        .optional()?)
}

/// Claims of an enrolment.
pub fn claims_of(conn: &Connection, enrolment: EnrolmentId) -> Result<Vec<Claim>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT id, enrolment_id, programme_version_id, attended_minutes FROM outcome_claim
         WHERE enrolment_id IN ({}) ORDER BY submitted_at",
        super::cohorts::SAME_ENROLMENT
    ))?;
    let rows = stmt.query_map([enrolment], |r| {
        Ok(Claim {
            id: r.get(0)?,
            enrolment_id: r.get(1)?,
            programme_version_id: r.get(2)?,
            attended_minutes: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
