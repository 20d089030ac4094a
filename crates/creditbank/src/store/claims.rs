//! Judging an outcome claim from the facts HQ holds (its copy of the learner, enrolment and
//! locked attempts, and its own catalogue) with the domain's rules, then recording the
//! decision and, when accredited, the credit posting and the certificate, each logged for the
//! site to pull. Runs inside the push's transaction.

use chrono::Datelike;
use rusqlite::{OptionalExtension, Transaction, params};
use siteline_domain::certificate::CertificateNumber;
use siteline_domain::scores::Score;
use siteline_proto::catalogue::ProgrammeVersion;
use siteline_proto::records;
use siteline_proto::sync::{Certificate, CertificateStatus, CreditPosting, Decision, HqChange};
use uuid::Uuid;

use super::DeviceInfo;
use super::apply::{Applied, programme, q};
use super::sqlite::{log_change, now};
use crate::accreditation::{self, ClaimFacts, Component, Outcome};
use crate::{Error, Result};

/// Stores the claim, judges it and records the outcome.
pub(crate) fn claim(
    tx: &Transaction<'_>,
    device: &DeviceInfo,
    record_id: Uuid,
    c: &records::OutcomeClaim,
) -> Result<(), Applied> {
    let (enrolment, learner, pv_id, minutes) = (
        c.enrolment_id,
        c.learner_id,
        c.programme_version_id.as_str(),
        c.attended_minutes,
    );
    let Some(programme) = programme(tx, pv_id)? else {
        return q(format!(
            "培训项目版本 {pv_id} 不在已发布的目录中 / programme version {pv_id} is not in any published catalogue"
        ));
    };
    let account: Option<Option<i64>> = tx
        .prepare_cached("SELECT account_id FROM learner WHERE record_id = ?1 AND site_id = ?2")?
        .query_row(params![learner, device.site_id], |r| r.get(0))
        .optional()?;
    let Some(account) = account else {
        return q(
            "认定申请引用的学员总部尚未收到 / the claim refers to a learner HQ has not received",
        );
    };
    tx.execute(
        "INSERT INTO claim (record_id, site_id, enrolment_id, learner_id, programme_version_id,
             attended_minutes, attempt_ids, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            record_id,
            device.site_id,
            enrolment,
            learner,
            pv_id,
            minutes,
            serde_json::to_string(&c.attempt_ids).map_err(Error::from)?,
            now()
        ],
    )?;
    let mut facts = ClaimFacts {
        programme: &programme,
        attended_minutes: minutes,
        theory: None,
        practical: None,
        review: None,
        has_account: account.is_some(),
    };
    for id in &c.attempt_ids {
        let a: Option<(String, u8, bool, bool)> = tx
            .prepare_cached(
                "SELECT component, score, critical_failed, locked FROM attempt
                 WHERE record_id = ?1 AND enrolment_id = ?2",
            )?
            .query_row(params![id, enrolment], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .optional()?;
        let Some((component, score, critical_failed, locked)) = a else {
            continue;
        };
        let found = Some(Component {
            score: Score::from_stored(score),
            critical_failed,
            locked,
        });
        match component.as_str() {
            "theory" => facts.theory = found,
            "practical" => facts.practical = found,
            _ => facts.review = found,
        }
    }
    let outcome = accreditation::decide(&facts);
    record_decision(
        tx, device, record_id, learner, account, &programme, &outcome,
    )?;
    Ok(())
}

fn record_decision(
    tx: &Transaction<'_>,
    device: &DeviceInfo,
    claim: Uuid,
    learner: Uuid,
    account: Option<i64>,
    programme: &ProgrammeVersion,
    outcome: &Outcome,
) -> Result<()> {
    let (reason, credits) = match outcome {
        Outcome::Accredited { credits_tenths } => (
            "符合项目要求 / meets the programme's rules".to_string(),
            *credits_tenths,
        ),
        Outcome::NeedsInfo(r) | Outcome::Rejected(r) => (r.clone(), 0),
    };
    let catalogue: String = tx.query_row(
        "SELECT catalogue_version FROM programme_version WHERE id = ?1",
        [&programme.id],
        |r| r.get(0),
    )?;
    tx.execute(
        "INSERT INTO decision (claim_id, status, reason, credits_tenths, catalogue_version, decided_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![claim, outcome.status().as_str(), reason, credits, catalogue, now()],
    )?;
    let decision = tx.last_insert_rowid();
    let account_no: Option<String> = account
        .map(|a| {
            tx.query_row(
                "SELECT account_no FROM credit_account WHERE id = ?1",
                [a],
                |r| r.get(0),
            )
        })
        .transpose()?;
    log_change(
        tx,
        Some(device.site_id),
        &HqChange::Decision(Decision {
            claim_id: claim,
            learner_id: learner,
            status: outcome.status(),
            reason,
            credits_tenths: credits,
            account_no: account_no.clone(),
            programme_version_id: programme.id.clone(),
        }),
    )?;
    let (Outcome::Accredited { credits_tenths }, Some(account)) = (outcome, account) else {
        return Ok(());
    };
    tx.execute(
        "INSERT INTO credit_posting (account_id, decision_id, site_id, credits_tenths, posted_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![account, decision, device.site_id, credits_tenths, now()],
    )?;
    log_change(
        tx,
        Some(device.site_id),
        &HqChange::Credit(CreditPosting {
            posting_id: tx.last_insert_rowid(),
            claim_id: claim,
            learner_id: learner,
            account_no: account_no.clone(),
            credits_tenths: *credits_tenths,
            reverses: None,
            reason: None,
        }),
    )?;
    let number = certificate_number(tx, device.site_id, programme.level)?;
    tx.execute(
        "INSERT INTO certificate (number, account_id, decision_id, learner_id, programme_version_id, status, issued_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 'valid', ?6)",
        params![number, account, decision, learner, programme.id, now()],
    )?;
    log_change(
        tx,
        Some(device.site_id),
        &HqChange::Certificate(Certificate {
            number,
            learner_id: learner,
            account_no,
            programme_version_id: programme.id.clone(),
            status: CertificateStatus::Valid,
        }),
    )?;
    Ok(())
}

/// The next certificate number of the site's series: Y, organisation 0001 (the credit bank),
/// province, 6-digit site sequence, 2-digit year, level and a 6-digit serial per series (the
/// 职业技能等级证书 layout), issued by the domain's `CertificateNumber`, which sites parse with.
fn certificate_number(tx: &Transaction<'_>, site: Uuid, level: u8) -> Result<String> {
    let (province, seq): (String, u32) = tx.query_row(
        "SELECT province, seq FROM site WHERE id = ?1",
        [site],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let year = (now().year() % 100) as u8;
    let series = CertificateNumber::issue(ISSUER, &province, seq, year, level, 0)?.series();
    let serial: u32 = tx.query_row(
        "SELECT count(*) + 1 FROM certificate WHERE substr(number, 1, 15) = ?1",
        [&series],
        |r| r.get(0),
    )?;
    Ok(CertificateNumber::issue(ISSUER, &province, seq, year, level, serial)?.format())
}

/// The evaluation organisation code of the credit bank itself.
const ISSUER: &str = "0001";
