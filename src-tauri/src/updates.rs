//! Signed updates from HQ: the credit bank the device syncs with serves the update manifest
//! and files; `tauri-plugin-updater` checks the minisign signature against the project's
//! public key (`plugins.updater.pubkey` in tauri.conf.json) before anything is installed.

use serde::Serialize;
use tauri::{AppHandle, Runtime, Url};
use tauri_plugin_updater::{Update, UpdaterExt};

use crate::error::{CommandError, ErrorKind};

/// What the settings screen shows about an available update.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct UpdateInfo {
    /// The version on offer.
    pub version: String,
    /// The version running.
    pub current_version: String,
    /// HQ's release notes.
    pub notes: Option<String>,
    /// When HQ published it.
    pub date: Option<String>,
}

/// The update endpoint on an HQ address, with the updater's placeholders.
pub fn endpoint(hq_url: &str) -> Result<Url, CommandError> {
    let url = format!(
        "{}/v1/updates/{{{{target}}}}/{{{{arch}}}}/{{{{current_version}}}}",
        hq_url.trim().trim_end_matches('/')
    );
    Url::parse(&url).map_err(|e| {
        CommandError::new(
            ErrorKind::Invalid {
                field: "sync.hq_url".into(),
                rule: None,
            },
            format!("the HQ address {hq_url} is not a web address ({e}); check it in settings / HQ 地址格式不正确"),
        )
    })
}

fn failed(e: tauri_plugin_updater::Error) -> CommandError {
    CommandError::new(
        ErrorKind::Update,
        format!("the update could not be checked or installed: {e} / 更新检查或安装失败"),
    )
}

/// Asks HQ for a newer version; `None` when this one is current.
pub async fn check<R: Runtime>(
    app: &AppHandle<R>,
    hq_url: &str,
) -> Result<Option<Update>, CommandError> {
    let updater = app
        .updater_builder()
        .endpoints(vec![endpoint(hq_url)?])
        .map_err(failed)?
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .map_err(failed)?;
    updater.check().await.map_err(failed)
}

/// Downloads the update and checks its signature; the bytes are returned only if it verifies.
pub async fn download(update: &Update) -> Result<Vec<u8>, CommandError> {
    update.download(|_, _| {}, || {}).await.map_err(failed)
}

/// Installs verified bytes (the `.deb` on Linux).
pub fn install(update: &Update, bytes: &[u8]) -> Result<(), CommandError> {
    update.install(bytes).map_err(failed)
}

/// The summary for the UI.
pub fn info(update: &Update) -> UpdateInfo {
    UpdateInfo {
        version: update.version.clone(),
        current_version: update.current_version.clone(),
        notes: update.body.clone(),
        date: update.date.map(|d| d.to_string()),
    }
}
