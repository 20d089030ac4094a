//! Outcome claims sent to the credit bank.

use serde::Serialize;
use siteline_core::store::{claims, progress};
use siteline_domain::ids::CohortId;
use tauri::State;

use super::Res;
use crate::state::Shell;

/// What submitting a cohort's claims did.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ClaimsSubmitted {
    /// Claims submitted now.
    pub submitted: u32,
    /// Learners not claimed, with the reason (not eligible, not passed, no consent…).
    pub skipped: Vec<(String, String)>,
}

/// Submits an outcome claim for every learner of a cohort who passed, is eligible and has not
/// been claimed (site manager). Each claim is its own transaction; the others go on.
#[tauri::command]
pub async fn submit_claims(shell: State<'_, Shell>, cohort: CohortId) -> Res<ClaimsSubmitted> {
    let actor = shell.actor().await?;
    actor.require_manager("submit outcome claims")?;
    let done = shell
        .db
        .call(move |s| {
            let table = progress::cohort_progress(s.conn(), cohort)?;
            let mut out = ClaimsSubmitted {
                submitted: 0,
                skipped: Vec::new(),
            };
            for l in table.learners.iter().filter(|l| !l.claimed) {
                match claims::submit(s, &actor, l.enrolment_id) {
                    Ok(_) => out.submitted += 1,
                    Err(e) => out.skipped.push((l.name.clone(), e.to_string())),
                }
            }
            Ok(out)
        })
        .await?;
    shell.changes.touched("claims");
    Ok(done)
}
