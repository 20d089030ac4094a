//! Certificates (ADR 0007): issued with their 职业技能等级证书 fields and a signed Open Badges
//! 3.0 credential when a claim is accredited, revoked when its credits are reversed, and
//! checked for anyone who holds one (by the credential file, or by number and the code printed
//! beside its QR code).

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::Value;
use siteline_proto::catalogue::{Catalogue, ProgrammeVersion};
use siteline_proto::records::{self, CohortUpdate};
use siteline_proto::sync::{Certificate, CertificateStatus, HqChange};
use uuid::Uuid;

use super::apply::{HqKeys, programme};
use super::bank::{log_change, now};
use super::sql::{Row, Tx, args};
use crate::credentials::{self, CertificateFacts, Issuer};
use crate::{Error, Result};

/// What a verifier learns about a credential or a certificate number.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Verification {
    /// The verdict.
    pub outcome: Outcome,
    /// The verdict in Chinese, for the page.
    pub message_zh: String,
    /// The verdict in English.
    pub message_en: String,
    /// What the certificate says (only for a certificate HQ issued; nothing beyond what its
    /// credential holds).
    pub certificate: Option<CertificateView>,
}

/// A verifier's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Issued by HQ, unchanged, and standing.
    Valid,
    /// Issued by HQ and unchanged, but revoked.
    Revoked,
    /// Issued by HQ and unchanged, but replaced by another certificate.
    Superseded,
    /// Signed by HQ, but changed since: the signature or the content does not match.
    Altered,
    /// Not a certificate of this credit bank (another issuer, an unknown number or code).
    NotOurs,
    /// Not a credential at all.
    Malformed,
}

/// A certificate as a verifier sees it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CertificateView {
    /// 证书编号.
    pub number: String,
    /// 姓名.
    pub learner_name: String,
    /// 职业（工种）.
    pub programme_zh: String,
    /// In English.
    pub programme_en: String,
    /// 等级, 5 (五级) … 1 (一级).
    pub level: u8,
    /// Hours of training.
    pub hours: u32,
    /// Credits, in tenths.
    pub credits_tenths: i64,
    /// 培训起止日期.
    pub training_start: NaiveDate,
    /// Last day of training.
    pub training_end: NaiveDate,
    /// 培训机构.
    pub institution: String,
    /// 发证机构.
    pub issuer: String,
    /// 发证日期.
    pub issued_at: DateTime<Utc>,
    /// `valid`, `revoked` or `superseded`.
    pub status: String,
    /// When revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Why revoked.
    pub revoked_reason: Option<String>,
    /// The number that replaced it.
    pub superseded_by: Option<String>,
}

/// The programme's names, level and hours from the catalogue the version was published in.
pub(crate) fn programme_names(tx: &dyn Tx, pv: &ProgrammeVersion) -> Result<(String, String)> {
    let doc: String = tx.value(
        "SELECT c.document FROM catalogue_version c
         JOIN programme_version p ON p.catalogue_version = c.version WHERE p.id = ?1",
        args![pv.id],
    )?;
    let catalogue: Catalogue = serde_json::from_str(&doc)?;
    let p = catalogue
        .programmes
        .iter()
        .find(|p| p.id == pv.programme_id)
        .ok_or_else(|| {
            Error::Internal(format!(
                "programme {} is missing from its catalogue",
                pv.programme_id
            ))
        })?;
    Ok((p.name_zh.clone(), p.name_en.clone()))
}

/// A cohort's training dates: as created, then as last changed (by stamp) on any device.
fn training_dates(tx: &dyn Tx, site: Uuid, cohort: Uuid) -> Result<(NaiveDate, NaiveDate)> {
    let rows = tx.query(
        "SELECT op, payload FROM record
          WHERE record_id = ?1 AND site_id = ?2 AND entity = 'cohort' AND status = 'applied'
          ORDER BY hlc, seq",
        args![cohort, site],
    )?;
    let mut dates = None;
    for r in rows {
        let (op, payload): (String, String) = (r.get(0)?, r.get(1)?);
        let value: Value = serde_json::from_str(&payload)?;
        if op == "insert" {
            let c: records::Cohort = serde_json::from_value(value)?;
            dates = Some((c.start_date, c.end_date));
        } else if let Ok(CohortUpdate::Edited { dates: Some(d), .. }) =
            serde_json::from_value::<CohortUpdate>(value)
        {
            dates = Some(d);
        }
    }
    dates.ok_or_else(|| Error::Internal(format!("HQ holds no cohort {cohort}")))
}

/// An accredited claim HQ issues a certificate for.
pub(crate) struct Accredited<'a> {
    pub site: Uuid,
    pub claim: Uuid,
    pub learner: Uuid,
    pub account: i64,
    pub account_no: &'a str,
    pub decision: i64,
    pub credits_tenths: i64,
}

/// Issues the certificate of an accredited claim: its number, fields, credential, and the
/// change the site pulls.
pub(crate) fn issue(
    tx: &dyn Tx,
    keys: &HqKeys,
    a: &Accredited<'_>,
    programme: &ProgrammeVersion,
    number: String,
) -> Result<()> {
    let Accredited {
        site,
        claim,
        learner,
        account,
        account_no,
        decision,
        credits_tenths,
    } = *a;
    let r = tx.one(
        "SELECT l.name, l.id_masked, e.cohort_id, s.name FROM claim c
           JOIN learner l ON l.record_id = c.learner_id AND l.site_id = c.site_id
           JOIN enrolment e ON e.record_id = c.enrolment_id AND e.site_id = c.site_id
           JOIN site s ON s.id = c.site_id
          WHERE c.record_id = ?1 AND c.site_id = ?2",
        args![claim, site],
    )?;
    let (learner_name, id_masked, cohort, institution): (String, Option<String>, Uuid, String) =
        (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
    let (training_start, training_end) = training_dates(tx, site, cohort)?;
    store_and_sign(
        tx,
        keys,
        site,
        &Issued {
            number,
            account,
            account_no: account_no.to_string(),
            decision,
            learner,
            credits_tenths,
            learner_name,
            id_masked,
            training_start,
            training_end,
            institution,
        },
        programme,
    )
}

/// A certificate about to be issued: who, for what, where and when she trained.
struct Issued {
    number: String,
    account: i64,
    account_no: String,
    decision: i64,
    learner: Uuid,
    credits_tenths: i64,
    learner_name: String,
    id_masked: Option<String>,
    training_start: NaiveDate,
    training_end: NaiveDate,
    institution: String,
}

/// Stores a certificate, signs its credential, and logs it for its site.
fn store_and_sign(
    tx: &dyn Tx,
    keys: &HqKeys,
    site: Uuid,
    i: &Issued,
    programme: &ProgrammeVersion,
) -> Result<()> {
    let (programme_zh, programme_en) = programme_names(tx, programme)?;
    // Whole seconds: the credential states the issue time to the second, and the record
    // must rebuild exactly what was signed.
    let issued_at = DateTime::from_timestamp(now().timestamp(), 0).unwrap_or_default();
    let id: i64 = tx.value(
        "INSERT INTO certificate (number, account_id, decision_id, learner_id, programme_version_id,
             status, issued_at, learner_name, id_masked, training_start, training_end, institution)
         VALUES (?1, ?2, ?3, ?4, ?5, 'valid', ?6, ?7, ?8, ?9, ?10, ?11) RETURNING id",
        args![
            i.number,
            i.account,
            i.decision,
            i.learner,
            programme.id,
            issued_at,
            i.learner_name,
            i.id_masked,
            i.training_start.to_string(),
            i.training_end.to_string(),
            i.institution
        ],
    )?;
    let facts = CertificateFacts {
        number: i.number.clone(),
        learner_name: i.learner_name.clone(),
        account_no: i.account_no.clone(),
        programme_version_id: programme.id.clone(),
        programme_zh,
        programme_en,
        level: programme.level,
        hours: programme.total_hours,
        credits_tenths: i.credits_tenths,
        training_start: i.training_start,
        training_end: i.training_end,
        institution: i.institution.clone(),
        issued_at,
        status_index: u32::try_from(id - 1)
            .map_err(|_| Error::Internal(format!("certificate id {id} out of range")))?,
    };
    let base = keys.base_url();
    let credential = credentials::issue(
        &facts,
        &Issuer {
            key: &keys.signing,
            base_url: &base,
        },
    )?;
    tx.execute(
        "UPDATE certificate SET credential = ?2 WHERE id = ?1",
        args![id, credential.to_string()],
    )?;
    log_change(
        tx,
        Some(site),
        &HqChange::Certificate(change(tx, keys, &i.number)?),
    )
}

/// Replaces a valid certificate with a new one (a new number, the learner's name as HQ holds
/// it now, everything else as before), for a certificate issued with a mistake since
/// corrected: the old one is superseded by the new number. Both reach the site. The new
/// number.
pub(crate) fn reissue(tx: &dyn Tx, keys: &HqKeys, number: &str, reason: &str) -> Result<String> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 1000 {
        return Err(Error::Invalid(
            "say in 1 to 1,000 characters why the certificate is issued again".into(),
        ));
    }
    let Some(r) = tx.opt(
        "SELECT c.status, c.account_id, a.account_no, c.decision_id, c.learner_id,
                c.programme_version_id, d.credits_tenths, l.name, c.id_masked, c.training_start,
                c.training_end, c.institution, l.site_id
           FROM certificate c
           JOIN credit_account a ON a.id = c.account_id
           JOIN decision d ON d.id = c.decision_id
           JOIN learner l ON l.record_id = c.learner_id
          WHERE c.number = ?1",
        args![number],
    )?
    else {
        return Err(Error::NotFound(format!("certificate {number}")));
    };
    let status: String = r.get(0)?;
    if status != "valid" {
        return Err(Error::Invalid(format!(
            "certificate {number} is {status}; only a valid certificate is issued again"
        )));
    }
    let (start, end): (Option<String>, Option<String>) = (r.get(9)?, r.get(10)?);
    let (Some(training_start), Some(training_end)) = (date(start), date(end)) else {
        return Err(Error::Invalid(format!(
            "certificate {number} was issued before certificates kept their training dates; it cannot be issued again here"
        )));
    };
    let pv: String = r.get(5)?;
    let programme = programme(tx, &pv)?
        .ok_or_else(|| Error::Internal(format!("programme version {pv} is not published")))?;
    let site: Uuid = r.get(12)?;
    let new_number = super::claims::certificate_number(tx, site, programme.level)?;
    let issued = Issued {
        number: new_number.clone(),
        account: r.get(1)?,
        account_no: r.get(2)?,
        decision: r.get(3)?,
        learner: r.get(4)?,
        credits_tenths: r.get(6)?,
        learner_name: r.get(7)?,
        id_masked: r.get(8)?,
        training_start,
        training_end,
        institution: r.get::<Option<String>>(11)?.unwrap_or_default(),
    };
    if issued.learner_name.is_empty() {
        return Err(Error::Invalid(format!(
            "the learner of certificate {number} withdrew her consent; HQ no longer holds her name"
        )));
    }
    tx.execute(
        "UPDATE certificate SET status = 'superseded', superseded_by = ?2, revoked_reason = ?3
         WHERE number = ?1",
        args![number, new_number, reason],
    )?;
    log_change(
        tx,
        Some(site),
        &HqChange::Certificate(change(tx, keys, number)?),
    )?;
    store_and_sign(tx, keys, site, &issued, &programme)?;
    Ok(new_number)
}

/// Revokes the certificates of a decision whose credits were reversed, each logged for its site.
pub(crate) fn revoke(
    tx: &dyn Tx,
    keys: &HqKeys,
    decision: i64,
    site: Uuid,
    reason: &str,
) -> Result<()> {
    let numbers: Vec<String> = tx.column(
        "SELECT number FROM certificate WHERE decision_id = ?1 AND status = 'valid'",
        args![decision],
    )?;
    for number in numbers {
        tx.execute(
            "UPDATE certificate SET status = 'revoked', revoked_at = ?2, revoked_reason = ?3
             WHERE number = ?1",
            args![number, now(), reason],
        )?;
        log_change(
            tx,
            Some(site),
            &HqChange::Certificate(change(tx, keys, &number)?),
        )?;
    }
    Ok(())
}

const CERTIFICATE_SELECT: &str =
    "SELECT c.number, c.learner_id, a.account_no, c.programme_version_id,
        c.status, c.learner_name, c.id_masked, c.training_start, c.training_end, c.institution,
        c.issued_at, c.revoked_at, c.revoked_reason, c.superseded_by, c.credential, c.id
     FROM certificate c JOIN credit_account a ON a.id = c.account_id";

fn date(text: Option<String>) -> Option<NaiveDate> {
    text.and_then(|t| t.parse().ok())
}

/// The certificate's change for its site: every field, the credential, the verify page.
fn change(tx: &dyn Tx, keys: &HqKeys, number: &str) -> Result<Certificate> {
    let r = tx.one(
        &format!("{CERTIFICATE_SELECT} WHERE c.number = ?1"),
        args![number],
    )?;
    certificate_from_row(&r, &keys.base_url())
}

fn certificate_from_row(r: &Row, base: &str) -> Result<Certificate> {
    let status: String = r.get(4)?;
    let credential: Option<String> = r.get(14)?;
    let number: String = r.get(0)?;
    let verify_url = credential
        .as_deref()
        .and_then(|c| serde_json::from_str::<Value>(c).ok())
        .and_then(|c| credentials::verify_code(&c))
        .map(|code| format!("{base}/verify?n={number}&c={code}"));
    Ok(Certificate {
        number,
        learner_id: r.get(1)?,
        account_no: r.get(2)?,
        programme_version_id: r.get(3)?,
        status: CertificateStatus::parse(&status).unwrap_or(CertificateStatus::Valid),
        learner_name: r.get(5)?,
        id_masked: r.get(6)?,
        training_start: date(r.get(7)?),
        training_end: date(r.get(8)?),
        institution: r.get(9)?,
        issued_at: Some(r.get(10)?),
        revoked_at: r.get(11)?,
        revoked_reason: r.get(12)?,
        superseded_by: r.get(13)?,
        credential,
        verify_url,
    })
}

fn verdict(outcome: Outcome, certificate: Option<CertificateView>) -> Verification {
    let (zh, en) = match outcome {
        Outcome::Valid => (
            "有效：本证书由国家开放大学学分银行颁发，内容未经改动。",
            "Valid: issued by the Open University of China Credit Bank and unchanged.",
        ),
        Outcome::Revoked => (
            "已撤销：本证书由学分银行颁发，但已被撤销。",
            "Revoked: issued by the Credit Bank, but revoked.",
        ),
        Outcome::Superseded => (
            "已被替换：本证书已由新证书取代，请查验新证书。",
            "Superseded: replaced by another certificate; check that one.",
        ),
        Outcome::Altered => (
            "已被改动：内容与学分银行签发的不一致，不可采信。",
            "Altered: the content does not match what the Credit Bank signed; do not rely on it.",
        ),
        Outcome::NotOurs => (
            "非本机构证书：学分银行没有签发此证书，或编号与查验码不符。",
            "Not ours: the Credit Bank did not issue this certificate, or the number and code do not match.",
        ),
        Outcome::Malformed => (
            "无法识别：这不是一份可查验的电子证书。",
            "Not recognised: this is not a credential that can be checked.",
        ),
    };
    Verification {
        outcome,
        message_zh: zh.into(),
        message_en: en.into(),
        certificate,
    }
}

fn view(
    c: &Certificate,
    programme: &ProgrammeVersion,
    names: (String, String),
    credits: i64,
) -> Option<CertificateView> {
    Some(CertificateView {
        number: c.number.clone(),
        learner_name: c.learner_name.clone()?,
        programme_zh: names.0,
        programme_en: names.1,
        level: programme.level,
        hours: programme.total_hours,
        credits_tenths: credits,
        training_start: c.training_start?,
        training_end: c.training_end?,
        institution: c.institution.clone()?,
        issuer: credentials::ISSUER_NAME.into(),
        issued_at: c.issued_at?,
        status: c.status.as_str().into(),
        revoked_at: c.revoked_at,
        revoked_reason: c.revoked_reason.clone(),
        superseded_by: c.superseded_by.clone(),
    })
}

/// The verdict on a certificate HQ holds, whose credential was presented (or looked up).
fn standing(tx: &dyn Tx, c: &Certificate) -> Result<Verification> {
    let Some(programme) = programme(tx, &c.programme_version_id)? else {
        return Ok(verdict(Outcome::NotOurs, None));
    };
    let names = programme_names(tx, &programme)?;
    let credits: i64 = tx.value(
        "SELECT d.credits_tenths FROM certificate c JOIN decision d ON d.id = c.decision_id
          WHERE c.number = ?1",
        args![c.number],
    )?;
    let outcome = match c.status {
        CertificateStatus::Valid => Outcome::Valid,
        CertificateStatus::Revoked => Outcome::Revoked,
        CertificateStatus::Superseded => Outcome::Superseded,
    };
    Ok(verdict(outcome, view(c, &programme, names, credits)))
}

/// Checks a presented credential: HQ's signature, then that it is exactly the credential HQ
/// issued for that number (JSON-LD ignores a property no context defines, so a signature
/// alone does not show that nothing was added), then the certificate's standing.
pub(crate) fn verify(tx: &dyn Tx, keys: &HqKeys, doc: &Value) -> Result<Verification> {
    let (_, ours) = siteline_credential::did_key(&keys.signing.verifying_key());
    let key = keys.signing.verifying_key();
    match siteline_credential::verify(doc, |method| (method == ours).then_some(key)) {
        Ok(_) => {}
        Err(siteline_credential::Error::Altered) => return Ok(verdict(Outcome::Altered, None)),
        Err(siteline_credential::Error::UnknownKey(_)) => {
            return Ok(verdict(Outcome::NotOurs, None));
        }
        Err(siteline_credential::Error::Malformed(_) | siteline_credential::Error::Proof(_)) => {
            return Ok(verdict(Outcome::Malformed, None));
        }
    }
    let Some(number) = doc
        .pointer("/credentialSubject/licenseNumber")
        .and_then(Value::as_str)
    else {
        return Ok(verdict(Outcome::Altered, None));
    };
    let Some(r) = tx.opt(
        &format!("{CERTIFICATE_SELECT} WHERE c.number = ?1"),
        args![number],
    )?
    else {
        return Ok(verdict(Outcome::NotOurs, None));
    };
    let c = certificate_from_row(&r, &keys.base_url())?;
    let issued: Option<Value> = c
        .credential
        .as_deref()
        .and_then(|t| serde_json::from_str(t).ok());
    if issued.as_ref() != Some(doc) {
        return Ok(verdict(Outcome::Altered, None));
    }
    standing(tx, &c)
}

/// Looks a certificate up by its number and the code printed beside its QR code.
pub(crate) fn by_code(
    tx: &dyn Tx,
    keys: &HqKeys,
    number: &str,
    code: &str,
) -> Result<Verification> {
    let Some(r) = tx.opt(
        &format!("{CERTIFICATE_SELECT} WHERE c.number = ?1"),
        args![number.trim()],
    )?
    else {
        return Ok(verdict(Outcome::NotOurs, None));
    };
    let c = certificate_from_row(&r, &keys.base_url())?;
    let expected = c
        .credential
        .as_deref()
        .and_then(|t| serde_json::from_str::<Value>(t).ok())
        .and_then(|v| credentials::verify_code(&v));
    // A code of the wrong length or value reads as an unknown number: nothing tells a
    // guesser which numbers exist.
    if expected.as_deref() != Some(code.trim()) {
        return Ok(verdict(Outcome::NotOurs, None));
    }
    standing(tx, &c)
}

/// The credential of a certificate, for the holder who has its number and code.
pub(crate) fn credential(tx: &dyn Tx, keys: &HqKeys, number: &str, code: &str) -> Result<Value> {
    let found = by_code(tx, keys, number, code)?;
    if found.certificate.is_none() {
        return Err(Error::NotFound(format!(
            "certificate {number} with that code"
        )));
    }
    let text: String = tx.value(
        "SELECT credential FROM certificate WHERE number = ?1",
        args![number.trim()],
    )?;
    Ok(serde_json::from_str(&text)?)
}

/// Status list `list` (1-based), signed now.
pub(crate) fn status_list(tx: &dyn Tx, keys: &HqKeys, list: u32) -> Result<Value> {
    let size = i64::from(credentials::STATUS_LIST_SIZE);
    let first = (i64::from(list) - 1) * size;
    let issued: i64 = tx.value("SELECT coalesce(max(id), 0) FROM certificate", &[])?;
    if list == 0 || first >= issued.max(1) {
        return Err(Error::NotFound(format!("status list {list}")));
    }
    let revoked: Vec<i64> = tx.column(
        "SELECT id - 1 FROM certificate WHERE status = 'revoked' AND id > ?1 AND id <= ?2",
        args![first, first + size],
    )?;
    let revoked: Vec<u32> = revoked
        .into_iter()
        .filter_map(|i| u32::try_from(i).ok())
        .collect();
    let base = keys.base_url();
    credentials::status_list(
        list,
        &revoked,
        &Issuer {
            key: &keys.signing,
            base_url: &base,
        },
        DateTime::from_timestamp(now().timestamp(), 0).unwrap_or_default(),
    )
}
