//! Roll call: append-only attendance events, the derived per-session standing, closing a
//! session (its lock point) and corrections after close by a site manager.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};
use siteline_proto::Entity;
use siteline_proto::hlc::Hlc;
use siteline_proto::records::{self, Record};

use super::actor::Actor;
use super::corrections::{self, Reason};
use super::{Site, audit, cohorts, outbox};
use crate::{Error, Result};
use siteline_domain::Rule;
use siteline_domain::attendance::{AttendanceKind, SessionStatus, fold_session, mark_time_ok};
use siteline_domain::ids::{AttendanceEventId, CorrectionId, LearnerId, SessionId};

/// What the instructor marks on the roll-call screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mark", rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Mark {
    /// There from the start.
    Present,
    /// Arrived at `at`.
    Late {
        /// Arrival time.
        at: DateTime<Utc>,
    },
    /// Left at `at`.
    Left {
        /// Leaving time.
        at: DateTime<Utc>,
    },
    /// Not there.
    Absent,
    /// Not there, with leave.
    Excused,
}

/// A learner's line on the roll-call screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RollLine {
    /// Learner.
    pub learner_id: LearnerId,
    /// Name.
    pub name: String,
    /// Standing after all marks.
    pub status: SessionStatus,
    /// Attended minutes.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub minutes: i64,
    /// Who took the mark that stands (the latest that counts), if any.
    pub taken_by: Option<String>,
    /// The device it was taken on, when that is another laptop of the site (the last 8 hex
    /// digits of its id, as the devices screen shows them).
    pub taken_on: Option<String>,
    /// When the standing mark is a site manager's correction: its reason.
    pub corrected: Option<String>,
}

/// Who took the standing mark of a learner (`l.id`) in session `?2`, and on which other
/// device (the marks that count, by the one rule in [`COUNTS`]), and the reason when it is a
/// correction: `name \x1f device-or-empty \x1f reason-or-empty`.
fn taken_sql() -> String {
    format!(
        "(SELECT coalesce(u.display_name, '') || char(31) ||
            CASE WHEN a.device_id = (SELECT device_id FROM device) THEN ''
                 ELSE lower(hex(substr(a.device_id, 13, 4))) END || char(31) ||
            coalesce((SELECT c.reason FROM correction c WHERE c.id = a.correction_id), '')
         FROM attendance_event a JOIN session s ON s.id = a.session_id
         LEFT JOIN staff_user u ON u.id = a.attested_by
         WHERE a.session_id = ?2 AND a.learner_id = l.id AND {COUNTS}
         ORDER BY a.hlc DESC LIMIT 1)"
    )
}

/// Who took it, on which other device, and the correction's reason (each when there is one).
type Taken = (Option<String>, Option<String>, Option<String>);

fn taken(text: Option<String>) -> Taken {
    let Some(text) = text else {
        return (None, None, None);
    };
    let mut parts = text
        .split('\u{1f}')
        .map(|p| Some(p.to_string()).filter(|p| !p.is_empty()));
    (
        parts.next().flatten(),
        parts.next().flatten(),
        parts.next().flatten(),
    )
}

fn to_event(mark: Mark, session: &cohorts::Session) -> (AttendanceKind, DateTime<Utc>) {
    match mark {
        Mark::Present => (AttendanceKind::CheckIn, session.starts_at),
        Mark::Late { at } => (AttendanceKind::CheckIn, at),
        Mark::Left { at } => (AttendanceKind::CheckOut, at),
        Mark::Absent => (AttendanceKind::Absent, session.starts_at),
        Mark::Excused => (AttendanceKind::Excused, session.starts_at),
    }
}

/// Records one mark at once (a crash after this returns loses nothing).
pub fn mark(
    site: &mut Site,
    actor: &Actor,
    session: SessionId,
    learner: LearnerId,
    m: Mark,
) -> Result<AttendanceEventId> {
    let (tx, _) = site.write()?;
    let s = open_session(&tx, session)?;
    let id = insert_event(&tx, actor, &s, learner, m, None)?;
    tx.commit()?;
    Ok(id)
}

/// Records a whole roll call in one transaction: all marks or none.
pub fn roll_call(
    site: &mut Site,
    actor: &Actor,
    session: SessionId,
    marks: &[(LearnerId, Mark)],
) -> Result<usize> {
    let (tx, _) = site.write()?;
    let s = open_session(&tx, session)?;
    for (learner, m) in marks {
        insert_event(&tx, actor, &s, *learner, *m, None)?;
    }
    tx.commit()?;
    Ok(marks.len())
}

fn open_session(tx: &Transaction<'_>, session: SessionId) -> Result<cohorts::Session> {
    let s = cohorts::session(tx, session)?;
    if s.closed_at.is_some() {
        return Err(Error::Locked {
            what: format!("session {session}"),
            hint: "it is closed and takes no new attendance; a site manager can record a correction",
        });
    }
    Ok(s)
}

fn insert_event(
    tx: &Transaction<'_>,
    actor: &Actor,
    s: &cohorts::Session,
    learner: LearnerId,
    m: Mark,
    correction: Option<CorrectionId>,
) -> Result<AttendanceEventId> {
    let enrolled = tx
        .prepare_cached("SELECT 1 FROM enrolment WHERE cohort_id = ?1 AND learner_id = ?2")?
        .exists(params![s.cohort_id, learner])?;
    if !enrolled {
        return Err(Error::rule("attendance.learner", Rule::NotEnrolledInCohort));
    }
    let (kind, at) = to_event(m, s);
    if !mark_time_ok(s.starts_at, s.ends_at, at) {
        return Err(Error::rule(
            "attendance.at",
            Rule::OutsideSession {
                at: at.format("%Y-%m-%d %H:%M").to_string(),
                from: s.starts_at.format("%H:%M").to_string(),
                to: s.ends_at.format("%H:%M").to_string(),
            },
        ));
    }
    let id = AttendanceEventId::new();
    let record = records::AttendanceEvent {
        session_id: s.id.0,
        learner_id: learner.0,
        kind,
        at,
        method: "roll_call".into(),
        attested_by: actor.id.0,
        correction_id: correction.map(|c| c.0),
    };
    let op = outbox::append_stamped(tx, id.0, &Record::AttendanceEvent(record.clone()))?;
    store_event(tx, id, &record, op.device, op.seq, op.hlc, op.recorded_at)
        .map_err(|e| super::map_trigger(e, || format!("session {}", s.id)))?;
    refresh_standing(tx, s, learner)?;
    Ok(id)
}

/// Stores one roll-call mark as its writer recorded it: this device's, or another device's
/// arriving by sync (which may be late for a closed session: it is kept, and does not count).
pub(crate) fn store_event(
    tx: &Transaction<'_>,
    id: AttendanceEventId,
    e: &records::AttendanceEvent,
    writer: uuid::Uuid,
    seq: u64,
    hlc: Hlc,
    recorded_at: DateTime<Utc>,
) -> rusqlite::Result<usize> {
    tx.prepare_cached(
        "INSERT INTO attendance_event (id, session_id, learner_id, kind, at, method, attested_by,
             seq, recorded_at, correction_id, device_id, hlc)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?
    .execute(params![
        id,
        e.session_id,
        e.learner_id,
        e.kind.as_str(),
        e.at,
        e.method,
        e.attested_by,
        seq,
        recorded_at,
        e.correction_id,
        writer,
        hlc.to_string()
    ])
}

/// The marks of a session that count, for every learner: those stamped before the session's
/// close (by whichever device), and corrections. SQL text shared by the folds and the late-mark
/// queue, so the rule has one home.
pub(crate) const COUNTS: &str =
    "(a.correction_id IS NOT NULL OR s.closed_hlc IS NULL OR a.hlc < s.closed_hlc)";

/// Recomputes every learner's standing in a session (after another device's close arrives).
pub(crate) fn refresh_session(tx: &Transaction<'_>, s: &cohorts::Session) -> Result<()> {
    let learners: Vec<LearnerId> = tx
        .prepare_cached("SELECT DISTINCT learner_id FROM attendance_event WHERE session_id = ?1")?
        .query_map([s.id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for learner in learners {
        refresh_standing(tx, s, learner)?;
    }
    Ok(())
}

/// Recomputes the derived standing of one learner in one session from the events that count,
/// in clock-stamp order (the later mark wins, whichever device wrote it).
pub(crate) fn refresh_standing(
    tx: &Transaction<'_>,
    s: &cohorts::Session,
    learner: LearnerId,
) -> Result<()> {
    let mut stmt = tx.prepare_cached(&format!(
        "SELECT a.kind, a.at FROM attendance_event a JOIN session s ON s.id = a.session_id
         WHERE a.session_id = ?1 AND a.learner_id = ?2 AND {COUNTS} ORDER BY a.hlc"
    ))?;
    let events = stmt
        .query_map(params![s.id, learner], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, DateTime<Utc>>(1)?))
        })?
        .map(|row| {
            let (kind, at) = row?;
            Ok((AttendanceKind::parse(&kind)?, at))
        })
        .collect::<Result<Vec<_>>>()?;
    let (status, minutes) = fold_session(s.starts_at, s.ends_at, events);
    tx.prepare_cached(
        "INSERT INTO session_attendance (session_id, learner_id, status, minutes) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (session_id, learner_id) DO UPDATE SET status = excluded.status, minutes = excluded.minutes",
    )?
    .execute(params![s.id, learner, status.as_str(), minutes])?;
    Ok(())
}

/// Closes a session: from now on it takes no attendance except corrections.
pub fn close_session(site: &mut Site, actor: &Actor, session: SessionId) -> Result<()> {
    let (tx, _) = site.write()?;
    let s = open_session(&tx, session)?;
    let now = super::now();
    let closed = outbox::append_stamped(
        &tx,
        s.id.0,
        &Record::SessionUpdate(records::SessionUpdate::Closed {
            closed_at: now,
            closed_by: actor.id.0,
        }),
    )?;
    tx.execute(
        "UPDATE session SET closed_at = ?2, closed_by = ?3, closed_hlc = ?4 WHERE id = ?1",
        params![s.id, now, actor.id, closed.hlc.to_string()],
    )?;
    audit::record(
        &tx,
        Some(actor),
        "close_session",
        Some(("session", s.id.0)),
        "",
    )?;
    tx.commit()?;
    Ok(())
}

/// Corrects a learner's attendance in a closed session (site manager only): a new event that
/// wins over the earlier ones, tied to a correction record with the reason.
pub fn correct(
    site: &mut Site,
    actor: &Actor,
    session: SessionId,
    learner: LearnerId,
    m: Mark,
    reason: &Reason,
) -> Result<AttendanceEventId> {
    let (tx, _) = site.write()?;
    let s = cohorts::session(&tx, session)?;
    if s.closed_at.is_none() {
        return Err(Error::rule("correction", Rule::CorrectionNotNeeded));
    }
    actor.require_manager("correct a closed session's attendance")?;
    let target: Option<AttendanceEventId> = tx
        .prepare_cached(
            "SELECT id FROM attendance_event WHERE session_id = ?1 AND learner_id = ?2
             ORDER BY hlc DESC LIMIT 1",
        )?
        .query_row(params![session, learner], |r| r.get(0))
        .optional()?;
    let target = target.map_or(session.0, |t| t.0);
    let correction = corrections::insert(&tx, actor, Entity::AttendanceEvent, target, reason)?;
    let id = insert_event(&tx, actor, &s, learner, m, Some(correction))?;
    tx.commit()?;
    Ok(id)
}

/// One learner's line on the roll-call screen (what a mark returns).
pub fn roll_line(conn: &Connection, session: SessionId, learner: LearnerId) -> Result<RollLine> {
    type Row = (String, Option<String>, Option<i64>, Option<String>);
    let row: Option<Row> = conn
        .prepare_cached(&format!(
            "SELECT l.name, sa.status, sa.minutes, {} FROM learner l
             LEFT JOIN session_attendance sa ON sa.session_id = ?2 AND sa.learner_id = l.id
             WHERE l.id = ?1",
            taken_sql()
        ))?
        .query_row(params![learner, session], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    let (name, status, minutes, by) = row.ok_or_else(|| Error::not_found("learner", learner))?;
    let (taken_by, taken_on, corrected) = taken(by);
    Ok(RollLine {
        learner_id: learner,
        name,
        status: parse_status(status.as_deref()),
        minutes: minutes.unwrap_or(0),
        taken_by,
        taken_on,
        corrected,
    })
}

fn parse_status(s: Option<&str>) -> SessionStatus {
    match s {
        Some("present") => SessionStatus::Present,
        Some("late") => SessionStatus::Late,
        Some("absent") => SessionStatus::Absent,
        Some("excused") => SessionStatus::Excused,
        _ => SessionStatus::Unmarked,
    }
}

/// The roll-call screen: every enrolled learner with their standing in the session.
pub fn roll(conn: &Connection, session: SessionId) -> Result<Vec<RollLine>> {
    let s = cohorts::session(conn, session)?;
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT l.id, l.name, sa.status, sa.minutes, {}
         FROM enrolment e JOIN learner l ON l.id = e.learner_id
         LEFT JOIN session_attendance sa ON sa.session_id = ?2 AND sa.learner_id = l.id
         WHERE e.cohort_id = ?1 AND {} ORDER BY l.name, l.id",
        taken_sql(),
        cohorts::STANDING
    ))?;
    let rows = stmt.query_map(params![s.cohort_id, session], |r| {
        let status: Option<String> = r.get(2)?;
        let (taken_by, taken_on, corrected) = taken(r.get(4)?);
        Ok(RollLine {
            learner_id: r.get(0)?,
            name: r.get(1)?,
            status: parse_status(status.as_deref()),
            minutes: r.get::<_, Option<i64>>(3)?.unwrap_or(0),
            taken_by,
            taken_on,
            corrected,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
