//! [`Bank`]: the credit bank's [`Store`], written once over [`sql::Tx`] and run on either
//! database: SQLite in the data directory (the default) or PostgreSQL (`--database
//! postgres://…`). HQ's keys live in the data directory in both cases.

use std::path::Path;

use chrono::{DateTime, Utc};
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use siteline_domain::crypto::{SealKey, SiteKeys};
use siteline_proto::catalogue::Catalogue;
use siteline_proto::hlc::Hlc;
use siteline_proto::sync::{
    Change, CreditPosting, DeviceRevoked, EnrolRequest, EnrolResponse, HqChange, PullPage, PushAck,
    QuarantineResolved,
};
use siteline_proto::{Entity, Op, OutboxRow, PushBatch};
use uuid::Uuid;

use super::sql::{self, Database, Dialect, Lock, Row, Tx, args};
use super::{
    AccountStatement, DeviceInfo, EnrolmentCode, QuarantineItem, SiteInfo, Store, Verification,
    apply, certificates, claims, xapi,
};
use crate::{Error, Result};

/// The credit bank's store on one of its databases.
pub struct Bank {
    db: Box<dyn Database>,
    keys: apply::HqKeys,
    /// A test's throwaway PostgreSQL database, dropped after the pool (fields drop in order).
    scratch: Option<super::postgres::Scratch>,
}

/// The environment variable that names a PostgreSQL server (a connection string whose user
/// may create databases) to run the test suites' credit banks on, each in a database of its
/// own; unset, they run on SQLite.
pub const TEST_DATABASE_ENV: &str = "CREDITBANK_TEST_DATABASE";

fn test_server() -> Option<String> {
    std::env::var(TEST_DATABASE_ENV)
        .ok()
        .filter(|s| !s.trim().is_empty())
}

impl Bank {
    /// Opens the credit bank with its keys in `dir`: on PostgreSQL at `database` (a
    /// `postgres://…` URL or `host=… dbname=…` string), or, without one, on SQLite in `dir`.
    /// Either is created and migrated; a database at a newer schema is refused.
    pub fn open(dir: &Path, database: Option<&str>) -> Result<Self> {
        // Owner-only: the directory holds HQ's keys (and, on SQLite, the credit ledger).
        siteline_domain::crypto::private_dir(dir)
            .map_err(|e| Error::Internal(format!("data directory {}: {e}", dir.display())))?;
        let index = SiteKeys::load_or_create(&dir.join("hq.key"))?;
        let seal = siteline_domain::crypto::load_or_create_secret(
            &dir.join("hq-seal.key"),
            "HQ's sealing key is damaged; restore it from the backup of the data directory (sites seal ID numbers to it)",
        )?;
        let signing = siteline_domain::crypto::load_or_create_secret(
            &dir.join("hq-signing.key"),
            "HQ's signing key is damaged; restore it from the backup of the data directory (devices pinned its public key)",
        )?;
        let db: Box<dyn Database> = match database {
            Some(url) => Box::new(super::postgres::Postgres::open(url)?),
            None => Box::new(super::sqlite::Sqlite::open(dir)?),
        };
        Ok(Bank {
            db,
            keys: apply::HqKeys {
                index,
                seal: SealKey::from_bytes(seal),
                signing: ed25519_dalek::SigningKey::from_bytes(&signing),
                public_url: apply::DEFAULT_PUBLIC_URL.to_string().into(),
            },
            scratch: None,
        })
    }

    /// A store for a test with fresh keys: in memory on SQLite, or in a throwaway database of
    /// its own on the PostgreSQL server named by [`TEST_DATABASE_ENV`].
    pub fn for_tests() -> Result<Self> {
        match test_server() {
            Some(server) => {
                let (scratch, url) = super::postgres::Scratch::create(&server)?;
                let mut bank =
                    Self::with_fresh_keys(Box::new(super::postgres::Postgres::open(&url)?));
                bank.scratch = Some(scratch);
                Ok(bank)
            }
            None => Self::open_in_memory(),
        }
    }

    /// A store for a test with its keys in `dir`, which a later `open_for_tests` of the same
    /// `dir` does not reopen on PostgreSQL (each call is a new database there).
    pub fn open_for_tests(dir: &Path) -> Result<Self> {
        match test_server() {
            Some(server) => {
                let (scratch, url) = super::postgres::Scratch::create(&server)?;
                let mut bank = Self::open(dir, Some(&url))?;
                bank.scratch = Some(scratch);
                Ok(bank)
            }
            None => Self::open(dir, None),
        }
    }

    /// An in-memory SQLite store with fresh keys (tests).
    pub fn open_in_memory() -> Result<Self> {
        Ok(Self::with_fresh_keys(Box::new(
            super::sqlite::Sqlite::open_in_memory()?,
        )))
    }

    pub(crate) fn with_fresh_keys(db: Box<dyn Database>) -> Self {
        Bank {
            db,
            keys: apply::HqKeys {
                index: SiteKeys::generate(),
                seal: SealKey::generate(),
                signing: ed25519_dalek::SigningKey::generate(&mut OsRng),
                public_url: apply::DEFAULT_PUBLIC_URL.to_string().into(),
            },
            scratch: None,
        }
    }

    /// Which database the store runs on.
    pub fn dialect(&self) -> Dialect {
        self.db.dialect()
    }

    /// Runs `f` in one transaction.
    pub(crate) fn tx<T: Send>(&self, f: impl FnMut(&dyn Tx) -> Result<T> + Send) -> Result<T> {
        sql::write(self.db.as_ref(), f)
    }

    /// The minutes HQ counts for a learner in a cohort of a site, recomputed from the sessions
    /// and roll-call marks it holds (what it would judge a claim by): for reports and for
    /// tests that compare HQ's view of a site with its devices'.
    pub fn attended_minutes(&self, site_code: &str, cohort: Uuid, learner: Uuid) -> Result<i64> {
        self.tx(|tx| {
            let site: Uuid = tx
                .value_opt("SELECT id FROM site WHERE code = ?1", args![site_code])?
                .ok_or_else(|| Error::NotFound(format!("site {site_code}")))?;
            claims::attended_minutes(tx, site, cohort, learner)
        })
    }

    /// Runs a query returning one integer, for tests and reports.
    pub fn query_i64(&self, sql: &str) -> Result<i64> {
        self.query_i64_with(sql, &[])
    }

    /// [`Self::query_i64`] with arguments (`?1`, `?2`…).
    pub fn query_i64_with(&self, sql: &str, args: &[sql::Value]) -> Result<i64> {
        self.tx(|tx| tx.value(sql, args))
    }

    /// Runs a query returning one text column, for tests and reports.
    pub fn query_strings(&self, sql: &str) -> Result<Vec<String>> {
        self.tx(|tx| tx.column(sql, &[]))
    }

    /// Runs a statement (tests that put HQ in a state a crash would leave).
    pub fn execute_for_tests(&self, sql: &str) -> Result<u64> {
        self.tx(|tx| tx.execute(sql, &[]))
    }
}

pub(crate) fn now() -> DateTime<Utc> {
    Utc::now()
}

/// A stored operation, as HQ received it.
fn stored_row(
    tx: &dyn Tx,
    device_id: Uuid,
    epoch: u32,
    seq: u64,
    extra: &str,
) -> Result<Option<OutboxRow>> {
    let Some(r) = tx.opt(
        &format!(
            "SELECT entity, op, record_id, payload, recorded_at, hlc FROM record
             WHERE device_id = ?1 AND epoch = ?2 AND seq = ?3{extra}"
        ),
        args![device_id, epoch, seq],
    )?
    else {
        return Ok(None);
    };
    let (entity, op): (String, String) = (r.get(0)?, r.get(1)?);
    let (Some(entity), Some(op)) = (Entity::parse(&entity), Op::parse(&op)) else {
        return Err(Error::Internal(format!(
            "a stored row has entity {entity}, op {op}"
        )));
    };
    Ok(Some(OutboxRow {
        device_id,
        epoch,
        seq,
        entity,
        op,
        record_id: r.get(2)?,
        payload: serde_json::from_str(&r.get::<String>(3)?)?,
        recorded_at: r.get(4)?,
        // Rows stored before stamps existed sort before every stamped one.
        hlc: r
            .get::<Option<String>>(5)?
            .and_then(|h| h.parse().ok())
            .unwrap_or(Hlc::zero(device_id)),
    }))
}

/// The operation a `site_record` change refers to, as the site's other devices receive it.
fn relayed_row(tx: &dyn Tx, reference: &str) -> Result<String> {
    let r: apply::SiteRecordRef = serde_json::from_str(reference)?;
    let row = stored_row(tx, r.device_id, r.epoch, r.seq, "")?.ok_or_else(|| {
        Error::Internal(format!(
            "the change log refers to {}/{}/{}, which HQ does not hold",
            r.device_id, r.epoch, r.seq
        ))
    })?;
    Ok(serde_json::to_string(&row)?)
}

/// Appends a change to the log, for one site (`Some`) or for every site (`None`), holding the
/// log's lock for that site so the log's order is the commit order.
pub(crate) fn log_change(tx: &dyn Tx, site: Option<Uuid>, change: &HqChange) -> Result<()> {
    tx.lock(site.map_or(Lock::AllLogs, Lock::SiteLog))?;
    // The log keeps the kind and the bare payload as columns: one row per change.
    let payload = change.payload();
    tx.execute(
        "INSERT INTO change_log (site_id, kind, payload, created_at) VALUES (?1, ?2, ?3, ?4)",
        args![site, change.kind(), payload.to_string(), now()],
    )?;
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

fn device_from_row(r: &Row) -> Result<DeviceInfo> {
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

impl Store for Bank {
    fn signing_key(&self) -> &ed25519_dalek::SigningKey {
        &self.keys.signing
    }

    fn set_public_url(&self, url: &str) {
        if let Ok(mut u) = self.keys.public_url.write() {
            *u = url.trim_end_matches('/').to_string();
        }
    }

    fn verify_credential(&self, credential: &serde_json::Value) -> Result<Verification> {
        self.tx(|tx| certificates::verify(tx, &self.keys, credential))
    }

    fn verify_number(&self, number: &str, code: &str) -> Result<Verification> {
        self.tx(|tx| certificates::by_code(tx, &self.keys, number, code))
    }

    fn credential(&self, number: &str, code: &str) -> Result<serde_json::Value> {
        self.tx(|tx| certificates::credential(tx, &self.keys, number, code))
    }

    fn reissue_certificate(&self, number: &str, reason: &str) -> Result<String> {
        self.tx(|tx| certificates::reissue(tx, &self.keys, number, reason))
    }

    fn status_list(&self, list: u32) -> Result<serde_json::Value> {
        self.tx(|tx| certificates::status_list(tx, &self.keys, list))
    }

    fn xapi_collect(&self) -> Result<u64> {
        self.tx(|tx| xapi::collect(tx, &self.keys))
    }

    fn xapi_pending(&self, limit: usize) -> Result<Vec<(i64, String)>> {
        self.tx(|tx| xapi::pending(tx, limit))
    }

    fn xapi_note(&self, ids: &[i64], error: Option<&str>) -> Result<()> {
        self.tx(|tx| xapi::note(tx, ids, error))
    }

    fn xapi_status(&self) -> Result<crate::xapi::ExportStatus> {
        self.tx(xapi::status)
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
        let id = Uuid::now_v7();
        // The code's uniqueness is the table's: of two operators creating one code at once,
        // the second is told it exists.
        let created = self.tx(|tx| {
            let seq = tx.next_value("site_seq")?;
            Ok(tx.execute(
                "INSERT INTO site (id, code, name, province, seq, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (code) DO NOTHING",
                args![id, code, name, province, seq, now()],
            )? == 1)
        })?;
        if !created {
            return Err(Error::Invalid(format!("site {code} already exists")));
        }
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
        let rows = self.tx(|tx| {
            tx.query(
                "SELECT s.id, s.code, s.name, s.province,
                    (SELECT count(*) FROM device d WHERE d.site_id = s.id AND d.revoked_at IS NULL),
                    (SELECT max(d.last_push_at) FROM device d WHERE d.site_id = s.id),
                    (SELECT max(d.last_pull_at) FROM device d WHERE d.site_id = s.id),
                    (SELECT count(*) FROM record r WHERE r.site_id = s.id AND r.status = 'quarantined')
                 FROM site s ORDER BY s.code",
                &[],
            )
        })?;
        rows.iter()
            .map(|r| {
                let push: Option<DateTime<Utc>> = r.get(5)?;
                let pull: Option<DateTime<Utc>> = r.get(6)?;
                let last = push.max(pull);
                Ok(SiteInfo {
                    id: r.get(0)?,
                    code: r.get(1)?,
                    name: r.get(2)?,
                    province: r.get(3)?,
                    devices: r.get(4)?,
                    last_sync_at: last,
                    lag_seconds: last.map(|l| (at - l).num_seconds()),
                    quarantined: r.get(7)?,
                })
            })
            .collect()
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
        let expires_at = now() + valid_for;
        self.tx(|tx| {
            let site: Uuid = tx
                .value_opt("SELECT id FROM site WHERE code = ?1", args![site_code])?
                .ok_or_else(|| Error::NotFound(format!("site {site_code}")))?;
            tx.execute(
                "INSERT INTO enrolment_code (code_hash, site_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
                args![code_hash(&code), site, now(), expires_at],
            )
        })?;
        Ok(EnrolmentCode {
            code,
            site_code: site_code.into(),
            expires_at,
        })
    }

    fn enrol_device(&self, req: &EnrolRequest, public_key: [u8; 32]) -> Result<EnrolResponse> {
        let (site_id, site_code, site_name) = self.tx(|tx| {
            let Some(row) = tx.opt(
                "SELECT site_id, expires_at FROM enrolment_code WHERE code_hash = ?1 AND used_at IS NULL",
                args![code_hash(&req.code)],
            )?
            else {
                return Err(Error::BadEnrolmentCode);
            };
            let (site_id, expires_at): (Uuid, DateTime<Utc>) = (row.get(0)?, row.get(1)?);
            if expires_at < now() {
                return Err(Error::BadEnrolmentCode);
            }
            if tx.exists("SELECT 1 FROM device WHERE id = ?1", args![req.device_id])? {
                return Err(Error::Invalid(format!(
                    "device {} is already registered",
                    req.device_id
                )));
            }
            // Used once: of two devices racing with one code, only one changes the row.
            let used = tx.execute(
                "UPDATE enrolment_code SET used_at = ?2, used_by = ?3 WHERE code_hash = ?1 AND used_at IS NULL",
                args![code_hash(&req.code), now(), req.device_id],
            )?;
            if used != 1 {
                return Err(Error::BadEnrolmentCode);
            }
            tx.execute(
                "INSERT INTO device (id, site_id, public_key, label, enrolled_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                args![req.device_id, site_id, public_key.to_vec(), req.label.trim(), now()],
            )?;
            let r = tx.one("SELECT code, name FROM site WHERE id = ?1", args![site_id])?;
            Ok((site_id, r.get::<String>(0)?, r.get::<String>(1)?))
        })?;
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
            &self.keys.signing,
            siteline_proto::sync::device_certificate_signing_string(&body).as_bytes(),
        );
        let b64 = |bytes: &[u8]| {
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, bytes)
        };
        Ok(EnrolResponse {
            device_certificate: siteline_proto::sync::SignedDeviceCertificate {
                body,
                signature: b64(&signature.to_bytes()),
            },
            site_id,
            site_code,
            site_name,
            hq_public_key: b64(&self.keys.signing.verifying_key().to_bytes()),
            hq_seal_key: b64(&self.keys.seal.public_bytes()),
        })
    }

    fn device(&self, id: Uuid) -> Result<Option<DeviceInfo>> {
        self.tx(|tx| {
            tx.opt(&format!("{DEVICE_SELECT} WHERE d.id = ?1"), args![id])?
                .map(|r| device_from_row(&r))
                .transpose()
        })
    }

    fn list_devices(&self) -> Result<Vec<DeviceInfo>> {
        self.tx(|tx| {
            tx.query(
                &format!("{DEVICE_SELECT} ORDER BY s.code, d.enrolled_at"),
                &[],
            )?
            .iter()
            .map(device_from_row)
            .collect()
        })
    }

    fn revoke_device(&self, id: Uuid) -> Result<()> {
        self.tx(|tx| {
            let Some(site) = tx.value_opt::<Uuid>(
                "SELECT site_id FROM device WHERE id = ?1 AND revoked_at IS NULL",
                args![id],
            )?
            else {
                return Err(Error::NotFound(format!("active device {id}")));
            };
            // The site's log lock first: a push of this device in flight finishes before the
            // revocation, and none starts after it.
            tx.lock(Lock::SiteLog(site))?;
            let changed = tx.execute(
                "UPDATE device SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                args![id, now()],
            )?;
            if changed != 1 {
                return Err(Error::NotFound(format!("active device {id}")));
            }
            log_change(
                tx,
                Some(site),
                &HqChange::DeviceRevoked(DeviceRevoked { device_id: id }),
            )
        })
    }

    fn note_signature(&self, signature: &[u8], now_ms: i64, expires_ms: i64) -> Result<bool> {
        let digest = Sha256::digest(signature).to_vec();
        self.tx(|tx| {
            tx.execute(
                "DELETE FROM seen_signature WHERE at_ms < ?1",
                args![now_ms],
            )?;
            // `at_ms` holds the expiry: the signature is remembered as long as its request
            // could still be accepted. Of two racing requests with one signature, one inserts.
            let n = tx.execute(
                "INSERT INTO seen_signature (signature, at_ms) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                args![digest, expires_ms],
            )?;
            Ok(n == 1)
        })
    }

    fn push(&self, device: &DeviceInfo, batch: &PushBatch) -> Result<PushAck> {
        let push = |mode| {
            self.tx(|tx| {
                let ack = apply::push(tx, &self.keys, device, batch, mode)?;
                tx.execute(
                    "UPDATE device SET last_push_at = ?2 WHERE id = ?1",
                    args![device.id, now()],
                )?;
                Ok(ack)
            })
        };
        match push(apply::Rows::Optimistic) {
            // A row was refused: the batch again, each row on its own (the first attempt
            // rolled back whole).
            Err(Error::Reapply) => push(apply::Rows::Isolated),
            other => other,
        }
    }

    fn pull(&self, device: &DeviceInfo, since: u64, max_bytes: u64) -> Result<PullPage> {
        self.tx(|tx| {
            // The site's own records come from its other devices only; a device's own
            // operations are not sent back to it.
            // Two index range scans (the site's entries, the all-site ones) merged, rather than
            // one scan of the whole log past the cursor filtered down to the site.
            let rows = tx.query(
                "SELECT seq, kind, payload FROM (
                     SELECT seq, kind, payload FROM (
                         SELECT seq, kind, payload FROM change_log
                         WHERE site_id = ?2 AND seq > ?1
                           AND (origin_device IS NULL OR origin_device <> ?3)
                         ORDER BY seq LIMIT 501) AS own
                     UNION ALL
                     SELECT seq, kind, payload FROM (
                         SELECT seq, kind, payload FROM change_log
                         WHERE site_id IS NULL AND seq > ?1
                         ORDER BY seq LIMIT 501) AS every
                 ) AS page ORDER BY seq LIMIT 501",
                args![since, device.site_id, device.id],
            )?;
            let mut changes = Vec::new();
            let mut bytes = 0u64;
            let mut next_cursor = since;
            let mut more = false;
            for r in rows {
                let seq: u64 = r.get(0)?;
                let kind: String = r.get(1)?;
                let mut payload: String = r.get(2)?;
                if kind == "site_record" {
                    payload = relayed_row(tx, &payload)?;
                }
                let size = payload.len() as u64 + 64;
                // Always at least one change per page, so a huge change still moves the
                // cursor.
                if changes.len() >= 500 || (!changes.is_empty() && bytes + size > max_bytes) {
                    more = true;
                    break;
                }
                bytes += size;
                let change = HqChange::from_parts(&kind, serde_json::from_str(&payload)?)?;
                changes.push(Change { seq, change });
                next_cursor = seq;
            }
            tx.execute(
                "UPDATE device SET last_pull_at = ?2 WHERE id = ?1",
                args![device.id, now()],
            )?;
            Ok(PullPage {
                changes,
                next_cursor,
                more,
            })
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
        self.tx(|tx| {
            // Publishers one at a time, and after every site's writers in flight.
            tx.lock(Lock::AllLogs)?;
            let existing: Option<String> = tx.value_opt(
                "SELECT document FROM catalogue_version WHERE version = ?1",
                args![doc.version],
            )?;
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
                args![doc.version, document, now()],
            )?;
            for pv in &doc.programme_versions {
                let old: Option<String> = tx.value_opt(
                    "SELECT document FROM programme_version WHERE id = ?1",
                    args![pv.id],
                )?;
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
                            args![pv.id, doc.version, json],
                        )?;
                    }
                }
            }
            log_change(tx, None, &HqChange::Catalogue(doc.clone()))?;
            Ok(true)
        })
    }

    fn list_quarantine(&self) -> Result<Vec<QuarantineItem>> {
        self.tx(|tx| {
            tx.query(
                "SELECT r.device_id, r.epoch, r.seq, s.code, r.entity, r.record_id, r.reason, r.received_at
                 FROM record r JOIN site s ON s.id = r.site_id
                 WHERE r.status = 'quarantined' ORDER BY r.received_at, r.seq",
                &[],
            )?
            .iter()
            .map(|r| {
                Ok(QuarantineItem {
                    device_id: r.get(0)?,
                    epoch: r.get(1)?,
                    seq: r.get(2)?,
                    site_code: r.get(3)?,
                    entity: r.get(4)?,
                    record_id: r.get(5)?,
                    reason: r.get::<Option<String>>(6)?.unwrap_or_default(),
                    received_at: r.get(7)?,
                })
            })
            .collect()
        })
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
        self.tx(|tx| {
            let device = tx
                .opt(
                    &format!("{DEVICE_SELECT} WHERE d.id = ?1"),
                    args![device_id],
                )?
                .map(|r| device_from_row(&r))
                .transpose()?;
            let not_found =
                || Error::NotFound(format!("quarantined row {device_id}/{epoch}/{seq}"));
            let device = device.ok_or_else(not_found)?;
            // The site's writers one at a time: the row is re-applied once, whoever else
            // resolves it at the same moment.
            tx.lock(Lock::SiteLog(device.site_id))?;
            let row = stored_row(tx, device_id, epoch, seq, " AND status = 'quarantined'")?
                .ok_or_else(not_found)?;
            let refused = apply::apply_isolated(tx, &self.keys, &device, &row)?;
            let applied = refused.is_none();
            tx.execute(
                "UPDATE record SET status = ?4, resolution = ?5
                 WHERE device_id = ?1 AND epoch = ?2 AND seq = ?3",
                args![
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
                tx,
                Some(device.site_id),
                &HqChange::QuarantineResolved(QuarantineResolved {
                    device_id,
                    seq,
                    record_id: row.record_id,
                    applied,
                    note: note.to_string(),
                }),
            )?;
            Ok(applied)
        })
    }

    fn reverse_posting(&self, posting_id: i64, reason: &str) -> Result<i64> {
        if reason.trim().is_empty() || reason.chars().count() > 1000 {
            return Err(Error::Invalid(
                "say in 1 to 1,000 characters why the credits are reversed".into(),
            ));
        }
        self.tx(|tx| {
            let Some(r) = tx.opt(
                "SELECT account_id, decision_id, site_id, credits_tenths, reverses FROM credit_posting WHERE id = ?1",
                args![posting_id],
            )?
            else {
                return Err(Error::NotFound(format!("credit posting {posting_id}")));
            };
            let (account, decision, site, credits, reverses): (i64, i64, Uuid, i64, Option<i64>) =
                (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?);
            tx.lock(Lock::SiteLog(site))?;
            let already =
                tx.exists("SELECT 1 FROM credit_posting WHERE reverses = ?1", args![posting_id])?;
            if reverses.is_some() || already {
                return Err(Error::Invalid(format!(
                    "posting {posting_id} is a reversal or was already reversed"
                )));
            }
            // A unique index on `reverses` makes a second reversal fail even if two operators
            // pass the check above at once.
            let reversal: i64 = tx.value(
                "INSERT INTO credit_posting (account_id, decision_id, site_id, credits_tenths, reverses, posted_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
                args![account, decision, site, -credits, posting_id, now()],
            )?;
            let r = tx.one(
                "SELECT a.account_no, d.claim_id, c.learner_id FROM credit_account a, decision d
                 JOIN claim c ON c.record_id = d.claim_id WHERE a.id = ?1 AND d.id = ?2",
                args![account, decision],
            )?;
            let (account_no, claim, learner): (String, Uuid, Uuid) =
                (r.get(0)?, r.get(1)?, r.get(2)?);
            log_change(
                tx,
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
            certificates::revoke(tx, &self.keys, decision, site, reason.trim())?;
            Ok(reversal)
        })
    }

    fn account(&self, account_no: &str) -> Result<AccountStatement> {
        self.tx(|tx| {
            let id: i64 = tx
                .value_opt(
                    "SELECT id FROM credit_account WHERE account_no = ?1",
                    args![account_no],
                )?
                .ok_or_else(|| Error::NotFound(format!("credit account {account_no}")))?;
            Ok(AccountStatement {
                account_no: account_no.into(),
                balance_tenths: tx.value(
                    "SELECT CAST(coalesce(sum(credits_tenths), 0) AS BIGINT) FROM credit_posting WHERE account_id = ?1",
                    args![id],
                )?,
                sites: tx.column(
                    "SELECT DISTINCT s.code FROM credit_posting p JOIN site s ON s.id = p.site_id
                     WHERE p.account_id = ?1 ORDER BY s.code",
                    args![id],
                )?,
                certificates: tx.column(
                    "SELECT number FROM certificate WHERE account_id = ?1 ORDER BY id",
                    args![id],
                )?,
            })
        })
    }

    fn accounts(&self) -> Result<Vec<String>> {
        self.tx(|tx| tx.column("SELECT account_no FROM credit_account ORDER BY id", &[]))
    }
}
