//! What the UI shows about sync: the state, how much waits and since when, the last success,
//! the last error in plain Chinese and English with what to do, and each record's standing.

use chrono::{DateTime, Utc};
use rusqlite::OptionalExtension;
use serde::Serialize;
use uuid::Uuid;

use crate::store::{Site, outbox};
use crate::{Error, Result};

/// The sync state as the badge shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum SyncState {
    /// Nothing to do, or waiting for the next interval.
    Idle,
    /// A pass is running.
    Syncing,
    /// No link: waiting for the network.
    Offline,
    /// The last pass failed for a reason other than the link.
    Error,
}

/// An error as a site manager reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Problem {
    /// Machine kind (`offline`, `refused`, …).
    pub kind: String,
    /// 中文说明与处理办法.
    pub zh: String,
    /// English explanation and what to do.
    pub en: String,
    /// The technical detail.
    pub detail: String,
    /// When it happened.
    pub at: Option<DateTime<Utc>>,
}

/// Everything the sync centre shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SyncStatus {
    /// State.
    pub state: SyncState,
    /// Operations waiting for HQ.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub pending: u64,
    /// When the oldest waiting operation was recorded.
    pub oldest_pending_at: Option<DateTime<Utc>>,
    /// Last successful pass.
    pub last_success_at: Option<DateTime<Utc>>,
    /// Last error, if the last pass failed.
    pub last_error: Option<Problem>,
    /// Site code this device is enrolled with.
    pub site_code: Option<String>,
    /// HQ revoked this device.
    pub revoked: bool,
    /// HQ address, once enrolled.
    pub hq_url: Option<String>,
    /// Site name HQ gave at enrolment.
    pub site_name: Option<String>,
    /// When this device was enrolled.
    pub enrolled_at: Option<String>,
    /// This device.
    pub device_id: Uuid,
    /// Its epoch (a new one after each restore from backup).
    pub epoch: u32,
    /// Records HQ quarantined.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub quarantined: u64,
}

/// The kind a failed pass is recorded under: the error's kind, except that a refusal by HQ is
/// recorded under HQ's own `code` (`device_revoked`, `stale_timestamp`…), so the words shown
/// never depend on HQ's message text.
pub fn failure_kind(e: &Error) -> String {
    match e {
        Error::Refused { code, .. } => format!("refused:{code}"),
        other => other.kind().to_string(),
    }
}

/// Turns a recorded failure kind and detail into words for a site manager.
pub fn explain(kind: &str, detail: &str, at: Option<DateTime<Utc>>) -> Problem {
    let (zh, en) = match kind {
        "offline" => (
            "暂时连不上学分银行。数据已安全保存在本机，联网后会自动同步；也可导出同步文件用U盘带到总部。",
            "The credit bank cannot be reached right now. Everything is saved on this computer and will sync when the link returns; or export a sync file and carry it on a USB stick.",
        ),
        "not_credit_bank" => (
            "连到的不是学分银行（可能需要先登录网络，或总部地址有误）。请检查网络登录页或设置中的总部地址。",
            "The address answered but it is not the credit bank (perhaps a network sign-in page, or a wrong HQ address). Sign in to the network or check the HQ address in settings.",
        ),
        "not_enrolled" => (
            "本机尚未在学分银行登记。请向总部索取登记码，在同步中心完成登记。",
            "This device is not enrolled with the credit bank. Ask HQ for an enrolment code and enrol it in the sync centre.",
        ),
        "refused:device_revoked" | "refused:unknown_device" => (
            "总部已停用本机。请联系总部获取新的登记码。",
            "HQ has revoked this device. Contact HQ for a new enrolment code.",
        ),
        "refused:stale_timestamp" => (
            "本机时间与总部相差过大。请校正电脑时间后再同步。",
            "This computer's clock is too far from HQ's. Correct the clock and sync again.",
        ),
        "refused:unsupported_protocol" => (
            "学分银行已升级，本机的 Siteline 版本过旧。请在设置中检查更新，或向总部索取新版本。",
            "The credit bank has moved on and this Siteline is too old. Check for updates in settings, or ask HQ for the new version.",
        ),
        k if k == "refused" || k.starts_with("refused:") => (
            "学分银行拒绝了这次同步。请把下面的说明告诉总部。",
            "The credit bank refused this sync. Pass the detail below to HQ.",
        ),
        _ => (
            "同步出错，稍后会自动重试。如果一直出现，请把下面的说明告诉总部。",
            "Sync failed and will be retried. If it keeps happening, pass the detail below to HQ.",
        ),
    };
    Problem {
        kind: kind.split(':').next().unwrap_or(kind).into(),
        zh: zh.into(),
        en: en.into(),
        detail: detail.into(),
        at,
    }
}

/// Reads the stored status; `running` says whether a pass is under way right now.
pub fn status(site: &Site, running: bool) -> Result<SyncStatus> {
    let (pending, oldest_pending_at) = outbox::pending_summary(site.conn())?;
    type Row = (
        Option<DateTime<Utc>>,
        Option<String>,
        Option<DateTime<Utc>>,
        Option<String>,
        bool,
    );
    let (last_success_at, last_error, last_error_at, site_code, revoked): Row = site.conn().query_row(
        "SELECT last_success_at, last_error, last_error_at, site_code, revoked_at IS NOT NULL FROM sync_state",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
    )?;
    let (hq_url, site_name, enrolled_at): (Option<String>, Option<String>, Option<String>) = site
        .conn()
        .query_row(
            "SELECT hq_url, site_name, enrolled_at FROM sync_state WHERE site_id IS NOT NULL",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?
        .unwrap_or_default();
    let device = outbox::device(site.conn())?;
    let quarantined: u64 =
        site.conn()
            .query_row("SELECT count(*) FROM record_quarantine", [], |r| r.get(0))?;
    let last_error = last_error.map(|e| {
        let (kind, detail) = e.split_once('\n').unwrap_or(("error", e.as_str()));
        explain(kind, detail, last_error_at)
    });
    let state = match (&last_error, running) {
        (_, true) => SyncState::Syncing,
        (Some(p), false) if p.kind == "offline" => SyncState::Offline,
        (Some(_), false) => SyncState::Error,
        (None, false) => SyncState::Idle,
    };
    Ok(SyncStatus {
        state,
        pending,
        oldest_pending_at,
        last_success_at,
        last_error,
        site_code,
        revoked,
        hq_url,
        site_name,
        enrolled_at,
        device_id: device.device_id,
        epoch: device.epoch,
        quarantined,
    })
}

/// A record HQ stored but quarantined, with HQ's reason, for the sync centre.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct QuarantinedRecord {
    /// The record.
    pub record_id: Uuid,
    /// What it is, in words: a learner's or cohort's name, else the kind of record.
    pub label: String,
    /// HQ's reason.
    pub reason: String,
    /// When the site learned of it.
    pub received_at: DateTime<Utc>,
}

/// Every quarantined record, newest first.
pub fn quarantined(site: &Site) -> Result<Vec<QuarantinedRecord>> {
    let mut stmt = site.conn().prepare_cached(
        "SELECT q.record_id, q.reason, q.received_at,
                coalesce((SELECT '学员 ' || name FROM learner WHERE id = q.record_id),
                         (SELECT '班级 ' || name FROM cohort WHERE id = q.record_id),
                         (SELECT '考核 ' || l.name FROM assessment_attempt a
                            JOIN enrolment e ON e.id = a.enrolment_id JOIN learner l ON l.id = e.learner_id
                           WHERE a.id = q.record_id),
                         (SELECT '考勤 ' || l.name FROM attendance_event a JOIN learner l ON l.id = a.learner_id
                           WHERE a.id = q.record_id),
                         '记录')
           FROM record_quarantine q ORDER BY q.received_at DESC",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(QuarantinedRecord {
            record_id: r.get(0)?,
            reason: r.get(1)?,
            received_at: r.get(2)?,
            label: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A record's standing with HQ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum RecordSync {
    /// HQ has it.
    Synced,
    /// Waiting in the outbox.
    Pending,
    /// HQ stored it but quarantined it.
    Quarantined {
        /// HQ's reason.
        reason: String,
    },
}

/// Keeps HQ's reason for quarantining a record (from a push ack or a pull page).
pub(crate) fn note_quarantine(
    tx: &rusqlite::Transaction<'_>,
    record: Uuid,
    seq: u64,
    reason: &str,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO record_quarantine (record_id, seq, reason, received_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (record_id) DO UPDATE SET seq = excluded.seq, reason = excluded.reason",
    )?
    .execute(rusqlite::params![record, seq, reason, crate::store::now()])?;
    Ok(())
}

/// HQ resolved a quarantined record: re-applied, it is synced like any other; set aside, its
/// reason gains HQ's note.
pub(crate) fn note_resolution(
    tx: &rusqlite::Transaction<'_>,
    r: &siteline_proto::sync::QuarantineResolved,
) -> Result<()> {
    if r.applied {
        tx.prepare_cached("DELETE FROM record_quarantine WHERE record_id = ?1")?
            .execute([r.record_id])?;
    } else {
        tx.prepare_cached(
            "UPDATE record_quarantine SET reason = reason || ?2 WHERE record_id = ?1",
        )?
        .execute(rusqlite::params![
            r.record_id,
            format!(
                "\n总部已搁置：{note} / set aside by HQ: {note}",
                note = r.note
            )
        ])?;
    }
    Ok(())
}

/// One record's standing.
pub fn record_status(site: &Site, record: Uuid) -> Result<RecordSync> {
    let reason: Option<String> = site
        .conn()
        .prepare_cached("SELECT reason FROM record_quarantine WHERE record_id = ?1")?
        .query_row([record], |r| r.get(0))
        .optional()?;
    if let Some(reason) = reason {
        return Ok(RecordSync::Quarantined { reason });
    }
    if outbox::is_pending(site.conn(), record)? {
        Ok(RecordSync::Pending)
    } else {
        Ok(RecordSync::Synced)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_is_worded_by_hqs_code_never_by_its_message() {
        let refused = |code: &str, message: &str| Error::Refused {
            code: code.into(),
            message: message.into(),
        };
        // HQ's message about a bad signature happens to mention a revoked key and the clock:
        // the words must still be the generic refusal, not "device revoked" or "fix the clock".
        let e = refused(
            "bad_signature",
            "signed with a revoked key, check the clock",
        );
        let p = explain(&failure_kind(&e), &e.to_string(), None);
        assert_eq!(p.kind, "refused");
        assert!(p.en.starts_with("The credit bank refused"), "{}", p.en);
        // The code alone decides, whatever the message says.
        let e = refused("stale_timestamp", "时间戳超出窗口");
        let p = explain(&failure_kind(&e), &e.to_string(), None);
        assert!(p.en.contains("clock"), "{}", p.en);
        let e = refused("device_revoked", "");
        assert!(explain(&failure_kind(&e), "", None).zh.contains("停用"));
        let e = refused("unsupported_protocol", "update Siteline");
        assert!(explain(&failure_kind(&e), "", None).en.contains("too old"));
        // Errors that are not refusals keep their own kind.
        let e = Error::Network("timed out".into());
        assert_eq!(explain(&failure_kind(&e), "", None).kind, "offline");
    }
}
