//! Backups: the folder, listing, backing up now, checking and restoring, the daily backup.

use serde::Serialize;
use siteline_core::store::backup::{self, BackupCheck, BackupFile, BackupKind, Restored};
use siteline_core::store::settings::{self, SiteSettings};
use std::path::PathBuf;
use tauri::State;

use super::{Res, folder};
use crate::error::{CommandError, ErrorKind};
use crate::state::Shell;

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
    shell.actor().await?;
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
    shell.actor().await?.require_manager("back up")?;
    let s = shell.db.call(|s| settings::get(s.conn())).await?;
    let dir = match dir.filter(|d| !d.trim().is_empty()) {
        Some(d) => folder(&d, "backup.dir")?,
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
    shell.actor().await?.require_manager("restore a backup")?;
    Ok(shell
        .db
        .call(move |s| backup::check(s, std::path::Path::new(path.trim())))
        .await?)
}

/// Restores a backup (site manager): a safety copy first, then a new device epoch.
#[tauri::command]
pub async fn restore_backup(shell: State<'_, Shell>, path: String) -> Res<Restored> {
    let actor = shell.actor().await?;
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
        .map_err(|e| CommandError::new(ErrorKind::Internal, e.to_string()))?
        .map_err(Into::into)
}
