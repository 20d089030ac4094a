//! Sync with the credit bank: status, device enrolment, sync now, quarantined records, the HQ
//! address, bundle files.

use siteline_core::sync::status::{self, QuarantinedRecord, SyncStatus};
use siteline_core::sync::{bundle, engine};
use tauri::State;

use super::{Res, folder};
use crate::state::Shell;

/// Sync status for the badge and sync centre.
#[tauri::command]
pub async fn sync_status(shell: State<'_, Shell>) -> Res<SyncStatus> {
    // Polled every few seconds: checked without keeping an idle session alive.
    shell.signed_in_quietly()?;
    let running = shell.sync().as_ref().is_some_and(|s| s.handle.is_running());
    Ok(shell.db.call(move |s| status::status(s, running)).await?)
}

/// Enrols this device with HQ and starts background sync (site manager).
#[tauri::command]
pub async fn enrol_device(shell: State<'_, Shell>, hq_url: String, code: String) -> Res<String> {
    shell.actor().await?.require_manager("enrol this device")?;
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
    crate::lan::start(&shell).await;
    shell.changes.touched("sync");
    Ok(answer.site_name)
}

/// Asks for a sync pass now.
#[tauri::command]
pub async fn sync_now(shell: State<'_, Shell>) -> Res<()> {
    shell.actor().await?;
    match shell.sync().as_ref() {
        Some(s) => {
            s.handle.sync_now();
            Ok(())
        }
        None => Err(siteline_core::Error::NotEnrolled.into()),
    }
}

/// Records HQ quarantined, with its reasons.
#[tauri::command]
pub async fn quarantined_records(shell: State<'_, Shell>) -> Res<Vec<QuarantinedRecord>> {
    shell.actor().await?;
    Ok(shell.db.call(|s| status::quarantined(s)).await?)
}

/// Changes the HQ address of an enrolled device and restarts sync on it (site manager).
#[tauri::command]
pub async fn set_hq_url(shell: State<'_, Shell>, url: String) -> Res<()> {
    let actor = shell.actor().await?;
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
    shell
        .actor()
        .await?
        .require_manager("export a sync bundle")?;
    let dir = folder(&dir, "bundle.dir")?;
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
    shell
        .actor()
        .await?
        .require_manager("import a sync answer")?;
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
