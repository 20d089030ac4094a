//! The sync protocol's messages beyond the outbox rows: the handshake, device enrolment, push
//! acknowledgements, pull pages, and the signing strings both ends compute.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What `GET /v1/hello` answers, so a site can tell the credit bank from a captive portal.
pub const SERVICE_NAME: &str = "siteline-creditbank";

/// Header names of the protocol.
pub mod headers {
    /// Protocol version the client speaks.
    pub const PROTOCOL: &str = "siteline-protocol";
    /// The signing device's id.
    pub const DEVICE: &str = "siteline-device";
    /// Milliseconds since the Unix epoch, device clock, when the request was signed.
    pub const TIMESTAMP: &str = "siteline-timestamp";
    /// `epoch:from-to` of a push batch.
    pub const SEQ_RANGE: &str = "siteline-seq-range";
    /// Base64 Ed25519 signature over the signing string.
    pub const SIGNATURE: &str = "siteline-signature";
}

/// The handshake answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Hello {
    /// Always [`SERVICE_NAME`].
    pub service: String,
    /// Protocol versions the server accepts.
    pub protocol_versions: Vec<u32>,
    /// The server's clock, so the site can warn about a skewed device clock.
    pub server_time: DateTime<Utc>,
}

/// A device asks to join a site with a one-time code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnrolRequest {
    /// The one-time enrolment code HQ issued for the site.
    pub code: String,
    /// The device's own id (UUIDv7 made on first start).
    pub device_id: Uuid,
    /// The device's Ed25519 public key, base64 (32 bytes).
    pub public_key: String,
    /// A label HQ staff see, e.g. "classroom laptop 2".
    pub label: String,
}

/// The site the device now belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnrolResponse {
    /// Site id at HQ.
    pub site_id: Uuid,
    /// Site code, e.g. `GD-SZ-001`.
    pub site_code: String,
    /// Site name.
    pub site_name: String,
}

/// A row HQ stored but did not apply, with the reason the site shows on the record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QuarantinedRow {
    /// The operation's seq.
    pub seq: u64,
    /// The record it concerned.
    pub record_id: Uuid,
    /// Why, in plain words.
    pub reason: String,
}

/// HQ's answer to a push.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushAck {
    /// The device epoch the acknowledgement is for (a restored device pushes its older
    /// epoch's rows first; HQ keeps a high-water mark per epoch).
    pub epoch: u32,
    /// Every operation of `epoch` up to here is stored at HQ; prune the outbox through it.
    pub acked_through: u64,
    /// Rows newly applied by this request.
    pub applied: u32,
    /// Rows of the batch HQ already had (a retry or overlap).
    pub already_had: u32,
    /// Rows stored but quarantined, with reasons.
    pub quarantined: Vec<QuarantinedRow>,
}

/// What a change in HQ's log is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// A published catalogue version (payload: [`crate::catalogue::Catalogue`]).
    Catalogue,
    /// An accreditation decision on one of the site's claims.
    Decision,
    /// A credit posting (negative for a reversal).
    Credit,
    /// A certificate issued, revoked or superseded.
    Certificate,
    /// A row of the site's was quarantined.
    Quarantine,
    /// A device of the site was revoked.
    DeviceRevoked,
}

/// One entry of HQ's change log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Change {
    /// HQ's log sequence: the cursor.
    pub seq: u64,
    /// What it is about.
    pub kind: ChangeKind,
    /// The change itself.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub payload: serde_json::Value,
}

/// One page of the change log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PullPage {
    /// Changes after the requested cursor, in order.
    pub changes: Vec<Change>,
    /// Store this cursor with the page, in the same transaction.
    pub next_cursor: u64,
    /// More changes wait beyond this page.
    pub more: bool,
}

/// Lower-case hex SHA-256 is computed by the caller; this joins what a push signature covers.
pub fn push_signing_string(
    device: Uuid,
    epoch: u32,
    from_seq: u64,
    to_seq: u64,
    timestamp_ms: i64,
    body_sha256_hex: &str,
) -> String {
    format!(
        "siteline-push-v1\n{device}\n{epoch}:{from_seq}-{to_seq}\n{timestamp_ms}\n{body_sha256_hex}"
    )
}

/// What a pull signature covers.
pub fn pull_signing_string(device: Uuid, since: u64, max_bytes: u64, timestamp_ms: i64) -> String {
    format!("siteline-pull-v1\n{device}\n{since}\n{max_bytes}\n{timestamp_ms}")
}

/// Format tag of a sync bundle file.
pub const BUNDLE_FORMAT: &str = "siteline-bundle-v1";
/// Format tag of HQ's answer file.
pub const ANSWER_FORMAT: &str = "siteline-answer-v1";

/// A sync bundle: the same batch a push would send, signed the same way, in a file carried to
/// a place with a link (or to HQ). Importing it twice changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SyncBundle {
    /// Always [`BUNDLE_FORMAT`].
    pub format: String,
    /// The device.
    pub device_id: Uuid,
    /// Its pull cursor: HQ answers with the changes after it.
    pub since: u64,
    /// The batch as signed (exact JSON bytes of a `PushBatch`), if anything was pending.
    pub batch_json: Option<String>,
    /// `epoch:from-to` of the batch.
    pub seq_range: Option<String>,
    /// When it was signed (device clock, ms).
    pub signed_at_ms: i64,
    /// Base64 Ed25519 signature over the push signing string.
    pub signature: Option<String>,
}

/// HQ's answer to a bundle: the acknowledgement and the pull pages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BundleAnswer {
    /// Always [`ANSWER_FORMAT`].
    pub format: String,
    /// The device it answers.
    pub device_id: Uuid,
    /// The acknowledgement, if the bundle carried a batch.
    pub ack: Option<PushAck>,
    /// Change-log pages after the bundle's cursor.
    pub pages: Vec<PullPage>,
}
