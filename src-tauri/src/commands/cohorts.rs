//! Cohorts and their sessions, the catalogue's programme versions, and the demo data.

use chrono::{DateTime, Utc};
use siteline_core::demo;
use siteline_core::store::catalogue::{self, ProgrammeSummary};
use siteline_core::store::cohorts::{
    self, Cohort, CohortStatus, DaySession, NewCohort, NewSession, Session,
};
use siteline_core::store::corrections::{self, CorrectionLine, Reason};
use siteline_core::store::edits::{self, CohortEdit, FieldChange};
use siteline_core::store::staff;
use siteline_domain::ids::{CohortId, EnrolmentId, LearnerId};
use tauri::State;

use super::Res;
use crate::state::Shell;

/// The catalogue's programme versions.
#[tauri::command]
pub async fn programme_versions(shell: State<'_, Shell>) -> Res<Vec<ProgrammeSummary>> {
    shell.actor().await?;
    Ok(shell
        .db
        .call(|s| catalogue::programme_versions(s.conn()))
        .await?)
}

/// Every cohort.
#[tauri::command]
pub async fn list_cohorts(shell: State<'_, Shell>) -> Res<Vec<Cohort>> {
    shell.actor().await?;
    Ok(shell.db.call(|s| cohorts::list(s.conn())).await?)
}

/// Opens a cohort (site manager).
#[tauri::command]
pub async fn create_cohort(shell: State<'_, Shell>, new: NewCohort) -> Res<Cohort> {
    let actor = shell.actor().await?;
    let c = shell
        .db
        .call(move |s| {
            let id = cohorts::create(s, &actor, &new)?;
            cohorts::get(s.conn(), id)
        })
        .await?;
    shell.changes.touched("cohorts");
    Ok(c)
}

/// Moves a cohort's status forward (site manager).
#[tauri::command]
pub async fn set_cohort_status(
    shell: State<'_, Shell>,
    cohort: CohortId,
    status: CohortStatus,
) -> Res<()> {
    let actor = shell.actor().await?;
    shell
        .db
        .call(move |s| cohorts::set_status(s, &actor, cohort, status))
        .await?;
    shell.changes.touched("cohorts");
    Ok(())
}

/// Reopens a closed cohort (site manager), with the reason every device will see.
#[tauri::command]
pub async fn reopen_cohort(shell: State<'_, Shell>, cohort: CohortId, reason: Reason) -> Res<()> {
    let actor = shell.actor().await?;
    shell
        .db
        .call(move |s| cohorts::reopen(s, &actor, cohort, &reason))
        .await?;
    shell.changes.touched("cohorts");
    Ok(())
}

/// The corrections naming a cohort (reopenings), oldest first.
#[tauri::command]
pub async fn cohort_history(shell: State<'_, Shell>, cohort: CohortId) -> Res<Vec<CorrectionLine>> {
    shell.actor().await?;
    Ok(shell
        .db
        .call(move |s| corrections::of(s.conn(), cohort.0))
        .await?)
}

/// Corrects a cohort's name, dates or capacity (site manager), on the version the form was
/// opened on.
#[tauri::command]
pub async fn edit_cohort(shell: State<'_, Shell>, cohort: CohortId, edit: CohortEdit) -> Res<()> {
    let actor = shell.actor().await?;
    shell
        .db
        .call(move |s| edits::edit_cohort(s, &actor, cohort, &edit))
        .await?;
    shell.changes.touched("cohorts");
    Ok(())
}

/// Every correction of a cohort's details, latest first.
#[tauri::command]
pub async fn cohort_changes(shell: State<'_, Shell>, cohort: CohortId) -> Res<Vec<FieldChange>> {
    shell.actor().await?;
    Ok(shell
        .db
        .call(move |s| edits::history(s.conn(), cohort.0))
        .await?)
}

/// Enrols a learner in a cohort.
#[tauri::command]
pub async fn enrol_learner(
    shell: State<'_, Shell>,
    cohort: CohortId,
    learner: LearnerId,
) -> Res<EnrolmentId> {
    let actor = shell.actor().await?;
    let e = shell
        .db
        .call(move |s| cohorts::enrol(s, &actor, cohort, learner))
        .await?;
    shell.changes.touched("cohorts");
    Ok(e)
}

/// Schedules a session.
#[tauri::command]
pub async fn schedule_session(
    shell: State<'_, Shell>,
    cohort: CohortId,
    new: NewSession,
) -> Res<Session> {
    let actor = shell.actor().await?;
    let s = shell
        .db
        .call(move |s| {
            let id = cohorts::schedule_session(s, &actor, cohort, &new)?;
            cohorts::session(s.conn(), id)
        })
        .await?;
    shell.changes.touched("sessions");
    Ok(s)
}

/// A cohort's sessions.
#[tauri::command]
pub async fn cohort_sessions(shell: State<'_, Shell>, cohort: CohortId) -> Res<Vec<Session>> {
    shell.actor().await?;
    Ok(shell
        .db
        .call(move |s| cohorts::sessions(s.conn(), cohort))
        .await?)
}

/// Sessions starting between two instants (the UI passes the local day's bounds).
#[tauri::command]
pub async fn sessions_between(
    shell: State<'_, Shell>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Res<Vec<DaySession>> {
    shell.actor().await?;
    Ok(shell
        .db
        .call(move |s| cohorts::sessions_between(s.conn(), from, to))
        .await?)
}

/// Fills a new site with a finished cohort of 12 to review and a running cohort of 40 with
/// today's session (site manager); returns the running cohort.
#[tauri::command]
pub async fn load_demo(shell: State<'_, Shell>, today_start: DateTime<Utc>) -> Res<CohortId> {
    let actor = shell.actor().await?;
    actor.require_manager("load demo data")?;
    let c = shell
        .db
        .call(move |s| {
            let instructor = staff::list(s.conn())?
                .into_iter()
                .find(|x| x.role == siteline_core::Role::Instructor && x.active)
                .map(|x| staff::actor(s.conn(), x.id))
                .transpose()?
                .unwrap_or(actor);
            demo::seed_finished_cohort(s, &actor, &instructor, today_start)?;
            demo::seed_first_look(s, &actor, &instructor, today_start)
        })
        .await?;
    shell.changes.touched("learners");
    shell.changes.touched("cohorts");
    Ok(c)
}
