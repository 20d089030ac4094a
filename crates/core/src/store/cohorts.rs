//! Cohorts (培训班), their rosters (enrolments) and scheduled sessions (课次). A cohort runs
//! one programme version; status goes draft → running → closed and never back.

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use siteline_proto::Entity;
use siteline_proto::records::{self, Record};

use super::actor::Actor;
use super::{Site, audit, catalogue, corrections, learners, outbox};
use crate::{Error, Result};
use siteline_domain::Rule;
use siteline_domain::ids::{CohortId, EnrolmentId, LearnerId, SessionId, StaffId};
use siteline_domain::person::validate_name;

pub use siteline_proto::vocab::CohortStatus;

pub use siteline_domain::attendance::MAX_SESSION_HOURS;

/// A cohort to open.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NewCohort {
    /// Catalogue programme version.
    pub programme_version_id: String,
    /// Name shown on screen, e.g. 2026年第3期母婴护理员(五级)班.
    pub name: String,
    /// First day.
    pub start_date: NaiveDate,
    /// Last day.
    pub end_date: NaiveDate,
    /// Most learners.
    pub capacity: u32,
    /// Instructors teaching it.
    pub instructors: Vec<StaffId>,
}

/// A cohort as lists show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Cohort {
    /// Id.
    pub id: CohortId,
    /// Programme version.
    pub programme_version_id: String,
    /// Name.
    pub name: String,
    /// First day.
    pub start_date: NaiveDate,
    /// Last day.
    pub end_date: NaiveDate,
    /// Most learners.
    pub capacity: u32,
    /// Lifecycle.
    pub status: CohortStatus,
    /// Learners enrolled.
    pub enrolled: u32,
    /// Goes up with every change (status, details): an edit form sends the version it was
    /// opened on.
    pub version: u32,
}

/// A session to schedule.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NewSession {
    /// Unit taught, if one.
    pub unit_id: Option<String>,
    /// Planned start.
    pub starts_at: DateTime<Utc>,
    /// Planned end.
    pub ends_at: DateTime<Utc>,
    /// Instructor taking it.
    pub instructor_id: Option<StaffId>,
}

/// A scheduled session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Session {
    /// Id.
    pub id: SessionId,
    /// Cohort.
    pub cohort_id: CohortId,
    /// Unit, if any.
    pub unit_id: Option<String>,
    /// Planned start.
    pub starts_at: DateTime<Utc>,
    /// Planned end.
    pub ends_at: DateTime<Utc>,
    /// Instructor.
    pub instructor_id: Option<StaffId>,
    /// When it was closed (locked), if it was.
    pub closed_at: Option<DateTime<Utc>>,
}

/// Opens a cohort in draft (site manager only).
pub fn create(site: &mut Site, actor: &Actor, new: &NewCohort) -> Result<CohortId> {
    actor.require_manager("open cohorts")?;
    let name = validate_name("cohort.name", &new.name)?;
    check_dates(new.start_date, new.end_date)?;
    check_capacity(new.capacity)?;
    let (tx, _) = site.write()?;
    catalogue::programme_version(&tx, &new.programme_version_id)?;
    let id = CohortId::new();
    tx.execute(
        "INSERT INTO cohort (id, programme_version_id, name, start_date, end_date, capacity,
             status, created_at, created_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'draft', ?7, ?8)",
        params![
            id,
            new.programme_version_id,
            name,
            new.start_date,
            new.end_date,
            new.capacity,
            super::now(),
            actor.id
        ],
    )?;
    for staff in &new.instructors {
        let ok = tx
            .prepare_cached("SELECT 1 FROM staff_user WHERE id = ?1")?
            .exists([staff])?;
        if !ok {
            return Err(Error::not_found("instructor", staff));
        }
        tx.execute(
            "INSERT OR IGNORE INTO cohort_instructor VALUES (?1, ?2)",
            params![id, staff],
        )?;
    }
    let record = records::Cohort {
        programme_version_id: new.programme_version_id.clone(),
        name,
        start_date: new.start_date,
        end_date: new.end_date,
        capacity: new.capacity,
        instructors: new.instructors.iter().map(|s| s.0).collect(),
    };
    outbox::append(&tx, id.0, &Record::Cohort(record))?;
    tx.commit()?;
    Ok(id)
}

/// A cohort's last day is not before its first.
pub(crate) fn check_dates(start: NaiveDate, end: NaiveDate) -> Result<()> {
    if end < start {
        return Err(Error::rule("cohort.end_date", Rule::EndBeforeStart));
    }
    Ok(())
}

/// A cohort takes 1 to 200 learners.
pub(crate) fn check_capacity(capacity: u32) -> Result<()> {
    if !(1..=200).contains(&capacity) {
        return Err(Error::rule(
            "cohort.capacity",
            Rule::OutOfRange {
                min: 1,
                max: 200,
                value: i64::from(capacity),
            },
        ));
    }
    Ok(())
}

/// Moves a cohort forward (draft → running → closed); never backwards.
pub fn set_status(
    site: &mut Site,
    actor: &Actor,
    cohort: CohortId,
    to: CohortStatus,
) -> Result<()> {
    actor.require_manager("change a cohort's status")?;
    let (tx, _) = site.write()?;
    let current = get(&tx, cohort)?.status;
    if to <= current {
        return Err(Error::rule(
            "cohort.status",
            Rule::StatusBackwards {
                from: current.as_str().into(),
                to: to.as_str().into(),
            },
        ));
    }
    tx.execute(
        "UPDATE cohort SET status = ?2, version = version + 1 WHERE id = ?1",
        params![cohort, to.as_str()],
    )?;
    outbox::append(
        &tx,
        cohort.0,
        &Record::CohortUpdate(records::CohortUpdate::Status { status: to }),
    )?;
    audit::record(
        &tx,
        Some(actor),
        "cohort_status",
        Some(("cohort", cohort.0)),
        to.as_str(),
    )?;
    tx.commit()?;
    Ok(())
}

/// Reopens a closed cohort (a site manager, with a reason): a correction naming the cohort,
/// then the status back to running, in one transaction, so every device and HQ see why.
pub fn reopen(
    site: &mut Site,
    actor: &Actor,
    cohort: CohortId,
    reason: &corrections::Reason,
) -> Result<()> {
    actor.require_manager("reopen a closed cohort")?;
    let (tx, _) = site.write()?;
    let current = get(&tx, cohort)?.status;
    if current != CohortStatus::Closed {
        return Err(Error::rule(
            "cohort.status",
            Rule::StatusBackwards {
                from: current.as_str().into(),
                to: CohortStatus::Running.as_str().into(),
            },
        ));
    }
    corrections::insert(&tx, actor, Entity::Cohort, cohort.0, reason)?;
    tx.execute(
        "UPDATE cohort SET status = ?2, version = version + 1 WHERE id = ?1",
        params![cohort, CohortStatus::Running.as_str()],
    )?;
    outbox::append(
        &tx,
        cohort.0,
        &Record::CohortUpdate(records::CohortUpdate::Status {
            status: CohortStatus::Running,
        }),
    )?;
    tx.commit()?;
    Ok(())
}

/// One cohort.
pub fn get(conn: &Connection, id: CohortId) -> Result<Cohort> {
    conn.prepare_cached(&format!("{COHORT_SELECT} WHERE c.id = ?1"))?
        .query_row([id], cohort_from_row)
        .optional()?
        .ok_or_else(|| Error::not_found("cohort", id))
}

/// Every cohort, newest first.
pub fn list(conn: &Connection) -> Result<Vec<Cohort>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{COHORT_SELECT} ORDER BY c.start_date DESC, c.id DESC"
    ))?;
    let rows = stmt.query_map([], cohort_from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

const COHORT_SELECT: &str = "SELECT c.id, c.programme_version_id, c.name, c.start_date, c.end_date,
        c.capacity, c.status,
        (SELECT count(DISTINCT e.learner_id) FROM enrolment e WHERE e.cohort_id = c.id),
        c.version
     FROM cohort c";

fn cohort_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Cohort> {
    Ok(Cohort {
        id: r.get(0)?,
        programme_version_id: r.get(1)?,
        name: r.get(2)?,
        start_date: r.get(3)?,
        end_date: r.get(4)?,
        capacity: r.get(5)?,
        status: CohortStatus::parse(&r.get::<_, String>(6)?),
        enrolled: r.get(7)?,
        version: r.get(8)?,
    })
}

/// Enrols a learner in a cohort; a second enrolment of the same learner is refused.
pub fn enrol(
    site: &mut Site,
    actor: &Actor,
    cohort: CohortId,
    learner: LearnerId,
) -> Result<EnrolmentId> {
    let (tx, _) = site.write()?;
    let id = enrol_in(&tx, actor, cohort, learner)?;
    tx.commit()?;
    Ok(id)
}

/// [`enrol`] in the caller's transaction.
pub(crate) fn enrol_in(
    tx: &rusqlite::Transaction<'_>,
    actor: &Actor,
    cohort: CohortId,
    learner: LearnerId,
) -> Result<EnrolmentId> {
    let c = get(tx, cohort)?;
    learners::ensure_exists(tx, learner)?;
    if c.status == CohortStatus::Closed {
        return Err(Error::Locked {
            what: format!("cohort {}", c.name),
            hint: "open a new cohort",
        });
    }
    let existing: Option<EnrolmentId> = tx
        .prepare_cached("SELECT id FROM enrolment WHERE cohort_id = ?1 AND learner_id = ?2")?
        .query_row(params![cohort, learner], |r| r.get(0))
        .optional()?;
    if existing.is_some() {
        return Err(Error::Duplicate {
            what: "enrolment",
            detail: format!("this learner is already enrolled in {}", c.name),
        });
    }
    if c.enrolled >= c.capacity {
        return Err(Error::rule(
            "enrolment.cohort",
            Rule::CohortFull {
                name: c.name.clone(),
                capacity: c.capacity,
            },
        ));
    }
    let id = EnrolmentId::new();
    tx.prepare_cached(
        "INSERT INTO enrolment (id, cohort_id, learner_id, enrolled_at, enrolled_by)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![id, cohort, learner, super::now(), actor.id])?;
    outbox::append(
        tx,
        id.0,
        &Record::Enrolment(records::Enrolment {
            cohort_id: cohort.0,
            learner_id: learner.0,
        }),
    )?;
    Ok(id)
}

/// SQL: the enrolments that are one with enrolment `?1`. Two devices that had not yet synced
/// may each have enrolled the learner in the cohort; both rows are kept and count as one
/// enrolment (ADR 0005), so an enrolment's attempts and claims are those of every row here.
pub(crate) const SAME_ENROLMENT: &str = "SELECT x.id FROM enrolment k
     JOIN enrolment x ON x.cohort_id = k.cohort_id AND x.learner_id = k.learner_id
     WHERE k.id = ?1";

/// SQL condition on an enrolment row `e`: it is the one that stands for its learner in its
/// cohort (the smallest id of the rows that are one enrolment), the one rosters list.
pub(crate) const STANDING: &str = "NOT EXISTS (SELECT 1 FROM enrolment x
     WHERE x.cohort_id = e.cohort_id AND x.learner_id = e.learner_id AND x.id < e.id)";

/// SQL: the id of the enrolment that stands for enrolment row `e` (see [`STANDING`]).
pub(crate) const STANDING_ID: &str = "(SELECT min(x.id) FROM enrolment x
     WHERE x.cohort_id = e.cohort_id AND x.learner_id = e.learner_id)";

/// The enrolment of a learner in a cohort.
pub fn enrolment_of(
    conn: &Connection,
    cohort: CohortId,
    learner: LearnerId,
) -> Result<EnrolmentId> {
    conn.prepare_cached("SELECT min(id) FROM enrolment WHERE cohort_id = ?1 AND learner_id = ?2")?
        .query_row(params![cohort, learner], |r| {
            r.get::<_, Option<EnrolmentId>>(0)
        })?
        .ok_or_else(|| Error::not_found("enrolment of that learner in cohort", cohort))
}

/// Schedules a session for a cohort that is not closed.
pub fn schedule_session(
    site: &mut Site,
    actor: &Actor,
    cohort: CohortId,
    new: &NewSession,
) -> Result<SessionId> {
    if new.ends_at <= new.starts_at {
        return Err(Error::rule("session.ends_at", Rule::SessionEndsBeforeStart));
    }
    if new.ends_at - new.starts_at > chrono::Duration::hours(i64::from(MAX_SESSION_HOURS)) {
        return Err(Error::rule(
            "session.ends_at",
            Rule::SessionTooLong {
                hours: MAX_SESSION_HOURS,
            },
        ));
    }
    let (tx, _) = site.write()?;
    let c = get(&tx, cohort)?;
    if c.status == CohortStatus::Closed {
        return Err(Error::Locked {
            what: format!("cohort {}", c.name),
            hint: "open a new cohort",
        });
    }
    if let Some(unit) = &new.unit_id {
        let in_programme = tx
            .prepare_cached(
                "SELECT 1 FROM programme_unit WHERE programme_version_id = ?1 AND unit_id = ?2",
            )?
            .exists(params![c.programme_version_id, unit])?;
        if !in_programme {
            return Err(Error::rule(
                "session.unit_id",
                Rule::UnitNotInProgramme { unit: unit.clone() },
            ));
        }
    }
    let id = SessionId::new();
    tx.prepare_cached(
        "INSERT INTO session (id, cohort_id, unit_id, starts_at, ends_at, instructor_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        id,
        cohort,
        new.unit_id,
        new.starts_at,
        new.ends_at,
        new.instructor_id.or(Some(actor.id))
    ])?;
    outbox::append(
        &tx,
        id.0,
        &Record::Session(records::Session {
            cohort_id: cohort.0,
            unit_id: new.unit_id.clone(),
            starts_at: new.starts_at,
            ends_at: new.ends_at,
            instructor_id: new.instructor_id.or(Some(actor.id)).map(|s| s.0),
        }),
    )?;
    tx.commit()?;
    Ok(id)
}

/// One session.
pub fn session(conn: &Connection, id: SessionId) -> Result<Session> {
    conn.prepare_cached(&format!("{SESSION_SELECT} WHERE id = ?1"))?
        .query_row([id], session_from_row)
        .optional()?
        .ok_or_else(|| Error::not_found("session", id))
}

/// A cohort's sessions in time order.
pub fn sessions(conn: &Connection, cohort: CohortId) -> Result<Vec<Session>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{SESSION_SELECT} WHERE cohort_id = ?1 ORDER BY starts_at"
    ))?;
    let rows = stmt.query_map([cohort], session_from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

const SESSION_SELECT: &str =
    "SELECT id, cohort_id, unit_id, starts_at, ends_at, instructor_id, closed_at FROM session";

fn session_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Session> {
    Ok(Session {
        id: r.get(0)?,
        cohort_id: r.get(1)?,
        unit_id: r.get(2)?,
        starts_at: r.get(3)?,
        ends_at: r.get(4)?,
        instructor_id: r.get(5)?,
        closed_at: r.get(6)?,
    })
}

/// The learners enrolled in a cohort, by name.
pub fn roster(
    conn: &Connection,
    cohort: CohortId,
) -> Result<Vec<(EnrolmentId, LearnerId, String)>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT e.id, l.id, l.name FROM enrolment e JOIN learner l ON l.id = e.learner_id
         WHERE e.cohort_id = ?1 AND {STANDING} ORDER BY l.name, l.id"
    ))?;
    let rows = stmt.query_map([cohort], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A session on the Today screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DaySession {
    /// The session.
    pub session: Session,
    /// Its cohort's name.
    pub cohort_name: String,
    /// Learners enrolled.
    pub enrolled: u32,
    /// Learners with a mark.
    pub marked: u32,
}

/// Sessions starting in `[from, to)`, by start time.
pub fn sessions_between(
    conn: &Connection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<DaySession>> {
    let mut stmt = conn.prepare_cached(
        "SELECT s.id, s.cohort_id, s.unit_id, s.starts_at, s.ends_at, s.instructor_id, s.closed_at, c.name,
                (SELECT count(DISTINCT e.learner_id) FROM enrolment e WHERE e.cohort_id = c.id),
                (SELECT count(*) FROM session_attendance sa WHERE sa.session_id = s.id)
         FROM session s JOIN cohort c ON c.id = s.cohort_id
         WHERE s.starts_at >= ?1 AND s.starts_at < ?2 ORDER BY s.starts_at",
    )?;
    let rows = stmt.query_map(params![from, to], |r| {
        Ok(DaySession {
            session: session_from_row(r)?,
            cohort_name: r.get(7)?,
            enrolled: r.get(8)?,
            marked: r.get(9)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
