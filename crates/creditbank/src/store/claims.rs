//! Judging an outcome claim from the facts HQ holds (its copy of the learner, enrolment and
//! locked attempts, and its own catalogue) with the domain's rules, then recording the
//! decision and, when accredited, the credit posting and the certificate, each logged for the
//! site to pull. Runs inside the push's transaction.

use chrono::Datelike;
use chrono::{DateTime, Utc};
use siteline_domain::attendance::{AttendanceKind, fold_session, hours_text};
use siteline_domain::certificate::CertificateNumber;
use siteline_domain::scores::Score;
use siteline_proto::catalogue::ProgrammeVersion;
use siteline_proto::records;
use siteline_proto::sync::{CreditPosting, Decision, HqChange};
use uuid::Uuid;

use super::DeviceInfo;
use super::apply::{Applied, programme, q};
use super::bank::{log_change, now};
use super::sql::{Lock, Tx, args};
use crate::accreditation::{self, ClaimFacts, Component, Outcome};
use crate::{Error, Result};

/// Stores the claim, judges it from HQ's own records and records the outcome.
pub(crate) fn claim(
    tx: &dyn Tx,
    keys: &super::apply::HqKeys,
    device: &DeviceInfo,
    record_id: Uuid,
    c: &records::OutcomeClaim,
) -> Result<(), Applied> {
    let pv_id = c.programme_version_id.as_str();
    let Some(programme) = programme(tx, pv_id)? else {
        return q(format!(
            "培训项目版本 {pv_id} 不在已发布的目录中 / programme version {pv_id} is not in any published catalogue"
        ));
    };
    tx.execute(
        "INSERT INTO claim (record_id, site_id, enrolment_id, learner_id, programme_version_id,
             attended_minutes, attempt_ids, received_at, replaces)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        args![
            record_id,
            device.site_id,
            c.enrolment_id,
            c.learner_id,
            pv_id,
            c.attended_minutes,
            serde_json::to_string(&c.attempt_ids).map_err(Error::from)?,
            now(),
            c.replaces,
        ],
    )?;
    let account: Option<i64> = tx
        .value_opt(
            "SELECT account_id FROM learner WHERE record_id = ?1 AND site_id = ?2",
            args![c.learner_id, device.site_id],
        )?
        .flatten();
    // One person's claims are judged one at a time, from whichever sites they come: the
    // second sees the first's decision (accredited once per person).
    if let Some(account) = account {
        tx.lock(Lock::Account(account))?;
    }
    let verdict = match judge(tx, device, record_id, c, &programme, account)? {
        Verdict::Decide(outcome) => Judged {
            outcome,
            repeats: None,
        },
        Verdict::Repeat { decision, claim } => Judged {
            outcome: Outcome::Accredited { credits_tenths: 0 },
            repeats: Some((decision, claim)),
        },
    };
    let key = ClaimKey {
        id: record_id,
        learner: c.learner_id,
        account,
    };
    record_decision(tx, keys, device, &key, &programme, &verdict)?;
    Ok(())
}

enum Verdict {
    Decide(Outcome),
    /// The person was already accredited for this programme version: the answer repeats that
    /// decision and posts nothing.
    Repeat {
        decision: i64,
        claim: Uuid,
    },
}

struct Judged {
    outcome: Outcome,
    repeats: Option<(i64, Uuid)>,
}

fn needs(reason: String) -> Result<Verdict, Applied> {
    Ok(Verdict::Decide(Outcome::NeedsInfo(reason)))
}

/// HQ's judgement: every fact of the claim checked against what HQ itself received, then the
/// programme's rules applied to HQ's facts (never the site's totals).
fn judge(
    tx: &dyn Tx,
    device: &DeviceInfo,
    claim_id: Uuid,
    c: &records::OutcomeClaim,
    programme: &ProgrammeVersion,
    account: Option<i64>,
) -> Result<Verdict, Applied> {
    let site = device.site_id;
    let enrolment: Option<(Uuid, Uuid, String)> = tx
        .opt(
            "SELECT e.learner_id, e.cohort_id, k.programme_version_id
             FROM enrolment e JOIN cohort k ON k.record_id = e.cohort_id
             WHERE e.record_id = ?1 AND e.site_id = ?2",
            args![c.enrolment_id, site],
        )?
        .map(|r| Ok::<_, Error>((r.get(0)?, r.get(1)?, r.get(2)?)))
        .transpose()?;
    let Some((learner, cohort, cohort_pv)) = enrolment else {
        return needs(
            "申请引用的报名记录总部没有收到，或不属于本站点；请先同步报名记录 / HQ holds no such enrolment for this site; sync the enrolment first".into(),
        );
    };
    if learner != c.learner_id {
        return needs(format!(
            "申请的学员 {} 与报名记录的学员 {learner} 不符 / the claim names learner {} but the enrolment is for learner {learner}",
            c.learner_id, c.learner_id
        ));
    }
    let consented: bool = tx
        .value_opt(
            "SELECT name <> '' FROM learner WHERE record_id = ?1 AND site_id = ?2",
            args![learner, site],
        )?
        .unwrap_or(false);
    if !consented {
        return needs(
            "学员尚未同意（或已撤回同意）向学分银行报送记录；记录同意后重新申请 / the learner has not consented (or withdrew consent) to their records reaching the credit bank; record their consent and claim again".into(),
        );
    }
    if cohort_pv != programme.id {
        return needs(format!(
            "申请的培训项目 {p} 与培训班的项目 {cohort_pv} 不符 / the claim is for {p} but the cohort runs {cohort_pv}",
            p = programme.id
        ));
    }
    if let Some(v) = already_accredited(tx, site, c.enrolment_id, account, &programme.id)? {
        return Ok(v);
    }
    // One open claim per enrolment: a later one names the claim it replaces.
    // `rowid` is the order claims arrived in (on PostgreSQL, an identity column of that name).
    let earlier: Option<Uuid> = tx.value_opt(
        "SELECT record_id FROM claim WHERE enrolment_id = ?1 AND site_id = ?2 AND record_id <> ?3
         ORDER BY rowid DESC LIMIT 1",
        args![c.enrolment_id, site, claim_id],
    )?;
    if let Some(earlier) = earlier
        && c.replaces != Some(earlier)
    {
        return needs(format!(
            "该报名已有申请 {earlier}，新申请须注明替换该申请 / this enrolment already has claim {earlier}; a new claim must name the claim it replaces"
        ));
    }
    let mut facts = ClaimFacts {
        programme,
        attended_minutes: 0,
        theory: None,
        practical: None,
        review: None,
        has_account: account.is_some(),
    };
    for id in &c.attempt_ids {
        // Two devices that had not synced may each have enrolled the learner in the cohort:
        // both enrolments are one, and an attempt recorded under either counts for it.
        let a: Option<(Uuid, Uuid, String)> = tx
            .opt(
                "SELECT e.cohort_id, e.learner_id, a.component
                 FROM attempt a JOIN enrolment e ON e.record_id = a.enrolment_id
                 WHERE a.record_id = ?1 AND a.site_id = ?2",
                args![id, site],
            )?
            .map(|r| Ok::<_, Error>((r.get(0)?, r.get(1)?, r.get(2)?)))
            .transpose()?;
        let Some((attempt_cohort, attempt_learner, component)) = a else {
            return needs(format!(
                "申请引用的考核记录 {id} 总部没有收到；请先同步 / HQ has not received the attempt {id} the claim cites; sync it first"
            ));
        };
        if (attempt_cohort, attempt_learner) != (cohort, learner) {
            return needs(format!(
                "申请引用的考核记录 {id} 不属于该报名 / the attempt {id} the claim cites belongs to another enrolment"
            ));
        }
        let Some(current) = current_attempt(tx, site, cohort, learner, &component)? else {
            continue;
        };
        if current.0 != *id {
            return needs(format!(
                "申请引用的{}考核 {id} 不是总部记录的最新成绩 {} / the {component} attempt {id} the claim cites is not the current one HQ holds ({})",
                accreditation::zh(&component),
                current.0,
                current.0
            ));
        }
        let slot = match component.as_str() {
            "theory" => &mut facts.theory,
            "practical" => &mut facts.practical,
            _ => &mut facts.review,
        };
        if slot.is_some() {
            return needs(format!(
                "申请对{}引用了多条考核记录 / the claim cites more than one {component} attempt",
                accreditation::zh(&component)
            ));
        }
        *slot = Some(current.1);
    }
    let minutes = attended_minutes(tx, site, cohort, learner)?;
    if minutes != c.attended_minutes {
        return needs(format!(
            "站点申报出勤 {} 小时，总部按收到的点名记录计为 {} 小时；请同步全部点名记录后重新申请 / the site claims {} h attended but the roll calls HQ holds give {} h; sync every roll call and claim again",
            hours_text(c.attended_minutes),
            hours_text(minutes),
            hours_text(c.attended_minutes),
            hours_text(minutes)
        ));
    }
    facts.attended_minutes = minutes;
    Ok(Verdict::Decide(accreditation::decide(&facts)))
}

/// An accredited decision this person (by credit account, across every site) or this
/// enrolment already has for the programme version.
fn already_accredited(
    tx: &dyn Tx,
    site: Uuid,
    enrolment: Uuid,
    account: Option<i64>,
    pv: &str,
) -> Result<Option<Verdict>> {
    let first: Option<(i64, Uuid)> = tx
        .opt(
            "SELECT d.id, d.claim_id FROM decision d JOIN claim c ON c.record_id = d.claim_id
             WHERE d.status = 'accredited' AND d.repeats IS NULL AND d.programme_version_id = ?4
               AND (d.account_id = ?3 OR (c.enrolment_id = ?1 AND c.site_id = ?2))
             ORDER BY d.id LIMIT 1",
            args![enrolment, site, account, pv],
        )?
        .map(|r| Ok::<_, Error>((r.get(0)?, r.get(1)?)))
        .transpose()?;
    Ok(first.map(|(decision, claim)| Verdict::Repeat { decision, claim }))
}

/// The current attempt of a component as HQ holds it, as every device of the site folds it
/// (ADR 0005): of the attempts not superseded by a correction, under any enrolment of the
/// learner in the cohort, the highest number and, of two numbered alike (two devices recorded
/// attempt n before they synced), the later stamp.
fn current_attempt(
    tx: &dyn Tx,
    site: Uuid,
    cohort: Uuid,
    learner: Uuid,
    component: &str,
) -> Result<Option<(Uuid, Component)>> {
    tx.opt(
        "SELECT a.record_id, a.score, a.critical_failed, a.locked
         FROM attempt a JOIN enrolment e ON e.record_id = a.enrolment_id
         WHERE e.site_id = ?1 AND e.cohort_id = ?2 AND e.learner_id = ?3 AND a.component = ?4
           AND NOT EXISTS (SELECT 1 FROM attempt c WHERE c.corrects = a.record_id)
         ORDER BY a.attempt_no DESC,
                  (SELECT min(r.hlc) FROM record r WHERE r.record_id = a.record_id AND r.op = 'insert') DESC NULLS LAST,
                  a.record_id DESC
         LIMIT 1",
        args![site, cohort, learner, component],
    )?
    .map(|r| {
        Ok((
            r.get(0)?,
            Component {
                score: Score::from_stored(r.get(1)?),
                critical_failed: r.get(2)?,
                locked: r.get(3)?,
            },
        ))
    })
    .transpose()
}

/// Minutes attended, recomputed by HQ from the sessions and roll-call marks it holds with the
/// domain's rule (the same fold the site uses: the marks that count, in clock-stamp order, so
/// the later mark wins whichever device took it; a mark stamped after the session's close
/// counts only as a correction).
pub(crate) fn attended_minutes(
    tx: &dyn Tx,
    site: Uuid,
    cohort: Uuid,
    learner: Uuid,
) -> Result<i64> {
    let rows = tx.query(
        "SELECT s.record_id, s.starts_at, s.ends_at, a.kind, a.at
         FROM session s JOIN attendance a ON a.session_id = s.record_id AND a.learner_id = ?3
         WHERE s.cohort_id = ?1 AND s.site_id = ?2
           AND (a.correction_id IS NOT NULL OR s.closed_hlc IS NULL OR a.hlc < s.closed_hlc)
         ORDER BY s.record_id, a.hlc",
        args![cohort, site, learner],
    )?;
    // Rows come grouped by session: fold each session's marks when the next session begins.
    let mut total = 0i64;
    let mut open: Option<(Uuid, DateTime<Utc>, DateTime<Utc>)> = None;
    let mut events: Vec<(AttendanceKind, DateTime<Utc>)> = Vec::new();
    for r in rows {
        let session: Uuid = r.get(0)?;
        if let Some((id, start, end)) = open
            && id != session
        {
            total += fold_session(start, end, events.drain(..)).1;
            open = None;
        }
        if open.is_none() {
            open = Some((session, r.get(1)?, r.get(2)?));
        }
        // Stored by HQ from a parsed record, so the kind always parses.
        if let Ok(kind) = AttendanceKind::parse(&r.get::<String>(3)?) {
            events.push((kind, r.get(4)?));
        }
    }
    if let Some((_, start, end)) = open {
        total += fold_session(start, end, events.drain(..)).1;
    }
    Ok(total)
}

/// The claim decided: its id, its learner and her credit account (once HQ matched one).
struct ClaimKey {
    id: Uuid,
    learner: Uuid,
    account: Option<i64>,
}

fn record_decision(
    tx: &dyn Tx,
    keys: &super::apply::HqKeys,
    device: &DeviceInfo,
    key: &ClaimKey,
    programme: &ProgrammeVersion,
    judged: &Judged,
) -> Result<()> {
    let ClaimKey {
        id: claim,
        learner,
        account,
    } = *key;
    let outcome = &judged.outcome;
    let (reason, credits) = match (outcome, judged.repeats) {
        (_, Some((_, first))) => (
            format!(
                "该学员已凭申请 {first} 获认定本项目，学分不重复计入 / this person was already accredited for this programme by claim {first}; credits are not posted twice"
            ),
            0,
        ),
        (Outcome::Accredited { credits_tenths }, None) => (
            "符合项目要求 / meets the programme's rules".to_string(),
            *credits_tenths,
        ),
        (Outcome::NeedsInfo(r) | Outcome::Rejected(r), None) => (r.clone(), 0),
    };
    let catalogue: String = tx.value(
        "SELECT catalogue_version FROM programme_version WHERE id = ?1",
        args![programme.id],
    )?;
    let decision: i64 = tx.value("INSERT INTO decision (claim_id, status, reason, credits_tenths, catalogue_version, decided_at,
             account_id, programme_version_id, repeats)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING id", args![
        claim,
        outcome.status().as_str(),
        reason,
        credits,
        catalogue,
        now(),
        account,
        programme.id,
        judged.repeats.map(|(d, _)| d)
    ])?;
    let account_no: Option<String> = account
        .map(|a| {
            tx.value(
                "SELECT account_no FROM credit_account WHERE id = ?1",
                args![a],
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
    let (Outcome::Accredited { credits_tenths }, Some(account), None) =
        (outcome, account, judged.repeats)
    else {
        return Ok(());
    };
    let posting_id: i64 = tx.value(
        "INSERT INTO credit_posting (account_id, decision_id, site_id, credits_tenths, posted_at)
         VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
        args![account, decision, device.site_id, credits_tenths, now()],
    )?;
    log_change(
        tx,
        Some(device.site_id),
        &HqChange::Credit(CreditPosting {
            posting_id,
            claim_id: claim,
            learner_id: learner,
            account_no: account_no.clone(),
            credits_tenths: *credits_tenths,
            reverses: None,
            reason: None,
        }),
    )?;
    let number = certificate_number(tx, device.site_id, programme.level)?;
    let accredited = super::certificates::Accredited {
        site: device.site_id,
        claim,
        learner,
        account,
        account_no: account_no.as_deref().unwrap_or_default(),
        decision,
        credits_tenths: *credits_tenths,
    };
    super::certificates::issue(tx, keys, &accredited, programme, number)?;
    Ok(())
}

/// The next certificate number of the site's series: Y, organisation 0001 (the credit bank),
/// province, 6-digit site sequence, 2-digit year, level and a 6-digit serial per series (the
/// 职业技能等级证书 layout), issued by the domain's `CertificateNumber`, which sites parse with.
pub(crate) fn certificate_number(tx: &dyn Tx, site: Uuid, level: u8) -> Result<String> {
    let r = tx.one("SELECT province, seq FROM site WHERE id = ?1", args![site])?;
    let (province, seq): (String, u32) = (r.get(0)?, r.get(1)?);
    let year = (now().year() % 100) as u8;
    let series = CertificateNumber::issue(ISSUER, &province, seq, year, level, 0)?.series();
    // The series' counter row: its writers take turns (the row's lock), so no two
    // certificates share a serial and none is skipped.
    let serial: u32 = tx.value(
        "INSERT INTO certificate_series (series, last_serial) VALUES (?1, 1)
         ON CONFLICT (series) DO UPDATE SET last_serial = certificate_series.last_serial + 1
         RETURNING last_serial",
        args![series],
    )?;
    Ok(CertificateNumber::issue(ISSUER, &province, seq, year, level, serial)?.format())
}

/// The evaluation organisation code of the credit bank itself.
const ISSUER: &str = "0001";
