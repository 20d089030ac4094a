//! Commands for the site manager's side (issue 6): the review, reports, outcome claims, the
//! sync centre, backups, signed updates, settings and accounts. Thin like `commands`: state in,
//! `siteline-core` call, error mapped.

use std::path::PathBuf;

use serde::Serialize;
use siteline_core::store::backup::{self, BackupCheck, BackupFile, BackupKind, Restored};
use siteline_core::store::progress::{self, ReviewFilter, SiteReview};
use siteline_core::store::reports::{self, ReportFormat};
use siteline_core::store::settings::{self, SiteSettings};
use siteline_core::store::{claims, staff};
use siteline_core::sync::status::{self, QuarantinedRecord};
use siteline_core::sync::{bundle, engine};
use siteline_domain::ids::{CohortId, StaffId};
use tauri::{AppHandle, Manager, Runtime, State};

use crate::error::CommandError;
use crate::state::Shell;
use crate::updates::{self, UpdateInfo};

type Res<T> = Result<T, CommandError>;

/// The site manager's review: cohorts, attendance by week and pass rates, filtered.
#[tauri::command]
pub async fn site_review(shell: State<'_, Shell>, filter: ReviewFilter) -> Res<SiteReview> {
    shell.actor()?;
    Ok(shell
        .db
        .call(move |s| progress::site_review(s.conn(), &filter))
        .await?)
}

/// Where reports go unless the manager picks another folder: Documents/Siteline.
#[tauri::command]
pub fn default_export_dir<R: Runtime>(app: AppHandle<R>, shell: State<'_, Shell>) -> String {
    app.path()
        .document_dir()
        .map(|d| d.join("Siteline"))
        .unwrap_or_else(|_| shell.data_dir().join("exports"))
        .display()
        .to_string()
}

fn folder(dir: &str, what: &str) -> Res<PathBuf> {
    let dir = dir.trim();
    let path = PathBuf::from(dir);
    if dir.is_empty() || !path.is_absolute() {
        return Err(CommandError::new(
            "invalid",
            format!(
                "{what}: give a full folder path, e.g. /home/site/Documents / 请填写完整的文件夹路径"
            ),
        ));
    }
    Ok(path)
}

/// Writes a cohort's report (site manager) and returns the file's path.
#[tauri::command]
pub async fn export_cohort(
    shell: State<'_, Shell>,
    cohort: CohortId,
    format: ReportFormat,
    dir: String,
) -> Res<String> {
    shell.actor()?.require_manager("export reports")?;
    let dir = folder(&dir, "export folder")?;
    Ok(shell
        .db
        .call(move |s| reports::export(s.conn(), cohort, format, &dir))
        .await?
        .display()
        .to_string())
}

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
    let actor = shell.actor()?;
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

/// Records HQ quarantined, with its reasons.
#[tauri::command]
pub async fn quarantined_records(shell: State<'_, Shell>) -> Res<Vec<QuarantinedRecord>> {
    shell.actor()?;
    Ok(shell.db.call(|s| status::quarantined(s)).await?)
}

/// Changes the HQ address of an enrolled device and restarts sync on it (site manager).
#[tauri::command]
pub async fn set_hq_url(shell: State<'_, Shell>, url: String) -> Res<()> {
    let actor = shell.actor()?;
    let url = shell
        .db
        .call(move |s| engine::set_hq_url(s, &actor, &url))
        .await?;
    let engine = crate::sync_engine(&shell, &url).await?;
    crate::start_sync(&shell, engine);
    shell.changes.touched("sync");
    Ok(())
}

/// Writes a signed sync bundle file into `dir` for a USB stick (site manager).
#[tauri::command]
pub async fn export_bundle(shell: State<'_, Shell>, dir: String) -> Res<String> {
    shell.actor()?.require_manager("export a sync bundle")?;
    let dir = folder(&dir, "bundle folder")?;
    let identity = shell.identity()?;
    Ok(shell
        .db
        .call(move |s| {
            let b = bundle::export(s, &identity)?;
            std::fs::create_dir_all(&dir).map_err(|source| siteline_core::Error::Io {
                path: dir.display().to_string(),
                source,
            })?;
            let code = engine::enrolment(s)?.map(|(_, code)| code);
            let name = format!(
                "siteline-bundle-{}-{}.json",
                code.as_deref().unwrap_or("site"),
                siteline_core::store::now().format("%Y%m%d-%H%M%S")
            );
            let path = dir.join(name);
            bundle::write_file(&path, &b)?;
            Ok(path.display().to_string())
        })
        .await?)
}

/// Imports HQ's answer file for a bundle (site manager).
#[tauri::command]
pub async fn import_bundle_answer(shell: State<'_, Shell>, path: String) -> Res<()> {
    shell.actor()?.require_manager("import a sync answer")?;
    shell
        .db
        .call(move |s| {
            let answer = bundle::read_answer(std::path::Path::new(path.trim()))?;
            bundle::import_answer(s, &answer)
        })
        .await?;
    shell.changes.touched("sync");
    Ok(())
}

fn backup_dir(shell: &Shell, settings: &SiteSettings) -> PathBuf {
    settings
        .backup_dir
        .as_ref()
        .map(PathBuf::from)
        .unwrap_or_else(|| backup::default_dir(&shell.db_path))
}

/// The backup folder in use and the backups in it, newest first.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Backups {
    /// The folder daily backups go to.
    pub dir: String,
    /// Backups in it.
    pub files: Vec<BackupFile>,
}

/// Lists the backup folder.
#[tauri::command]
pub async fn list_backups(shell: State<'_, Shell>) -> Res<Backups> {
    shell.actor()?;
    let s = shell.db.call(|s| settings::get(s.conn())).await?;
    let dir = backup_dir(&shell, &s);
    Ok(Backups {
        files: backup::list(&dir)?,
        dir: dir.display().to_string(),
    })
}

/// Backs up now into `dir`, or the backup folder (site manager).
#[tauri::command]
pub async fn back_up_now(shell: State<'_, Shell>, dir: Option<String>) -> Res<BackupFile> {
    shell.actor()?.require_manager("back up")?;
    let s = shell.db.call(|s| settings::get(s.conn())).await?;
    let dir = match dir.filter(|d| !d.trim().is_empty()) {
        Some(d) => folder(&d, "backup folder")?,
        None => backup_dir(&shell, &s),
    };
    Ok(shell
        .db
        .call(move |s| backup::back_up(s.conn(), &dir, BackupKind::Manual))
        .await?)
}

/// Checks a backup file before restoring it (site manager).
#[tauri::command]
pub async fn check_backup(shell: State<'_, Shell>, path: String) -> Res<BackupCheck> {
    shell.actor()?.require_manager("restore a backup")?;
    Ok(shell
        .db
        .call(move |s| backup::check(s, std::path::Path::new(path.trim())))
        .await?)
}

/// Restores a backup (site manager): a safety copy first, then a new device epoch.
#[tauri::command]
pub async fn restore_backup(shell: State<'_, Shell>, path: String) -> Res<Restored> {
    let actor = shell.actor()?;
    let s = shell.db.call(|s| settings::get(s.conn())).await?;
    let safety = backup_dir(&shell, &s);
    let restored = shell
        .db
        .call(move |s| backup::restore(s, &actor, std::path::Path::new(path.trim()), &safety))
        .await?;
    for what in [
        "learners",
        "cohorts",
        "sessions",
        "attendance",
        "assessments",
        "staff",
        "sync",
    ] {
        shell.changes.touched(what);
    }
    Ok(restored)
}

/// Takes the daily backup if one is due (run at start and every hour), on a read-only
/// connection of its own so the app's writer is not held up.
pub async fn daily_backup(shell: &Shell) -> Res<Option<BackupFile>> {
    let s = shell.db.call(|s| settings::get(s.conn())).await?;
    let dir = backup_dir(shell, &s);
    let path = shell.db_path.clone();
    tokio::task::spawn_blocking(move || backup::daily_of_file(&path, &dir, s.backup_keep_days))
        .await
        .map_err(|e| CommandError::new("internal", e.to_string()))?
        .map_err(Into::into)
}

/// The device's settings.
#[tauri::command]
pub async fn get_settings(shell: State<'_, Shell>) -> Res<SiteSettings> {
    Ok(shell.db.call(|s| settings::get(s.conn())).await?)
}

/// Saves the settings (site manager) and applies the idle lock at once.
#[tauri::command]
pub async fn save_settings(shell: State<'_, Shell>, new: SiteSettings) -> Res<SiteSettings> {
    let actor = shell.actor()?;
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

/// Enables or disables an account (site manager).
#[tauri::command]
pub async fn set_staff_active(shell: State<'_, Shell>, id: StaffId, active: bool) -> Res<()> {
    let actor = shell.actor()?;
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
    let actor = shell.actor()?;
    shell
        .db
        .call(move |s| staff::reset_password(s, &actor, id, &password))
        .await?;
    Ok(())
}

async fn hq_url(shell: &Shell) -> Res<String> {
    shell
        .db
        .call(|s| engine::enrolment(s))
        .await?
        .map(|(url, _)| url)
        .ok_or_else(|| siteline_core::Error::NotEnrolled.into())
}

/// Asks HQ whether a newer Siteline is published; remembers it for `install_update`.
#[tauri::command]
pub async fn check_update<R: Runtime>(
    app: AppHandle<R>,
    shell: State<'_, Shell>,
) -> Res<Option<UpdateInfo>> {
    shell.actor()?;
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
    shell.actor()?.require_manager("install updates")?;
    let update = shell.pending_update().take().ok_or_else(|| {
        CommandError::new(
            "not_found",
            "no update is waiting; check for updates first / 请先检查更新",
        )
    })?;
    let bytes = updates::download(&update).await?;
    updates::install(&update, &bytes)?;
    app.restart();
}
