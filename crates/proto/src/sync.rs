//! The sync protocol's messages beyond the outbox rows: the handshake, device enrolment, push
//! acknowledgements, pull pages, and the signing strings both ends compute.

use chrono::{DateTime, NaiveDate, Utc};
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
    /// On HQ's answers: base64 Ed25519 signature by HQ's key over [`super::answer_signing_string`].
    pub const ANSWER_SIGNATURE: &str = "siteline-answer-signature";
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
    /// HQ's Ed25519 public key, base64 (32 bytes): the device pins it and refuses any answer
    /// it does not verify.
    pub hq_public_key: String,
    /// HQ's X25519 public sealing key, base64 (32 bytes): the device seals each resident ID
    /// number to it before the number leaves the device.
    pub hq_seal_key: String,
    /// HQ's word that this device belongs to the site, shown to the site's other devices on
    /// the LAN, which check it offline with HQ's pinned key.
    pub device_certificate: SignedDeviceCertificate,
}

/// What HQ certifies about an enrolled device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DeviceCertificate {
    /// Always [`DEVICE_CERTIFICATE_FORMAT`].
    pub format: String,
    /// The device.
    pub device_id: Uuid,
    /// Its site at HQ.
    pub site_id: Uuid,
    /// The site's code.
    pub site_code: String,
    /// The device's Ed25519 public key, base64 (32 bytes).
    pub public_key: String,
    /// When HQ enrolled it.
    pub issued_at: DateTime<Utc>,
}

/// Format tag of a device certificate.
pub const DEVICE_CERTIFICATE_FORMAT: &str = "siteline-device-certificate-v1";

/// A [`DeviceCertificate`] as HQ signed it: the exact JSON and HQ's signature over
/// [`device_certificate_signing_string`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SignedDeviceCertificate {
    /// The exact JSON of the [`DeviceCertificate`].
    pub body: String,
    /// Base64 Ed25519 signature by HQ.
    pub signature: String,
}

/// What HQ's signature on a device certificate covers.
pub fn device_certificate_signing_string(body: &str) -> String {
    format!("siteline-device-certificate-v1\n{body}")
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

/// HQ's verdict on an outcome claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum DecisionStatus {
    /// 已认定: the claim meets the programme's rules; credits are posted.
    Accredited,
    /// 需补充: something is missing or differs from HQ's records; the site can fix it and
    /// claim again.
    NeedsInfo,
    /// 未认定: the claim does not meet the rules.
    Rejected,
}

impl DecisionStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            DecisionStatus::Accredited => "accredited",
            DecisionStatus::NeedsInfo => "needs_info",
            DecisionStatus::Rejected => "rejected",
        }
    }

    /// Parses the stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Accredited, Self::NeedsInfo, Self::Rejected]
            .into_iter()
            .find(|d| d.as_str() == s)
    }
}

/// A certificate's standing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum CertificateStatus {
    /// In force.
    Valid,
    /// Withdrawn (its credits were reversed).
    Revoked,
    /// Replaced by another certificate.
    Superseded,
}

impl CertificateStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            CertificateStatus::Valid => "valid",
            CertificateStatus::Revoked => "revoked",
            CertificateStatus::Superseded => "superseded",
        }
    }
    /// From the stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "valid" => Some(CertificateStatus::Valid),
            "revoked" => Some(CertificateStatus::Revoked),
            "superseded" => Some(CertificateStatus::Superseded),
            _ => None,
        }
    }
}

/// HQ's decision on one of the site's claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// The claim decided.
    pub claim_id: Uuid,
    /// The learner it was for.
    pub learner_id: Uuid,
    /// The verdict.
    pub status: DecisionStatus,
    /// Why, "中文 / English".
    pub reason: String,
    /// Credits accredited, in tenths (0 unless accredited).
    pub credits_tenths: i64,
    /// The learner's credit account, once HQ has matched one.
    pub account_no: Option<String>,
    /// The programme version claimed.
    pub programme_version_id: String,
}

/// A posting to a learner's credit account (negative for a reversal).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreditPosting {
    /// HQ's posting id.
    pub posting_id: i64,
    /// The claim whose decision it posts.
    pub claim_id: Uuid,
    /// The learner.
    pub learner_id: Uuid,
    /// The credit account.
    pub account_no: Option<String>,
    /// Credits in tenths; negative for a reversal.
    pub credits_tenths: i64,
    /// The posting a reversal reverses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reverses: Option<i64>,
    /// Why a reversal was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A certificate issued, revoked or superseded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Certificate {
    /// The 职业技能等级证书 number (validated by the site with the domain's parser).
    pub number: String,
    /// The learner.
    pub learner_id: Uuid,
    /// The credit account.
    pub account_no: Option<String>,
    /// The programme version certified.
    pub programme_version_id: String,
    /// Its standing.
    pub status: CertificateStatus,
    /// 姓名 as the certificate states it. The fields below are none on certificates issued
    /// before protocol 5.
    #[serde(default)]
    pub learner_name: Option<String>,
    /// 身份证件号码, masked as the site showed it (never in clear).
    #[serde(default)]
    pub id_masked: Option<String>,
    /// 培训起止日期: first day of training.
    #[serde(default)]
    pub training_start: Option<NaiveDate>,
    /// Last day of training.
    #[serde(default)]
    pub training_end: Option<NaiveDate>,
    /// The site that trained and assessed (培训机构).
    #[serde(default)]
    pub institution: Option<String>,
    /// 发证日期 (and time).
    #[serde(default)]
    pub issued_at: Option<DateTime<Utc>>,
    /// When it was revoked.
    #[serde(default)]
    pub revoked_at: Option<DateTime<Utc>>,
    /// Why (the credit reversal's reason).
    #[serde(default)]
    pub revoked_reason: Option<String>,
    /// The number that replaced it.
    #[serde(default)]
    pub superseded_by: Option<String>,
    /// The Open Badges 3.0 credential HQ signed for it, as issued (JSON text): the file the
    /// learner keeps in a wallet.
    #[serde(default)]
    pub credential: Option<String>,
    /// HQ's page that checks it (what the printed certificate's QR code opens).
    #[serde(default)]
    pub verify_url: Option<String>,
}

/// A row of the site's that HQ stored but quarantined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct QuarantineNotice {
    /// The device that wrote the row.
    pub device_id: Uuid,
    /// The row's seq.
    pub seq: u64,
    /// The record it concerned.
    pub record_id: Uuid,
    /// Why, "中文 / English".
    pub reason: String,
}

/// HQ resolved a row it had quarantined: re-applied it (the record now counts) or, when it
/// still cannot apply, set it aside with the operator's note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct QuarantineResolved {
    /// The device that wrote the row.
    pub device_id: Uuid,
    /// The row's seq.
    pub seq: u64,
    /// The record it concerned.
    pub record_id: Uuid,
    /// Re-applied (true) or set aside (false).
    pub applied: bool,
    /// HQ's note on how it was resolved.
    pub note: String,
}

/// A device of the site was revoked by HQ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DeviceRevoked {
    /// The revoked device.
    pub device_id: Uuid,
}

/// What HQ sends back: one entry of its change log, typed by kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", content = "payload", rename_all = "snake_case")]
pub enum HqChange {
    /// A published catalogue version.
    Catalogue(crate::catalogue::Catalogue),
    /// An accreditation decision on one of the site's claims.
    Decision(Decision),
    /// A credit posting.
    Credit(CreditPosting),
    /// A certificate issued, revoked or superseded.
    Certificate(Certificate),
    /// A row of the site's was quarantined.
    Quarantine(QuarantineNotice),
    /// A quarantined row was resolved at HQ.
    QuarantineResolved(QuarantineResolved),
    /// A device of the site was revoked.
    DeviceRevoked(DeviceRevoked),
    /// An operation another device of the same site wrote, as HQ received it (a learner row
    /// without the number sealed to HQ, with the profile sealed under the site key).
    SiteRecord(crate::OutboxRow),
}

impl HqChange {
    /// The kind's stable name, as HQ's change log stores it.
    pub fn kind(&self) -> &'static str {
        match self {
            HqChange::Catalogue(_) => "catalogue",
            HqChange::Decision(_) => "decision",
            HqChange::Credit(_) => "credit",
            HqChange::Certificate(_) => "certificate",
            HqChange::Quarantine(_) => "quarantine",
            HqChange::QuarantineResolved(_) => "quarantine_resolved",
            HqChange::DeviceRevoked(_) => "device_revoked",
            HqChange::SiteRecord(_) => "site_record",
        }
    }

    /// The payload alone (without its kind), as HQ's change log stores it.
    pub fn payload(&self) -> serde_json::Value {
        let value = match self {
            HqChange::Catalogue(c) => serde_json::to_value(c),
            HqChange::Decision(d) => serde_json::to_value(d),
            HqChange::Credit(c) => serde_json::to_value(c),
            HqChange::Certificate(c) => serde_json::to_value(c),
            HqChange::Quarantine(q) => serde_json::to_value(q),
            HqChange::QuarantineResolved(q) => serde_json::to_value(q),
            HqChange::DeviceRevoked(d) => serde_json::to_value(d),
            HqChange::SiteRecord(r) => serde_json::to_value(r),
        };
        // Plain structs of strings, numbers, ids and enums: serialising them cannot fail.
        value.unwrap_or(serde_json::Value::Null)
    }

    /// Rebuilds a change from its stored kind and payload.
    pub fn from_parts(kind: &str, payload: serde_json::Value) -> serde_json::Result<HqChange> {
        let mut map = serde_json::Map::new();
        map.insert("kind".into(), kind.into());
        map.insert("payload".into(), payload);
        serde_json::from_value(serde_json::Value::Object(map))
    }
}

/// One entry of HQ's change log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Change {
    /// HQ's log sequence: the cursor.
    pub seq: u64,
    /// The change itself: `kind` and `payload` beside `seq` on the wire.
    #[serde(flatten)]
    pub change: HqChange,
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

/// What HQ's signature on an answer covers: the device answered, the SHA-256 of the request's
/// signature (binding the answer to that one request) and the SHA-256 of the answer's body.
pub fn answer_signing_string(
    device: Uuid,
    request_signature_sha256_hex: &str,
    body_sha256_hex: &str,
) -> String {
    format!("siteline-answer-v1\n{device}\n{request_signature_sha256_hex}\n{body_sha256_hex}")
}

/// What a bundle's signature covers: the device, its cursor, when it was signed, the batch's
/// range (`-` when nothing was pending) and the SHA-256 of the batch JSON (of the empty string
/// when nothing was pending). A bundle is signed even when it carries no batch, so nobody but
/// the device can ask HQ for its site's change log.
pub fn bundle_signing_string(
    device: Uuid,
    since: u64,
    signed_at_ms: i64,
    seq_range: Option<&str>,
    batch_sha256_hex: &str,
) -> String {
    format!(
        "siteline-bundle-v2\n{device}\n{since}\n{signed_at_ms}\n{}\n{batch_sha256_hex}",
        seq_range.unwrap_or("-")
    )
}

/// Format tag of a sync bundle file.
pub const BUNDLE_FORMAT: &str = "siteline-bundle-v2";
/// Format tag of HQ's answer file.
pub const ANSWER_FORMAT: &str = "siteline-answer-v2";

/// A sync bundle: the batch a push would send and the device's cursor, signed by the device,
/// in a file carried to a place with a link (or to HQ). Importing the same file twice is
/// refused as a replay; its rows are applied once whatever happens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
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
    /// Base64 Ed25519 signature over [`bundle_signing_string`].
    pub signature: String,
}

/// What an answer file says, as HQ signed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AnswerBody {
    /// The acknowledgement, if the bundle carried a batch.
    pub ack: Option<PushAck>,
    /// Change-log pages after the bundle's cursor.
    pub pages: Vec<PullPage>,
}

/// HQ's answer to a bundle: the body as signed (exact JSON of an [`AnswerBody`]) and HQ's
/// signature over it, bound to the bundle it answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BundleAnswer {
    /// Always [`ANSWER_FORMAT`].
    pub format: String,
    /// The device it answers.
    pub device_id: Uuid,
    /// Lower-case hex SHA-256 of the answered bundle's signature.
    pub bundle: String,
    /// The exact JSON of the [`AnswerBody`] HQ signed.
    pub body: String,
    /// Base64 Ed25519 signature by HQ over [`answer_signing_string`].
    pub signature: String,
}
