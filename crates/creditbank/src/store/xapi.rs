//! The xAPI statements HQ owes its Learning Record Store (`crate::xapi`): collected from what
//! HQ holds into `xapi_statement` (each once, by its deterministic id), then sent in order and
//! marked as the LRS accepts each batch; the last attempt, success and error are kept for the
//! operator.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use siteline_domain::scores::Score as DomainScore;
use uuid::Uuid;

use super::apply::{HqKeys, programme};
use super::bank::now;
use super::sql::{Tx, args};
use crate::Result;
use crate::xapi::{
    Agent, Context, ExportStatus, Happened, Object, Outcome, Score, Statement, VERSION,
    statement_id,
};

/// Programme names by version id, read once per collection.
struct Names<'a> {
    tx: &'a dyn Tx,
    known: HashMap<String, (String, String)>,
}

impl Names<'_> {
    fn of(&mut self, pv: &str) -> Result<(String, String)> {
        if let Some(n) = self.known.get(pv) {
            return Ok(n.clone());
        }
        let names = match programme(self.tx, pv)? {
            Some(p) => super::certificates::programme_names(self.tx, &p)?,
            None => (pv.to_string(), pv.to_string()),
        };
        self.known.insert(pv.to_string(), names.clone());
        Ok(names)
    }
}

fn queue(tx: &dyn Tx, s: &Statement) -> Result<u64> {
    tx.execute(
        "INSERT INTO xapi_statement (statement_id, body, queued_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (statement_id) DO NOTHING",
        args![s.id.to_string(), serde_json::to_string(s)?, now()],
    )
}

/// Queues every statement HQ's records call for that is not queued yet; the number added.
pub(crate) fn collect(tx: &dyn Tx, keys: &HqKeys) -> Result<u64> {
    let base = keys.base_url();
    let mut names = Names {
        tx,
        known: HashMap::new(),
    };
    let cohort_iri = |cohort: Uuid| format!("{base}/cohorts/{cohort}");
    // What `source` (a record of `kind`) says happened to the holder of `account` at `at`.
    let statement = |kind: &str,
                     source: Uuid,
                     account: &str,
                     happened: Happened,
                     object: Object,
                     at: DateTime<Utc>| Statement {
        id: statement_id(kind, source),
        version: VERSION.into(),
        actor: Agent::credit_account(&base, account),
        verb: happened.verb(),
        object,
        result: None,
        context: None,
        timestamp: at,
    };
    let mut added = 0;
    // Enrolled in a cohort.
    for r in tx.query(
        "SELECT e.record_id, e.cohort_id, k.programme_version_id, a.account_no,
                (SELECT min(x.recorded_at) FROM record x WHERE x.record_id = e.record_id)
           FROM enrolment e
           JOIN learner l ON l.record_id = e.learner_id
           JOIN credit_account a ON a.id = l.account_id
           JOIN cohort k ON k.record_id = e.cohort_id
          ORDER BY 5",
        &[],
    )? {
        let (id, cohort, pv, account, at): (Uuid, Uuid, String, String, DateTime<Utc>) =
            (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?);
        let (zh, en) = names.of(&pv)?;
        let mut s = statement(
            "registered",
            id,
            &account,
            Happened::Registered,
            Object::activity(cohort_iri(cohort), &zh, &en, "course"),
            at,
        );
        s.context = Some(Context::siteline(None));
        added += queue(tx, &s)?;
    }
    // Present at a session (a check-in, the roll call's "present" or "late").
    for r in tx.query(
        "SELECT t.record_id, t.session_id, s.cohort_id, k.programme_version_id, a.account_no, t.at
           FROM attendance t
           JOIN session s ON s.record_id = t.session_id
           JOIN cohort k ON k.record_id = s.cohort_id
           JOIN learner l ON l.record_id = t.learner_id
           JOIN credit_account a ON a.id = l.account_id
          WHERE t.kind = 'check_in'
          ORDER BY t.id",
        &[],
    )? {
        let (id, session, cohort, pv, account, at): (
            Uuid,
            Uuid,
            Uuid,
            String,
            String,
            DateTime<Utc>,
        ) = (
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
        );
        let (zh, en) = names.of(&pv)?;
        let mut s = statement(
            "attended",
            id,
            &account,
            Happened::Attended,
            Object::activity(
                format!("{base}/sessions/{session}"),
                &format!("{zh} 课次"),
                &format!("{en} session"),
                "meeting",
            ),
            at,
        );
        s.context = Some(Context::siteline(Some(cohort_iri(cohort))));
        added += queue(tx, &s)?;
    }
    // Assessed: each locked attempt, passed or failed by the domain's rule; an attempt that a
    // correction replaced is voided after the correction's own statement.
    for r in tx.query(
        "SELECT t.record_id, t.component, t.score, t.critical_failed, e.cohort_id,
                k.programme_version_id, a.account_no, t.corrects,
                (SELECT min(x.recorded_at) FROM record x WHERE x.record_id = t.record_id)
           FROM attempt t
           JOIN enrolment e ON e.record_id = t.enrolment_id
           JOIN cohort k ON k.record_id = e.cohort_id
           JOIN learner l ON l.record_id = e.learner_id
           JOIN credit_account a ON a.id = l.account_id
          WHERE t.locked = ?1
          ORDER BY 9",
        args![true],
    )? {
        let (id, component, score, critical, cohort, pv, account, corrects, at): (
            Uuid,
            String,
            i64,
            bool,
            Uuid,
            String,
            String,
            Option<Uuid>,
            DateTime<Utc>,
        ) = (
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
            r.get(6)?,
            r.get(7)?,
            r.get(8)?,
        );
        let (zh, en) = names.of(&pv)?;
        let passed = DomainScore::from_stored(u8::try_from(score.clamp(0, 100)).unwrap_or(0))
            .passes()
            && !critical;
        let (component_zh, component_en) = match component.as_str() {
            "theory" => ("理论考核", "theory assessment"),
            "practical" => ("实操考核", "practical assessment"),
            _ => ("综合评审", "comprehensive review"),
        };
        let mut s = statement(
            "assessed",
            id,
            &account,
            if passed {
                Happened::Passed
            } else {
                Happened::Failed
            },
            Object::activity(
                format!("{base}/catalogue/{pv}/{component}"),
                &format!("{zh} {component_zh}"),
                &format!("{en} {component_en}"),
                "assessment",
            ),
            at,
        );
        s.result = Some(Outcome {
            success: Some(passed),
            score: Some(Score::percent(score)),
            ..Outcome::default()
        });
        s.context = Some(Context::siteline(Some(cohort_iri(cohort))));
        added += queue(tx, &s)?;
        if let Some(old) = corrects {
            let v = statement(
                "voided",
                id,
                &account,
                Happened::Voided,
                Object::StatementRef {
                    id: statement_id("assessed", old),
                },
                at,
            );
            added += queue(tx, &v)?;
        }
    }
    // Accredited (credits posted), and voided when the credits are reversed.
    for r in tx.query(
        "SELECT d.claim_id, d.programme_version_id, a.account_no, d.decided_at, d.credits_tenths,
                (SELECT p.posted_at FROM credit_posting p
                  WHERE p.decision_id = d.id AND p.reverses IS NOT NULL)
           FROM decision d JOIN credit_account a ON a.id = d.account_id
          WHERE d.status = 'accredited' AND d.repeats IS NULL AND d.credits_tenths > 0
          ORDER BY d.id",
        &[],
    )? {
        let (claim, pv, account, at, credits, reversed): (
            Uuid,
            String,
            String,
            DateTime<Utc>,
            i64,
            Option<DateTime<Utc>>,
        ) = (
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
        );
        let (zh, en) = names.of(&pv)?;
        let mut s = statement(
            "completed",
            claim,
            &account,
            Happened::Completed,
            Object::activity(format!("{base}/catalogue/{pv}"), &zh, &en, "course"),
            at,
        );
        s.result = Some(Outcome {
            success: Some(true),
            completion: Some(true),
            extensions: Some(
                [(
                    format!("{base}/xapi/credits"),
                    serde_json::json!(credits as f64 / 10.0),
                )]
                .into(),
            ),
            ..Outcome::default()
        });
        s.context = Some(Context::siteline(None));
        added += queue(tx, &s)?;
        if let Some(at) = reversed {
            let v = statement(
                "reversed",
                claim,
                &account,
                Happened::Voided,
                Object::StatementRef {
                    id: statement_id("completed", claim),
                },
                at,
            );
            added += queue(tx, &v)?;
        }
    }
    Ok(added)
}

/// The oldest statements not yet accepted by the LRS: (queue id, JSON).
pub(crate) fn pending(tx: &dyn Tx, limit: usize) -> Result<Vec<(i64, String)>> {
    tx.query(
        "SELECT id, body FROM xapi_statement WHERE sent_at IS NULL ORDER BY id LIMIT ?1",
        args![limit as i64],
    )?
    .into_iter()
    .map(|r| Ok((r.get(0)?, r.get(1)?)))
    .collect()
}

/// Records an attempt to send `ids`: sent when `error` is none, else the error for the
/// operator (the statements stay queued).
pub(crate) fn note(tx: &dyn Tx, ids: &[i64], error: Option<&str>) -> Result<()> {
    let at = now();
    if error.is_none() {
        for id in ids {
            tx.execute(
                "UPDATE xapi_statement SET sent_at = ?2 WHERE id = ?1",
                args![*id, at],
            )?;
        }
    }
    tx.execute(
        "INSERT INTO xapi_export (id, last_attempt_at, last_success_at, last_error)
         VALUES (1, ?1, ?2, ?3)
         ON CONFLICT (id) DO UPDATE SET last_attempt_at = excluded.last_attempt_at,
             last_success_at = coalesce(excluded.last_success_at, xapi_export.last_success_at),
             last_error = excluded.last_error",
        args![at, error.is_none().then_some(at), error],
    )?;
    Ok(())
}

/// How far the export got.
pub(crate) fn status(tx: &dyn Tx) -> Result<ExportStatus> {
    let queued: i64 = tx.value("SELECT count(*) FROM xapi_statement", &[])?;
    let sent: i64 = tx.value(
        "SELECT count(*) FROM xapi_statement WHERE sent_at IS NOT NULL",
        &[],
    )?;
    let row = tx.opt(
        "SELECT last_attempt_at, last_success_at, last_error FROM xapi_export WHERE id = 1",
        &[],
    )?;
    let (last_attempt_at, last_success_at, last_error) = match row {
        Some(r) => (r.get(0)?, r.get(1)?, r.get(2)?),
        None => (None, None, None),
    };
    Ok(ExportStatus {
        queued,
        sent,
        last_attempt_at,
        last_success_at,
        last_error,
    })
}
