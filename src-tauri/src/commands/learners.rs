//! Learners: search, the live ID check, registration, the profile and audited unmasking.

use serde::Serialize;
use siteline_core::store::hq::{self, LearnerCredits};
use siteline_core::store::learners::{self, IdCheck, IdType, LearnerSummary, NewLearner};
use siteline_core::store::progress::{self, EnrolmentProgress};
use siteline_domain::ids::LearnerId;
use tauri::State;

use super::Res;
use crate::state::Shell;

/// Learner search by name, ID tail or phone tail.
#[tauri::command]
pub async fn search_learners(shell: State<'_, Shell>, query: String) -> Res<Vec<LearnerSummary>> {
    shell.actor().await?;
    Ok(shell
        .db
        .call(move |s| learners::search(s, &query, 100))
        .await?)
}

/// Live check of an ID number while it is typed.
#[tauri::command]
pub async fn check_id_number(
    shell: State<'_, Shell>,
    id_type: IdType,
    number: String,
) -> Res<IdCheck> {
    shell.actor().await?;
    Ok(shell
        .db
        .call(move |s| learners::check_id_number(s, id_type, &number))
        .await?)
}

/// Registers a learner with consents.
#[tauri::command]
pub async fn register_learner(shell: State<'_, Shell>, new: NewLearner) -> Res<LearnerSummary> {
    let actor = shell.actor().await?;
    let l = shell
        .db
        .call(move |s| {
            let id = learners::register(s, &actor, &new)?;
            learners::get(s.conn(), id)
        })
        .await?;
    shell.changes.touched("learners");
    Ok(l)
}

/// A learner's profile: summary, progress in each enrolment, credits from HQ.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct LearnerProfile {
    /// Masked summary.
    pub learner: LearnerSummary,
    /// Progress per enrolment.
    pub enrolments: Vec<EnrolmentProgress>,
    /// HQ's decisions, credits and certificates.
    pub credits: LearnerCredits,
}

/// One learner's profile.
#[tauri::command]
pub async fn learner_profile(shell: State<'_, Shell>, id: LearnerId) -> Res<LearnerProfile> {
    shell.actor().await?;
    Ok(shell
        .db
        .call(move |s| {
            Ok(LearnerProfile {
                learner: learners::get(s.conn(), id)?,
                enrolments: progress::learner_progress(s.conn(), id)?,
                credits: hq::learner_credits(s.conn(), id.0)?,
            })
        })
        .await?)
}

/// The full ID and phone (site manager only; audited in core).
#[tauri::command]
pub async fn unmask_learner(
    shell: State<'_, Shell>,
    id: LearnerId,
) -> Res<(String, Option<String>)> {
    let actor = shell.actor().await?;
    Ok(shell
        .db
        .call(move |s| learners::unmask(s, &actor, id))
        .await?)
}
