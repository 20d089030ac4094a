//! Assessments: the rubric form, attempts, locking and corrections.

use siteline_core::store::assessments::{self, Attempt, Marks, NewAttempt};
use siteline_core::store::catalogue::{self, RubricForm};
use siteline_core::store::corrections::Reason;
use siteline_domain::ids::{AttemptId, EnrolmentId};
use tauri::State;

use super::Res;
use crate::state::Shell;

/// A programme version's practical rubric and its pass mark.
#[tauri::command]
pub async fn rubric(shell: State<'_, Shell>, programme_version_id: String) -> Res<RubricForm> {
    shell.actor().await?;
    Ok(shell
        .db
        .call(move |s| catalogue::rubric_form(s.conn(), &programme_version_id))
        .await?)
}

/// An enrolment's attempts as views show them.
#[tauri::command]
pub async fn attempts(shell: State<'_, Shell>, enrolment: EnrolmentId) -> Res<Vec<Attempt>> {
    shell.actor().await?;
    Ok(shell
        .db
        .call(move |s| assessments::current_attempts(s.conn(), enrolment))
        .await?)
}

/// Records an attempt (a draft until locked).
#[tauri::command]
pub async fn record_attempt(shell: State<'_, Shell>, new: NewAttempt) -> Res<Attempt> {
    let actor = shell.actor().await?;
    let a = shell
        .db
        .call(move |s| {
            let id = assessments::record(s, &actor, &new)?;
            assessments::attempt(s.conn(), id)
        })
        .await?;
    shell.changes.touched("assessments");
    Ok(a)
}

/// Changes a draft (unlocked) attempt's marks instead of recording another attempt.
#[tauri::command]
pub async fn update_draft_attempt(
    shell: State<'_, Shell>,
    id: AttemptId,
    marks: Marks,
) -> Res<Attempt> {
    let actor = shell.actor().await?;
    let a = shell
        .db
        .call(move |s| {
            assessments::update_draft(s, &actor, id, &marks)?;
            assessments::attempt(s.conn(), id)
        })
        .await?;
    shell.changes.touched("assessments");
    Ok(a)
}

/// Locks an attempt.
#[tauri::command]
pub async fn lock_attempt(shell: State<'_, Shell>, id: AttemptId) -> Res<()> {
    let actor = shell.actor().await?;
    shell
        .db
        .call(move |s| assessments::lock(s, &actor, id))
        .await?;
    shell.changes.touched("assessments");
    Ok(())
}

/// Corrects a locked attempt (site manager, checked in core).
#[tauri::command]
pub async fn correct_attempt(
    shell: State<'_, Shell>,
    id: AttemptId,
    marks: Marks,
    reason: Reason,
) -> Res<Attempt> {
    let actor = shell.actor().await?;
    let a = shell
        .db
        .call(move |s| {
            let id = assessments::correct(s, &actor, id, &marks, &reason)?;
            assessments::attempt(s.conn(), id)
        })
        .await?;
    shell.changes.touched("assessments");
    Ok(a)
}
