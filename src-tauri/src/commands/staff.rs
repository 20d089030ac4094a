//! Staff accounts and the signed-in session: first run, sign in and out, accounts.

use serde::Serialize;
use siteline_core::Actor;
use siteline_core::store::staff::{self, NewStaff, StaffSummary};
use siteline_domain::ids::StaffId;
use tauri::State;

use super::Res;
use crate::state::Shell;

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

pub(super) fn signed_in(shell: &Shell, actor: Actor, name: String, stamp: String) -> Me {
    let mut s = shell.session();
    s.actor = Some(actor);
    s.stamp = stamp;
    s.name = name.clone();
    s.last = std::time::Instant::now();
    Me { actor, name }
}

/// First run or signed in?
#[tauri::command]
pub async fn app_status(shell: State<'_, Shell>) -> Res<AppStatus> {
    let first_run = shell.db.call(|s| staff::is_first_run(s.conn())).await?;
    let me = shell.actor().await.ok().map(|actor| Me {
        actor,
        name: shell.session().name.clone(),
    });
    Ok(AppStatus { first_run, me })
}

/// Creates the first site manager and signs them in.
#[tauri::command]
pub async fn create_first_manager(shell: State<'_, Shell>, new: NewStaff) -> Res<Me> {
    let name = new.display_name.trim().to_string();
    let (actor, stamp) = shell
        .db
        .call(move |s| {
            let a = staff::create_first_manager(s, &new)?;
            Ok((a, staff::session_stamp(s.conn(), a.id)?.unwrap_or_default()))
        })
        .await?;
    shell.changes.touched("staff");
    Ok(signed_in(&shell, actor, name, stamp))
}

/// Signs in with a local account.
#[tauri::command]
pub async fn sign_in(shell: State<'_, Shell>, username: String, password: String) -> Res<Me> {
    let (actor, name, stamp) = shell
        .db
        .call(move |s| {
            let a = staff::sign_in(s.conn(), &username, &password)?;
            let stamp = staff::session_stamp(s.conn(), a.id)?.unwrap_or_default();
            Ok((a, staff::display_name(s.conn(), a.id)?, stamp))
        })
        .await?;
    Ok(signed_in(&shell, actor, name, stamp))
}

/// Signs out (also what the idle lock does).
#[tauri::command]
pub fn sign_out(shell: State<'_, Shell>) {
    shell.session().actor = None;
}

/// Adds a staff account (site manager only, checked in core).
#[tauri::command]
pub async fn create_staff(shell: State<'_, Shell>, new: NewStaff) -> Res<StaffSummary> {
    let actor = shell.actor().await?;
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
    shell.actor().await?;
    Ok(shell.db.call(|s| staff::list(s.conn())).await?)
}

/// Enables or disables an account (site manager).
#[tauri::command]
pub async fn set_staff_active(shell: State<'_, Shell>, id: StaffId, active: bool) -> Res<()> {
    let actor = shell.actor().await?;
    shell
        .db
        .call(move |s| staff::set_active(s, &actor, id, active))
        .await?;
    shell.changes.touched("staff");
    Ok(())
}

/// Sets a new password for an account (site manager).
#[tauri::command]
pub async fn reset_staff_password(
    shell: State<'_, Shell>,
    id: StaffId,
    password: String,
) -> Res<()> {
    let actor = shell.actor().await?;
    shell
        .db
        .call(move |s| staff::reset_password(s, &actor, id, &password))
        .await?;
    Ok(())
}
