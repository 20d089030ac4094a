//! Device settings (language, idle lock, folders) and signed updates.

use siteline_core::store::settings::{self, SiteSettings};
use tauri::{AppHandle, Runtime, State};

use super::{Res, hq_url};
use crate::error::{CommandError, ErrorKind};
use crate::state::Shell;
use crate::updates::{self, UpdateInfo};

/// The device's settings.
#[tauri::command]
pub async fn get_settings(shell: State<'_, Shell>) -> Res<SiteSettings> {
    Ok(shell.db.call(|s| settings::get(s.conn())).await?)
}

/// Saves the settings (site manager) and applies the idle lock at once.
#[tauri::command]
pub async fn save_settings(shell: State<'_, Shell>, new: SiteSettings) -> Res<SiteSettings> {
    let actor = shell.actor().await?;
    let saved = shell
        .db
        .call(move |s| settings::update(s, &actor, &new))
        .await?;
    shell.session().idle = std::time::Duration::from_secs(u64::from(saved.idle_minutes) * 60);
    Ok(saved)
}

/// Sets the language (anyone, also before signing in).
#[tauri::command]
pub async fn set_language(shell: State<'_, Shell>, language: String) -> Res<()> {
    Ok(shell
        .db
        .call(move |s| settings::set_language(s, &language))
        .await?)
}

/// Sets the idle lock time in minutes (site manager).
#[tauri::command]
pub async fn set_idle_lock(shell: State<'_, Shell>, minutes: u64) -> Res<()> {
    shell
        .actor()
        .await?
        .require_manager("change the idle lock")?;
    shell.session().idle = std::time::Duration::from_secs(minutes.clamp(1, 240) * 60);
    Ok(())
}

/// Asks HQ whether a newer Siteline is published; remembers it for `install_update`.
#[tauri::command]
pub async fn check_update<R: Runtime>(
    app: AppHandle<R>,
    shell: State<'_, Shell>,
) -> Res<Option<UpdateInfo>> {
    shell.actor().await?;
    let url = hq_url(&shell).await?;
    let found = updates::check(&app, &url).await?;
    let info = found.as_ref().map(updates::info);
    *shell.pending_update() = found;
    Ok(info)
}

/// Downloads the update found by `check_update`, verifies its signature, installs it and
/// restarts the app (site manager, when they choose).
#[tauri::command]
pub async fn install_update<R: Runtime>(app: AppHandle<R>, shell: State<'_, Shell>) -> Res<()> {
    shell.actor().await?.require_manager("install updates")?;
    let update = shell.pending_update().take().ok_or_else(|| {
        CommandError::new(
            ErrorKind::NotFound {
                what: "update".into(),
                id: String::new(),
            },
            "no update is waiting; check for updates first / 请先检查更新",
        )
    })?;
    let bytes = updates::download(&update).await?;
    updates::install(&update, &bytes)?;
    app.restart();
}

/// Restarts the app (after the site's time zone changed: the process takes it at start).
#[tauri::command]
pub async fn restart_app<R: Runtime>(app: AppHandle<R>, shell: State<'_, Shell>) -> Res<()> {
    shell.actor().await?.require_manager("restart the app")?;
    app.restart();
}
