//! The embedded SQLite store: one file in the data directory, WAL, one connection behind a
//! mutex (SQLite has one writer anyway), migrations by `PRAGMA user_version`.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use rand_core::{OsRng, RngCore};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use sha2::{Digest, Sha256};
use siteline_domain::crypto::{SealKey, SiteKeys};
use siteline_proto::catalogue::Catalogue;
use siteline_proto::hlc::Hlc;
use siteline_proto::sync::{
    Certificate, CertificateStatus, Change, CreditPosting, DeviceRevoked, EnrolRequest,
    EnrolResponse, HqChange, PullPage, PushAck, QuarantineResolved,
};
use siteline_proto::{Entity, Op, OutboxRow, PushBatch};
use uuid::Uuid;

use super::{
    AccountStatement, DeviceInfo, EnrolmentCode, QuarantineItem, SiteInfo, Store, apply, claims,
};
use crate::{Error, Result};

const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/0001_credit_bank.sql"),
    include_str!("../../migrations/0002_hq_judges.sql"),
    include_str!("../../migrations/0003_many_devices.sql"),
];

/// SQLite's durability setting for HQ: `FULL` syncs the WAL on every commit, so a commit that
/// was acknowledged to a site survives a power cut (with `NORMAL` the last commits can roll
/// back, the high-water mark goes back and the site's next pushes are refused for ever).
pub const SYNCHRONOUS: &str = "FULL";

/// The credit bank's SQLite store.
pub struct SqliteStore {
    conn: Mutex<Connection>,
    keys: apply::HqKeys,
    signing: ed25519_dalek::SigningKey,
}

impl SqliteStore {
    /// Opens (creating and migrating) `creditbank.db` in `dir`, with HQ's key in `hq.key`.
    pub fn open(dir: &Path) -> Result<Self> {
        // Owner-only: the directory holds HQ's keys and the credit ledger.
        siteline_domain::crypto::private_dir(dir)
            .map_err(|e| Error::Internal(format!("data directory {}: {e}", dir.display())))?;
        let db = dir.join("creditbank.db");
        siteline_domain::crypto::private_file(&db)
            .map_err(|e| Error::Internal(format!("{}: {e}", db.display())))?;
        let index = SiteKeys::load_or_create(&dir.join("hq.key"))?;
        let seal = siteline_domain::crypto::load_or_create_secret(
            &dir.join("hq-seal.key"),
            "HQ's sealing key is damaged; restore it from the backup of the data directory (sites seal ID numbers to it)",
        )?;
        let keys = apply::HqKeys {
            index,
            seal: SealKey::from_bytes(seal),
        };
        let signing = siteline_domain::crypto::load_or_create_secret(
            &dir.join("hq-signing.key"),
            "HQ's signing key is damaged; restore it from the backup of the data directory (devices pinned its public key)",
        )?;
        let conn = Connection::open(&db)?;
        Self::init(conn, keys, ed25519_dalek::SigningKey::from_bytes(&signing))
    }

    /// An in-memory store (tests).
    pub fn open_in_memory() -> Result<Self> {
        Self::init(
            Connection::open_in_memory()?,
            apply::HqKeys {
                index: SiteKeys::generate(),
                seal: SealKey::generate(),
            },
            ed25519_dalek::SigningKey::generate(&mut OsRng),
        )
    }

    fn init(
        mut conn: Connection,
        keys: apply::HqKeys,
        signing: ed25519_dalek::SigningKey,
    ) -> Result<Self> {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", SYNCHRONOUS)?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let current: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let latest = MIGRATIONS.len() as i64;
        if current > latest {
            return Err(Error::Internal(format!(
                "the database is at schema {current}, newer than this creditbank ({latest}); run the newer creditbank"
            )));
        }
        for sql in &MIGRATIONS[current as usize..] {
            tx.execute_batch(sql)?;
        }
        tx.pragma_update(None, "user_version", latest)?;
        tx.commit()?;
        Ok(SqliteStore {
            conn: Mutex::new(conn),
            keys,
            signing,
        })
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (the transaction rolls back
        // on drop), so a poisoned lock is safe to keep using.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The minutes HQ counts for a learner in a cohort of a site, recomputed from the sessions
    /// and roll-call marks it holds (what it would judge a claim by): for reports and for
    /// tests that compare HQ's view of a site with its devices'.
    pub fn attended_minutes(&self, site_code: &str, cohort: Uuid, learner: Uuid) -> Result<i64> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let site: Uuid = tx
            .query_row("SELECT id FROM site WHERE code = ?1", [site_code], |r| {
                r.get(0)
            })
            .optional()?
            .ok_or_else(|| Error::NotFound(format!("site {site_code}")))?;
        claims::attended_minutes(&tx, site, cohort, learner)
    }

    /// Runs a read query for tests and reports.
    pub fn query_i64(&self, sql: &str) -> Result<i64> {
        Ok(self.lock().query_row(sql, [], |r| r.get(0))?)
    }
}

pub(crate) fn now() -> DateTime<Utc> {
    Utc::now()
}

/// The operation a `site_record` change refers to, as the site's other devices receive it.
fn relayed_row(conn: &Connection, reference: &str) -> Result<String> {
    let r: apply::SiteRecordRef = serde_json::from_str(reference)?;
    type Stored = (String, String, Uuid, String, DateTime<Utc>, Option<String>);
    let (entity, op, record_id, payload, recorded_at, hlc): Stored = conn
        .prepare_cached(
            "SELECT entity, op, record_id, payload, recorded_at, hlc FROM record
             WHERE device_id = ?1 AND epoch = ?2 AND seq = ?3",
        )?
        .query_row(params![r.device_id, r.epoch, r.seq], |row| {
            Ok((
                row.get(0)?,
                row.get(1)?,
                row.get(2)?,
                row.get(3)?,
                row.get(4)?,
                row.get(5)?,
            ))
        })?;
    let (Some(entity), Some(op)) = (Entity::parse(&entity), Op::parse(&op)) else {
        return Err(Error::Internal(format!(
            "a stored row has entity {entity}, op {op}"
        )));
    };
    let row = OutboxRow {
        device_id: r.device_id,
        epoch: r.epoch,
        seq: r.seq,
        entity,
        op,
        record_id,
        payload: serde_json::from_str(&payload)?,
        recorded_at,
        // Rows stored before stamps existed sort before every stamped one.
        hlc: hlc
            .and_then(|h| h.parse().ok())
            .unwrap_or(Hlc::zero(r.device_id)),
    };
    Ok(serde_json::to_string(&row)?)
}

pub(crate) fn log_change(
    tx: &rusqlite::Transaction<'_>,
    site: Option<Uuid>,
    change: &HqChange,
) -> Result<()> {
    // The log keeps the kind and the bare payload as columns: one row per change.
    let payload = change.payload();
    tx.prepare_cached(
        "INSERT INTO change_log (site_id, kind, payload, created_at) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![site, change.kind(), payload.to_string(), now()])?;
    Ok(())
}

fn code_hash(code: &str) -> Vec<u8> {
    let normal: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_uppercase();
    Sha256::digest(normal.as_bytes()).to_vec()
}

fn device_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DeviceInfo> {
    let key: Vec<u8> = r.get(6)?;
    let mut public_key = [0u8; 32];
    if key.len() == 32 {
        public_key.copy_from_slice(&key);
    }
    Ok(DeviceInfo {
        id: r.get(0)?,
        site_id: r.get(1)?,
        site_code: r.get(2)?,
        label: r.get(3)?,
        enrolled_at: r.get(4)?,
        revoked_at: r.get(5)?,
        public_key,
    })
}

const DEVICE_SELECT: &str =
    "SELECT d.id, d.site_id, s.code, d.label, d.enrolled_at, d.revoked_at, d.public_key
     FROM device d JOIN site s ON s.id = d.site_id";

impl Store for SqliteStore {
    fn signing_key(&self) -> &ed25519_dalek::SigningKey {
        &self.signing
    }

    fn create_site(&self, code: &str, name: &str, province: &str) -> Result<SiteInfo> {
        let code = code.trim();
        let name = name.trim();
        if code.is_empty() || !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(Error::Invalid(
                "a site code is letters, digits and dashes, e.g. GD-SZ-001".into(),
            ));
        }
        if name.is_empty() || name.chars().count() > 100 || code.len() > 32 {
            return Err(Error::Invalid(
                "the site name is 1 to 100 characters and the code at most 32".into(),
            ));
        }
        if province.len() != 2 || !province.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::Invalid(
                "the province code is two digits, e.g. 44 for Guangdong".into(),
            ));
        }
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let exists = tx
            .prepare("SELECT 1 FROM site WHERE code = ?1")?
            .exists([code])?;
        if exists {
            return Err(Error::Invalid(format!("site {code} already exists")));
        }
        let id = Uuid::now_v7();
        let seq: i64 = tx.query_row("SELECT coalesce(max(seq), 0) + 1 FROM site", [], |r| {
            r.get(0)
        })?;
        tx.execute(
            "INSERT INTO site (id, code, name, province, seq, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![id, code, name, province, seq, now()],
        )?;
        tx.commit()?;
        Ok(SiteInfo {
            id,
            code: code.into(),
            name: name.into(),
            province: province.into(),
            devices: 0,
            last_sync_at: None,
            lag_seconds: None,
            quarantined: 0,
        })
    }

    fn list_sites(&self, at: DateTime<Utc>) -> Result<Vec<SiteInfo>> {
        let conn = self.lock();
        let mut stmt = conn.prepare(
            "SELECT s.id, s.code, s.name, s.province,
                (SELECT count(*) FROM device d WHERE d.site_id = s.id AND d.revoked_at IS NULL),
                (SELECT max(max(coalesce(d.last_push_at, '')), max(coalesce(d.last_pull_at, '')))
                   FROM device d WHERE d.site_id = s.id),
                (SELECT count(*) FROM record r WHERE r.site_id = s.id AND r.status = 'quarantined')
             FROM site s ORDER BY s.code",
        )?;
        let rows = stmt.query_map([], |r| {
            let last: Option<String> = r.get(5)?;
            let last = last
                .filter(|s| !s.is_empty())
                .and_then(|s| DateTime::parse_from_rfc3339(&s.replacen(' ', "T", 1)).ok())
                .map(|d| d.with_timezone(&Utc));
            Ok(SiteInfo {
                id: r.get(0)?,
                code: r.get(1)?,
                name: r.get(2)?,
                province: r.get(3)?,
                devices: r.get(4)?,
                last_sync_at: last,
                lag_seconds: last.map(|l| (at - l).num_seconds()),
                quarantined: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn issue_enrolment_code(
        &self,
        site_code: &str,
        valid_for: chrono::Duration,
    ) -> Result<EnrolmentCode> {
        // 12 characters from an alphabet without look-alikes (no 0/O, 1/I/L): ~59 bits.
        const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
        let mut bytes = [0u8; 12];
        OsRng.fill_bytes(&mut bytes);
        let raw: String = bytes
            .iter()
            .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
            .collect();
        let code = format!("{}-{}-{}", &raw[0..4], &raw[4..8], &raw[8..12]);
        let conn = self.lock();
        let site: Uuid = conn
            .query_row("SELECT id FROM site WHERE code = ?1", [site_code], |r| {
                r.get(0)
            })
            .optional()?
            .ok_or_else(|| Error::NotFound(format!("site {site_code}")))?;
        let expires_at = now() + valid_for;
        conn.execute(
            "INSERT INTO enrolment_code (code_hash, site_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
            params![code_hash(&code), site, now(), expires_at],
        )?;
        Ok(EnrolmentCode {
            code,
            site_code: site_code.into(),
            expires_at,
        })
    }

    fn enrol_device(&self, req: &EnrolRequest, public_key: [u8; 32]) -> Result<EnrolResponse> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let row: Option<(Uuid, DateTime<Utc>, Option<String>)> = tx
            .query_row(
                "SELECT site_id, expires_at, used_at FROM enrolment_code WHERE code_hash = ?1",
                [code_hash(&req.code)],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let Some((site_id, expires_at, None)) = row else {
            return Err(Error::BadEnrolmentCode);
        };
        if expires_at < now() {
            return Err(Error::BadEnrolmentCode);
        }
        let taken = tx
            .prepare("SELECT 1 FROM device WHERE id = ?1")?
            .exists([req.device_id])?;
        if taken {
            return Err(Error::Invalid(format!(
                "device {} is already registered",
                req.device_id
            )));
        }
        tx.execute(
            "UPDATE enrolment_code SET used_at = ?2, used_by = ?3 WHERE code_hash = ?1",
            params![code_hash(&req.code), now(), req.device_id],
        )?;
        tx.execute(
            "INSERT INTO device (id, site_id, public_key, label, enrolled_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![req.device_id, site_id, public_key.to_vec(), req.label.trim(), now()],
        )?;
        let (site_code, site_name): (String, String) = tx.query_row(
            "SELECT code, name FROM site WHERE id = ?1",
            [site_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        tx.commit()?;
        tracing::info!(device = %req.device_id, site = %site_code, "device enrolled");
        let certificate = siteline_proto::sync::DeviceCertificate {
            format: siteline_proto::sync::DEVICE_CERTIFICATE_FORMAT.into(),
            device_id: req.device_id,
            site_id,
            site_code: site_code.clone(),
            public_key: req.public_key.clone(),
            issued_at: now(),
        };
        let body = serde_json::to_string(&certificate)?;
        let signature = ed25519_dalek::Signer::sign(
            &self.signing,
            siteline_proto::sync::device_certificate_signing_string(&body).as_bytes(),
        );
        Ok(EnrolResponse {
            device_certificate: siteline_proto::sync::SignedDeviceCertificate {
                body,
                signature: base64::Engine::encode(
                    &base64::engine::general_purpose::STANDARD,
                    signature.to_bytes(),
                ),
            },
            site_id,
            site_code,
            site_name,
            hq_public_key: base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                self.signing.verifying_key().to_bytes(),
            ),
            hq_seal_key: base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                self.keys.seal.public_bytes(),
            ),
        })
    }

    fn device(&self, id: Uuid) -> Result<Option<DeviceInfo>> {
        Ok(self
            .lock()
            .prepare_cached(&format!("{DEVICE_SELECT} WHERE d.id = ?1"))?
            .query_row([id], device_from_row)
            .optional()?)
    }

    fn list_devices(&self) -> Result<Vec<DeviceInfo>> {
        let conn = self.lock();
        let mut stmt = conn.prepare(&format!("{DEVICE_SELECT} ORDER BY s.code, d.enrolled_at"))?;
        let rows = stmt.query_map([], device_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn revoke_device(&self, id: Uuid) -> Result<()> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let site: Option<Uuid> = tx
            .query_row(
                "SELECT site_id FROM device WHERE id = ?1 AND revoked_at IS NULL",
                [id],
                |r| r.get(0),
            )
            .optional()?;
        let Some(site) = site else {
            return Err(Error::NotFound(format!("active device {id}")));
        };
        tx.execute(
            "UPDATE device SET revoked_at = ?2 WHERE id = ?1",
            params![id, now()],
        )?;
        log_change(
            &tx,
            Some(site),
            &HqChange::DeviceRevoked(DeviceRevoked { device_id: id }),
        )?;
        tx.commit()?;
        Ok(())
    }

    fn note_signature(&self, signature: &[u8], now_ms: i64, expires_ms: i64) -> Result<bool> {
        let conn = self.lock();
        conn.prepare_cached("DELETE FROM seen_signature WHERE at_ms < ?1")?
            .execute([now_ms])?;
        // `at_ms` holds the expiry: the signature is remembered as long as its request could
        // still be accepted.
        let n = conn
            .prepare_cached(
                "INSERT OR IGNORE INTO seen_signature (signature, at_ms) VALUES (?1, ?2)",
            )?
            .execute(params![Sha256::digest(signature).to_vec(), expires_ms])?;
        Ok(n == 1)
    }

    fn push(&self, device: &DeviceInfo, batch: &PushBatch) -> Result<PushAck> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let ack = apply::push(&tx, &self.keys, device, batch)?;
        tx.execute(
            "UPDATE device SET last_push_at = ?2 WHERE id = ?1",
            params![device.id, now()],
        )?;
        tx.commit()?;
        Ok(ack)
    }

    fn pull(&self, device: &DeviceInfo, since: u64, max_bytes: u64) -> Result<PullPage> {
        let conn = self.lock();
        // The site's own records come from its other devices only; a device's own operations
        // are not sent back to it.
        let mut stmt = conn.prepare_cached(
            "SELECT seq, kind, payload FROM change_log
             WHERE seq > ?1 AND (site_id IS NULL OR site_id = ?2)
               AND (origin_device IS NULL OR origin_device != ?3)
             ORDER BY seq LIMIT 501",
        )?;
        let mut rows = stmt.query(params![since, device.site_id, device.id])?;
        let mut changes = Vec::new();
        let mut bytes = 0u64;
        let mut next_cursor = since;
        let mut more = false;
        while let Some(r) = rows.next()? {
            let seq: u64 = r.get(0)?;
            let kind: String = r.get(1)?;
            let mut payload: String = r.get(2)?;
            if kind == "site_record" {
                payload = relayed_row(&conn, &payload)?;
            }
            let size = payload.len() as u64 + 64;
            // Always at least one change per page, so a huge change still moves the cursor.
            if changes.len() >= 500 || (!changes.is_empty() && bytes + size > max_bytes) {
                more = true;
                break;
            }
            bytes += size;
            let change = HqChange::from_parts(&kind, serde_json::from_str(&payload)?)?;
            changes.push(Change { seq, change });
            next_cursor = seq;
        }
        drop(rows);
        drop(stmt);
        conn.execute(
            "UPDATE device SET last_pull_at = ?2 WHERE id = ?1",
            params![device.id, now()],
        )?;
        Ok(PullPage {
            changes,
            next_cursor,
            more,
        })
    }

    fn publish_catalogue(&self, doc: &Catalogue) -> Result<bool> {
        if doc.version.trim().is_empty() || doc.programme_versions.is_empty() {
            return Err(Error::Invalid(
                "a catalogue needs a version and at least one programme version".into(),
            ));
        }
        for pv in &doc.programme_versions {
            let rubric_total: u32 = pv.rubric.iter().map(|r| u32::from(r.max_points)).sum();
            if !(1..=5).contains(&pv.level)
                || pv.total_hours == 0
                || !(1..=1000).contains(&pv.min_attendance_permille)
            {
                return Err(Error::Invalid(format!(
                    "programme version {} has an impossible level, hours or ratio",
                    pv.id
                )));
            }
            if !pv.rubric.is_empty() && rubric_total != 100 {
                return Err(Error::Invalid(format!(
                    "the rubric of {} totals {rubric_total}, not 100",
                    pv.id
                )));
            }
        }
        let document = serde_json::to_string(doc)?;
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let existing: Option<String> = tx
            .query_row(
                "SELECT document FROM catalogue_version WHERE version = ?1",
                [&doc.version],
                |r| r.get(0),
            )
            .optional()?;
        match existing {
            Some(d) if d == document => return Ok(false),
            Some(_) => {
                return Err(Error::Invalid(format!(
                    "catalogue {} is already published with other content; a published version never changes, publish a new version",
                    doc.version
                )));
            }
            None => {}
        }
        tx.execute(
            "INSERT INTO catalogue_version (version, document, published_at) VALUES (?1, ?2, ?3)",
            params![doc.version, document, now()],
        )?;
        for pv in &doc.programme_versions {
            let old: Option<String> = tx
                .query_row(
                    "SELECT document FROM programme_version WHERE id = ?1",
                    [&pv.id],
                    |r| r.get(0),
                )
                .optional()?;
            let json = serde_json::to_string(pv)?;
            match old {
                Some(old) if old != json => {
                    return Err(Error::Invalid(format!(
                        "programme version {} is already published with other rules; give the change a new version id",
                        pv.id
                    )));
                }
                Some(_) => {}
                None => {
                    tx.execute(
                        "INSERT INTO programme_version (id, catalogue_version, document) VALUES (?1, ?2, ?3)",
                        params![pv.id, doc.version, json],
                    )?;
                }
            }
        }
        log_change(&tx, None, &HqChange::Catalogue(doc.clone()))?;
        tx.commit()?;
        Ok(true)
    }

    fn list_quarantine(&self) -> Result<Vec<QuarantineItem>> {
        let conn = self.lock();
        let mut stmt = conn.prepare(
            "SELECT r.device_id, r.epoch, r.seq, s.code, r.entity, r.record_id, r.reason, r.received_at
             FROM record r JOIN site s ON s.id = r.site_id
             WHERE r.status = 'quarantined' ORDER BY r.received_at, r.seq",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(QuarantineItem {
                device_id: r.get(0)?,
                epoch: r.get(1)?,
                seq: r.get(2)?,
                site_code: r.get(3)?,
                entity: r.get(4)?,
                record_id: r.get(5)?,
                reason: r.get::<_, Option<String>>(6)?.unwrap_or_default(),
                received_at: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn resolve_quarantine(
        &self,
        device_id: Uuid,
        epoch: u32,
        seq: u64,
        note: &str,
    ) -> Result<bool> {
        let note = note.trim();
        if note.is_empty() || note.chars().count() > 1000 {
            return Err(Error::Invalid(
                "say in 1 to 1,000 characters how the quarantined row was resolved".into(),
            ));
        }
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        type Stored = (String, String, Uuid, String, DateTime<Utc>, Option<String>);
        let stored: Option<Stored> = tx
            .query_row(
                "SELECT entity, op, record_id, payload, recorded_at, hlc FROM record
                 WHERE device_id = ?1 AND epoch = ?2 AND seq = ?3 AND status = 'quarantined'",
                params![device_id, epoch, seq],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                    ))
                },
            )
            .optional()?;
        let Some((entity, op, record_id, payload, recorded_at, hlc)) = stored else {
            return Err(Error::NotFound(format!(
                "quarantined row {device_id}/{epoch}/{seq}"
            )));
        };
        let device = tx.query_row(
            &format!("{DEVICE_SELECT} WHERE d.id = ?1"),
            [device_id],
            device_from_row,
        )?;
        let (Some(entity), Some(op)) = (Entity::parse(&entity), Op::parse(&op)) else {
            return Err(Error::Internal(format!(
                "a stored row has entity {entity}, op {op}"
            )));
        };
        let row = OutboxRow {
            device_id,
            epoch,
            seq,
            entity,
            op,
            record_id,
            payload: serde_json::from_str(&payload)?,
            recorded_at,
            // Rows stored before stamps existed sort before every stamped one.
            hlc: hlc
                .and_then(|h| h.parse().ok())
                .unwrap_or(Hlc::zero(device_id)),
        };
        let refused = apply::apply_isolated(&tx, &self.keys, &device, &row)?;
        let applied = refused.is_none();
        tx.execute(
            "UPDATE record SET status = ?4, resolution = ?5
             WHERE device_id = ?1 AND epoch = ?2 AND seq = ?3",
            params![
                device_id,
                epoch,
                seq,
                if applied { "applied" } else { "resolved" },
                match &refused {
                    None => note.to_string(),
                    Some(reason) => format!("{note} (still refused: {reason})"),
                }
            ],
        )?;
        log_change(
            &tx,
            Some(device.site_id),
            &HqChange::QuarantineResolved(QuarantineResolved {
                device_id,
                seq,
                record_id,
                applied,
                note: note.to_string(),
            }),
        )?;
        tx.commit()?;
        Ok(applied)
    }

    fn reverse_posting(&self, posting_id: i64, reason: &str) -> Result<i64> {
        if reason.trim().is_empty() || reason.chars().count() > 1000 {
            return Err(Error::Invalid(
                "say in 1 to 1,000 characters why the credits are reversed".into(),
            ));
        }
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let row: Option<(i64, i64, Uuid, i64, Option<i64>)> = tx
            .query_row(
                "SELECT account_id, decision_id, site_id, credits_tenths, reverses FROM credit_posting WHERE id = ?1",
                [posting_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .optional()?;
        let Some((account, decision, site, credits, reverses)) = row else {
            return Err(Error::NotFound(format!("credit posting {posting_id}")));
        };
        let already = tx
            .prepare("SELECT 1 FROM credit_posting WHERE reverses = ?1")?
            .exists([posting_id])?;
        if reverses.is_some() || already {
            return Err(Error::Invalid(format!(
                "posting {posting_id} is a reversal or was already reversed"
            )));
        }
        tx.execute(
            "INSERT INTO credit_posting (account_id, decision_id, site_id, credits_tenths, reverses, posted_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![account, decision, site, -credits, posting_id, now()],
        )?;
        let reversal = tx.last_insert_rowid();
        let (account_no, claim, learner): (String, Uuid, Uuid) = tx.query_row(
            "SELECT a.account_no, d.claim_id, c.learner_id FROM credit_account a, decision d
             JOIN claim c ON c.record_id = d.claim_id WHERE a.id = ?1 AND d.id = ?2",
            params![account, decision],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        log_change(
            &tx,
            Some(site),
            &HqChange::Credit(CreditPosting {
                posting_id: reversal,
                claim_id: claim,
                learner_id: learner,
                account_no: Some(account_no.clone()),
                credits_tenths: -credits,
                reverses: Some(posting_id),
                reason: Some(reason.trim().to_string()),
            }),
        )?;
        let certificates: Vec<(String, String)> = {
            let mut stmt = tx.prepare(
                "SELECT number, programme_version_id FROM certificate WHERE decision_id = ?1 AND status = 'valid'",
            )?;
            stmt.query_map([decision], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?
        };
        for (number, pv) in certificates {
            tx.execute(
                "UPDATE certificate SET status = 'revoked' WHERE number = ?1",
                [&number],
            )?;
            log_change(
                &tx,
                Some(site),
                &HqChange::Certificate(Certificate {
                    number,
                    learner_id: learner,
                    account_no: Some(account_no.clone()),
                    programme_version_id: pv,
                    status: CertificateStatus::Revoked,
                }),
            )?;
        }
        tx.commit()?;
        Ok(reversal)
    }

    fn account(&self, account_no: &str) -> Result<AccountStatement> {
        let conn = self.lock();
        let id: i64 = conn
            .query_row(
                "SELECT id FROM credit_account WHERE account_no = ?1",
                [account_no],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| Error::NotFound(format!("credit account {account_no}")))?;
        let balance_tenths: i64 = conn.query_row(
            "SELECT coalesce(sum(credits_tenths), 0) FROM credit_posting WHERE account_id = ?1",
            [id],
            |r| r.get(0),
        )?;
        let mut stmt = conn.prepare(
            "SELECT DISTINCT s.code FROM credit_posting p JOIN site s ON s.id = p.site_id
             WHERE p.account_id = ?1 ORDER BY s.code",
        )?;
        let sites = stmt
            .query_map([id], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let mut stmt =
            conn.prepare("SELECT number FROM certificate WHERE account_id = ?1 ORDER BY id")?;
        let certificates = stmt
            .query_map([id], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(AccountStatement {
            account_no: account_no.into(),
            balance_tenths,
            sites,
            certificates,
        })
    }

    fn accounts(&self) -> Result<Vec<String>> {
        let conn = self.lock();
        let mut stmt = conn.prepare("SELECT account_no FROM credit_account ORDER BY id")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrating_a_version_1_store_scrubs_the_id_numbers_it_held_in_clear() {
        let dir = tempfile::tempdir().unwrap();
        {
            let conn = Connection::open(dir.path().join("creditbank.db")).unwrap();
            conn.execute_batch(MIGRATIONS[0]).unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
            let site = Uuid::now_v7();
            conn.execute(
                "INSERT INTO site (id, code, name, province, seq, created_at) VALUES (?1, 'S', 'S', '44', 1, ?2)",
                params![site, now()],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO record (device_id, epoch, seq, site_id, entity, op, record_id, payload,
                     recorded_at, received_at, status)
                 VALUES (?1, 1, 1, ?2, 'learner', 'insert', ?1, ?3, ?4, ?4, 'applied')",
                params![
                    Uuid::now_v7(),
                    site,
                    r#"{"name":"王芳","id_number":"11010519491231002X"}"#,
                    now()
                ],
            )
            .unwrap();
        }
        let store = SqliteStore::open(dir.path()).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode =
                |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(dir.path()), 0o700);
            for f in [
                "creditbank.db",
                "creditbank.db-wal",
                "hq.key",
                "hq-signing.key",
            ] {
                assert_eq!(mode(&dir.path().join(f)), 0o600, "{f}");
            }
        }
        assert_eq!(
            store.find_text("11010519491231002X").unwrap(),
            Vec::<String>::new()
        );
        assert_eq!(store.find_text("王芳").unwrap(), vec!["record.payload"]);
        assert!(store.find_resident_ids().unwrap().is_empty());
        assert_eq!(
            store.query_i64("PRAGMA user_version").unwrap(),
            MIGRATIONS.len() as i64
        );
    }
}
