//! What HQ sent back, kept at the site read-only: decisions on claims (`hq_decision`), credit
//! postings (`hq_credit`) and certificates (`hq_certificate`). Sync writes them as pull pages
//! arrive; progress, reports and the learner's profile read them through this module only.

use std::collections::HashMap;

use rusqlite::{Connection, Transaction, params};
use serde::Serialize;
use siteline_domain::ids::{CohortId, EnrolmentId};
use siteline_proto::sync::{Certificate, CreditPosting, Decision, DecisionStatus};
use uuid::Uuid;

use crate::Result;

/// Stores (or replaces) HQ's decision on a claim.
pub(crate) fn record_decision(tx: &Transaction<'_>, d: &Decision, hq_seq: u64) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO hq_decision (claim_id, learner_id, status, reason, credits_tenths, account_no,
             programme_version_id, hq_seq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (claim_id) DO UPDATE SET status = excluded.status, reason = excluded.reason,
             credits_tenths = excluded.credits_tenths, account_no = excluded.account_no,
             hq_seq = excluded.hq_seq",
    )?
    .execute(params![
        d.claim_id,
        d.learner_id,
        d.status.as_str(),
        d.reason,
        d.credits_tenths,
        d.account_no,
        d.programme_version_id,
        hq_seq
    ])?;
    Ok(())
}

/// Stores a credit posting once.
pub(crate) fn record_credit(tx: &Transaction<'_>, c: &CreditPosting, hq_seq: u64) -> Result<()> {
    tx.prepare_cached(
        "INSERT OR IGNORE INTO hq_credit (posting_id, claim_id, learner_id, account_no, credits_tenths, hq_seq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        c.posting_id,
        c.claim_id,
        c.learner_id,
        c.account_no,
        c.credits_tenths,
        hq_seq
    ])?;
    Ok(())
}

/// Stores a certificate, or its new status.
pub(crate) fn record_certificate(tx: &Transaction<'_>, c: &Certificate, hq_seq: u64) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO hq_certificate (number, learner_id, account_no, programme_version_id, status, hq_seq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (number) DO UPDATE SET status = excluded.status, hq_seq = excluded.hq_seq",
    )?
    .execute(params![
        c.number,
        c.learner_id,
        c.account_no,
        c.programme_version_id,
        c.status.as_str(),
        hq_seq
    ])?;
    Ok(())
}

/// HQ's word on one enrolment, as the cohort table shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnrolmentOutcome {
    /// The latest decision on the enrolment's claims.
    pub status: Option<DecisionStatus>,
    /// Its reason.
    pub reason: Option<String>,
    /// Credits posted for the enrolment's claims, in tenths.
    pub credits_tenths: i64,
    /// The learner's valid certificate for the programme version.
    pub certificate: Option<String>,
}

/// HQ's word on every enrolment of a cohort: the decision on its latest claim, credits and
/// certificate.
pub fn cohort_outcomes(
    conn: &Connection,
    cohort: CohortId,
    programme_version_id: &str,
) -> Result<HashMap<EnrolmentId, EnrolmentOutcome>> {
    // The claims of every row of one enrolment (two devices may each have enrolled the
    // learner), under the row that stands for them.
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT e.id, d.status, d.reason,
                (SELECT coalesce(sum(hc.credits_tenths), 0) FROM outcome_claim oc
                   JOIN hq_credit hc ON hc.claim_id = oc.id
                   JOIN enrolment x ON x.id = oc.enrolment_id
                  WHERE x.cohort_id = e.cohort_id AND x.learner_id = e.learner_id),
                (SELECT cert.number FROM hq_certificate cert
                  WHERE cert.learner_id = e.learner_id AND cert.programme_version_id = ?2
                    AND cert.status = 'valid' ORDER BY cert.hq_seq DESC LIMIT 1)
         FROM enrolment e
         -- HQ's decision on the enrolment's latest claim (none yet while a re-claim waits).
         LEFT JOIN hq_decision d ON d.claim_id = (
             SELECT oc.id FROM outcome_claim oc JOIN enrolment x ON x.id = oc.enrolment_id
              WHERE x.cohort_id = e.cohort_id AND x.learner_id = e.learner_id
              ORDER BY oc.submitted_at DESC, oc.rowid DESC LIMIT 1)
         WHERE e.cohort_id = ?1 AND {}",
        super::cohorts::STANDING
    ))?;
    let rows = stmt.query_map(params![cohort, programme_version_id], |r| {
        let status: Option<String> = r.get(1)?;
        Ok((
            r.get::<_, EnrolmentId>(0)?,
            EnrolmentOutcome {
                status: status.as_deref().and_then(DecisionStatus::parse),
                reason: r.get::<_, Option<String>>(2)?.filter(|s| !s.is_empty()),
                credits_tenths: r.get(3)?,
                certificate: r.get(4)?,
            },
        ))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// One of HQ's decisions on a learner's claims, for the profile screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LearnerDecision {
    /// The claim decided.
    pub claim_id: Uuid,
    /// HQ's verdict.
    pub status: DecisionStatus,
    /// HQ's reason, "中文 / English".
    pub reason: String,
    /// Credits accredited, in tenths.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub credits_tenths: i64,
}

/// HQ's decision on each of the site's claims, by learner, for the profile screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LearnerCredits {
    /// Credit bank account, once HQ matched one.
    pub account_no: Option<String>,
    /// Decisions, oldest first.
    pub decisions: Vec<LearnerDecision>,
    /// Sum of credit postings received, in tenths.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub credits_tenths: i64,
    /// Certificate numbers.
    pub certificates: Vec<String>,
}

/// What HQ sent back about one learner.
pub fn learner_credits(conn: &Connection, learner: Uuid) -> Result<LearnerCredits> {
    let mut stmt = conn.prepare_cached(
        "SELECT claim_id, status, reason, credits_tenths, account_no FROM hq_decision WHERE learner_id = ?1 ORDER BY hq_seq",
    )?;
    let mut account_no = None;
    let mut decisions = Vec::new();
    let mut rows = stmt.query([learner])?;
    while let Some(r) = rows.next()? {
        let status: String = r.get(1)?;
        // Rows are written from a typed `DecisionStatus`, so every stored name parses.
        if let Some(status) = DecisionStatus::parse(&status) {
            decisions.push(LearnerDecision {
                claim_id: r.get(0)?,
                status,
                reason: r.get(2)?,
                credits_tenths: r.get(3)?,
            });
        }
        account_no = account_no.or(r.get(4)?);
    }
    let credits_tenths: i64 = conn.query_row(
        "SELECT coalesce(sum(credits_tenths), 0) FROM hq_credit WHERE learner_id = ?1",
        [learner],
        |r| r.get(0),
    )?;
    let mut stmt = conn.prepare_cached(
        "SELECT number FROM hq_certificate WHERE learner_id = ?1 ORDER BY hq_seq",
    )?;
    let certificates = stmt
        .query_map([learner], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(LearnerCredits {
        account_no,
        decisions,
        credits_tenths,
        certificates,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Site;

    #[test]
    fn a_cohort_shows_the_latest_decision_on_each_enrolment_and_nothing_for_the_others() {
        let mut site = Site::open_in_memory().unwrap();
        let (m, i) = crate::demo::staff(&mut site).unwrap();
        let people: Vec<_> = (0..2)
            .map(|n| crate::demo::register(&mut site, &m, n).unwrap())
            .collect();
        let (cohort, enrolments) =
            crate::demo::complete_cohort(&mut site, &m, &i, "maternity-L5-v1", &people, 80)
                .unwrap();
        let claim: Uuid = site
            .conn()
            .query_row(
                "SELECT id FROM outcome_claim WHERE enrolment_id = ?1",
                [enrolments[0]],
                |r| r.get(0),
            )
            .unwrap();
        let decision = |status, reason: &str| Decision {
            claim_id: claim,
            learner_id: people[0].0,
            status,
            reason: reason.into(),
            credits_tenths: 0,
            account_no: None,
            programme_version_id: "maternity-L5-v1".into(),
        };
        let (tx, _) = site.write().unwrap();
        record_decision(&tx, &decision(DecisionStatus::NeedsInfo, "缺少"), 5).unwrap();
        record_decision(&tx, &decision(DecisionStatus::Accredited, ""), 9).unwrap();
        tx.commit().unwrap();
        let outcomes = cohort_outcomes(site.conn(), cohort, "maternity-L5-v1").unwrap();
        let first = &outcomes[&enrolments[0]];
        assert_eq!(first.status, Some(DecisionStatus::Accredited));
        // An empty reason is no reason.
        assert_eq!(first.reason, None);
        assert_eq!(outcomes[&enrolments[1]], EnrolmentOutcome::default());
    }
}
