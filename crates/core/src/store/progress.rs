//! Progress for site managers: per cohort, each learner's attended hours against required,
//! eligibility, component results and pass status; per site, counts by programme and status.
//! Read-only queries over the store; attended minutes come from the derived
//! `session_attendance` table that every roll-call mark refreshes.

use std::collections::HashMap;

use rusqlite::{Connection, params};
use serde::Serialize;

use super::catalogue::{self, ProgrammeSummary};
use super::cohorts::{self, Cohort, CohortStatus};
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
    /// An outcome claim was submitted.
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
    let mut results = current_results(
        conn,
        "SELECT a.enrolment_id, a.component, a.score, a.critical_failed
         FROM enrolment e JOIN assessment_attempt a ON a.enrolment_id = e.id
         WHERE e.cohort_id = ?1
           AND NOT EXISTS (SELECT 1 FROM assessment_attempt c WHERE c.corrects_id = a.id)
         ORDER BY a.enrolment_id, a.component, a.attempt_no",
        params![cohort],
    )?;
    let mut stmt = conn.prepare_cached(
        "SELECT e.id, l.id, l.name, l.id_masked,
                (SELECT coalesce(sum(sa.minutes), 0) FROM session s
                   JOIN session_attendance sa ON sa.session_id = s.id AND sa.learner_id = e.learner_id
                  WHERE s.cohort_id = e.cohort_id),
                EXISTS (SELECT 1 FROM outcome_claim oc WHERE oc.enrolment_id = e.id)
         FROM enrolment e JOIN learner l ON l.id = e.learner_id
         WHERE e.cohort_id = ?1 ORDER BY l.name, l.id",
    )?;
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
            claimed,
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
        "SELECT a.enrolment_id, a.component, a.score, a.critical_failed FROM assessment_attempt a
         WHERE NOT EXISTS (SELECT 1 FROM assessment_attempt c WHERE c.corrects_id = a.id)
         ORDER BY a.enrolment_id, a.component, a.attempt_no",
        [],
    )?;
    let mut stmt = conn.prepare_cached(
        "SELECT e.id, c.programme_version_id, coalesce(m.minutes, 0)
         FROM enrolment e JOIN cohort c ON c.id = e.cohort_id
         LEFT JOIN (SELECT s.cohort_id, sa.learner_id, sum(sa.minutes) AS minutes
                      FROM session_attendance sa JOIN session s ON s.id = sa.session_id
                     GROUP BY s.cohort_id, sa.learner_id) m
                ON m.cohort_id = e.cohort_id AND m.learner_id = e.learner_id",
    )?;
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
    let mut stmt = conn.prepare_cached(
        "SELECT cohort_id FROM enrolment WHERE learner_id = ?1 ORDER BY enrolled_at",
    )?;
    let cohorts: Vec<CohortId> = stmt
        .query_map([learner], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut out = Vec::new();
    for c in cohorts {
        let table = cohort_progress(conn, c)?;
        if let Some(line) = table.learners.into_iter().find(|l| l.learner_id == learner) {
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

/// What the site manager's review shows: every filter is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReviewFilter {
    /// One programme version.
    pub programme_version_id: Option<String>,
    /// One cohort.
    pub cohort_id: Option<CohortId>,
    /// Cohorts this instructor teaches.
    pub instructor_id: Option<siteline_domain::ids::StaffId>,
    /// Cohorts running on or after this day; sessions from this day.
    pub from: Option<chrono::NaiveDate>,
    /// Cohorts starting on or before this day; sessions to this day.
    pub to: Option<chrono::NaiveDate>,
}

/// One cohort's line in the review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CohortLine {
    /// The cohort.
    pub cohort: Cohort,
    /// Programme name (zh).
    pub programme_zh: String,
    /// Programme name (en).
    pub programme_en: String,
    /// Level.
    pub level: u8,
    /// Instructors' names.
    pub instructors: Vec<String>,
    /// Eligible by attendance.
    pub eligible: u32,
    /// Passed every component.
    pub passed: u32,
    /// Failed a component.
    pub failed: u32,
    /// Claims submitted.
    pub claimed: u32,
    /// Accredited by HQ.
    pub accredited: u32,
}

/// Attendance in one week (Monday first): minutes attended against minutes scheduled in closed
/// sessions, for everyone enrolled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AttendanceWeek {
    /// The week's Monday.
    pub week: chrono::NaiveDate,
    /// Minutes attended.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub attended_minutes: i64,
    /// Minutes scheduled × learners enrolled.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub scheduled_minutes: i64,
}

/// A pass rate: learners who passed against learners with a result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PassRate {
    /// What is counted: a programme version id, or `<programme version>/theory|practical`.
    pub key: String,
    /// Label (zh).
    pub label_zh: String,
    /// Label (en).
    pub label_en: String,
    /// With a result.
    pub assessed: u32,
    /// Passed.
    pub passed: u32,
}

/// The site manager's review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SiteReview {
    /// Cohorts that match, newest first.
    pub cohorts: Vec<CohortLine>,
    /// Attendance rate over time.
    pub attendance: Vec<AttendanceWeek>,
    /// Pass rate per programme version.
    pub by_programme: Vec<PassRate>,
    /// Pass rate per competency unit: the unit's task in the practical rubric scored at 60 %
    /// or more of its points (latest current practical attempt of each learner).
    pub by_unit: Vec<PassRate>,
    /// Pass rate per assessment component of each programme version.
    pub by_component: Vec<PassRate>,
}

/// Builds the review for the cohorts matching `filter`.
pub fn site_review(conn: &Connection, filter: &ReviewFilter) -> Result<SiteReview> {
    let mut stmt = conn.prepare_cached(
        "SELECT c.id FROM cohort c
          WHERE (?1 IS NULL OR c.programme_version_id = ?1)
            AND (?2 IS NULL OR c.id = ?2)
            AND (?3 IS NULL OR EXISTS (SELECT 1 FROM cohort_instructor ci
                                         WHERE ci.cohort_id = c.id AND ci.staff_id = ?3))
            AND (?4 IS NULL OR c.end_date >= ?4)
            AND (?5 IS NULL OR c.start_date <= ?5)
          ORDER BY c.start_date DESC, c.name",
    )?;
    let ids: Vec<CohortId> = stmt
        .query_map(
            params![
                filter.programme_version_id,
                filter.cohort_id,
                filter.instructor_id,
                filter.from,
                filter.to
            ],
            |r| r.get(0),
        )?
        .collect::<rusqlite::Result<_>>()?;
    let mut cohorts_out = Vec::new();
    let mut by_programme: Vec<PassRate> = Vec::new();
    let mut by_component: Vec<PassRate> = Vec::new();
    let mut by_unit: Vec<PassRate> = Vec::new();
    let mut unit_stmt = conn.prepare_cached(
        "SELECT ri.unit_id, cu.name_zh, cu.name_en, ri.max_points, rs.points
           FROM enrolment e
           JOIN assessment_attempt a ON a.enrolment_id = e.id AND a.component = 'practical'
           JOIN rubric_score rs ON rs.attempt_id = a.id
           JOIN rubric_item ri ON ri.id = rs.rubric_item_id AND ri.unit_id IS NOT NULL
           JOIN competency_unit cu ON cu.id = ri.unit_id
          WHERE e.cohort_id = ?1
            AND NOT EXISTS (SELECT 1 FROM assessment_attempt c WHERE c.corrects_id = a.id)
            AND a.attempt_no = (SELECT max(x.attempt_no) FROM assessment_attempt x
                                 WHERE x.enrolment_id = e.id AND x.component = 'practical')
          ORDER BY ri.position",
    )?;
    fn bump(list: &mut Vec<PassRate>, key: String, zh: String, en: String, passed: bool) {
        let i = match list.iter().position(|p| p.key == key) {
            Some(i) => i,
            None => {
                list.push(PassRate {
                    key,
                    label_zh: zh,
                    label_en: en,
                    assessed: 0,
                    passed: 0,
                });
                list.len() - 1
            }
        };
        list[i].assessed += 1;
        list[i].passed += u32::from(passed);
    }
    for id in &ids {
        let table = cohort_progress(conn, *id)?;
        let p = &table.programme;
        let instructors: Vec<String> = conn
            .prepare_cached(
                "SELECT s.display_name FROM cohort_instructor ci JOIN staff_user s ON s.id = ci.staff_id
                  WHERE ci.cohort_id = ?1 ORDER BY s.display_name",
            )?
            .query_map([id], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let count = |f: &dyn Fn(&LearnerProgress) -> bool| {
            table.learners.iter().filter(|l| f(l)).count() as u32
        };
        let label = |suffix_zh: &str, suffix_en: &str| {
            (
                format!("{}（{}级）{suffix_zh}", p.name_zh, level_zh(p.level.get())),
                format!("{} L{}{suffix_en}", p.name_en, p.level.get()),
            )
        };
        for l in &table.learners {
            if l.status != PassStatus::Pending {
                let (zh, en) = label("", "");
                bump(
                    &mut by_programme,
                    p.id.clone(),
                    zh,
                    en,
                    l.status == PassStatus::Passed,
                );
            }
            if let Some(t) = l.results.theory {
                let (zh, en) = label(" 理论", " theory");
                bump(
                    &mut by_component,
                    format!("{}/theory", p.id),
                    zh,
                    en,
                    t.passes(),
                );
            }
            if let Some((s, critical)) = l.results.practical {
                let (zh, en) = label(" 实操", " practical");
                bump(
                    &mut by_component,
                    format!("{}/practical", p.id),
                    zh,
                    en,
                    s.passes() && !critical,
                );
            }
        }
        let mut rows = unit_stmt.query([id])?;
        while let Some(r) = rows.next()? {
            let (unit, zh, en): (String, String, String) = (r.get(0)?, r.get(1)?, r.get(2)?);
            let (max, points): (i64, i64) = (r.get(3)?, r.get(4)?);
            let (zh, en) = (
                format!("{zh}（{}{}级）", p.name_zh, level_zh(p.level.get())),
                format!("{en} ({} L{})", p.name_en, p.level.get()),
            );
            bump(&mut by_unit, unit, zh, en, points * 10 >= max * 6);
        }
        cohorts_out.push(CohortLine {
            programme_zh: p.name_zh.clone(),
            programme_en: p.name_en.clone(),
            level: p.level.get(),
            instructors,
            eligible: count(&|l| l.eligible),
            passed: count(&|l| l.status == PassStatus::Passed),
            failed: count(&|l| l.status == PassStatus::Failed),
            claimed: count(&|l| l.claimed),
            accredited: count(&|l| l.hq_status == Some(DecisionStatus::Accredited)),
            cohort: table.cohort,
        });
    }
    Ok(SiteReview {
        attendance: attendance_weeks(conn, &ids, filter)?,
        cohorts: cohorts_out,
        by_programme,
        by_unit,
        by_component,
    })
}

fn level_zh(level: u8) -> &'static str {
    ["", "一", "二", "三", "四", "五"]
        .get(usize::from(level))
        .copied()
        .unwrap_or("")
}

fn attendance_weeks(
    conn: &Connection,
    cohorts: &[CohortId],
    filter: &ReviewFilter,
) -> Result<Vec<AttendanceWeek>> {
    use chrono::Datelike;
    let mut weeks: std::collections::BTreeMap<chrono::NaiveDate, (i64, i64)> = Default::default();
    let mut stmt = conn.prepare_cached(
        "SELECT substr(s.starts_at, 1, 10),
                CAST(round((julianday(s.ends_at) - julianday(s.starts_at)) * 1440) AS INTEGER)
                  * (SELECT count(*) FROM enrolment e WHERE e.cohort_id = s.cohort_id),
                (SELECT coalesce(sum(sa.minutes), 0) FROM session_attendance sa WHERE sa.session_id = s.id)
           FROM session s
          WHERE s.cohort_id = ?1 AND s.closed_at IS NOT NULL
            AND (?2 IS NULL OR substr(s.starts_at, 1, 10) >= ?2)
            AND (?3 IS NULL OR substr(s.starts_at, 1, 10) <= ?3)",
    )?;
    for c in cohorts {
        let mut rows = stmt.query(params![c, filter.from, filter.to])?;
        while let Some(r) = rows.next()? {
            let day: String = r.get(0)?;
            let Ok(day) = chrono::NaiveDate::parse_from_str(&day, "%Y-%m-%d") else {
                continue;
            };
            let monday = day - chrono::Days::new(u64::from(day.weekday().num_days_from_monday()));
            let e = weeks.entry(monday).or_default();
            e.1 += r.get::<_, i64>(1)?;
            e.0 += r.get::<_, i64>(2)?;
        }
    }
    Ok(weeks
        .into_iter()
        .map(
            |(week, (attended_minutes, scheduled_minutes))| AttendanceWeek {
                week,
                attended_minutes,
                scheduled_minutes,
            },
        )
        .collect())
}
