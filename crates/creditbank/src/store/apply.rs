//! Applying a pushed batch, exactly once: rows past the device's high-water mark are stored
//! and applied in the caller's transaction, which also moves the mark. A row that fails
//! validation is stored as quarantined with a reason, still acknowledged, and never blocks the
//! queue. Outcome claims are judged in the same transaction (`claims`).

use chrono::{DateTime, Utc};
use siteline_domain::attendance::{MAX_SESSION_HOURS, mark_time_ok, session_window_ok};
use siteline_domain::crypto::SiteKeys;
use siteline_domain::resident_id::ResidentId;
use siteline_domain::scores::score_rubric;
use siteline_proto::catalogue::ProgrammeVersion;
use siteline_proto::records::{self, AttemptUpdate, LearnerUpdate, Marks, Record, SessionUpdate};
use siteline_proto::sync::{HqChange, PushAck, QuarantineNotice, QuarantinedRow};
use siteline_proto::vocab::{ConsentPurpose, IdType};
use siteline_proto::{OutboxRow, PushBatch};
use uuid::Uuid;

use super::bank::{log_change, now};
use super::sql::{Lock, Tx, args};
use super::{DeviceInfo, claims};
use crate::{Error, Result};

/// Longest text HQ stores in any field of a record (names, reasons, labels…).
pub const MAX_TEXT_CHARS: usize = 2000;

/// The longest string anywhere in a JSON value: its path and length in characters.
fn longest_text(value: &serde_json::Value, path: &str) -> Option<(String, usize)> {
    let longer = |a: Option<(String, usize)>, b: Option<(String, usize)>| match (a, b) {
        (Some(a), Some(b)) => Some(if b.1 > a.1 { b } else { a }),
        (a, b) => a.or(b),
    };
    match value {
        serde_json::Value::String(s) => Some((path.to_string(), s.chars().count())),
        serde_json::Value::Array(items) => items.iter().enumerate().fold(None, |best, (i, v)| {
            longer(best, longest_text(v, &format!("{path}[{i}]")))
        }),
        serde_json::Value::Object(fields) => fields.iter().fold(None, |best, (k, v)| {
            let at = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            longer(best, longest_text(v, &at))
        }),
        _ => None,
    }
}

/// HQ's secrets for personal data: the blind-index key that finds one account per person and
/// the sealing key that opens the ID numbers sites seal to HQ.
pub(crate) struct HqKeys {
    pub index: SiteKeys,
    pub seal: siteline_domain::crypto::SealKey,
    /// HQ's Ed25519 key: its answers, device certificates and credentials.
    pub signing: ed25519_dalek::SigningKey,
    /// The address HQ's credentials and status lists live at (`https://hq.example.cn`).
    pub public_url: std::sync::RwLock<String>,
}

/// Where credentials point until `serve` says where HQ listens.
pub(crate) const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:8443";

impl HqKeys {
    /// The public address, without a trailing slash.
    pub fn base_url(&self) -> String {
        self.public_url
            .read()
            .map(|u| u.clone())
            .unwrap_or_else(|_| DEFAULT_PUBLIC_URL.into())
    }
}

/// A reason a row is quarantined, in words the site manager reads.
type Quarantine = String;

/// Checks the batch's shape, its sequence against the high-water mark and ownership, then
/// applies what is new.
/// How a batch's rows are applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rows {
    /// Each row under its own savepoint, so a refused row leaves nothing behind.
    Isolated,
    /// With no savepoints (two statements fewer per row, and no subtransactions on
    /// PostgreSQL): the first row that is refused fails the batch with [`Error::Reapply`], and
    /// the caller applies it again `Isolated` in a new transaction. Nearly every batch has no
    /// refused row.
    Optimistic,
}

pub(crate) fn push(
    tx: &dyn Tx,
    keys: &HqKeys,
    device: &DeviceInfo,
    batch: &PushBatch,
    mode: Rows,
) -> Result<PushAck> {
    check_shape(device, batch)?;
    // Epoch 1 starts at seq 1. A later epoch (a device restored from backup) goes on from
    // the seq its backup held, so its first batch sets where it starts.
    let start = if batch.epoch > 1 {
        batch.from_seq.saturating_sub(1)
    } else {
        0
    };
    // The site's writers one at a time, from here to the commit: two connections racing
    // with the same batch of one device apply it once (the second reads the first's mark),
    // and the site's log grows in commit order.
    tx.lock(Lock::SiteLog(device.site_id))?;
    tx.execute(
        "INSERT INTO device_epoch (device_id, epoch, high_water) VALUES (?1, ?2, ?3)
         ON CONFLICT DO NOTHING",
        args![device.id, batch.epoch, start],
    )?;
    let high_water: u64 = tx.value(
        "SELECT high_water FROM device_epoch WHERE device_id = ?1 AND epoch = ?2",
        args![device.id, batch.epoch],
    )?;
    if batch.from_seq > high_water + 1 {
        return Err(Error::SequenceGap {
            expected: high_water + 1,
            got: batch.from_seq,
        });
    }
    let fresh: Vec<&OutboxRow> = batch.rows.iter().filter(|r| r.seq > high_water).collect();
    for row in &fresh {
        let owner: Option<Uuid> = tx.value_opt(
            "SELECT site_id FROM record_owner WHERE record_id = ?1",
            args![row.record_id],
        )?;
        if owner.is_some_and(|o| o != device.site_id) {
            return Err(Error::ForeignRecord {
                record_id: row.record_id.to_string(),
            });
        }
    }
    let mut quarantined = Vec::new();
    for row in &fresh {
        let reason = match mode {
            Rows::Isolated => apply_isolated(tx, keys, device, row)?,
            Rows::Optimistic => match apply_row(tx, keys, device, row) {
                Ok(()) => None,
                Err(Applied::Fail(e)) if is_fatal(&e) => return Err(e),
                Err(_) => return Err(Error::Reapply),
            },
        };
        let status = if reason.is_some() {
            "quarantined"
        } else {
            "applied"
        };
        tx.execute(
            "INSERT INTO record (device_id, epoch, seq, site_id, entity, op, record_id, payload,
                 recorded_at, received_at, status, reason, hlc)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            args![
                device.id,
                batch.epoch,
                row.seq,
                device.site_id,
                row.entity.as_str(),
                row.op.as_str(),
                row.record_id,
                stored_payload(row).to_string(),
                row.recorded_at,
                now(),
                status,
                reason,
                row.hlc.to_string()
            ],
        )?;
        after_stored(tx, device, row)?;
        // Every operation of the site reaches the site's other devices, applied or not: HQ's
        // quarantine is about what HQ judges from, and each device applies the site's merge
        // rules itself. A row that is not a record of its kind cannot apply anywhere.
        if Record::parse(row.entity, row.op, &row.payload).is_ok() {
            relay(tx, device, batch.epoch, row.seq)?;
        }
        tx.execute(
            "INSERT INTO record_owner (record_id, site_id, entity) VALUES (?1, ?2, ?3)
             ON CONFLICT DO NOTHING",
            args![row.record_id, device.site_id, row.entity.as_str()],
        )?;
        if let Some(reason) = reason {
            log_change(
                tx,
                Some(device.site_id),
                &HqChange::Quarantine(QuarantineNotice {
                    device_id: device.id,
                    seq: row.seq,
                    record_id: row.record_id,
                    reason: reason.clone(),
                }),
            )?;
            quarantined.push(QuarantinedRow {
                seq: row.seq,
                record_id: row.record_id,
                reason,
            });
        }
    }
    let acked_through = high_water.max(batch.to_seq);
    tx.execute(
        "UPDATE device_epoch SET high_water = ?3 WHERE device_id = ?1 AND epoch = ?2",
        args![device.id, batch.epoch, acked_through],
    )?;
    Ok(PushAck {
        epoch: batch.epoch,
        acked_through,
        applied: (fresh.len() - quarantined.len()) as u32,
        already_had: (batch.rows.len() - fresh.len()) as u32,
        quarantined,
    })
}

/// What a `site_record` change stores: the identity of an operation in `record`.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct SiteRecordRef {
    pub device_id: Uuid,
    pub epoch: u32,
    pub seq: u64,
}

/// Puts one stored operation in the change log for the site's other devices. The log holds a
/// reference; the pull reads the row from `record`, so what HQ later blanks there (an erasure)
/// is never sent from an older copy.
fn relay(tx: &dyn Tx, device: &DeviceInfo, epoch: u32, seq: u64) -> Result<()> {
    let reference = serde_json::to_value(SiteRecordRef {
        device_id: device.id,
        epoch,
        seq,
    })?;
    tx.execute(
        "INSERT INTO change_log (site_id, kind, payload, created_at, origin_device)
         VALUES (?1, 'site_record', ?2, ?3, ?4)",
        args![device.site_id, reference.to_string(), now(), device.id],
    )?;
    Ok(())
}

/// Applies one row under its own savepoint, for a push and for an operator re-applying a
/// quarantined row alike: `Ok(None)` when it applied, `Ok(Some(reason))` when HQ refused it or
/// the database did (a duplicate id, a number out of range). A refused row is rolled back alone,
/// leaving nothing behind, and the batch goes on; only a store-wide failure is an error.
pub(crate) fn apply_isolated(
    tx: &dyn Tx,
    keys: &HqKeys,
    device: &DeviceInfo,
    row: &OutboxRow,
) -> Result<Option<Quarantine>> {
    tx.execute("SAVEPOINT row", &[])?;
    let outcome = match apply_row(tx, keys, device, row) {
        Ok(()) => None,
        Err(Applied::Quarantine(reason)) => Some(reason),
        Err(Applied::Fail(e)) if !is_fatal(&e) => {
            tracing::warn!(device = %device.id, seq = row.seq, error = %e, "row quarantined by a database error");
            Some(format!(
                "总部无法保存此记录（{e}），请联系总部 / HQ could not store this row ({e}); contact HQ"
            ))
        }
        // The caller's transaction rolls back whole.
        Err(Applied::Fail(e)) => return Err(e),
    };
    if outcome.is_some() {
        tx.execute("ROLLBACK TO row", &[])?;
    }
    tx.execute("RELEASE row", &[])?;
    Ok(outcome)
}

/// What HQ keeps of a row: the payload as received, minus the sealed resident ID number, which
/// HQ opens in memory, turns into its blind index and never stores.
pub(crate) fn stored_payload(row: &OutboxRow) -> serde_json::Value {
    let mut payload = row.payload.clone();
    if row.entity == siteline_proto::Entity::Learner
        && let Some(fields) = payload.as_object_mut()
    {
        fields.remove("id_number_sealed");
    }
    payload
}

/// A database failure that concerns the whole store (disk full, I/O error, corruption, a lock
/// held too long) fails the batch so the device retries it; any other error is about the row.
fn is_fatal(e: &Error) -> bool {
    match e {
        Error::Storage(e) => super::sqlite::is_fatal(e),
        Error::Postgres(e) => super::postgres::is_fatal(e),
        _ => false,
    }
}

fn check_shape(device: &DeviceInfo, batch: &PushBatch) -> Result<()> {
    let bad = |m: String| Err(Error::Malformed(m));
    if batch.device_id != device.id {
        return bad(format!(
            "the batch names device {} but was signed by {}",
            batch.device_id, device.id
        ));
    }
    if batch.rows.is_empty() || batch.from_seq == 0 || batch.to_seq < batch.from_seq {
        return bad("a batch holds at least one row and from_seq ≤ to_seq, starting at 1".into());
    }
    if batch.rows.len() as u64 != batch.to_seq - batch.from_seq + 1 {
        return bad("the batch's rows do not cover from_seq..to_seq exactly".into());
    }
    for (i, row) in batch.rows.iter().enumerate() {
        if row.seq != batch.from_seq + i as u64
            || row.device_id != batch.device_id
            || row.epoch != batch.epoch
        {
            return bad(format!(
                "row {i} is out of order or from another device or epoch"
            ));
        }
    }
    Ok(())
}

pub(crate) enum Applied {
    Quarantine(Quarantine),
    Fail(Error),
}

impl From<Error> for Applied {
    fn from(e: Error) -> Self {
        Applied::Fail(e)
    }
}

pub(crate) fn q<T>(reason: impl Into<String>) -> Result<T, Applied> {
    Err(Applied::Quarantine(reason.into()))
}

fn apply_row(
    tx: &dyn Tx,
    keys: &HqKeys,
    device: &DeviceInfo,
    row: &OutboxRow,
) -> Result<(), Applied> {
    if let Some((field, chars)) = longest_text(&row.payload, "")
        && chars > MAX_TEXT_CHARS
    {
        return q(format!(
            "字段 {field} 有 {chars} 个字符，超过上限 {MAX_TEXT_CHARS} / field {field} is {chars} characters long, over the limit of {MAX_TEXT_CHARS}"
        ));
    }
    let record = match Record::parse(row.entity, row.op, &row.payload) {
        Ok(record) => record,
        Err(e) => {
            return q(format!(
                "记录内容不符合 {entity} 记录的格式：{e}；请升级站点软件后重新同步 / the payload is not a valid {entity} record: {e}; update the site app and sync again",
                entity = row.entity.as_str()
            ));
        }
    };
    match &record {
        Record::Learner(l) => learner(tx, keys, device, row.record_id, l),
        Record::Cohort(c) => {
            let pv = &c.programme_version_id;
            if programme(tx, pv)?.is_none() {
                return q(format!(
                    "培训项目版本 {pv} 不在已发布的目录中 / programme version {pv} is not in any published catalogue"
                ));
            }
            tx.execute(
                "INSERT INTO cohort (record_id, site_id, programme_version_id) VALUES (?1, ?2, ?3)",
                args![row.record_id, device.site_id, pv],
            )?;
            Ok(())
        }
        Record::Enrolment(e) => {
            let known = |table: &str, id: Uuid| -> Result<bool, Applied> {
                Ok(tx.exists(
                    &format!("SELECT 1 FROM {table} WHERE record_id = ?1 AND site_id = ?2"),
                    args![id, device.site_id],
                )?)
            };
            if !known("cohort", e.cohort_id)? || !known("learner", e.learner_id)? {
                return q(
                    "报名记录引用的培训班或学员总部尚未收到 / the enrolment refers to a cohort or learner HQ has not received",
                );
            }
            tx.execute(
                "INSERT INTO enrolment (record_id, site_id, cohort_id, learner_id) VALUES (?1, ?2, ?3, ?4)",
                args![row.record_id, device.site_id, e.cohort_id, e.learner_id],
            )?;
            Ok(())
        }
        Record::AssessmentAttempt(a) => attempt(tx, device, row.record_id, a),
        Record::AttemptUpdate(u) => attempt_update(tx, device, row.record_id, u),
        Record::OutcomeClaim(c) => claims::claim(tx, keys, device, row.record_id, c),
        Record::Session(s) => session(tx, device, row.record_id, s),
        Record::SessionUpdate(SessionUpdate::Closed { closed_at, .. }) => {
            let known = tx.exists(
                "SELECT 1 FROM session WHERE record_id = ?1 AND site_id = ?2",
                args![row.record_id, device.site_id],
            )?;
            if !known {
                return q("关闭的课次总部尚未收到 / the closed session is one HQ has not received");
            }
            // Of two closes (two devices), the earlier stamp stands, as at every device.
            tx.execute(
                "UPDATE session SET closed_at = ?3, closed_hlc = ?4
                 WHERE record_id = ?1 AND site_id = ?2 AND (closed_hlc IS NULL OR closed_hlc > ?4)",
                args![
                    row.record_id,
                    device.site_id,
                    closed_at,
                    row.hlc.to_string()
                ],
            )?;
            Ok(())
        }
        Record::AttendanceEvent(e) => attendance(tx, device, row, e),
        Record::Correction(c) => {
            tx.execute("INSERT INTO correction (record_id, site_id, entity, target_id) VALUES (?1, ?2, ?3, ?4)", args![row.record_id, device.site_id, c.entity.as_str(), c.target_id])?;
            Ok(())
        }
        Record::Consent(c) => {
            if c.purpose == ConsentPurpose::CreditBank && !c.granted {
                forget_learner(tx, device, c.learner_id)?;
            }
            Ok(())
        }
        Record::LearnerUpdate(LearnerUpdate::Erased { .. }) => {
            // What HQ relays of the learner is scrubbed once the row is stored (`after_stored`).
            forget_learner(tx, device, row.record_id)?;
            Ok(())
        }
        Record::LearnerUpdate(LearnerUpdate::Edited { name, .. }) => {
            learner_edited(tx, device, row, name.as_deref())
        }
        // Staff and cohort status changes, and a site's merge of two registrations of one
        // person (HQ already holds both under one credit account), are kept as received.
        Record::StaffUser(..)
        | Record::CohortUpdate(_)
        | Record::LearnerUpdate(LearnerUpdate::MergedInto { .. }) => Ok(()),
    }
}

fn session(
    tx: &dyn Tx,
    device: &DeviceInfo,
    record_id: Uuid,
    s: &records::Session,
) -> Result<(), Applied> {
    if !session_window_ok(s.starts_at, s.ends_at) {
        return q(format!(
            "课次时间不合理（须在开始之后结束，且不超过 {MAX_SESSION_HOURS} 小时）/ the session's times are impossible (it must end after it starts and last at most {MAX_SESSION_HOURS} h)"
        ));
    }
    let known = tx.exists(
        "SELECT 1 FROM cohort WHERE record_id = ?1 AND site_id = ?2",
        args![s.cohort_id, device.site_id],
    )?;
    if !known {
        return q(
            "课次引用的培训班总部尚未收到 / the session refers to a cohort HQ has not received",
        );
    }
    tx.execute("INSERT INTO session (record_id, site_id, cohort_id, starts_at, ends_at) VALUES (?1, ?2, ?3, ?4, ?5)", args![record_id, device.site_id, s.cohort_id, s.starts_at, s.ends_at])?;
    Ok(())
}

/// A roll-call mark counts at HQ only if it is for a session and an enrolled learner HQ holds,
/// at a time within the session, and, once the session is closed, only as a manager's
/// correction HQ also holds.
fn attendance(
    tx: &dyn Tx,
    device: &DeviceInfo,
    row: &OutboxRow,
    e: &records::AttendanceEvent,
) -> Result<(), Applied> {
    let record_id = row.record_id;
    type Window = (DateTime<Utc>, DateTime<Utc>, Option<String>, Uuid);
    let session: Option<Window> = tx
        .opt(
            "SELECT starts_at, ends_at, closed_hlc, cohort_id FROM session WHERE record_id = ?1 AND site_id = ?2",
            args![e.session_id, device.site_id],
        )?
        .map(|r| Ok::<_, Error>((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .transpose()?;
    let Some((starts, ends, closed, cohort)) = session else {
        return q("点名引用的课次总部尚未收到 / the mark refers to a session HQ has not received");
    };
    let enrolled = tx.exists(
        "SELECT 1 FROM enrolment WHERE cohort_id = ?1 AND learner_id = ?2 AND site_id = ?3",
        args![cohort, e.learner_id, device.site_id],
    )?;
    if !enrolled {
        return q(
            "点名的学员未报名该培训班 / the learner marked is not enrolled in the session's cohort",
        );
    }
    if !mark_time_ok(starts, ends, e.at) {
        return q(format!(
            "点名时间 {at} 不在课次时间内 / the mark's time {at} is outside the session",
            at = e.at.format("%Y-%m-%d %H:%M UTC")
        ));
    }
    // A mark stamped after the close does not count unless it is a correction; one stamped
    // before it (taken on another device before it heard of the close) counts.
    if closed.is_some_and(|c| row.hlc.to_string() > c) {
        let corrected = match e.correction_id {
            Some(c) => tx.exists("SELECT 1 FROM correction WHERE record_id = ?1 AND site_id = ?2 AND entity = 'attendance_event'", args![c, device.site_id])?,
            None => false,
        };
        if !corrected {
            return q(
                "课次关闭后记录的点名不计入，须由站点负责人登记更正 / a mark recorded after the session was closed does not count unless a site manager records it as a correction",
            );
        }
    }
    tx.execute("INSERT INTO attendance (record_id, site_id, session_id, learner_id, kind, at, correction_id, hlc)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", args![
        record_id,
        device.site_id,
        e.session_id,
        e.learner_id,
        e.kind.as_str(),
        e.at,
        e.correction_id,
        row.hlc.to_string()
    ])?;
    Ok(())
}

fn learner(
    tx: &dyn Tx,
    keys: &HqKeys,
    device: &DeviceInfo,
    record_id: Uuid,
    l: &records::Learner,
) -> Result<(), Applied> {
    let existing: Option<Option<i64>> = tx.value_opt(
        "SELECT account_id FROM learner WHERE record_id = ?1 AND site_id = ?2",
        args![record_id, device.site_id],
    )?;
    if l.withheld {
        // No credit-bank consent: HQ keeps the id only, so the learner's enrolments and marks
        // still fit; their claims wait for the consent (no account).
        if existing.is_none() {
            tx.execute(
                "INSERT INTO learner (record_id, site_id, account_id, name, id_masked) VALUES (?1, ?2, NULL, '', NULL)",
                args![record_id, device.site_id],
            )?;
        }
        return Ok(());
    }
    let name = l.name.trim();
    if name.is_empty() {
        return q("学员没有姓名 / the learner has no name");
    }
    let mut account: Option<i64> = None;
    if let Some(sealed) = &l.id_number_sealed
        && l.id_type == IdType::ResidentId
    {
        let opened = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, sealed)
            .ok()
            .and_then(|bytes| keys.seal.open(&bytes).ok());
        let Some(number) = opened else {
            return q(
                "学员身份证号未用本总部的密钥封装，请在站点重新登记设备后同步 / the learner's ID number is not sealed to this HQ's key; enrol the device with this HQ again and sync",
            );
        };
        let Ok(id) = ResidentId::parse(&number) else {
            return q(
                "学员身份证号校验位错误，请在站点更正 / the learner's ID number fails the GB 11643 checksum; correct it at the site",
            );
        };
        account = Some(account_for(tx, &keys.index, id.as_str())?);
    }
    match existing {
        None => {
            tx.execute(
                "INSERT INTO learner (record_id, site_id, account_id, name, id_masked) VALUES (?1, ?2, ?3, ?4, ?5)",
                args![record_id, device.site_id, account, name, l.id_masked],
            )?;
        }
        Some(Some(old)) if account.is_some_and(|new| new != old) => {
            return q(
                "学员的学分账户不能由站点更改；如身份证号有误，请联系总部审核 / a site cannot move a learner to another credit account; if the ID number was wrong, ask HQ to review it",
            );
        }
        Some(old) => {
            tx.execute(
                "UPDATE learner SET name = ?2, id_masked = ?3, account_id = ?4 WHERE record_id = ?1",
                args![record_id, name, l.id_masked, account.or(old)],
            )?;
        }
    }
    Ok(())
}

/// The learner withdrew consent to the credit bank, or had their personal data erased: HQ
/// blanks their name and masked ID, in its learner table and in every learner row it
/// received. It keeps the record ids, the credit account link, decisions, credits and
/// certificates (the person's accredited achievements; an account number alone names nobody).
fn forget_learner(tx: &dyn Tx, device: &DeviceInfo, learner: Uuid) -> Result<(), Applied> {
    tx.execute(
        "UPDATE learner SET name = '', id_masked = NULL WHERE record_id = ?1 AND site_id = ?2",
        args![learner, device.site_id],
    )?;
    rewrite_learner_rows(tx, device, learner, "update", |fields| {
        fields.remove("name");
    })?;
    rewrite_learner_rows(tx, device, learner, "insert", |fields| {
        for (key, blank) in [
            ("name", serde_json::json!("")),
            ("id_masked", serde_json::json!("")),
            ("phone_masked", serde_json::Value::Null),
            ("sex", serde_json::Value::Null),
            ("birth_date", serde_json::Value::Null),
        ] {
            fields.insert(key.into(), blank);
        }
    })?;
    Ok(())
}

/// A site's change of a learner's details: the new name (sent only with the learner's consent)
/// replaces HQ's unless HQ holds a change of the name with a later stamp.
fn learner_edited(
    tx: &dyn Tx,
    device: &DeviceInfo,
    row: &OutboxRow,
    name: Option<&str>,
) -> Result<(), Applied> {
    let known = tx.exists(
        "SELECT 1 FROM learner WHERE record_id = ?1 AND site_id = ?2",
        args![row.record_id, device.site_id],
    )?;
    if !known {
        return q("修改的学员总部尚未收到 / the learner changed is one HQ has not received");
    }
    let Some(name) = name.map(str::trim) else {
        return Ok(());
    };
    if name.is_empty() {
        return q("学员没有姓名 / the learner has no name");
    }
    let later = tx.query(
        "SELECT payload FROM record
         WHERE record_id = ?1 AND site_id = ?2 AND entity = 'learner' AND op = 'update'
           AND status = 'applied' AND hlc > ?3",
        args![row.record_id, device.site_id, row.hlc.to_string()],
    )?;
    for r in later {
        let Ok(payload) = serde_json::from_str::<serde_json::Value>(&r.get::<String>(0)?) else {
            continue;
        };
        if let Ok(Record::LearnerUpdate(LearnerUpdate::Edited { name: Some(_), .. })) =
            Record::parse(
                siteline_proto::Entity::Learner,
                siteline_proto::Op::Update,
                &payload,
            )
        {
            return Ok(());
        }
    }
    tx.execute(
        "UPDATE learner SET name = ?3 WHERE record_id = ?1 AND site_id = ?2 AND name <> ''",
        args![row.record_id, device.site_id, name],
    )?;
    Ok(())
}

/// A learner row stored (any, in any order): once the learner's data was erased at the site,
/// what HQ relays of them to the site's devices holds none of their numbers. Their rows carry
/// the profile the erasure sent (no numbers) in place of the one they were registered with, and
/// no phone number a change carried.
pub(crate) fn after_stored(tx: &dyn Tx, device: &DeviceInfo, row: &OutboxRow) -> Result<()> {
    if row.entity != siteline_proto::Entity::Learner {
        return Ok(());
    }
    let updates = tx.query(
        "SELECT payload FROM record
         WHERE record_id = ?1 AND site_id = ?2 AND entity = 'learner' AND op = 'update'",
        args![row.record_id, device.site_id],
    )?;
    let mut erased: Option<Option<String>> = None;
    for r in updates {
        let payload: serde_json::Value = serde_json::from_str(&r.get::<String>(0)?)?;
        if let Ok(Record::LearnerUpdate(LearnerUpdate::Erased { site_sealed, .. })) = Record::parse(
            siteline_proto::Entity::Learner,
            siteline_proto::Op::Update,
            &payload,
        ) {
            erased = Some(site_sealed.or(erased.flatten()));
        }
    }
    let Some(profile) = erased else {
        return Ok(());
    };
    rewrite_learner_rows(tx, device, row.record_id, "insert", |fields| {
        match &profile {
            Some(p) => fields.insert("site_sealed".into(), serde_json::json!(p)),
            None => fields.remove("site_sealed"),
        };
    })?;
    rewrite_learner_rows(tx, device, row.record_id, "update", |fields| {
        fields.remove("phone_sealed");
    })?;
    Ok(())
}

/// Changes the learner rows HQ received for `learner` (its inserts or its updates, `op`) with
/// `edit`.
fn rewrite_learner_rows(
    tx: &dyn Tx,
    device: &DeviceInfo,
    learner: Uuid,
    op: &str,
    edit: impl Fn(&mut serde_json::Map<String, serde_json::Value>),
) -> Result<()> {
    let rows = tx.query(
        "SELECT device_id, epoch, seq, payload FROM record
         WHERE record_id = ?1 AND site_id = ?2 AND entity = 'learner' AND op = ?3",
        args![learner, device.site_id, op],
    )?;
    for r in rows {
        let mut payload: serde_json::Value = serde_json::from_str(&r.get::<String>(3)?)?;
        if let Some(fields) = payload.as_object_mut() {
            edit(fields);
        }
        tx.execute(
            "UPDATE record SET payload = ?4 WHERE device_id = ?1 AND epoch = ?2 AND seq = ?3",
            args![
                r.get::<Uuid>(0)?,
                r.get::<i64>(1)?,
                r.get::<i64>(2)?,
                payload.to_string()
            ],
        )?;
    }
    Ok(())
}

/// One credit account per person across all sites, found by HQ's blind index of the ID number.
fn account_for(tx: &dyn Tx, keys: &SiteKeys, id_number: &str) -> Result<i64> {
    let index = keys.blind_index("resident_id", id_number);
    let find = || {
        tx.value_opt::<i64>(
            "SELECT id FROM credit_account WHERE id_index = ?1",
            args![index],
        )
    };
    if let Some(id) = find()? {
        return Ok(id);
    }
    // Of two sites registering one person at once, one inserts; the other waits for it, then
    // finds its account (a number from the sequence is then left unused).
    let next = tx.next_value("credit_account_id")?;
    let inserted = tx.execute(
        "INSERT INTO credit_account (id, account_no, id_index, created_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (id_index) DO NOTHING",
        args![next, format!("CB{next:010}"), index, now()],
    )?;
    if inserted == 1 {
        return Ok(next);
    }
    find()?.ok_or_else(|| Error::Internal("a credit account vanished while it was created".into()))
}

pub(crate) fn programme(tx: &dyn Tx, id: &str) -> Result<Option<ProgrammeVersion>> {
    let doc: Option<String> = tx.value_opt(
        "SELECT document FROM programme_version WHERE id = ?1",
        args![id],
    )?;
    Ok(doc.map(|d| serde_json::from_str(&d)).transpose()?)
}

fn attempt_update(
    tx: &dyn Tx,
    device: &DeviceInfo,
    record_id: Uuid,
    update: &AttemptUpdate,
) -> Result<(), Applied> {
    let locked: Option<bool> = tx.value_opt(
        "SELECT locked FROM attempt WHERE record_id = ?1 AND site_id = ?2",
        args![record_id, device.site_id],
    )?;
    let Some(locked) = locked else {
        return q("更新的考核记录总部尚未收到 / the update is for an attempt HQ has not received");
    };
    match update {
        AttemptUpdate::Marks { marks, score, .. } => {
            if locked {
                return q(
                    "考核成绩锁定后又被修改，请改为登记更正 / the attempt was edited after it was locked; record a correction instead",
                );
            }
            let critical = critical_failed(tx, record_id, marks)?;
            tx.execute(
                "UPDATE attempt SET score = ?2, critical_failed = ?3 WHERE record_id = ?1",
                args![record_id, (*score).min(100), critical],
            )?;
        }
        AttemptUpdate::Locked { .. } => {
            tx.execute(
                "UPDATE attempt SET locked = ?2 WHERE record_id = ?1",
                args![record_id, true],
            )?;
        }
    }
    Ok(())
}

fn attempt(
    tx: &dyn Tx,
    device: &DeviceInfo,
    record_id: Uuid,
    a: &records::AssessmentAttempt,
) -> Result<(), Applied> {
    if a.score > 100 {
        return q(format!(
            "{c} 考核分数 {s} 超出范围 / an attempt of {c} scored {s} is out of range",
            c = a.component.as_str(),
            s = a.score
        ));
    }
    let enrolled = tx.exists(
        "SELECT 1 FROM enrolment WHERE record_id = ?1 AND site_id = ?2",
        args![a.enrolment_id, device.site_id],
    )?;
    if !enrolled {
        return q(
            "考核记录引用的报名总部尚未收到 / the attempt refers to an enrolment HQ has not received",
        );
    }
    let critical = critical_failed(tx, a.enrolment_id, &a.marks)?;
    tx.execute(
        "INSERT INTO attempt (record_id, site_id, enrolment_id, component, attempt_no, score, critical_failed, locked, corrects)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        args![
            record_id,
            device.site_id,
            a.enrolment_id,
            a.component.as_str(),
            a.attempt_no,
            a.score,
            critical,
            a.locked_at.is_some(),
            a.corrects,
        ],
    )?;
    Ok(())
}

/// HQ does not take the site's word for a critical failure: it scores the rubric marks against
/// its own catalogue with the domain's rule. `anchor` is an enrolment or attempt id to find the
/// programme. Marks that do not fit HQ's rubric quarantine the row.
fn critical_failed(tx: &dyn Tx, anchor: Uuid, marks: &Marks) -> Result<bool, Applied> {
    let Marks::Rubric { items } = marks else {
        return Ok(false);
    };
    let pv: Option<String> = tx.value_opt(
        "SELECT c.programme_version_id FROM cohort c JOIN enrolment e ON e.cohort_id = c.record_id
         WHERE e.record_id = ?1
            OR e.record_id = (SELECT enrolment_id FROM attempt WHERE record_id = ?1)",
        args![anchor],
    )?;
    let Some(pv) = pv.map(|id| programme(tx, &id)).transpose()?.flatten() else {
        return Ok(false);
    };
    match score_rubric(&pv.rubric, items) {
        Ok(result) => Ok(result.critical_failed),
        Err(e) => q(format!(
            "评分表与总部目录不符：{e} / the rubric marks do not fit the catalogue's rubric: {e}"
        )),
    }
}
