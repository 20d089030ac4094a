//! Certificates as signed credentials (ADR 0007): the Open Badges 3.0 `OpenBadgeCredential` HQ
//! issues for each certificate, and the W3C Bitstring Status List that says which are revoked.
//!
//! A certificate's credential is built from its record alone, deterministically (its
//! `validFrom` and the proof's `created` are the issue time), and signed with HQ's Ed25519 key,
//! named as a `did:key`. The learner is named by her credit account and her name, never by an
//! ID number (PIPL).

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use ed25519_dalek::SigningKey;
use serde_json::{Value, json};
use siteline_credential::{OB_V3, ProofOptions, VC_V2};
use std::io::Write;

use crate::{Error, Result};

/// Entries in one status list: the specification's minimum, so a list never tells how many
/// certificates HQ issued.
pub const STATUS_LIST_SIZE: u32 = 131_072;

/// What a certificate says, fixed when it is issued (the 职业技能等级证书 fields).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateFacts {
    /// 证书编号.
    pub number: String,
    /// 姓名, as HQ held it when issuing (with the learner's consent).
    pub learner_name: String,
    /// The credit account that holds the credits.
    pub account_no: String,
    /// Programme version certified.
    pub programme_version_id: String,
    /// 职业（工种）, Chinese and English.
    pub programme_zh: String,
    /// English name.
    pub programme_en: String,
    /// 等级: 5 (五级) … 1 (一级).
    pub level: u8,
    /// Hours of training the programme requires.
    pub hours: u32,
    /// Credits posted, in tenths.
    pub credits_tenths: i64,
    /// 培训起止日期.
    pub training_start: NaiveDate,
    /// End of training.
    pub training_end: NaiveDate,
    /// The site that trained and assessed (培训机构).
    pub institution: String,
    /// 发证日期 (and time).
    pub issued_at: DateTime<Utc>,
    /// Position in the status lists (0-based, across lists).
    pub status_index: u32,
}

/// HQ as an issuer: its key and the address its credentials and status lists live at.
pub struct Issuer<'a> {
    /// HQ's signing key.
    pub key: &'a SigningKey,
    /// `https://hq.example.cn`, no trailing slash.
    pub base_url: &'a str,
}

impl Issuer<'_> {
    /// HQ's `did:key` and its verification method.
    pub fn did(&self) -> (String, String) {
        siteline_credential::did_key(&self.key.verifying_key())
    }
}

/// The issuer's name, Chinese first.
pub const ISSUER_NAME: &str = "国家开放大学学分银行 / The Open University of China Credit Bank";

/// 五级 … 一级, and the English level.
pub fn level_names(level: u8) -> (&'static str, String) {
    let zh = match level {
        1 => "一级",
        2 => "二级",
        3 => "三级",
        4 => "四级",
        _ => "五级",
    };
    (zh, format!("level {level}"))
}

fn seconds(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn credits_text(tenths: i64) -> String {
    format!("{}.{}", tenths / 10, (tenths % 10).abs())
}

/// The status list a certificate is in (1-based) and its index there.
pub fn status_position(status_index: u32) -> (u32, u32) {
    (
        status_index / STATUS_LIST_SIZE + 1,
        status_index % STATUS_LIST_SIZE,
    )
}

/// The status list's URL.
pub fn status_list_url(base_url: &str, list: u32) -> String {
    format!("{base_url}/status/{list}")
}

/// The unsigned Open Badges 3.0 credential of a certificate.
pub fn open_badge(f: &CertificateFacts, issuer: &Issuer<'_>) -> Value {
    let (did, _) = issuer.did();
    let (level_zh, level_en) = level_names(f.level);
    let (list, index) = status_position(f.status_index);
    let list_url = status_list_url(issuer.base_url, list);
    let credits = credits_text(f.credits_tenths);
    json!({
        "@context": [VC_V2, OB_V3],
        "id": format!("{}/credentials/{}", issuer.base_url, f.number),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {
            "id": did,
            "type": ["Profile"],
            "name": ISSUER_NAME,
        },
        "validFrom": seconds(f.issued_at),
        "name": format!(
            "{}（{level_zh}）职业技能等级证书 / {} ({level_en}) certificate",
            f.programme_zh, f.programme_en
        ),
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityHash": f.account_no,
                    "identityType": "identifier",
                    "hashed": false,
                },
                {
                    "type": "IdentityObject",
                    "identityHash": f.learner_name,
                    "identityType": "name",
                    "hashed": false,
                },
            ],
            "licenseNumber": f.number,
            "activityStartDate": format!("{}T00:00:00Z", f.training_start),
            "activityEndDate": format!("{}T00:00:00Z", f.training_end),
            "creditsEarned": credits.parse::<f64>().unwrap_or_default(),
            "source": {
                "id": format!("{}/sites/{}", issuer.base_url, url_safe(&f.institution)),
                "type": ["Profile"],
                "name": f.institution,
            },
            "achievement": {
                "id": format!("{}/catalogue/{}", issuer.base_url, f.programme_version_id),
                "type": ["Achievement"],
                "achievementType": "Certificate",
                "humanCode": f.programme_version_id,
                "name": format!("{}（{level_zh}） / {} ({level_en})", f.programme_zh, f.programme_en),
                "description": format!(
                    "{}（{level_zh}）：完成 {} 学时培训并通过考核，认定 {credits} 学分。 / {} ({level_en}): {} hours of training and the assessments passed; {credits} credits.",
                    f.programme_zh, f.hours, f.programme_en, f.hours
                ),
                "criteria": {
                    "narrative": format!(
                        "完成 {} 学时培训（出勤达标），理论与实操考核合格。 / {} hours of training attended and the theory and practical assessments passed.",
                        f.hours, f.hours
                    ),
                },
                "creditsAvailable": credits.parse::<f64>().unwrap_or_default(),
            },
        },
        "credentialStatus": {
            "id": format!("{list_url}#{index}"),
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": index.to_string(),
            "statusListCredential": list_url,
        },
    })
}

/// A path segment from any text (the site's name in an id URL).
fn url_safe(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The certificate's credential, signed by HQ.
pub fn issue(f: &CertificateFacts, issuer: &Issuer<'_>) -> Result<Value> {
    let (_, method) = issuer.did();
    siteline_credential::sign(
        &open_badge(f, issuer),
        issuer.key,
        &ProofOptions {
            created: seconds(f.issued_at),
            verification_method: method,
        },
    )
    .map_err(|e| Error::Internal(format!("signing certificate {}: {e}", f.number)))
}

/// Status list `list` as a signed `BitstringStatusListCredential`: the bits of the revoked
/// indexes (0-based across lists) set, GZIP-compressed, multibase base64url.
pub fn status_list(
    list: u32,
    revoked: &[u32],
    issuer: &Issuer<'_>,
    now: DateTime<Utc>,
) -> Result<Value> {
    let mut bits = vec![0u8; (STATUS_LIST_SIZE / 8) as usize];
    for i in revoked {
        let (l, index) = status_position(*i);
        if l == list {
            bits[(index / 8) as usize] |= 0x80 >> (index % 8);
        }
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&bits)
        .map_err(|e| Error::Internal(format!("compressing a status list: {e}")))?;
    let compressed = gz
        .finish()
        .map_err(|e| Error::Internal(format!("compressing a status list: {e}")))?;
    use base64::Engine;
    let encoded = format!(
        "u{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(compressed)
    );
    let url = status_list_url(issuer.base_url, list);
    let (did, method) = issuer.did();
    let doc = json!({
        "@context": [VC_V2],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": did,
        "validFrom": seconds(now),
        "credentialSubject": {
            "id": format!("{url}#list"),
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encoded,
        },
    });
    siteline_credential::sign(
        &doc,
        issuer.key,
        &ProofOptions {
            created: seconds(now),
            verification_method: method,
        },
    )
    .map_err(|e| Error::Internal(format!("signing status list {list}: {e}")))
}

/// Reads bit `index` of a status list credential's `encodedList` (for verifiers and tests).
pub fn status_bit(list_credential: &Value, index: u32) -> Option<bool> {
    use base64::Engine;
    use std::io::Read;
    let encoded = list_credential
        .pointer("/credentialSubject/encodedList")?
        .as_str()?
        .strip_prefix('u')?;
    let compressed = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(encoded)
        .ok()?;
    let mut bits = Vec::new();
    flate2::read::GzDecoder::new(compressed.as_slice())
        .take(u64::from(STATUS_LIST_SIZE))
        .read_to_end(&mut bits)
        .ok()?;
    let byte = bits.get((index / 8) as usize)?;
    Some(byte & (0x80 >> (index % 8)) != 0)
}

/// The short code printed beside a certificate's QR code: the first characters of its
/// signature, so only someone holding the certificate (or its print) can look it up by number.
pub fn verify_code(credential: &Value) -> Option<String> {
    let proof = credential.pointer("/proof/proofValue")?.as_str()?;
    Some(proof.chars().skip(1).take(12).collect())
}
