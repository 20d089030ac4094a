//! The list of all the site's learners (学员名册): a page at a time, searched and filtered
//! by cohort, programme, under 18 and a missing credit bank consent, each learner with the
//! cohorts they are enrolled in.

use chrono::{Months, Utc};
use rusqlite::types::Value;
use serde::{Deserialize, Serialize};
use siteline_domain::ids::CohortId;

use super::Site;
use super::learners::{self, CONSENT_LATEST_FIRST, LearnerSummary, SearchKey};
use crate::{Error, Result};

/// Most learners one page holds.
pub const MAX_PAGE: u32 = 200;

/// Which learners, and which page of them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LearnerFilter {
    /// Part of a name, or the last 4 characters of an ID or mobile number, or a full ID number.
    pub query: Option<String>,
    /// Enrolled in this cohort.
    pub cohort: Option<CohortId>,
    /// Enrolled in a cohort of this programme version.
    pub programme: Option<String>,
    /// Under 18 today.
    pub minor: bool,
    /// No credit bank consent on record (never asked, refused or withdrawn).
    pub consent_missing: bool,
    /// Learners to skip (the page's start).
    pub offset: u32,
    /// Learners on the page, 1 to [`MAX_PAGE`].
    pub limit: u32,
}

/// One learner in the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LearnerLine {
    /// The masked summary.
    pub learner: LearnerSummary,
    /// The cohorts they are enrolled in, by start date.
    pub cohorts: Vec<String>,
    /// Their current credit bank consent.
    pub credit_bank_consent: bool,
}

/// A page of the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LearnerPage {
    /// Learners matching the filter, on every page.
    pub total: u32,
    /// This page, by name.
    pub lines: Vec<LearnerLine>,
}

/// The current answer for the credit bank, as [`learners::has_consent`] reads it.
fn consent_sql() -> String {
    format!(
        "coalesce((SELECT c.granted FROM consent c
            WHERE c.learner_id = l.id AND c.purpose = 'credit_bank'
            ORDER BY {CONSENT_LATEST_FIRST} LIMIT 1), 0)"
    )
}

/// A page of the site's learners matching `filter`.
pub fn list(site: &Site, filter: &LearnerFilter) -> Result<LearnerPage> {
    if filter.limit == 0 || filter.limit > MAX_PAGE {
        return Err(Error::invalid(
            "learners.limit",
            format!("a page holds 1 to {MAX_PAGE} learners"),
        ));
    }
    let mut clauses = vec!["l.merged_into IS NULL".to_string()];
    let mut args: Vec<Value> = Vec::new();
    let arg = |v: Value, args: &mut Vec<Value>| {
        args.push(v);
        format!("?{}", args.len())
    };
    if let Some(q) = filter.query.as_deref().filter(|q| !q.trim().is_empty()) {
        let (condition, values) = SearchKey::parse(site, q)?.condition(args.len() + 1);
        args.extend(values);
        clauses.push(condition);
    }
    if let Some(cohort) = filter.cohort {
        let a = arg(cohort.0.as_bytes().to_vec().into(), &mut args);
        clauses.push(format!(
            "EXISTS (SELECT 1 FROM enrolment e WHERE e.learner_id = l.id AND e.cohort_id = {a})"
        ));
    }
    if let Some(programme) = &filter.programme {
        let a = arg(programme.clone().into(), &mut args);
        clauses.push(format!(
            "EXISTS (SELECT 1 FROM enrolment e JOIN cohort c ON c.id = e.cohort_id
                      WHERE e.learner_id = l.id AND c.programme_version_id = {a})"
        ));
    }
    if filter.minor {
        // Born after this day 18 years ago: under 18 today.
        let today = Utc::now().date_naive();
        let adult = today
            .checked_sub_months(Months::new(18 * 12))
            .unwrap_or(today);
        let a = arg(adult.to_string().into(), &mut args);
        clauses.push(format!("l.birth_date > {a}"));
    }
    if filter.consent_missing {
        clauses.push(format!("{} = 0", consent_sql()));
    }
    let filter_sql = clauses.join(" AND ");
    let conn = site.conn();
    let total: u32 = conn.query_row(
        &format!("SELECT count(*) FROM learner l WHERE {filter_sql}"),
        rusqlite::params_from_iter(args.iter()),
        |r| r.get(0),
    )?;
    let limit = arg(i64::from(filter.limit).into(), &mut args);
    let offset = arg(i64::from(filter.offset).into(), &mut args);
    let mut stmt = conn.prepare(&format!(
        "SELECT l.id, {} FROM learner l WHERE {filter_sql}
         ORDER BY l.name, l.id LIMIT {limit} OFFSET {offset}",
        consent_sql()
    ))?;
    let ids = stmt
        .query_map(rusqlite::params_from_iter(args.iter()), |r| {
            Ok((r.get(0)?, r.get::<_, bool>(1)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut cohorts = conn.prepare_cached(
        "SELECT DISTINCT c.name, c.start_date FROM enrolment e JOIN cohort c ON c.id = e.cohort_id
          WHERE e.learner_id = ?1 ORDER BY c.start_date, c.name",
    )?;
    let mut lines = Vec::with_capacity(ids.len());
    for (id, credit_bank_consent) in ids {
        lines.push(LearnerLine {
            learner: learners::get(conn, id)?,
            cohorts: cohorts
                .query_map([id], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?,
            credit_bank_consent,
        });
    }
    Ok(LearnerPage { total, lines })
}
