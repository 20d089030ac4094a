//! The same person registered on two devices of the site (the same resident ID number, found
//! by its blind index under the shared site key) is detected once both registrations have
//! synced, and waits in the site manager's queue. The manager merges them: the registration
//! not kept is marked merged into the one kept (an update every device and HQ receive); it
//! leaves searches and lists, and its enrolments and history show under the kept learner.
//! Nothing is deleted: every mark and result stays with the registration it was recorded for.

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;
use siteline_domain::ids::LearnerId;
use siteline_proto::records::{self, Record};

use super::actor::Actor;
use super::{Site, audit, outbox};
use crate::{Error, Result};
use siteline_domain::Rule;

/// Two registrations of one person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DuplicatePair {
    /// The earlier registration (by when it was made).
    pub first: LearnerId,
    /// Its name.
    pub first_name: String,
    /// The later one.
    pub second: LearnerId,
    /// Its name.
    pub second_name: String,
    /// The ID number, masked.
    pub id_masked: String,
    /// Enrolments of the first.
    pub first_enrolments: u32,
    /// Enrolments of the second.
    pub second_enrolments: u32,
}

/// Every pair of unmerged registrations that share an ID number.
pub fn pairs(conn: &Connection) -> Result<Vec<DuplicatePair>> {
    let mut stmt = conn.prepare_cached(
        "SELECT a.id, a.name, b.id, b.name, a.id_masked,
                (SELECT count(DISTINCT cohort_id) FROM enrolment WHERE learner_id = a.id),
                (SELECT count(DISTINCT cohort_id) FROM enrolment WHERE learner_id = b.id)
         FROM learner a JOIN learner b ON b.id_index = a.id_index
              AND (b.created_at > a.created_at OR (b.created_at = a.created_at AND b.id > a.id))
         WHERE a.merged_into IS NULL AND b.merged_into IS NULL AND length(a.id_index) > 0
         ORDER BY a.name, a.created_at",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(DuplicatePair {
            first: r.get(0)?,
            first_name: r.get(1)?,
            second: r.get(2)?,
            second_name: r.get(3)?,
            id_masked: r.get(4)?,
            first_enrolments: r.get(5)?,
            second_enrolments: r.get(6)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Merges `duplicate` into `keep` (site manager): both must be unmerged registrations of the
/// same ID number.
pub fn merge(site: &mut Site, actor: &Actor, keep: LearnerId, duplicate: LearnerId) -> Result<()> {
    actor.require_manager("merge two registrations of one learner")?;
    if keep == duplicate {
        return Err(Error::rule("merge", Rule::MergeNotDuplicates));
    }
    let (tx, _) = site.write()?;
    let same = tx
        .prepare_cached(
            "SELECT 1 FROM learner a JOIN learner b ON b.id_index = a.id_index
             WHERE a.id = ?1 AND b.id = ?2 AND a.merged_into IS NULL AND b.merged_into IS NULL",
        )?
        .query_row(params![keep, duplicate], |_| Ok(()))
        .optional()?;
    if same.is_none() {
        return Err(Error::rule("merge", Rule::MergeNotDuplicates));
    }
    apply_merge(&tx, duplicate, keep)?;
    outbox::append(
        &tx,
        duplicate.0,
        &Record::LearnerUpdate(records::LearnerUpdate::MergedInto { into: keep.0 }),
    )?;
    audit::record(
        &tx,
        Some(actor),
        "merge_learner",
        Some(("learner", duplicate.0)),
        &format!("merged into {keep}"),
    )?;
    tx.commit()?;
    Ok(())
}

/// Marks `duplicate` merged into `keep` (a merge made here or on another device). A learner
/// merged into one that was itself merged meanwhile follows it to the end of the chain.
pub(crate) fn apply_merge(
    tx: &Transaction<'_>,
    duplicate: LearnerId,
    keep: LearnerId,
) -> Result<()> {
    let n = tx.execute(
        "UPDATE learner SET merged_into = ?2, version = version + 1 WHERE id = ?1",
        params![duplicate, keep],
    )?;
    if n == 0 {
        return Err(Error::not_found("learner", duplicate));
    }
    // Anyone merged into the duplicate now points at the learner kept.
    tx.execute(
        "UPDATE learner SET merged_into = ?2 WHERE merged_into = ?1",
        params![duplicate, keep],
    )?;
    Ok(())
}
