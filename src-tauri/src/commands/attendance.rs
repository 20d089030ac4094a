//! Roll call: a session's roll, marks, closing a session.

use serde::Serialize;
use siteline_core::store::attendance::{self, Mark, RollLine};
use siteline_core::store::cohorts::{self, Cohort, Session};
use siteline_core::store::corrections::Reason;
use siteline_domain::ids::{LearnerId, SessionId};
use tauri::State;

use super::Res;
use crate::state::Shell;

/// The roll for a session.
#[tauri::command]
pub async fn roll(shell: State<'_, Shell>, session: SessionId) -> Res<Vec<RollLine>> {
    shell.actor().await?;
    Ok(shell
        .db
        .call(move |s| attendance::roll(s.conn(), session))
        .await?)
}

/// Corrects a learner's mark in a closed session (site manager, with a reason); returns the
/// learner's new line.
#[tauri::command]
pub async fn correct_attendance(
    shell: State<'_, Shell>,
    session: SessionId,
    learner: LearnerId,
    mark: Mark,
    reason: Reason,
) -> Res<RollLine> {
    let actor = shell.actor().await?;
    let line = shell
        .db
        .call(move |s| {
            attendance::correct(s, &actor, session, learner, mark, &reason)?;
            attendance::roll_line(s.conn(), session, learner)
        })
        .await?;
    shell.changes.touched("attendance");
    Ok(line)
}

/// What heads a roll call: the session (its times, and whether it is closed) and its cohort.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct RollHeader {
    /// The session.
    pub session: Session,
    /// Its cohort.
    pub cohort: Cohort,
}

/// The session and cohort a roll call is for.
#[tauri::command]
pub async fn roll_header(shell: State<'_, Shell>, session: SessionId) -> Res<RollHeader> {
    shell.actor().await?;
    Ok(shell
        .db
        .call(move |s| {
            let session = cohorts::session(s.conn(), session)?;
            let cohort = cohorts::get(s.conn(), session.cohort_id)?;
            Ok(RollHeader { session, cohort })
        })
        .await?)
}

/// One mark, saved at once; returns the learner's new line.
#[tauri::command]
pub async fn mark(
    shell: State<'_, Shell>,
    session: SessionId,
    learner: LearnerId,
    mark: Mark,
) -> Res<RollLine> {
    let actor = shell.actor().await?;
    let line = shell
        .db
        .call(move |s| {
            attendance::mark(s, &actor, session, learner, mark)?;
            attendance::roll_line(s.conn(), session, learner)
        })
        .await?;
    shell.changes.touched("attendance");
    Ok(line)
}

/// Closes a session (its lock point).
#[tauri::command]
pub async fn close_session(shell: State<'_, Shell>, session: SessionId) -> Res<()> {
    let actor = shell.actor().await?;
    shell
        .db
        .call(move |s| attendance::close_session(s, &actor, session))
        .await?;
    shell.changes.touched("sessions");
    Ok(())
}
