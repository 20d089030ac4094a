//! Roll call: a session's roll, marks, closing a session.

use siteline_core::store::attendance::{self, Mark, RollLine};
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
