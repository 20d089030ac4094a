//! Operations the site's other devices wrote, arriving by HQ's pull (or a peer): each applied
//! here exactly once, by its identity `(device, epoch, seq)`, logged in `site_event` beside
//! this device's own, and never sent on again (it is not put in the outbox). The merge rules
//! (docs/SYNC.md, "Several devices, one site") are applied as the rows land:
//!
//! - roll-call marks fold in clock-stamp order, so the later mark wins wherever it was taken;
//! - a mark stamped after the session's close does not count until a manager accepts it;
//!   of two closes, the earlier stamp stands;
//! - a field changed on two devices (a cohort's status, a learner's name) keeps the later
//!   stamp's value; changes of a learner's or cohort's details are kept and merged field by
//!   field in `store::edits`, which shows the manager two changes made without seeing each
//!   other;
//! - the same person registered on two devices stays two learners until the manager merges
//!   them (`store::duplicates`); a merge made on any device holds on all.
//!
//! A row that cannot apply yet (its parent has not arrived, or its learner profile is sealed
//! under a site key this device does not hold) is held whole in `replica_held`, retried after
//! every page, and never dropped. This is the door other devices' rows come through: the
//! learner tables through `learner_replica`, roll-call marks through `attendance`, the rest here.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Transaction, params};
use siteline_domain::crypto::SiteKeys;
use siteline_domain::ids::{AttendanceEventId, LearnerId, SessionId};
use siteline_proto::OutboxRow;
use siteline_proto::records::{AttemptUpdate, CohortUpdate, LearnerUpdate, Record, SessionUpdate};
use uuid::Uuid;

use super::{attendance, cohorts, duplicates, edits, learner_replica, outbox, staff};
use crate::{Error, Result};

/// How another device's operations reached this one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// Relayed by HQ in a pull.
    Hq,
    /// From a peer on the site's LAN.
    Lan,
}

impl Via {
    fn as_str(self) -> &'static str {
        match self {
            Via::Hq => "hq",
            Via::Lan => "lan",
        }
    }
}

/// What became of one received row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// Applied now.
    Applied,
    /// This device already had it (or wrote it).
    AlreadyHad,
    /// Kept to retry later, with the reason it cannot apply yet.
    Held(String),
}

/// Applies another device's operation once, or holds it. This device's own rows are ignored,
/// except those of an older epoch it lost in a restore.
pub fn receive(
    tx: &Transaction<'_>,
    keys: &SiteKeys,
    own: Uuid,
    row: &OutboxRow,
    via: Via,
) -> Result<Received> {
    if known(tx, row)? {
        return Ok(Received::AlreadyHad);
    }
    if row.device_id == own {
        // This device's own operation that it does not hold: from an older epoch, written
        // after the backup it was restored from. A peer that kept it gives it back; it is at
        // HQ already (or travels there from that peer), so it is applied like another
        // device's. Anything of the current epoch this device wrote itself.
        let epoch = outbox::device(tx)?.epoch;
        if row.epoch >= epoch {
            return Ok(Received::AlreadyHad);
        }
        outbox::observe(tx, row.hlc)?;
        // One that does not apply is already here in another form (written before this
        // device kept its log): noted as held, never waited for.
        if apply_isolated(tx, keys, row)?.is_some() {
            tracing::info!(
                seq = row.seq,
                epoch = row.epoch,
                "an own operation of an older epoch is already here"
            );
        }
        log(tx, row, via)?;
        return Ok(Received::Applied);
    }
    outbox::observe(tx, row.hlc)?;
    match apply_isolated(tx, keys, row)? {
        None => {
            log(tx, row, via)?;
            Ok(Received::Applied)
        }
        Some(reason) => {
            tx.prepare_cached(
                "INSERT INTO replica_held (device_id, epoch, seq, hlc, row_json, reason, held_at, via)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                row.device_id,
                row.epoch,
                row.seq,
                row.hlc.to_string(),
                serde_json::to_string(row)?,
                reason,
                super::now(),
                via.as_str()
            ])?;
            Ok(Received::Held(reason))
        }
    }
}

/// Receives a run of other devices' operations (a pull page's, a peer's) in one transaction,
/// then retries what was held; each writer's rows must come in that writer's seq order.
pub fn receive_all(site: &mut super::Site, rows: &[OutboxRow], via: Via) -> Result<Vec<Received>> {
    let own = outbox::device(site.conn())?.device_id;
    let (tx, keys) = site.write()?;
    let received = rows
        .iter()
        .map(|row| receive(&tx, keys, own, row, via))
        .collect::<Result<Vec<_>>>()?;
    if received.contains(&Received::Applied) {
        retry_held(&tx, keys)?;
    }
    tx.commit()?;
    Ok(received)
}

/// Retries every held row, in clock-stamp order, until a pass applies none; returns how many
/// applied.
pub fn retry_held(tx: &Transaction<'_>, keys: &SiteKeys) -> Result<usize> {
    let mut total = 0;
    loop {
        let held: Vec<(String, String)> = tx
            .prepare_cached("SELECT row_json, via FROM replica_held ORDER BY hlc")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut applied = 0;
        for (json, via) in held {
            let row: OutboxRow = serde_json::from_str(&json)?;
            let via = if via == "lan" { Via::Lan } else { Via::Hq };
            match apply_isolated(tx, keys, &row)? {
                None => {
                    tx.prepare_cached(
                        "DELETE FROM replica_held WHERE device_id = ?1 AND epoch = ?2 AND seq = ?3",
                    )?
                    .execute(params![row.device_id, row.epoch, row.seq])?;
                    log(tx, &row, via)?;
                    applied += 1;
                }
                Some(reason) => {
                    tx.prepare_cached(
                        "UPDATE replica_held SET reason = ?4
                         WHERE device_id = ?1 AND epoch = ?2 AND seq = ?3",
                    )?
                    .execute(params![
                        row.device_id,
                        row.epoch,
                        row.seq,
                        reason
                    ])?;
                }
            }
        }
        total += applied;
        if applied == 0 {
            return Ok(total);
        }
    }
}

/// Rows held, with their reasons: `(device, seq, entity, reason)`.
pub fn held(conn: &rusqlite::Connection) -> Result<Vec<(Uuid, u64, String, String)>> {
    let rows = conn
        .prepare_cached(
            "SELECT device_id, seq, json_extract(row_json, '$.entity'), reason
             FROM replica_held ORDER BY hlc",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

fn known(tx: &Transaction<'_>, row: &OutboxRow) -> Result<bool> {
    let key = params![row.device_id, row.epoch, row.seq];
    Ok(tx
        .prepare_cached(
            "SELECT 1 FROM site_event WHERE device_id = ?1 AND epoch = ?2 AND seq = ?3",
        )?
        .exists(key)?
        || tx
            .prepare_cached(
                "SELECT 1 FROM replica_held WHERE device_id = ?1 AND epoch = ?2 AND seq = ?3",
            )?
            .exists(key)?)
}

fn log(tx: &Transaction<'_>, row: &OutboxRow, via: Via) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO site_event (device_id, epoch, seq, entity, op, record_id, hlc, recorded_at,
             received_at, payload, via)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        row.device_id,
        row.epoch,
        row.seq,
        row.entity.as_str(),
        row.op.as_str(),
        row.record_id,
        row.hlc.to_string(),
        row.recorded_at,
        super::now(),
        row.payload.to_string(),
        via.as_str()
    ])?;
    Ok(())
}

/// Applies one row under a savepoint: `Ok(None)` when it applied, `Ok(Some(reason))` when it
/// cannot (yet), with nothing of it left behind. Only a store-wide failure is an error.
fn apply_isolated(
    tx: &Transaction<'_>,
    keys: &SiteKeys,
    row: &OutboxRow,
) -> Result<Option<String>> {
    tx.prepare_cached("SAVEPOINT replica_row")?.execute([])?;
    let outcome = match apply(tx, keys, row) {
        Ok(()) => None,
        Err(e) if is_fatal(&e) => return Err(e),
        Err(e) => Some(e.to_string()),
    };
    if outcome.is_some() {
        tx.prepare_cached("ROLLBACK TO replica_row")?.execute([])?;
    }
    tx.prepare_cached("RELEASE replica_row")?.execute([])?;
    Ok(outcome)
}

/// Disk, I/O and corruption failures stop the page (it is fetched again); anything else is
/// about the row.
fn is_fatal(e: &Error) -> bool {
    use rusqlite::ErrorCode::*;
    matches!(
        e,
        Error::Database(rusqlite::Error::SqliteFailure(f, _)) if matches!(
            f.code,
            DiskFull | SystemIoFailure | DatabaseCorrupt | NotADatabase | DatabaseBusy
                | DatabaseLocked | OutOfMemory | CannotOpen | ReadOnly | PermissionDenied
        )
    )
}

fn apply(tx: &Transaction<'_>, keys: &SiteKeys, row: &OutboxRow) -> Result<()> {
    let record = Record::parse(row.entity, row.op, &row.payload)
        .map_err(|e| Error::invalid("sync.site_record", e))?;
    let id = row.record_id;
    let at = row.recorded_at;
    match &record {
        Record::Learner(l) => learner_replica::apply(tx, keys, id, l),
        Record::LearnerUpdate(LearnerUpdate::Erased { erased_at, .. }) => {
            learner_replica::apply_erased(tx, id, *erased_at)
        }
        Record::LearnerUpdate(LearnerUpdate::MergedInto { into }) => {
            duplicates::apply_merge(tx, LearnerId(id), LearnerId(*into))
        }
        Record::LearnerUpdate(LearnerUpdate::Edited {
            fields,
            site_sealed,
            phone_sealed,
            ..
        }) => edits::apply_learner(
            tx,
            keys,
            row,
            fields,
            site_sealed.as_deref(),
            phone_sealed.as_deref(),
        ),
        Record::Consent(c) => learner_replica::apply_consent(tx, id, c, at),
        Record::StaffUser(_, s) => {
            // Another device's account signs in here with the same password; without the
            // site key its hash does not open and it cannot sign in here ('!' matches no
            // password).
            if !latest_change(tx, id, row, None)? {
                return Ok(());
            }
            let hash = s
                .site_sealed
                .as_deref()
                .and_then(|sealed| staff::open_password(keys, id, sealed))
                .unwrap_or_else(|| "!".into());
            tx.prepare_cached(
                "INSERT INTO staff_user (id, username, display_name, role, password_hash, active, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (id) DO UPDATE SET display_name = excluded.display_name,
                     role = excluded.role, active = excluded.active,
                     password_hash = excluded.password_hash",
            )?
            .execute(params![id, s.username, s.display_name, s.role.as_str(), hash, s.active, at])?;
            Ok(())
        }
        Record::Cohort(c) => {
            tx.prepare_cached(
                "INSERT INTO cohort (id, programme_version_id, name, start_date, end_date, capacity,
                     status, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'draft', ?7)",
            )?
            .execute(params![
                id,
                c.programme_version_id,
                c.name,
                c.start_date,
                c.end_date,
                c.capacity,
                at
            ])?;
            for staff in &c.instructors {
                tx.prepare_cached(
                    "INSERT OR IGNORE INTO cohort_instructor (cohort_id, staff_id) VALUES (?1, ?2)",
                )?
                .execute(params![id, staff])?;
            }
            Ok(())
        }
        Record::CohortUpdate(CohortUpdate::Status { status }) => {
            // Later stamp wins: an older status change arriving late changes nothing.
            if latest_change(tx, id, row, Some("status"))? {
                let n = tx.execute(
                    "UPDATE cohort SET status = ?2, version = version + 1 WHERE id = ?1",
                    params![id, status.as_str()],
                )?;
                if n == 0 {
                    return Err(Error::not_found("cohort", id));
                }
            }
            Ok(())
        }
        Record::CohortUpdate(change @ CohortUpdate::Edited { .. }) => {
            edits::apply_cohort(tx, row, change)
        }
        Record::Enrolment(e) => {
            tx.prepare_cached(
                "INSERT INTO enrolment (id, cohort_id, learner_id, enrolled_at) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![id, e.cohort_id, e.learner_id, at])?;
            Ok(())
        }
        Record::Session(s) => {
            tx.prepare_cached(
                "INSERT INTO session (id, cohort_id, unit_id, starts_at, ends_at, instructor_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                id,
                s.cohort_id,
                s.unit_id,
                s.starts_at,
                s.ends_at,
                s.instructor_id
            ])?;
            Ok(())
        }
        Record::SessionUpdate(SessionUpdate::Closed {
            closed_at,
            closed_by,
        }) => {
            // Of two closes the earlier stamp stands; marks stamped after it stop counting.
            let exists = tx
                .prepare_cached("SELECT 1 FROM session WHERE id = ?1")?
                .exists([id])?;
            if !exists {
                return Err(Error::not_found("session", id));
            }
            tx.execute(
                "UPDATE session SET closed_at = ?2, closed_by = ?3, closed_hlc = ?4
                 WHERE id = ?1 AND (closed_hlc IS NULL OR closed_hlc > ?4)",
                params![id, closed_at, closed_by, row.hlc.to_string()],
            )?;
            let s = cohorts::session(tx, SessionId(id))?;
            attendance::refresh_session(tx, &s)
        }
        Record::AttendanceEvent(e) => {
            attendance::store_event(
                tx,
                AttendanceEventId(id),
                e,
                row.device_id,
                row.seq,
                row.hlc,
                at,
            )?;
            let s = cohorts::session(tx, SessionId(e.session_id))?;
            attendance::refresh_standing(tx, &s, LearnerId(e.learner_id))
        }
        Record::AssessmentAttempt(a) => {
            tx.prepare_cached(
                "INSERT INTO assessment_attempt (id, enrolment_id, component, attempt_no, held_at, assessors,
                     score, critical_failed, passed, locked_at, recorded_at, corrects_id, correction_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            )?
            .execute(params![
                id,
                a.enrolment_id,
                a.component.as_str(),
                a.attempt_no,
                a.held_at,
                serde_json::to_string(&a.assessors)?,
                a.score,
                a.critical_failed,
                a.passed,
                a.locked_at,
                at,
                a.corrects,
                a.correction_id
            ])?;
            rubric(tx, id, &a.marks)
        }
        Record::AttemptUpdate(AttemptUpdate::Marks {
            marks,
            score,
            passed,
            ..
        }) => {
            // Two devices edited the draft: the later stamp's marks stand, whatever the order
            // they arrive in.
            if !latest_change(tx, id, row, Some("marks"))? {
                let exists = tx
                    .prepare_cached("SELECT 1 FROM assessment_attempt WHERE id = ?1")?
                    .exists([id])?;
                return if exists {
                    Ok(())
                } else {
                    Err(Error::not_found("assessment attempt", id))
                };
            }
            let n = tx.execute(
                "UPDATE assessment_attempt SET score = ?2, passed = ?3 WHERE id = ?1",
                params![id, score, passed],
            )?;
            if n == 0 {
                return Err(Error::not_found("assessment attempt", id));
            }
            tx.execute("DELETE FROM rubric_score WHERE attempt_id = ?1", [id])?;
            rubric(tx, id, marks)
        }
        Record::AttemptUpdate(AttemptUpdate::Locked { locked_at }) => {
            let locked: Option<Option<DateTime<Utc>>> = tx
                .prepare_cached("SELECT locked_at FROM assessment_attempt WHERE id = ?1")?
                .query_row([id], |r| r.get(0))
                .optional()?;
            match locked {
                None => Err(Error::not_found("assessment attempt", id)),
                Some(Some(_)) => Ok(()),
                Some(None) => {
                    tx.execute(
                        "UPDATE assessment_attempt SET locked_at = ?2 WHERE id = ?1",
                        params![id, locked_at],
                    )?;
                    Ok(())
                }
            }
        }
        Record::OutcomeClaim(c) => {
            tx.prepare_cached(
                "INSERT INTO outcome_claim (id, enrolment_id, programme_version_id, attended_minutes,
                     attempt_ids, submitted_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                id,
                c.enrolment_id,
                c.programme_version_id,
                c.attended_minutes,
                serde_json::to_string(&c.attempt_ids)?,
                at
            ])?;
            Ok(())
        }
        Record::Correction(c) => {
            tx.prepare_cached(
                "INSERT INTO correction (id, entity, target_id, reason_code, reason, approved_by,
                     approver_role, recorded_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                id,
                c.entity.as_str(),
                c.target_id,
                c.reason_code.as_str(),
                c.reason,
                c.approved_by,
                c.approver_role.as_str(),
                at
            ])?;
            Ok(())
        }
    }
}

fn rubric(
    tx: &Transaction<'_>,
    attempt: Uuid,
    marks: &siteline_proto::records::Marks,
) -> Result<()> {
    if let siteline_proto::records::Marks::Rubric { items } = marks {
        let mut stmt = tx.prepare_cached(
            "INSERT INTO rubric_score (attempt_id, rubric_item_id, points, failed) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for m in items {
            stmt.execute(params![attempt, m.item_id, m.points, m.failed])?;
        }
    }
    Ok(())
}

/// True when `row` is later than every change of its record this device holds (its own or
/// received): the last writer wins by stamp, ties broken by the device id inside the stamp.
/// Used for records whose rows carry their whole state (a staff account, a cohort's status):
/// `change` names the kind of update compared (a cohort's `status`), none for a staff account.
fn latest_change(
    tx: &Transaction<'_>,
    record: Uuid,
    row: &OutboxRow,
    change: Option<&str>,
) -> Result<bool> {
    let latest: Option<String> = tx
        .prepare_cached(
            "SELECT max(hlc) FROM site_event WHERE record_id = ?1 AND op = 'update'
                 AND json_extract(payload, '$.change') IS ?2",
        )?
        .query_row(params![record, change], |r| r.get(0))?;
    Ok(latest.is_none_or(|l| row.hlc.to_string() > l))
}
