//! Progress: per cohort, each learner's attended hours against required, eligibility,
//! component results and pass status; per site, counts by programme and status; per learner,
//! each enrolment. The manager's filtered review with its charts is `review`.
//! Read-only queries over the store; attended minutes come from the derived
//! `session_attendance` table that every roll-call mark refreshes.

use std::collections::HashMap;

use rusqlite::{Connection, params};
use serde::Serialize;

use super::assessments::attempt_order;
use super::catalogue::{self, ProgrammeSummary};
use super::cohorts::{self, Cohort, CohortStatus, STANDING, STANDING_ID};
use super::hq;
use crate::Result;
use siteline_domain::attendance::is_eligible;
use siteline_domain::ids::{CohortId, EnrolmentId, LearnerId};
use siteline_domain::scores::{Component, ComponentResults, PassStatus, Score, pass_status};
use siteline_proto::sync::DecisionStatus;

/// One learner's line in a cohort's progress table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LearnerProgress {
    /// Learner.
    pub learner_id: LearnerId,
    /// Enrolment.
    pub enrolment_id: EnrolmentId,
    /// Name.
    pub name: String,
    /// Masked ID number.
    pub id_masked: String,
    /// Minutes attended, from attendance events.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub attended_minutes: i64,
    /// The programme's hours in minutes.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub required_minutes: i64,
    /// attended / required, in permille (may pass 1000).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub attendance_permille: i64,
    /// Attended enough to sit the assessment.
    pub eligible: bool,
    /// Latest current result per component.
    pub results: ComponentResults,
    /// Against the pass rule.
    pub status: PassStatus,
    /// An outcome claim waits for HQ or was accredited (false again after HQ answers
    /// `needs_info` or `rejected`, so the learner can be claimed again).
    pub claimed: bool,
    /// HQ's decision on the claim (`accredited`, `needs_info`, `rejected`), once synced.
    pub hq_status: Option<DecisionStatus>,
    /// HQ's reason, for anything but accredited.
    pub hq_reason: Option<String>,
    /// Credits HQ posted for this enrolment's claim, in tenths.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub credits_tenths: i64,
    /// The certificate HQ issued for this programme, if any.
    pub certificate: Option<String>,
}

/// A cohort's progress table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CohortProgress {
    /// The cohort.
    pub cohort: Cohort,
    /// Its programme version.
    pub programme: ProgrammeSummary,
    /// One line per enrolled learner, by name.
    pub learners: Vec<LearnerProgress>,
}

/// Builds one cohort's progress table.
pub fn cohort_progress(conn: &Connection, cohort: CohortId) -> Result<CohortProgress> {
    let c = cohorts::get(conn, cohort)?;
    let programme = catalogue::programme_version(conn, &c.programme_version_id)?;
    let required = i64::from(programme.total_hours) * 60;
    // Two rows of one enrolment (two devices enrolled the learner before they synced) count
    // as the one that stands for them, their attempts together.
    let mut results = current_results(
        conn,
        &format!(
            "SELECT {STANDING_ID}, a.component, a.score, a.critical_failed
             FROM enrolment e JOIN assessment_attempt a ON a.enrolment_id = e.id
             WHERE e.cohort_id = ?1
               AND NOT EXISTS (SELECT 1 FROM assessment_attempt c WHERE c.corrects_id = a.id)
             ORDER BY e.learner_id, a.component, {}",
            attempt_order("a", "ASC")
        ),
        params![cohort],
    )?;
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT e.id, l.id, l.name, l.id_masked,
                (SELECT coalesce(sum(sa.minutes), 0) FROM session s
                   JOIN session_attendance sa ON sa.session_id = s.id AND sa.learner_id = e.learner_id
                  WHERE s.cohort_id = e.cohort_id),
                EXISTS (SELECT 1 FROM outcome_claim oc JOIN enrolment x ON x.id = oc.enrolment_id
                         WHERE x.cohort_id = e.cohort_id AND x.learner_id = e.learner_id)
         FROM enrolment e JOIN learner l ON l.id = e.learner_id
         WHERE e.cohort_id = ?1 AND {STANDING} ORDER BY l.name, l.id"
    ))?;
    let mut answered = hq::cohort_outcomes(conn, cohort, &c.programme_version_id)?;
    let rows = stmt.query_map(params![cohort], |r| {
        Ok((
            r.get::<_, EnrolmentId>(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get::<_, i64>(4)?,
            r.get(5)?,
        ))
    })?;
    let mut learners = Vec::new();
    for row in rows {
        let (enrolment_id, learner_id, name, id_masked, attended, claimed) = row?;
        let hq = answered.remove(&enrolment_id).unwrap_or_default();
        let res = results.remove(&enrolment_id).unwrap_or_default();
        learners.push(LearnerProgress {
            learner_id,
            enrolment_id,
            name,
            id_masked,
            attended_minutes: attended,
            required_minutes: required,
            attendance_permille: attended * 1000 / required.max(1),
            eligible: is_eligible(
                attended,
                programme.total_hours,
                programme.min_attendance_permille,
            ),
            status: pass_status(programme.level, &res),
            results: res,
            // Claimed: a claim waits for HQ or was accredited. After needs_info or rejected
            // the learner can be claimed again.
            claimed: claimed
                && !matches!(
                    hq.status,
                    Some(DecisionStatus::NeedsInfo | DecisionStatus::Rejected)
                ),
            hq_status: hq.status,
            hq_reason: hq.reason,
            credits_tenths: hq.credits_tenths,
            certificate: hq.certificate,
        });
    }
    Ok(CohortProgress {
        cohort: c,
        programme,
        learners,
    })
}

fn current_results(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<HashMap<EnrolmentId, ComponentResults>> {
    let mut out: HashMap<EnrolmentId, ComponentResults> = HashMap::new();
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(params)?;
    while let Some(r) = rows.next()? {
        let e: EnrolmentId = r.get(0)?;
        let component: String = r.get(1)?;
        let score = Score::from_stored(r.get(2)?);
        let entry = out.entry(e).or_default();
        match Component::parse(&component)? {
            Component::Theory => entry.theory = Some(score),
            Component::Practical => entry.practical = Some((score, r.get(3)?)),
            Component::Review => entry.review = Some(score),
        }
    }
    Ok(out)
}

/// Counts for one programme version across the site.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ProgrammeCounts {
    /// Programme version.
    pub programme_version_id: String,
    /// Programme name (zh).
    pub name_zh: String,
    /// Programme name (en).
    pub name_en: String,
    /// Level.
    pub level: u8,
    /// Cohorts in draft.
    pub cohorts_draft: u32,
    /// Cohorts running.
    pub cohorts_running: u32,
    /// Cohorts closed.
    pub cohorts_closed: u32,
    /// Enrolments.
    pub enrolled: u32,
    /// Enrolments with enough attendance.
    pub eligible: u32,
    /// Enrolments that passed.
    pub passed: u32,
    /// Enrolments with a failed component.
    pub failed: u32,
    /// Enrolments not yet fully assessed.
    pub pending: u32,
}

/// Site-wide counts by programme version and status (programmes with no cohort omitted).
pub fn site_summary(conn: &Connection) -> Result<Vec<ProgrammeCounts>> {
    let pvs: HashMap<String, ProgrammeSummary> = catalogue::programme_versions(conn)?
        .into_iter()
        .map(|p| (p.id.clone(), p))
        .collect();
    let mut counts: HashMap<String, ProgrammeCounts> = HashMap::new();
    let entry = |pv: &ProgrammeSummary| -> ProgrammeCounts {
        ProgrammeCounts {
            programme_version_id: pv.id.clone(),
            name_zh: pv.name_zh.clone(),
            name_en: pv.name_en.clone(),
            level: pv.level.get(),
            ..Default::default()
        }
    };
    for c in cohorts::list(conn)? {
        let Some(pv) = pvs.get(&c.programme_version_id) else {
            continue;
        };
        let e = counts.entry(pv.id.clone()).or_insert_with(|| entry(pv));
        match c.status {
            CohortStatus::Draft => e.cohorts_draft += 1,
            CohortStatus::Running => e.cohorts_running += 1,
            CohortStatus::Closed => e.cohorts_closed += 1,
        }
    }
    let mut results = current_results(
        conn,
        &format!(
            "SELECT {STANDING_ID}, a.component, a.score, a.critical_failed
             FROM assessment_attempt a JOIN enrolment e ON e.id = a.enrolment_id
             WHERE NOT EXISTS (SELECT 1 FROM assessment_attempt c WHERE c.corrects_id = a.id)
             ORDER BY e.cohort_id, e.learner_id, a.component, {}",
            attempt_order("a", "ASC")
        ),
        [],
    )?;
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT e.id, c.programme_version_id, coalesce(m.minutes, 0)
         FROM enrolment e JOIN cohort c ON c.id = e.cohort_id
         LEFT JOIN (SELECT s.cohort_id, sa.learner_id, sum(sa.minutes) AS minutes
                      FROM session_attendance sa JOIN session s ON s.id = sa.session_id
                     GROUP BY s.cohort_id, sa.learner_id) m
                ON m.cohort_id = e.cohort_id AND m.learner_id = e.learner_id
         WHERE {STANDING}"
    ))?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let enrolment: EnrolmentId = r.get(0)?;
        let pv_id: String = r.get(1)?;
        let minutes: i64 = r.get(2)?;
        let Some(pv) = pvs.get(&pv_id) else { continue };
        let e = counts.entry(pv_id).or_insert_with(|| entry(pv));
        e.enrolled += 1;
        if is_eligible(minutes, pv.total_hours, pv.min_attendance_permille) {
            e.eligible += 1;
        }
        match pass_status(pv.level, &results.remove(&enrolment).unwrap_or_default()) {
            PassStatus::Passed => e.passed += 1,
            PassStatus::Failed => e.failed += 1,
            PassStatus::Pending => e.pending += 1,
        }
    }
    let mut out: Vec<_> = counts.into_values().collect();
    out.sort_by(|a, b| a.programme_version_id.cmp(&b.programme_version_id));
    Ok(out)
}

/// A programme version as the start screen lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ProgrammeOverview {
    /// Programme version id.
    pub programme_version_id: String,
    /// Name (zh).
    pub name_zh: String,
    /// Name (en).
    pub name_en: String,
    /// Level.
    pub level: u8,
    /// Required hours.
    pub total_hours: u32,
    /// Credits in tenths.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub credits_tenths: i64,
}

/// What the start screen shows before anyone signs in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SiteOverview {
    /// Installed catalogue version.
    pub catalogue_version: String,
    /// `seed` (built in) or `hq`.
    pub catalogue_source: String,
    /// Database schema version.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub schema_version: i64,
    /// Learners registered.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub learners: u64,
    /// Cohorts opened.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub cohorts: u64,
    /// Changes waiting for HQ.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub pending_changes: u64,
    /// The catalogue's programme versions.
    pub programmes: Vec<ProgrammeOverview>,
}

/// Counts and catalogue for the start screen.
pub fn site_overview(conn: &Connection) -> Result<SiteOverview> {
    let (catalogue_version, catalogue_source) = catalogue::installed_version(conn)?;
    let count = |table: &str| -> Result<u64> {
        Ok(conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?)
    };
    let programmes = catalogue::programme_versions(conn)?
        .into_iter()
        .map(|p| ProgrammeOverview {
            programme_version_id: p.id,
            name_zh: p.name_zh,
            name_en: p.name_en,
            level: p.level.get(),
            total_hours: p.total_hours,
            credits_tenths: p.credits_tenths,
        })
        .collect();
    Ok(SiteOverview {
        catalogue_version,
        catalogue_source,
        schema_version: super::SCHEMA_VERSION,
        learners: count("learner")?,
        cohorts: count("cohort")?,
        pending_changes: count("outbox")?,
        programmes,
    })
}

/// One of a learner's enrolments with its progress line, for the profile screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct EnrolmentProgress {
    /// Cohort id.
    pub cohort_id: CohortId,
    /// Cohort name.
    pub cohort_name: String,
    /// Programme (zh).
    pub programme_zh: String,
    /// Programme (en).
    pub programme_en: String,
    /// Level.
    pub level: u8,
    /// The learner's line in that cohort.
    pub progress: LearnerProgress,
}

/// Progress across all of a learner's enrolments.
pub fn learner_progress(conn: &Connection, learner: LearnerId) -> Result<Vec<EnrolmentProgress>> {
    // A learner's history includes that of registrations merged into them (the same person
    // registered on two devices).
    let mut stmt = conn.prepare_cached(
        "SELECT cohort_id, learner_id FROM enrolment
         WHERE learner_id = ?1 OR learner_id IN (SELECT id FROM learner WHERE merged_into = ?1)
         GROUP BY cohort_id, learner_id ORDER BY min(enrolled_at)",
    )?;
    let cohorts: Vec<(CohortId, LearnerId)> = stmt
        .query_map([learner], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut out = Vec::new();
    for (c, enrolled) in cohorts {
        let table = cohort_progress(conn, c)?;
        if let Some(line) = table
            .learners
            .into_iter()
            .find(|l| l.learner_id == enrolled)
        {
            out.push(EnrolmentProgress {
                cohort_id: c,
                cohort_name: table.cohort.name,
                programme_zh: table.programme.name_zh,
                programme_en: table.programme.name_en,
                level: table.programme.level.get(),
                progress: line,
            });
        }
    }
    Ok(out)
}
