//! Assessment attempts: theory and review scores, the practical rubric, the lock point and
//! corrections after it. An attempt is a draft until locked; after that only a site manager's
//! correction (a new attempt row naming the old one) changes what views show.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};
use siteline_proto::Entity;
use siteline_proto::records::{self, Record};

use super::actor::Actor;
use super::corrections::{self, Reason};
use super::{Site, audit, catalogue, cohorts, outbox};
use crate::{Error, Result};
use siteline_domain::Rule;
use siteline_domain::ids::{AttemptId, CorrectionId, EnrolmentId, StaffId};
use siteline_domain::scores::{Component, ComponentResults, RubricMark, Score, score_rubric};

pub use siteline_proto::records::Marks;

/// An attempt to record.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NewAttempt {
    /// Whose.
    pub enrolment_id: EnrolmentId,
    /// Which part.
    pub component: Component,
    /// When it was held.
    pub held_at: DateTime<Utc>,
    /// Assessors present.
    pub assessors: Vec<StaffId>,
    /// The marks.
    pub marks: Marks,
}

/// An attempt as views show it (the corrected value if corrected).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Attempt {
    /// The row shown (a correction's own id when corrected).
    pub id: AttemptId,
    /// Whose.
    pub enrolment_id: EnrolmentId,
    /// Which part.
    pub component: Component,
    /// 1, 2, … per component.
    pub attempt_no: u32,
    /// Total score.
    pub score: Score,
    /// A critical rubric item failed.
    pub critical_failed: bool,
    /// Passed this component.
    pub passed: bool,
    /// Lock time.
    pub locked_at: Option<DateTime<Utc>>,
    /// The attempt this row corrects, if it is a correction.
    pub corrects: Option<AttemptId>,
    /// The assessors (考评员) recorded on it.
    pub assessors: Vec<StaffId>,
}

struct Checked {
    score: Score,
    critical_failed: bool,
    passed: bool,
    rubric: Vec<RubricMark>,
}

fn check_marks(
    tx: &Connection,
    enrolment: EnrolmentId,
    component: Component,
    marks: &Marks,
) -> Result<Checked> {
    let pv_id: String = tx
        .prepare_cached(
            "SELECT c.programme_version_id FROM enrolment e JOIN cohort c ON c.id = e.cohort_id
             WHERE e.id = ?1",
        )?
        .query_row([enrolment], |r| r.get(0))
        .optional()?
        .ok_or_else(|| Error::not_found("enrolment", enrolment))?;
    let pv = catalogue::programme_version(tx, &pv_id)?;
    if component == Component::Review && !pv.level.requires_review() {
        return Err(Error::rule(
            "assessment.component",
            Rule::ReviewLevel {
                level: pv.level.get(),
            },
        ));
    }
    match (component, marks) {
        (Component::Practical, Marks::Rubric { items }) => {
            let r = score_rubric(&catalogue::rubric(tx, &pv_id)?, items)?;
            Ok(Checked {
                score: r.total,
                critical_failed: r.critical_failed,
                passed: r.passed,
                rubric: items.clone(),
            })
        }
        (Component::Practical, Marks::Score { .. }) => {
            Err(Error::rule("assessment.marks", Rule::MarksKind))
        }
        (_, Marks::Score { score }) => {
            let score = Score::new("assessment.score", *score)?;
            Ok(Checked {
                score,
                critical_failed: false,
                passed: score.passes(),
                rubric: Vec::new(),
            })
        }
        (_, Marks::Rubric { .. }) => Err(Error::rule("assessment.marks", Rule::MarksKind)),
    }
}

/// Records a new attempt (a draft until locked).
/// Every attempt names its assessors (考评员); none chosen, the person recording it is. Each
/// must be a staff account of the site.
pub fn record(site: &mut Site, actor: &Actor, new: &NewAttempt) -> Result<AttemptId> {
    let (tx, _) = site.write()?;
    let mut new = new.clone();
    if new.assessors.is_empty() {
        new.assessors.push(actor.id);
    }
    new.assessors.dedup();
    for a in &new.assessors {
        let known = tx
            .prepare_cached("SELECT 1 FROM staff_user WHERE id = ?1")?
            .exists([a])?;
        if !known {
            return Err(Error::not_found("assessor", a));
        }
    }
    let new = &new;
    let checked = check_marks(&tx, new.enrolment_id, new.component, &new.marks)?;
    let previous = results_of(&tx, new.enrolment_id)?;
    let already_passed = match new.component {
        Component::Theory => previous.theory.is_some_and(Score::passes),
        Component::Practical => previous.practical.is_some_and(|(s, c)| s.passes() && !c),
        Component::Review => previous.review.is_some_and(Score::passes),
    };
    if already_passed {
        return Err(Error::Duplicate {
            what: "assessment attempt",
            detail: format!(
                "the learner already passed the {} component",
                new.component.as_str()
            ),
        });
    }
    let attempt_no: u32 = tx.query_row(
        &format!(
            "SELECT coalesce(max(attempt_no), 0) + 1 FROM assessment_attempt
             WHERE enrolment_id IN ({}) AND component = ?2",
            cohorts::SAME_ENROLMENT
        ),
        params![new.enrolment_id, new.component.as_str()],
        |r| r.get(0),
    )?;
    let id = AttemptId::new();
    insert_attempt(&tx, actor, id, new, attempt_no, &checked, None)?;
    tx.commit()?;
    Ok(id)
}

fn insert_attempt(
    tx: &Transaction<'_>,
    actor: &Actor,
    id: AttemptId,
    new: &NewAttempt,
    attempt_no: u32,
    c: &Checked,
    correction: Option<(AttemptId, CorrectionId)>,
) -> Result<()> {
    let assessors = serde_json::to_string(&new.assessors)?;
    let locked_at = correction.map(|_| super::now());
    tx.prepare_cached(
        "INSERT INTO assessment_attempt (id, enrolment_id, component, attempt_no, held_at, assessors,
             score, critical_failed, passed, locked_at, recorded_by, recorded_at, corrects_id, correction_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    )?
    .execute(params![
        id,
        new.enrolment_id,
        new.component.as_str(),
        attempt_no,
        new.held_at,
        assessors,
        c.score.get(),
        c.critical_failed,
        c.passed,
        locked_at,
        actor.id,
        super::now(),
        correction.map(|x| x.0),
        correction.map(|x| x.1),
    ])?;
    insert_rubric(tx, id, &c.rubric)?;
    let record = records::AssessmentAttempt {
        enrolment_id: new.enrolment_id.0,
        component: new.component,
        held_at: new.held_at,
        assessors: new.assessors.iter().map(|s| s.0).collect(),
        marks: new.marks.clone(),
        attempt_no,
        score: c.score.get(),
        passed: c.passed,
        critical_failed: c.critical_failed,
        locked_at,
        corrects: correction.map(|x| x.0.0),
        correction_id: correction.map(|x| x.1.0),
    };
    outbox::append(tx, id.0, &Record::AssessmentAttempt(record))?;
    Ok(())
}

fn insert_rubric(tx: &Transaction<'_>, id: AttemptId, rubric: &[RubricMark]) -> Result<()> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO rubric_score (attempt_id, rubric_item_id, points, failed) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for m in rubric {
        stmt.execute(params![id, m.item_id, m.points, m.failed])?;
    }
    Ok(())
}

fn locked_error(id: AttemptId) -> Error {
    Error::Locked {
        what: format!("assessment attempt {id}"),
        hint: "a site manager can record a correction with a reason",
    }
}

/// Changes a draft attempt's marks before it is locked.
pub fn update_draft(site: &mut Site, actor: &Actor, id: AttemptId, marks: &Marks) -> Result<()> {
    let (tx, _) = site.write()?;
    let (enrolment, component, locked): (EnrolmentId, String, Option<String>) = tx
        .query_row(
            "SELECT enrolment_id, component, locked_at FROM assessment_attempt WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?
        .ok_or_else(|| Error::not_found("assessment attempt", id))?;
    if locked.is_some() {
        return Err(locked_error(id));
    }
    let checked = check_marks(&tx, enrolment, Component::parse(&component)?, marks)?;
    tx.execute(
        "UPDATE assessment_attempt SET score = ?2, critical_failed = ?3, passed = ?4 WHERE id = ?1",
        params![
            id,
            checked.score.get(),
            checked.critical_failed,
            checked.passed
        ],
    )?;
    tx.execute("DELETE FROM rubric_score WHERE attempt_id = ?1", [id])?;
    insert_rubric(&tx, id, &checked.rubric)?;
    outbox::append(
        &tx,
        id.0,
        &Record::AttemptUpdate(records::AttemptUpdate::Marks {
            marks: marks.clone(),
            score: checked.score.get(),
            passed: checked.passed,
            edited_by: actor.id.0,
        }),
    )?;
    tx.commit()?;
    Ok(())
}

/// Locks an attempt: from now on only a correction changes it.
pub fn lock(site: &mut Site, actor: &Actor, id: AttemptId) -> Result<()> {
    let (tx, _) = site.write()?;
    let now = super::now();
    let changed = tx
        .execute(
            "UPDATE assessment_attempt SET locked_at = ?2 WHERE id = ?1",
            params![id, now],
        )
        .map_err(|e| match super::map_trigger(e, String::new) {
            Error::Locked { .. } => locked_error(id),
            other => other,
        })?;
    if changed == 0 {
        return Err(Error::not_found("assessment attempt", id));
    }
    outbox::append(
        &tx,
        id.0,
        &Record::AttemptUpdate(records::AttemptUpdate::Locked { locked_at: now }),
    )?;
    audit::record(
        &tx,
        Some(actor),
        "lock_attempt",
        Some(("assessment_attempt", id.0)),
        "",
    )?;
    tx.commit()?;
    Ok(())
}

/// Corrects a locked attempt (site manager only): a new locked row naming the old one.
pub fn correct(
    site: &mut Site,
    actor: &Actor,
    id: AttemptId,
    marks: &Marks,
    reason: &Reason,
) -> Result<AttemptId> {
    let (tx, _) = site.write()?;
    let current = attempt(&tx, id)?;
    if current.locked_at.is_none() {
        return Err(Error::rule("correction", Rule::CorrectionNotNeeded));
    }
    actor.require_manager("correct a locked assessment")?;
    let superseded = tx
        .prepare_cached("SELECT 1 FROM assessment_attempt WHERE corrects_id = ?1")?
        .exists([id])?;
    if superseded {
        return Err(Error::rule("correction", Rule::CorrectionOfCorrected));
    }
    let checked = check_marks(&tx, current.enrolment_id, current.component, marks)?;
    let correction = corrections::insert(&tx, actor, Entity::AssessmentAttempt, id.0, reason)?;
    let held_at: DateTime<Utc> = tx.query_row(
        "SELECT held_at FROM assessment_attempt WHERE id = ?1",
        [id],
        |r| r.get(0),
    )?;
    let new = NewAttempt {
        enrolment_id: current.enrolment_id,
        component: current.component,
        held_at,
        assessors: vec![actor.id],
        marks: marks.clone(),
    };
    let new_id = AttemptId::new();
    insert_attempt(
        &tx,
        actor,
        new_id,
        &new,
        current.attempt_no,
        &checked,
        Some((id, correction)),
    )?;
    tx.commit()?;
    Ok(new_id)
}

const ATTEMPT_SELECT: &str = "SELECT a.id, a.enrolment_id, a.component, a.attempt_no, a.score,
        a.critical_failed, a.passed, a.locked_at, a.corrects_id, a.assessors
     FROM assessment_attempt a";

fn attempt_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Attempt> {
    let component: String = r.get(2)?;
    let score: u8 = r.get(4)?;
    Ok(Attempt {
        id: r.get(0)?,
        enrolment_id: r.get(1)?,
        component: Component::parse(&component).unwrap_or(Component::Theory),
        attempt_no: r.get(3)?,
        score: Score::from_stored(score),
        critical_failed: r.get(5)?,
        passed: r.get(6)?,
        locked_at: r.get(7)?,
        corrects: r.get(8)?,
        assessors: serde_json::from_str(&r.get::<_, String>(9)?).unwrap_or_default(),
    })
}

/// One attempt row by id.
pub fn attempt(conn: &Connection, id: AttemptId) -> Result<Attempt> {
    conn.prepare_cached(&format!("{ATTEMPT_SELECT} WHERE a.id = ?1"))?
        .query_row([id], attempt_from_row)
        .optional()?
        .ok_or_else(|| Error::not_found("assessment attempt", id))
}

/// SQL ordering attempts (alias `a`) of one component, `dir` `ASC` or `DESC`: by number and,
/// for two numbered alike (two devices recorded attempt n before they synced), by stamp, so
/// the later is the current one on every device and at HQ (ADR 0005). Every operation's stamp
/// is in `site_event`, this device's own as well as the others'.
pub(crate) fn attempt_order(a: &str, dir: &str) -> String {
    format!(
        "{a}.attempt_no {dir},
         (SELECT min(se.hlc) FROM site_event se WHERE se.record_id = {a}.id AND se.op = 'insert') {dir},
         {a}.id {dir}"
    )
}

/// SQL: the id of the attempt of `component` that counts for enrolment row `e` (the latest
/// current one, under any row of the same enrolment; see [`counting_attempts`]).
pub(crate) fn counting_attempt_sql(component: &str) -> String {
    format!(
        "(SELECT ca.id FROM assessment_attempt ca JOIN enrolment cx ON cx.id = ca.enrolment_id
           WHERE cx.cohort_id = e.cohort_id AND cx.learner_id = e.learner_id
             AND ca.component = '{component}'
             AND NOT EXISTS (SELECT 1 FROM assessment_attempt cc WHERE cc.corrects_id = ca.id)
           ORDER BY {} LIMIT 1)",
        attempt_order("ca", "DESC")
    )
}

/// An enrolment's attempts as views show them: each superseded row replaced by its latest
/// correction, by component and attempt number.
pub fn current_attempts(conn: &Connection, enrolment: EnrolmentId) -> Result<Vec<Attempt>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{ATTEMPT_SELECT} WHERE a.enrolment_id IN ({same})
           AND NOT EXISTS (SELECT 1 FROM assessment_attempt c WHERE c.corrects_id = a.id)
         ORDER BY a.component, {order}",
        same = cohorts::SAME_ENROLMENT,
        order = attempt_order("a", "ASC")
    ))?;
    let rows = stmt.query_map([enrolment], attempt_from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The attempt of each component that counts: its latest current attempt (by number, then
/// stamp). What a claim cites and the pass rule reads.
pub fn counting_attempts(conn: &Connection, enrolment: EnrolmentId) -> Result<Vec<Attempt>> {
    let mut out: Vec<Attempt> = Vec::new();
    for a in current_attempts(conn, enrolment)? {
        match out.last_mut() {
            Some(last) if last.component == a.component => *last = a,
            _ => out.push(a),
        }
    }
    Ok(out)
}

/// The latest current attempt of each component, for the pass rule.
pub fn results_of(conn: &Connection, enrolment: EnrolmentId) -> Result<ComponentResults> {
    let mut r = ComponentResults::default();
    for a in counting_attempts(conn, enrolment)? {
        match a.component {
            Component::Theory => r.theory = Some(a.score),
            Component::Practical => r.practical = Some((a.score, a.critical_failed)),
            Component::Review => r.review = Some(a.score),
        }
    }
    Ok(r)
}
