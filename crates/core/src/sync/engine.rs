//! One sync pass: push the outbox in batches sized by bytes, then pull the change log page by
//! page. Each acknowledgement prunes the outbox in one transaction; each page is applied
//! together with its cursor in one transaction. A pass that breaks off anywhere leaves the
//! site consistent and resumes where it stopped: HQ's high-water mark makes a re-sent batch
//! harmless, and a page whose cursor was not stored is simply fetched again.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use siteline_proto::sync::{HqChange, PullPage, PushAck};
use uuid::Uuid;

use super::client::HqClient;
use super::outgoing::{mark_sent, next_batch};
use super::status::{self, note_quarantine};
use crate::store::db::Db;
use crate::store::replica::{self, Received, Via};
use crate::store::{Site, catalogue, hq, outbox};
use crate::{Error, Result};

/// Batch sizes by bytes: start small, grow while requests finish quickly, shrink on failure.
pub const MIN_BATCH_BYTES: usize = 4 * 1024;
/// Start size.
pub const START_BATCH_BYTES: usize = 64 * 1024;
/// Largest batch.
pub const MAX_BATCH_BYTES: usize = 2 * 1024 * 1024;
/// A request quicker than this lets the next batch double.
const FAST: Duration = Duration::from_secs(3);

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SyncReport {
    /// Operations HQ acknowledged.
    pub pushed: u64,
    /// Changes pulled and applied.
    pub pulled: u64,
    /// HTTP requests made.
    pub round_trips: u32,
    /// Compressed request bytes sent.
    pub bytes_sent: u64,
    /// Rows HQ quarantined in this pass.
    pub quarantined: u32,
}

/// The sync engine for one site database and one HQ.
pub struct Engine {
    db: Db,
    client: HqClient,
    batch_bytes: AtomicUsize,
    /// HQ was verified (hello) since the last failure; skip the extra round trip until then.
    verified: AtomicBool,
    /// Largest pull page to ask for.
    pub pull_max_bytes: u64,
}

impl Engine {
    /// An engine over an open database and a client.
    pub fn new(db: Db, client: HqClient) -> Arc<Self> {
        Arc::new(Engine {
            db,
            client,
            batch_bytes: AtomicUsize::new(START_BATCH_BYTES),
            verified: AtomicBool::new(false),
            pull_max_bytes: 256 * 1024,
        })
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The client.
    pub fn client(&self) -> &HqClient {
        &self.client
    }

    /// Current push batch size in bytes.
    pub fn batch_bytes(&self) -> usize {
        self.batch_bytes.load(Ordering::Relaxed)
    }

    /// Runs one pass; on failure records the error for the status screen and returns it.
    pub async fn sync_once(&self) -> Result<SyncReport> {
        let result = self.pass().await;
        let error = result
            .as_ref()
            .err()
            .map(|e| (status::failure_kind(e), e.to_string()));
        if error.is_some() {
            self.verified.store(false, Ordering::Relaxed);
        }
        let offset = self.client.clock_offset_ms();
        self.db
            .call(move |site| {
                let now = crate::store::now();
                match error {
                    None => site.conn().execute(
                        "UPDATE sync_state SET last_success_at = ?1, last_error = NULL, last_error_at = NULL,
                             clock_offset_ms = ?2",
                        params![now, offset],
                    )?,
                    Some((kind, message)) => site.conn().execute(
                        "UPDATE sync_state SET last_error = ?1, last_error_at = ?2",
                        params![format!("{kind}\n{message}"), now],
                    )?,
                };
                Ok(())
            })
            .await?;
        result
    }

    async fn pass(&self) -> Result<SyncReport> {
        let mut report = SyncReport::default();
        let enrolled = self
            .db
            .call(|site| {
                Ok(site.conn().query_row(
                    "SELECT site_id IS NOT NULL FROM sync_state",
                    [],
                    |r| r.get::<_, bool>(0),
                )?)
            })
            .await?;
        if !enrolled {
            return Err(Error::NotEnrolled);
        }
        let key = self.db.call(|site| pinned_hq_key(site)).await?;
        if let Some(key) = key {
            self.client.pin_hq_key(&key)?;
        }
        if !self.verified.load(Ordering::Relaxed) {
            self.client.hello().await?;
            report.round_trips += 1;
            self.verified.store(true, Ordering::Relaxed);
        }
        self.push_all(&mut report).await?;
        // What other devices of the site handed over on the LAN goes to HQ too.
        report.round_trips += super::forward::deliver(&self.db, &self.client).await?;
        self.pull_all(&mut report).await?;
        Ok(report)
    }

    async fn push_all(&self, report: &mut SyncReport) -> Result<()> {
        loop {
            let budget = self.batch_bytes();
            let Some(batch) = self
                .db
                .call(move |site| {
                    let batch = next_batch(site, budget)?;
                    if let Some(b) = &batch {
                        mark_sent(site, b)?;
                    }
                    Ok(batch)
                })
                .await?
            else {
                return Ok(());
            };
            let started = Instant::now();
            report.round_trips += 1;
            let (ack, sent) = match self.client.push(&batch).await {
                Ok(answer) => answer,
                Err(e) => {
                    if matches!(e, Error::Network(_)) {
                        self.shrink();
                    }
                    return Err(e);
                }
            };
            if started.elapsed() < FAST {
                self.grow();
            }
            report.bytes_sent += sent as u64;
            report.pushed += ack
                .acked_through
                .saturating_sub(batch.from_seq - 1)
                .min(batch.rows.len() as u64);
            report.quarantined += ack.quarantined.len() as u32;
            let epoch = batch.epoch;
            self.db
                .call(move |site| apply_ack(site, &ack, epoch))
                .await?;
        }
    }

    async fn pull_all(&self, report: &mut SyncReport) -> Result<()> {
        let max = self.pull_max_bytes;
        loop {
            let cursor = self.db.call(|site| cursor(site)).await?;
            report.round_trips += 1;
            let page = self.client.pull(cursor, max).await?;
            let more = page.more;
            report.pulled += page.changes.len() as u64;
            let device = self.client.device();
            self.db
                .call(move |site| apply_page(site, device, &page))
                .await?;
            if !more {
                return Ok(());
            }
        }
    }

    fn grow(&self) {
        let b = self.batch_bytes();
        self.batch_bytes
            .store((b * 2).min(MAX_BATCH_BYTES), Ordering::Relaxed);
    }

    fn shrink(&self) {
        let b = self.batch_bytes();
        self.batch_bytes
            .store((b / 2).max(MIN_BATCH_BYTES), Ordering::Relaxed);
    }
}

/// Prunes what HQ acknowledged and keeps HQ's quarantine reasons, in one transaction. The
/// acknowledgement must be for the epoch this device sent (`epoch`) and, in the current epoch,
/// reach no further than the highest seq it has ever sent (`outgoing::mark_sent`); one that
/// claims more is refused and nothing is pruned.
pub fn apply_ack(site: &mut Site, ack: &PushAck, epoch: u32) -> Result<()> {
    let (tx, _) = site.write()?;
    let current: u32 = tx.query_row("SELECT epoch FROM device", [], |r| r.get(0))?;
    // An older epoch (before a restore) is closed: its rows can no longer grow, and rows the
    // lost disk sent after the backup are legitimately acknowledged beyond what this copy
    // remembers sending. The current epoch is checked against what was sent.
    let sent: u64 = if ack.epoch < current {
        u64::MAX
    } else {
        tx.query_row(
            "SELECT through FROM sent_mark WHERE epoch = ?1",
            [ack.epoch],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(0)
    };
    if ack.epoch != epoch || ack.acked_through > sent {
        return Err(Error::NotCreditBank(format!(
            "HQ's answer acknowledges rows this device never sent (epoch {}, through seq {}; sent epoch {epoch} through {sent}); nothing was pruned — tell HQ",
            ack.epoch, ack.acked_through
        )));
    }
    outbox::prune_through(&tx, ack.epoch, ack.acked_through)?;
    for q in &ack.quarantined {
        note_quarantine(&tx, q.record_id, q.seq, &q.reason)?;
    }
    tx.commit()?;
    Ok(())
}

/// HQ's public key as pinned at enrolment.
pub fn pinned_hq_key(site: &Site) -> Result<Option<[u8; 32]>> {
    let key: Option<Vec<u8>> =
        site.conn()
            .query_row("SELECT hq_public_key FROM sync_state", [], |r| r.get(0))?;
    Ok(key.and_then(|k| k.try_into().ok()))
}

/// The stored pull cursor.
pub fn cursor(site: &Site) -> Result<u64> {
    Ok(site
        .conn()
        .query_row("SELECT pull_cursor FROM sync_state", [], |r| r.get(0))?)
}

/// Applies one pull page and stores its cursor, in one transaction. A page at or behind the
/// stored cursor changes nothing.
pub fn apply_page(site: &mut Site, device: Uuid, page: &PullPage) -> Result<()> {
    let (tx, keys) = site.write()?;
    let mut received = false;
    let current: u64 = tx.query_row("SELECT pull_cursor FROM sync_state", [], |r| r.get(0))?;
    for change in page.changes.iter().filter(|c| c.seq > current) {
        match &change.change {
            HqChange::Catalogue(doc) => catalogue::install(&tx, doc)?,
            HqChange::Decision(d) => hq::record_decision(&tx, d, change.seq)?,
            HqChange::Credit(c) => hq::record_credit(&tx, c, change.seq)?,
            HqChange::Certificate(c) => hq::record_certificate(&tx, c, change.seq)?,
            HqChange::Quarantine(q) => {
                if q.device_id == device {
                    note_quarantine(&tx, q.record_id, q.seq, &q.reason)?;
                }
            }
            HqChange::QuarantineResolved(r) => {
                if r.device_id == device {
                    status::note_resolution(&tx, r)?;
                }
            }
            HqChange::DeviceRevoked(r) => {
                // Peers refuse a revoked device of the site on the LAN too.
                tx.execute(
                    "INSERT OR IGNORE INTO revoked_device (device_id, revoked_at) VALUES (?1, ?2)",
                    params![r.device_id, crate::store::now()],
                )?;
                if r.device_id == device {
                    tx.execute(
                        "UPDATE sync_state SET revoked_at = ?1",
                        [crate::store::now()],
                    )?;
                }
            }
            HqChange::SiteRecord(row) => {
                received |= replica::receive(&tx, keys, device, row, Via::Hq)? == Received::Applied;
            }
        }
    }
    if received {
        // A row held for want of its parent may apply now.
        replica::retry_held(&tx, keys)?;
    }
    if page.next_cursor > current {
        tx.execute("UPDATE sync_state SET pull_cursor = ?1", [page.next_cursor])?;
    }
    tx.commit()?;
    Ok(())
}

/// Records that this device is enrolled with a site at HQ.
pub fn record_enrolment(
    site: &mut Site,
    hq_url: &str,
    e: &siteline_proto::sync::EnrolResponse,
) -> Result<()> {
    use base64::Engine;
    let key = |b64: &str| -> Result<[u8; 32]> {
        base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .ok()
            .and_then(|k| k.try_into().ok())
            .ok_or_else(|| {
                Error::NotCreditBank(
                    "the enrolment answer carries no valid HQ keys; this is not a credit bank of this version".into(),
                )
            })
    };
    let (signing, seal) = (key(&e.hq_public_key)?, key(&e.hq_seal_key)?);
    let own = outbox::device(site.conn())?.device_id;
    let certificate = super::peer::verify_certificate(&signing, &e.device_certificate)?;
    if certificate.device_id != own || certificate.site_id != e.site_id {
        return Err(Error::NotCreditBank(
            "HQ's certificate for this device names another device or site; enrol again".into(),
        ));
    }
    let (tx, _) = site.write()?;
    tx.execute(
        "UPDATE sync_state SET hq_url = ?1, site_id = ?2, site_code = ?3, site_name = ?4, enrolled_at = ?5,
             revoked_at = NULL, hq_public_key = ?6, hq_seal_key = ?7",
        params![
            hq_url,
            e.site_id,
            e.site_code,
            e.site_name,
            crate::store::now(),
            signing.to_vec(),
            seal.to_vec()
        ],
    )?;
    tx.execute("UPDATE device SET site_code = ?1", [&e.site_code])?;
    tx.execute(
        "UPDATE sync_state SET device_certificate = ?1",
        [serde_json::to_string(&e.device_certificate)?],
    )?;
    tx.commit()?;
    Ok(())
}

/// Enrols this device: registers its key with the code, then remembers the site.
pub async fn enrol(
    db: &Db,
    client: &HqClient,
    hq_url: &str,
    code: &str,
    label: &str,
) -> Result<siteline_proto::sync::EnrolResponse> {
    client.hello().await?;
    let answer = client.enrol(code, label).await?;
    let (url, a) = (hq_url.to_string(), answer.clone());
    db.call(move |site| record_enrolment(site, &url, &a))
        .await?;
    if let Some(key) = db.call(|site| pinned_hq_key(site)).await? {
        client.pin_hq_key(&key)?;
    }
    Ok(answer)
}

/// Changes the HQ address of an enrolled device (HQ moved, or a new domain name); the device
/// keeps its identity and enrolment. Returns the address as stored.
pub fn set_hq_url(site: &mut Site, actor: &crate::Actor, url: &str) -> Result<String> {
    actor.require_manager("change the HQ address")?;
    let url = url.trim().trim_end_matches('/');
    super::client::check_hq_url(url, !cfg!(debug_assertions))?;
    let changed = site.conn.execute(
        "UPDATE sync_state SET hq_url = ?1 WHERE site_id IS NOT NULL",
        [url],
    )?;
    if changed == 0 {
        return Err(Error::NotEnrolled);
    }
    Ok(url.to_string())
}

/// The HQ address and site this device is enrolled with, if any.
pub fn enrolment(site: &Site) -> Result<Option<(String, String)>> {
    Ok(site
        .conn()
        .query_row(
            "SELECT hq_url, site_code FROM sync_state WHERE site_id IS NOT NULL",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::status::{RecordSync, record_status};
    use siteline_proto::sync::{Change, Decision, DecisionStatus, QuarantinedRow};

    #[test]
    fn an_ack_prunes_through_its_seq_and_keeps_quarantine_reasons_on_the_record() {
        let mut site = Site::open_in_memory().unwrap();
        let (m, _) = crate::demo::staff(&mut site).unwrap();
        let learner = crate::demo::register(&mut site, &m, 1).unwrap();
        let other = crate::demo::register(&mut site, &m, 2).unwrap();
        let rows = outbox::pending(site.conn(), 100).unwrap();
        let learner_seq = rows.iter().find(|r| r.record_id == learner.0).unwrap().seq;
        let ack = PushAck {
            epoch: 1,
            acked_through: learner_seq + 1,
            applied: 0,
            already_had: 0,
            quarantined: vec![QuarantinedRow {
                seq: learner_seq,
                record_id: learner.0,
                reason: "校验位错误".into(),
            }],
        };
        // An ack beyond what was sent is refused and prunes nothing.
        let pending = outbox::pending(site.conn(), 100).unwrap().len();
        let batch = |to_seq| siteline_proto::PushBatch {
            device_id: rows[0].device_id,
            epoch: 1,
            from_seq: 1,
            to_seq,
            rows: vec![],
        };
        crate::sync::outgoing::mark_sent(&site, &batch(learner_seq)).unwrap();
        let err = apply_ack(&mut site, &ack, 1).unwrap_err();
        assert!(err.to_string().contains("never sent"), "{err}");
        crate::sync::outgoing::mark_sent(&site, &batch(learner_seq + 1)).unwrap();
        let wrong_epoch = apply_ack(&mut site, &ack, 2).unwrap_err();
        assert!(wrong_epoch.to_string().contains("never sent"));
        assert_eq!(outbox::pending(site.conn(), 100).unwrap().len(), pending);
        // A smaller batch sent later (after a lost answer) lowers nothing.
        crate::sync::outgoing::mark_sent(&site, &batch(2)).unwrap();
        apply_ack(&mut site, &ack, 1).unwrap();
        assert_eq!(
            record_status(&site, learner.0).unwrap(),
            RecordSync::Quarantined {
                reason: "校验位错误".into()
            }
        );
        assert_eq!(record_status(&site, other.0).unwrap(), RecordSync::Pending);
        assert!(
            outbox::pending(site.conn(), 100)
                .unwrap()
                .iter()
                .all(|r| r.seq > learner_seq + 1)
        );
    }

    #[test]
    fn a_page_behind_the_cursor_changes_nothing_and_the_cursor_never_goes_back() {
        let mut site = Site::open_in_memory().unwrap();
        let device = outbox::device(site.conn()).unwrap().device_id;
        let decision = |seq: u64, status: DecisionStatus| Change {
            seq,
            change: HqChange::Decision(Decision {
                claim_id: Uuid::nil(),
                learner_id: Uuid::nil(),
                status,
                reason: String::new(),
                credits_tenths: 80,
                account_no: None,
                programme_version_id: "maternity-L5-v1".into(),
            }),
        };
        apply_page(
            &mut site,
            device,
            &PullPage {
                changes: vec![decision(5, DecisionStatus::Accredited)],
                next_cursor: 5,
                more: false,
            },
        )
        .unwrap();
        // A stale page (replayed or reordered) arrives later.
        apply_page(
            &mut site,
            device,
            &PullPage {
                changes: vec![decision(3, DecisionStatus::NeedsInfo)],
                next_cursor: 3,
                more: false,
            },
        )
        .unwrap();
        assert_eq!(cursor(&site).unwrap(), 5);
        let status: String = site
            .conn()
            .query_row("SELECT status FROM hq_decision", [], |r| r.get(0))
            .unwrap();
        assert_eq!(status, "accredited");
        assert!(
            site.conn()
                .execute("UPDATE sync_state SET pull_cursor = 1", [])
                .is_err()
        );
    }
}
