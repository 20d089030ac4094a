//! Late marks (docs/SYNC.md, merge rules): a roll-call mark that another device stamped after
//! this session's close (it had not heard of the close yet). It is kept, counts for nothing,
//! and waits in the site manager's queue until they accept it (a correction that records the
//! same mark, which counts) or drop it (a correction that records nothing). Every device shows
//! the same queue once it holds the same events.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;
use siteline_domain::ids::{AttendanceEventId, LearnerId, SessionId};
use siteline_proto::Entity;
use siteline_proto::records::{self, Record};
use siteline_proto::vocab::AttendanceKind;
use uuid::Uuid;

use super::actor::Actor;
use super::corrections::{self, Reason};
use super::{Site, attendance, cohorts, outbox};
use crate::{Error, Result};

/// One late mark waiting for the site manager.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LateMark {
    /// The mark.
    pub event_id: AttendanceEventId,
    /// Its session.
    pub session_id: SessionId,
    /// When the session started.
    pub session_starts_at: DateTime<Utc>,
    /// The learner.
    pub learner_id: LearnerId,
    /// Their name.
    pub learner_name: String,
    /// What the mark says.
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub kind: AttendanceKind,
    /// The time it gives.
    pub at: DateTime<Utc>,
    /// The device that recorded it.
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub device_id: Uuid,
    /// Who took it.
    pub attested_by: Option<String>,
    /// When that device recorded it (its clock).
    pub recorded_at: DateTime<Utc>,
}

/// The late marks no correction has answered yet, oldest session first.
pub fn queue(conn: &Connection) -> Result<Vec<LateMark>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT a.id, a.session_id, s.starts_at, a.learner_id, l.name, a.kind, a.at, a.device_id,
                u.display_name, a.recorded_at
         FROM attendance_event a JOIN session s ON s.id = a.session_id
         JOIN learner l ON l.id = a.learner_id
         LEFT JOIN staff_user u ON u.id = a.attested_by
         WHERE NOT {counts}
           AND NOT EXISTS (SELECT 1 FROM correction c WHERE c.target_id = a.id)
         ORDER BY s.starts_at, l.name, a.hlc",
        counts = attendance::COUNTS
    ))?;
    let rows = stmt.query_map([], |r| {
        let kind: String = r.get(5)?;
        Ok((
            LateMark {
                event_id: r.get(0)?,
                session_id: r.get(1)?,
                session_starts_at: r.get(2)?,
                learner_id: r.get(3)?,
                learner_name: r.get(4)?,
                kind: AttendanceKind::CheckIn,
                at: r.get(6)?,
                device_id: r.get(7)?,
                attested_by: r.get(8)?,
                recorded_at: r.get(9)?,
            },
            kind,
        ))
    })?;
    rows.map(|row| {
        let (mut mark, kind) = row?;
        mark.kind = AttendanceKind::parse(&kind)?;
        Ok(mark)
    })
    .collect()
}

/// Accepts a late mark (site manager): a correction naming it, and the same mark recorded
/// again as that correction, which counts.
pub fn accept(
    site: &mut Site,
    actor: &Actor,
    event: AttendanceEventId,
    reason: &Reason,
) -> Result<AttendanceEventId> {
    answer(site, actor, event, reason, true).map(|id| id.unwrap_or(event))
}

/// Drops a late mark (site manager): a correction naming it; it never counts.
pub fn drop(
    site: &mut Site,
    actor: &Actor,
    event: AttendanceEventId,
    reason: &Reason,
) -> Result<()> {
    answer(site, actor, event, reason, false).map(|_| ())
}

fn answer(
    site: &mut Site,
    actor: &Actor,
    event: AttendanceEventId,
    reason: &Reason,
    accept: bool,
) -> Result<Option<AttendanceEventId>> {
    actor.require_manager("accept or drop a late mark")?;
    let (tx, _) = site.write()?;
    let late = queue(&tx)?.into_iter().find(|m| m.event_id == event);
    let Some(late) = late else {
        let exists = tx
            .prepare_cached("SELECT 1 FROM attendance_event WHERE id = ?1")?
            .query_row([event], |_| Ok(()))
            .optional()?;
        return Err(match exists {
            None => Error::not_found("late mark", event),
            Some(()) => Error::invalid(
                "late_mark",
                "this mark is not waiting: it counts already, or a manager has answered it",
            ),
        });
    };
    let correction = corrections::insert(&tx, actor, Entity::AttendanceEvent, event.0, reason)?;
    let mut accepted = None;
    if accept {
        let id = AttendanceEventId::new();
        let record = records::AttendanceEvent {
            session_id: late.session_id.0,
            learner_id: late.learner_id.0,
            kind: late.kind,
            at: late.at,
            method: "roll_call".into(),
            attested_by: actor.id.0,
            correction_id: Some(correction.0),
        };
        let op = outbox::append_stamped(&tx, id.0, &Record::AttendanceEvent(record.clone()))?;
        attendance::store_event(&tx, id, &record, op.device, op.seq, op.hlc, op.recorded_at)?;
        let session = cohorts::session(&tx, late.session_id)?;
        attendance::refresh_standing(&tx, &session, late.learner_id)?;
        accepted = Some(id);
    }
    tx.commit()?;
    Ok(accepted)
}
