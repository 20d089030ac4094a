//! Storage behind one narrow interface ([`Store`]), implemented once by [`Bank`] over the
//! [`sql::Tx`] both databases offer: SQLite in the data directory (the zero-configuration
//! default) or PostgreSQL for a national HQ. Methods are blocking; the HTTP layer calls them
//! on tokio's blocking pool.

pub mod apply;
mod audit;
mod bank;
pub mod certificates;
mod claims;
pub mod postgres;
pub mod sql;
mod sqlite;
mod xapi;

pub use bank::{Bank, TEST_DATABASE_ENV};
pub use certificates::{CertificateView, Outcome as VerifyOutcome, Verification};
pub use sqlite::SYNCHRONOUS;

use chrono::{DateTime, Utc};
use serde::Serialize;
use siteline_proto::PushBatch;
use siteline_proto::catalogue::Catalogue;
use siteline_proto::sync::{EnrolRequest, EnrolResponse, PullPage, PushAck};
use uuid::Uuid;

use crate::Result;

/// A site as HQ operators see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SiteInfo {
    /// Site id.
    pub id: Uuid,
    /// Short code, e.g. `GD-SZ-001`.
    pub code: String,
    /// Name.
    pub name: String,
    /// Two-digit province code used in certificate numbers.
    pub province: String,
    /// Active devices.
    pub devices: u32,
    /// Last push or pull from any of its devices.
    pub last_sync_at: Option<DateTime<Utc>>,
    /// Seconds since then (the lag HQ watches).
    pub lag_seconds: Option<i64>,
    /// Rows waiting in quarantine.
    pub quarantined: u32,
}

/// A registered device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DeviceInfo {
    /// Device id.
    pub id: Uuid,
    /// Its site.
    pub site_id: Uuid,
    /// The site's code.
    pub site_code: String,
    /// Label.
    pub label: String,
    /// Enrolled at.
    pub enrolled_at: DateTime<Utc>,
    /// Revoked at, if revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Ed25519 public key.
    #[serde(skip)]
    pub public_key: [u8; 32],
}

/// A quarantined row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct QuarantineItem {
    /// Device.
    pub device_id: Uuid,
    /// Epoch.
    pub epoch: u32,
    /// Seq.
    pub seq: u64,
    /// Site code.
    pub site_code: String,
    /// Entity.
    pub entity: String,
    /// Record.
    pub record_id: Uuid,
    /// Why.
    pub reason: String,
    /// When it arrived.
    pub received_at: DateTime<Utc>,
}

/// A one-time enrolment code, shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct EnrolmentCode {
    /// The code to type on the device.
    pub code: String,
    /// For which site.
    pub site_code: String,
    /// Valid until.
    pub expires_at: DateTime<Utc>,
}

/// A credit account's balance and postings, for HQ staff and tests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AccountStatement {
    /// Account number.
    pub account_no: String,
    /// Sum of postings in tenths.
    pub balance_tenths: i64,
    /// Sites that posted credits.
    pub sites: Vec<String>,
    /// Certificate numbers.
    pub certificates: Vec<String>,
}

/// Everything the credit bank stores.
pub trait Store: Send + Sync + 'static {
    /// HQ's Ed25519 key, kept with the data: it signs every answer to a device (push acks,
    /// pull pages, bundle answers); devices pin its public half at enrolment.
    fn signing_key(&self) -> &ed25519_dalek::SigningKey;
    /// Sets the address HQ is reached at (`https://hq.example.cn`): the credentials issued
    /// from now on name it, with their status lists and verify pages.
    fn set_public_url(&self, url: &str);
    /// Checks a presented credential: HQ's signature, that it is exactly what HQ issued, and
    /// the certificate's standing.
    fn verify_credential(&self, credential: &serde_json::Value) -> Result<Verification>;
    /// Checks a certificate by its number and the code printed beside its QR code.
    fn verify_number(&self, number: &str, code: &str) -> Result<Verification>;
    /// A certificate's signed credential, for whoever has its number and code.
    fn credential(&self, number: &str, code: &str) -> Result<serde_json::Value>;
    /// Issues a valid certificate again under a new number (the learner's name as HQ holds it
    /// now, after a correction); the old one is superseded by it. The new number.
    fn reissue_certificate(&self, number: &str, reason: &str) -> Result<String>;
    /// Revocation status list `list` (1-based), signed now.
    fn status_list(&self, list: u32) -> Result<serde_json::Value>;
    /// Queues the xAPI statements HQ's records call for that are not queued yet; how many.
    fn xapi_collect(&self) -> Result<u64>;
    /// The oldest statements the LRS has not accepted: (queue id, JSON).
    fn xapi_pending(&self, limit: usize) -> Result<Vec<(i64, String)>>;
    /// Records a send of `ids`: accepted when `error` is none, else the error, kept for the
    /// operator.
    fn xapi_note(&self, ids: &[i64], error: Option<&str>) -> Result<()>;
    /// How far the export to the LRS got.
    fn xapi_status(&self) -> Result<crate::xapi::ExportStatus>;
    /// Creates a site.
    fn create_site(&self, code: &str, name: &str, province: &str) -> Result<SiteInfo>;
    /// Lists sites with last sync and lag.
    fn list_sites(&self, now: DateTime<Utc>) -> Result<Vec<SiteInfo>>;
    /// Issues a one-time enrolment code for a site.
    fn issue_enrolment_code(
        &self,
        site_code: &str,
        valid_for: chrono::Duration,
    ) -> Result<EnrolmentCode>;
    /// Registers a device with a code.
    fn enrol_device(&self, req: &EnrolRequest, public_key: [u8; 32]) -> Result<EnrolResponse>;
    /// Looks a device up.
    fn device(&self, id: Uuid) -> Result<Option<DeviceInfo>>;
    /// Lists devices.
    fn list_devices(&self) -> Result<Vec<DeviceInfo>>;
    /// Revokes a device; sites learn of it by pull.
    fn revoke_device(&self, id: Uuid) -> Result<()>;
    /// Remembers a request signature until `expires_ms`; false when it was seen before (a
    /// replay). Signatures past their expiry are forgotten (their requests are stale anyway).
    fn note_signature(&self, signature: &[u8], now_ms: i64, expires_ms: i64) -> Result<bool>;
    /// Applies a batch exactly once.
    fn push(&self, device: &DeviceInfo, batch: &PushBatch) -> Result<PushAck>;
    /// A page of the change log for the device's site.
    fn pull(&self, device: &DeviceInfo, since: u64, max_bytes: u64) -> Result<PullPage>;
    /// Publishes a catalogue version (refused if the version exists with other content).
    fn publish_catalogue(&self, doc: &Catalogue) -> Result<bool>;
    /// Quarantined rows.
    fn list_quarantine(&self) -> Result<Vec<QuarantineItem>>;
    /// Resolves a quarantined row: re-applies it (true when it now applies) or, if it still
    /// cannot apply, sets it aside with the note (false); the site hears of either by pull.
    fn resolve_quarantine(&self, device_id: Uuid, epoch: u32, seq: u64, note: &str)
    -> Result<bool>;
    /// Reverses a credit posting with a negative posting (postings are never edited) and
    /// revokes the certificate issued with it; the site hears of both by pull.
    fn reverse_posting(&self, posting_id: i64, reason: &str) -> Result<i64>;
    /// A credit account's statement by account number.
    fn account(&self, account_no: &str) -> Result<AccountStatement>;
    /// Every credit account number (for HQ staff).
    fn accounts(&self) -> Result<Vec<String>>;
}
