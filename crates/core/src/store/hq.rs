//! What HQ sent back, kept at the site read-only: decisions on claims (`hq_decision`), credit
//! postings (`hq_credit`) and certificates (`hq_certificate`). Sync writes them as pull pages
//! arrive; progress, reports and the learner's profile read them through this module only.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;
use siteline_domain::certificate::CertificateNumber;
use siteline_domain::ids::{CohortId, EnrolmentId};
use siteline_proto::sync::{
    Certificate, CertificateStatus, CreditPosting, Decision, DecisionStatus,
};
use uuid::Uuid;

use crate::Result;

/// Stores (or replaces) HQ's decision on a claim.
pub(crate) fn record_decision(tx: &Transaction<'_>, d: &Decision, hq_seq: u64) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO hq_decision (claim_id, learner_id, status, reason, credits_tenths, account_no,
             programme_version_id, hq_seq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (claim_id) DO UPDATE SET status = excluded.status, reason = excluded.reason,
             credits_tenths = excluded.credits_tenths, account_no = excluded.account_no,
             hq_seq = excluded.hq_seq",
    )?
    .execute(params![
        d.claim_id,
        d.learner_id,
        d.status.as_str(),
        d.reason,
        d.credits_tenths,
        d.account_no,
        d.programme_version_id,
        hq_seq
    ])?;
    Ok(())
}

/// Stores a credit posting once.
pub(crate) fn record_credit(tx: &Transaction<'_>, c: &CreditPosting, hq_seq: u64) -> Result<()> {
    tx.prepare_cached(
        "INSERT OR IGNORE INTO hq_credit (posting_id, claim_id, learner_id, account_no, credits_tenths, hq_seq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        c.posting_id,
        c.claim_id,
        c.learner_id,
        c.account_no,
        c.credits_tenths,
        hq_seq
    ])?;
    Ok(())
}

/// Stores a certificate, or its new standing. Its number is checked with the domain's parser
/// first: a number that does not parse is refused (the page is not applied), never stored.
pub(crate) fn record_certificate(tx: &Transaction<'_>, c: &Certificate, hq_seq: u64) -> Result<()> {
    CertificateNumber::parse(&c.number)?;
    tx.prepare_cached(
        "INSERT INTO hq_certificate (number, learner_id, account_no, programme_version_id, status,
             hq_seq, learner_name, id_masked, training_start, training_end, institution, issued_at,
             revoked_at, revoked_reason, superseded_by, credential, verify_url)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)
         ON CONFLICT (number) DO UPDATE SET status = excluded.status, hq_seq = excluded.hq_seq,
             revoked_at = excluded.revoked_at, revoked_reason = excluded.revoked_reason,
             superseded_by = excluded.superseded_by,
             learner_name = coalesce(excluded.learner_name, learner_name),
             id_masked = coalesce(excluded.id_masked, id_masked),
             training_start = coalesce(excluded.training_start, training_start),
             training_end = coalesce(excluded.training_end, training_end),
             institution = coalesce(excluded.institution, institution),
             issued_at = coalesce(excluded.issued_at, issued_at),
             credential = coalesce(excluded.credential, credential),
             verify_url = coalesce(excluded.verify_url, verify_url)",
    )?
    .execute(params![
        c.number,
        c.learner_id,
        c.account_no,
        c.programme_version_id,
        c.status.as_str(),
        hq_seq,
        c.learner_name,
        c.id_masked,
        c.training_start,
        c.training_end,
        c.institution,
        c.issued_at,
        c.revoked_at,
        c.revoked_reason,
        c.superseded_by,
        c.credential,
        c.verify_url
    ])?;
    Ok(())
}

/// A certificate as the learner's profile shows it and the printed certificate states it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LearnerCertificate {
    /// 证书编号.
    pub number: String,
    /// `valid`, `revoked` or `superseded`.
    pub status: CertificateStatus,
    /// The programme version certified.
    pub programme_version_id: String,
    /// 姓名 as the certificate states it (none on certificates from before protocol 5).
    pub learner_name: Option<String>,
    /// 身份证件号码, masked.
    pub id_masked: Option<String>,
    /// First day of training.
    pub training_start: Option<NaiveDate>,
    /// Last day of training.
    pub training_end: Option<NaiveDate>,
    /// 培训机构.
    pub institution: Option<String>,
    /// 发证日期.
    pub issued_at: Option<DateTime<Utc>>,
    /// When revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Why.
    pub revoked_reason: Option<String>,
    /// The number that replaced it.
    pub superseded_by: Option<String>,
    /// HQ's verify page for it (the printed QR code).
    pub verify_url: Option<String>,
    /// HQ sent its signed credential (the file to export).
    pub has_credential: bool,
}

const CERTIFICATE_SELECT: &str = "SELECT number, status, programme_version_id, learner_name,
        id_masked, training_start, training_end, institution, issued_at, revoked_at,
        revoked_reason, superseded_by, verify_url, credential IS NOT NULL
     FROM hq_certificate";

fn certificate_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<LearnerCertificate> {
    let status: String = r.get(1)?;
    Ok(LearnerCertificate {
        number: r.get(0)?,
        status: CertificateStatus::parse(&status).unwrap_or(CertificateStatus::Valid),
        programme_version_id: r.get(2)?,
        learner_name: r.get(3)?,
        id_masked: r.get(4)?,
        training_start: r.get(5)?,
        training_end: r.get(6)?,
        institution: r.get(7)?,
        issued_at: r.get(8)?,
        revoked_at: r.get(9)?,
        revoked_reason: r.get(10)?,
        superseded_by: r.get(11)?,
        verify_url: r.get(12)?,
        has_credential: r.get(13)?,
    })
}

/// One certificate by number.
pub fn certificate(conn: &Connection, number: &str) -> Result<LearnerCertificate> {
    conn.prepare_cached(&format!("{CERTIFICATE_SELECT} WHERE number = ?1"))?
        .query_row([number], certificate_from_row)
        .optional()?
        .ok_or_else(|| crate::Error::not_found("certificate", number))
}

/// Writes a certificate's signed credential to `dir` as `certificate-<number>.json` (the
/// file a learner's wallet imports) and returns its path.
pub fn export_credential(
    conn: &Connection,
    number: &str,
    dir: &std::path::Path,
) -> Result<std::path::PathBuf> {
    let text = credential(conn, number)?;
    super::reports::write_whole(dir, &format!("certificate-{number}.json"), text.as_bytes())
}

/// The signed credential HQ issued for a certificate (Open Badges 3.0, JSON text), as
/// received: the file the learner keeps in a wallet.
pub fn credential(conn: &Connection, number: &str) -> Result<String> {
    conn.prepare_cached("SELECT credential FROM hq_certificate WHERE number = ?1")?
        .query_row([number], |r| r.get::<_, Option<String>>(0))
        .optional()?
        .flatten()
        .ok_or_else(|| crate::Error::not_found("signed credential of certificate", number))
}

/// HQ's word on one enrolment, as the cohort table shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnrolmentOutcome {
    /// The latest decision on the enrolment's claims.
    pub status: Option<DecisionStatus>,
    /// Its reason.
    pub reason: Option<String>,
    /// Credits posted for the enrolment's claims, in tenths.
    pub credits_tenths: i64,
    /// The learner's valid certificate for the programme version.
    pub certificate: Option<String>,
}

/// HQ's word on every enrolment of a cohort: the decision on its latest claim, credits and
/// certificate.
pub fn cohort_outcomes(
    conn: &Connection,
    cohort: CohortId,
    programme_version_id: &str,
) -> Result<HashMap<EnrolmentId, EnrolmentOutcome>> {
    // The claims of every row of one enrolment (two devices may each have enrolled the
    // learner), under the row that stands for them.
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT e.id, d.status, d.reason,
                (SELECT coalesce(sum(hc.credits_tenths), 0) FROM outcome_claim oc
                   JOIN hq_credit hc ON hc.claim_id = oc.id
                   JOIN enrolment x ON x.id = oc.enrolment_id
                  WHERE x.cohort_id = e.cohort_id AND x.learner_id = e.learner_id),
                (SELECT cert.number FROM hq_certificate cert
                  WHERE cert.learner_id = e.learner_id AND cert.programme_version_id = ?2
                    AND cert.status = 'valid' ORDER BY cert.hq_seq DESC LIMIT 1)
         FROM enrolment e
         -- HQ's decision on the enrolment's latest claim (none yet while a re-claim waits).
         LEFT JOIN hq_decision d ON d.claim_id = (
             SELECT oc.id FROM outcome_claim oc JOIN enrolment x ON x.id = oc.enrolment_id
              WHERE x.cohort_id = e.cohort_id AND x.learner_id = e.learner_id
              ORDER BY oc.submitted_at DESC, oc.rowid DESC LIMIT 1)
         WHERE e.cohort_id = ?1 AND {}",
        super::cohorts::STANDING
    ))?;
    let rows = stmt.query_map(params![cohort, programme_version_id], |r| {
        let status: Option<String> = r.get(1)?;
        Ok((
            r.get::<_, EnrolmentId>(0)?,
            EnrolmentOutcome {
                status: status.as_deref().and_then(DecisionStatus::parse),
                reason: r.get::<_, Option<String>>(2)?.filter(|s| !s.is_empty()),
                credits_tenths: r.get(3)?,
                certificate: r.get(4)?,
            },
        ))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// One of HQ's decisions on a learner's claims, for the profile screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LearnerDecision {
    /// The claim decided.
    pub claim_id: Uuid,
    /// HQ's verdict.
    pub status: DecisionStatus,
    /// HQ's reason, "中文 / English".
    pub reason: String,
    /// Credits accredited, in tenths.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub credits_tenths: i64,
}

/// HQ's decision on each of the site's claims, by learner, for the profile screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LearnerCredits {
    /// Credit bank account, once HQ matched one.
    pub account_no: Option<String>,
    /// Decisions, oldest first.
    pub decisions: Vec<LearnerDecision>,
    /// Sum of credit postings received, in tenths.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub credits_tenths: i64,
    /// Certificates, oldest first.
    pub certificates: Vec<LearnerCertificate>,
}

/// What HQ sent back about one learner.
pub fn learner_credits(conn: &Connection, learner: Uuid) -> Result<LearnerCredits> {
    let mut stmt = conn.prepare_cached(
        "SELECT claim_id, status, reason, credits_tenths, account_no FROM hq_decision WHERE learner_id = ?1 ORDER BY hq_seq",
    )?;
    let mut account_no = None;
    let mut decisions = Vec::new();
    let mut rows = stmt.query([learner])?;
    while let Some(r) = rows.next()? {
        let status: String = r.get(1)?;
        // Rows are written from a typed `DecisionStatus`, so every stored name parses.
        if let Some(status) = DecisionStatus::parse(&status) {
            decisions.push(LearnerDecision {
                claim_id: r.get(0)?,
                status,
                reason: r.get(2)?,
                credits_tenths: r.get(3)?,
            });
        }
        account_no = account_no.or(r.get(4)?);
    }
    let credits_tenths: i64 = conn.query_row(
        "SELECT coalesce(sum(credits_tenths), 0) FROM hq_credit WHERE learner_id = ?1",
        [learner],
        |r| r.get(0),
    )?;
    let mut stmt = conn.prepare_cached(&format!(
        "{CERTIFICATE_SELECT} WHERE learner_id = ?1 ORDER BY hq_seq"
    ))?;
    let certificates = stmt
        .query_map([learner], certificate_from_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(LearnerCredits {
        account_no,
        decisions,
        credits_tenths,
        certificates,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Site;

    #[test]
    fn a_cohort_shows_the_latest_decision_on_each_enrolment_and_nothing_for_the_others() {
        let mut site = Site::open_in_memory().unwrap();
        let (m, i) = crate::demo::staff(&mut site).unwrap();
        let people: Vec<_> = (0..2)
            .map(|n| crate::demo::register(&mut site, &m, n).unwrap())
            .collect();
        let (cohort, enrolments) =
            crate::demo::complete_cohort(&mut site, &m, &i, "maternity-L5-v1", &people, 80)
                .unwrap();
        let claim: Uuid = site
            .conn()
            .query_row(
                "SELECT id FROM outcome_claim WHERE enrolment_id = ?1",
                [enrolments[0]],
                |r| r.get(0),
            )
            .unwrap();
        let decision = |status, reason: &str| Decision {
            claim_id: claim,
            learner_id: people[0].0,
            status,
            reason: reason.into(),
            credits_tenths: 0,
            account_no: None,
            programme_version_id: "maternity-L5-v1".into(),
        };
        let (tx, _) = site.write().unwrap();
        record_decision(&tx, &decision(DecisionStatus::NeedsInfo, "缺少"), 5).unwrap();
        record_decision(&tx, &decision(DecisionStatus::Accredited, ""), 9).unwrap();
        tx.commit().unwrap();
        let outcomes = cohort_outcomes(site.conn(), cohort, "maternity-L5-v1").unwrap();
        let first = &outcomes[&enrolments[0]];
        assert_eq!(first.status, Some(DecisionStatus::Accredited));
        // An empty reason is no reason.
        assert_eq!(first.reason, None);
        assert_eq!(outcomes[&enrolments[1]], EnrolmentOutcome::default());
    }

    #[test]
    fn a_certificate_is_kept_with_its_fields_and_one_whose_number_does_not_parse_is_refused() {
        let mut site = Site::open_in_memory().unwrap();
        let learner = Uuid::now_v7();
        let cert = |number: &str, status| Certificate {
            number: number.into(),
            learner_id: learner,
            account_no: Some("CB0000000001".into()),
            programme_version_id: "maternity-L5-v1".into(),
            status,
            learner_name: Some("王小芳".into()),
            id_masked: Some("440***********1234".into()),
            training_start: NaiveDate::from_ymd_opt(2026, 9, 1),
            training_end: NaiveDate::from_ymd_opt(2026, 11, 30),
            institution: Some("深圳示范区培训站".into()),
            issued_at: Some(Utc::now()),
            revoked_at: None,
            revoked_reason: None,
            superseded_by: None,
            credential: Some("{}".into()),
            verify_url: Some("https://hq.example/verify?n=x&c=y".into()),
        };
        let (tx, _) = site.write().unwrap();
        for bad in [
            "",
            "Y00014400012326500004",
            "12345",
            "Y000144000123265000042 OR 1=1",
        ] {
            assert!(
                record_certificate(&tx, &cert(bad, CertificateStatus::Valid), 1).is_err(),
                "{bad}"
            );
        }
        record_certificate(
            &tx,
            &cert("Y000144000123265000042", CertificateStatus::Valid),
            2,
        )
        .unwrap();
        // The revocation arrives with its reason; the fields stay.
        let mut revoked = cert("Y000144000123265000042", CertificateStatus::Revoked);
        revoked.revoked_reason = Some("考核记录经复核不实".into());
        revoked.revoked_at = Some(Utc::now());
        revoked.credential = None;
        record_certificate(&tx, &revoked, 3).unwrap();
        tx.commit().unwrap();
        let count: i64 = site
            .conn()
            .query_row("SELECT count(*) FROM hq_certificate", [], |r| r.get(0))
            .unwrap();
        assert_eq!(count, 1);
        let kept = certificate(site.conn(), "Y000144000123265000042").unwrap();
        assert_eq!(kept.status, CertificateStatus::Revoked);
        assert_eq!(kept.revoked_reason.as_deref(), Some("考核记录经复核不实"));
        assert_eq!(kept.learner_name.as_deref(), Some("王小芳"));
        assert!(kept.has_credential);
        assert_eq!(
            credential(site.conn(), "Y000144000123265000042").unwrap(),
            "{}"
        );
        // The wallet file, written whole; an unknown number writes nothing.
        let dir = tempfile::tempdir().unwrap();
        let path = export_credential(site.conn(), "Y000144000123265000042", dir.path()).unwrap();
        assert_eq!(
            path.file_name().unwrap(),
            "certificate-Y000144000123265000042.json"
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{}");
        assert!(export_credential(site.conn(), "../../etc/passwd", dir.path()).is_err());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        let credits = learner_credits(site.conn(), learner).unwrap();
        assert_eq!(credits.certificates, vec![kept]);
    }
}
