//! Tauri commands: each takes state, calls `siteline-core`, maps the error. Nothing else.
//! Roles are checked in core (an `Actor` comes only from the database).

use chrono::{DateTime, Utc};
use serde::Serialize;
use siteline_core::store::assessments::{self, Attempt, Marks, NewAttempt};
use siteline_core::store::attendance::{self, Mark, RollLine};
use siteline_core::store::catalogue::{self, ProgrammeSummary, RubricForm};
use siteline_core::store::cohorts::{
    self, Cohort, CohortStatus, DaySession, NewCohort, NewSession, Session,
};
use siteline_core::store::corrections::Reason;
use siteline_core::store::hq::{self, LearnerCredits};
use siteline_core::store::learners::{self, IdCheck, IdType, LearnerSummary, NewLearner};
use siteline_core::store::progress::{self, CohortProgress, EnrolmentProgress, SiteOverview};
use siteline_core::store::staff::{self, NewStaff, StaffSummary};
use siteline_core::sync::engine;
use siteline_core::sync::status::{self, SyncStatus};
use siteline_core::{Actor, testing};
use siteline_domain::ids::{AttemptId, CohortId, EnrolmentId, LearnerId, SessionId};
use tauri::State;

use crate::error::CommandError;
use crate::state::Shell;

type Res<T> = Result<T, CommandError>;

/// Who is signed in, as the UI shows it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Me {
    /// Account.
    pub actor: Actor,
    /// Display name.
    pub name: String,
}

/// What the shell needs to know to choose a screen.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct AppStatus {
    /// No account exists yet.
    pub first_run: bool,
    /// The signed-in user, if any.
    pub me: Option<Me>,
}

fn signed_in(shell: &Shell, actor: Actor, name: String) -> Me {
    let mut s = shell.session();
    s.actor = Some(actor);
    s.name = name.clone();
    s.last = std::time::Instant::now();
    Me { actor, name }
}

/// First run or signed in?
#[tauri::command]
pub async fn app_status(shell: State<'_, Shell>) -> Res<AppStatus> {
    let first_run = shell.db.call(|s| staff::is_first_run(s.conn())).await?;
    let me = shell.actor().ok().map(|actor| Me {
        actor,
        name: shell.session().name.clone(),
    });
    Ok(AppStatus { first_run, me })
}

/// Creates the first site manager and signs them in.
#[tauri::command]
pub async fn create_first_manager(shell: State<'_, Shell>, new: NewStaff) -> Res<Me> {
    let name = new.display_name.trim().to_string();
    let actor = shell
        .db
        .call(move |s| staff::create_first_manager(s, &new))
        .await?;
    shell.changes.touched("staff");
    Ok(signed_in(&shell, actor, name))
}

/// Signs in with a local account.
#[tauri::command]
pub async fn sign_in(shell: State<'_, Shell>, username: String, password: String) -> Res<Me> {
    let (actor, name) = shell
        .db
        .call(move |s| {
            let a = staff::sign_in(s.conn(), &username, &password)?;
            Ok((a, staff::display_name(s.conn(), a.id)?))
        })
        .await?;
    Ok(signed_in(&shell, actor, name))
}

/// Signs out (also what the idle lock does).
#[tauri::command]
pub fn sign_out(shell: State<'_, Shell>) {
    shell.session().actor = None;
}

/// Sets the idle lock time in minutes (site manager).
#[tauri::command]
pub fn set_idle_lock(shell: State<'_, Shell>, minutes: u64) -> Res<()> {
    shell.actor()?.require_manager("change the idle lock")?;
    shell.session().idle = std::time::Duration::from_secs(minutes.clamp(1, 240) * 60);
    Ok(())
}

/// Adds a staff account (site manager only, checked in core).
#[tauri::command]
pub async fn create_staff(shell: State<'_, Shell>, new: NewStaff) -> Res<StaffSummary> {
    let actor = shell.actor()?;
    let created = shell
        .db
        .call(move |s| {
            let a = staff::create_staff(s, &actor, &new)?;
            staff::list(s.conn())?
                .into_iter()
                .find(|x| x.id == a.id)
                .ok_or_else(|| siteline_core::Error::not_found("staff", a.id))
        })
        .await?;
    shell.changes.touched("staff");
    Ok(created)
}

/// Every account.
#[tauri::command]
pub async fn list_staff(shell: State<'_, Shell>) -> Res<Vec<StaffSummary>> {
    shell.actor()?;
    Ok(shell.db.call(|s| staff::list(s.conn())).await?)
}

/// Counts and catalogue for the start screen.
#[tauri::command]
pub async fn site_overview(shell: State<'_, Shell>) -> Res<SiteOverview> {
    Ok(shell.db.call(|s| progress::site_overview(s.conn())).await?)
}

/// Learner search by name, ID tail or phone tail.
#[tauri::command]
pub async fn search_learners(shell: State<'_, Shell>, query: String) -> Res<Vec<LearnerSummary>> {
    shell.actor()?;
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
    shell.actor()?;
    Ok(shell
        .db
        .call(move |s| learners::check_id_number(s, id_type, &number))
        .await?)
}

/// Registers a learner with consents.
#[tauri::command]
pub async fn register_learner(shell: State<'_, Shell>, new: NewLearner) -> Res<LearnerSummary> {
    let actor = shell.actor()?;
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
    shell.actor()?;
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
    let actor = shell.actor()?;
    Ok(shell
        .db
        .call(move |s| learners::unmask(s, &actor, id))
        .await?)
}

/// The catalogue's programme versions.
#[tauri::command]
pub async fn programme_versions(shell: State<'_, Shell>) -> Res<Vec<ProgrammeSummary>> {
    Ok(shell
        .db
        .call(|s| catalogue::programme_versions(s.conn()))
        .await?)
}

/// A programme version's practical rubric and its pass mark.
#[tauri::command]
pub async fn rubric(shell: State<'_, Shell>, programme_version_id: String) -> Res<RubricForm> {
    Ok(shell
        .db
        .call(move |s| catalogue::rubric_form(s.conn(), &programme_version_id))
        .await?)
}

/// Every cohort.
#[tauri::command]
pub async fn list_cohorts(shell: State<'_, Shell>) -> Res<Vec<Cohort>> {
    shell.actor()?;
    Ok(shell.db.call(|s| cohorts::list(s.conn())).await?)
}

/// Opens a cohort (site manager).
#[tauri::command]
pub async fn create_cohort(shell: State<'_, Shell>, new: NewCohort) -> Res<Cohort> {
    let actor = shell.actor()?;
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
    let actor = shell.actor()?;
    shell
        .db
        .call(move |s| cohorts::set_status(s, &actor, cohort, status))
        .await?;
    shell.changes.touched("cohorts");
    Ok(())
}

/// Enrols a learner in a cohort.
#[tauri::command]
pub async fn enrol_learner(
    shell: State<'_, Shell>,
    cohort: CohortId,
    learner: LearnerId,
) -> Res<EnrolmentId> {
    let actor = shell.actor()?;
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
    let actor = shell.actor()?;
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
    shell.actor()?;
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
    shell.actor()?;
    Ok(shell
        .db
        .call(move |s| cohorts::sessions_between(s.conn(), from, to))
        .await?)
}

/// The roll for a session.
#[tauri::command]
pub async fn roll(shell: State<'_, Shell>, session: SessionId) -> Res<Vec<RollLine>> {
    shell.actor()?;
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
    let actor = shell.actor()?;
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
    let actor = shell.actor()?;
    shell
        .db
        .call(move |s| attendance::close_session(s, &actor, session))
        .await?;
    shell.changes.touched("sessions");
    Ok(())
}

/// A cohort's progress table.
#[tauri::command]
pub async fn cohort_progress(shell: State<'_, Shell>, cohort: CohortId) -> Res<CohortProgress> {
    shell.actor()?;
    Ok(shell
        .db
        .call(move |s| progress::cohort_progress(s.conn(), cohort))
        .await?)
}

/// An enrolment's attempts as views show them.
#[tauri::command]
pub async fn attempts(shell: State<'_, Shell>, enrolment: EnrolmentId) -> Res<Vec<Attempt>> {
    shell.actor()?;
    Ok(shell
        .db
        .call(move |s| assessments::current_attempts(s.conn(), enrolment))
        .await?)
}

/// Records an attempt (a draft until locked).
#[tauri::command]
pub async fn record_attempt(shell: State<'_, Shell>, new: NewAttempt) -> Res<Attempt> {
    let actor = shell.actor()?;
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

/// Locks an attempt.
#[tauri::command]
pub async fn lock_attempt(shell: State<'_, Shell>, id: AttemptId) -> Res<()> {
    let actor = shell.actor()?;
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
    let actor = shell.actor()?;
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

/// Sync status for the badge and sync centre.
#[tauri::command]
pub async fn sync_status(shell: State<'_, Shell>) -> Res<SyncStatus> {
    let running = shell.sync().as_ref().is_some_and(|s| s.handle.is_running());
    Ok(shell.db.call(move |s| status::status(s, running)).await?)
}

/// Enrols this device with HQ and starts background sync (site manager).
#[tauri::command]
pub async fn enrol_device(shell: State<'_, Shell>, hq_url: String, code: String) -> Res<String> {
    shell.actor()?.require_manager("enrol this device")?;
    let engine = crate::sync_engine(&shell, &hq_url).await?;
    let answer = engine::enrol(
        engine.db(),
        engine.client(),
        &hq_url,
        &code,
        "Siteline desktop",
    )
    .await?;
    crate::start_sync(&shell, engine);
    shell.changes.touched("sync");
    Ok(answer.site_name)
}

/// Asks for a sync pass now.
#[tauri::command]
pub fn sync_now(shell: State<'_, Shell>) -> Res<()> {
    shell.actor()?;
    match shell.sync().as_ref() {
        Some(s) => {
            s.handle.sync_now();
            Ok(())
        }
        None => Err(siteline_core::Error::NotEnrolled.into()),
    }
}

/// Fills a new site with a finished cohort of 12 to review and a running cohort of 40 with
/// today's session (site manager); returns the running cohort.
#[tauri::command]
pub async fn load_demo(shell: State<'_, Shell>, today_start: DateTime<Utc>) -> Res<CohortId> {
    let actor = shell.actor()?;
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
            testing::demo_completed(s, &actor, &instructor, today_start)?;
            testing::demo(s, &actor, &instructor, today_start)
        })
        .await?;
    shell.changes.touched("learners");
    shell.changes.touched("cohorts");
    Ok(c)
}
