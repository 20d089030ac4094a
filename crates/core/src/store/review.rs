//! The site manager's review (进度总览): cohorts filtered by programme, cohort, instructor and
//! dates, with attendance by week and pass rates by programme, competency unit and assessment
//! component for the charts. Read-only; built on the cohort tables of `progress`.

use rusqlite::{Connection, params};
use serde::Serialize;
use siteline_domain::ids::CohortId;
use siteline_domain::scores::PassStatus;
use siteline_proto::sync::DecisionStatus;

use super::cohorts::Cohort;
use super::progress::{LearnerProgress, cohort_progress};
use crate::Result;

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
    /// Passed every component and attended enough: passed.
    pub passed: u32,
    /// Passed every component but attended too little: not passed, counted apart so nobody
    /// reads them as passed (考核合格 · 出勤不足).
    pub passed_not_eligible: u32,
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
    // Each learner's practical attempt that counts (one per learner, whichever devices
    // enrolled and assessed her).
    let mut unit_stmt = conn.prepare_cached(&format!(
        "SELECT ri.unit_id, cu.name_zh, cu.name_en, ri.max_points, rs.points
           FROM enrolment e
           JOIN rubric_score rs ON rs.attempt_id = {counting}
           JOIN rubric_item ri ON ri.id = rs.rubric_item_id AND ri.unit_id IS NOT NULL
           JOIN competency_unit cu ON cu.id = ri.unit_id
          WHERE e.cohort_id = ?1 AND {standing}
          ORDER BY ri.position",
        counting = super::assessments::counting_attempt_sql("practical"),
        standing = super::cohorts::STANDING
    ))?;
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
            passed: count(&|l| l.status == PassStatus::Passed && l.eligible),
            passed_not_eligible: count(&|l| l.status == PassStatus::Passed && !l.eligible),
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
                  * (SELECT count(DISTINCT e.learner_id) FROM enrolment e WHERE e.cohort_id = s.cohort_id),
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
