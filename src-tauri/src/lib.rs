//! The Siteline desktop shell: opens the site database in the OS app-data folder (or the file
//! named by `SITELINE_DB`, which tests use) and exposes thin commands over `siteline-core`.

#[cfg(test)]
mod bindings;
pub mod commands;
pub mod error;
pub mod events;
pub mod lan;
pub mod state;
pub mod updates;
pub mod webview;

use std::path::PathBuf;
use std::sync::Arc;

use siteline_core::store::db::Db;
use siteline_core::sync::client::{ClientConfig, HqClient};
use siteline_core::sync::engine::{self, Engine};
use siteline_core::sync::worker::{self, WorkerConfig};
use tauri::Manager;

use crate::error::CommandError;
use crate::state::{Shell, Sync};

/// Where the site database lives.
fn database_path(app: &tauri::App) -> Result<PathBuf, Box<dyn std::error::Error>> {
    if let Some(path) = std::env::var_os("SITELINE_DB") {
        return Ok(PathBuf::from(path));
    }
    let dir = app.path().app_data_dir()?;
    // Owner-only: it holds the site key, the device key and the sealed personal data.
    siteline_domain::crypto::private_dir(&dir)?;
    Ok(dir.join("site.db"))
}

/// The site's time zone, read from its database before the app starts (the database path is
/// found as `database_path` finds it: `SITELINE_DB`, else the app's data folder, which Tauri
/// puts under the platform's data directory by the app's identifier).
pub fn site_time_zone() -> String {
    let path = match std::env::var_os("SITELINE_DB") {
        Some(path) => Some(PathBuf::from(path)),
        None => dirs::data_dir().map(|d| d.join(IDENTIFIER).join("site.db")),
    };
    path.map_or_else(
        || siteline_core::store::settings::DEFAULT_TIME_ZONE.to_string(),
        |p| siteline_core::store::settings::stored_time_zone(&p),
    )
}

/// The app's identifier (`tauri.conf.json`), which names its data folder.
const IDENTIFIER: &str = "cn.siteline.site";

/// Builds the sync engine for this device (its key lives beside the database).
pub async fn sync_engine(shell: &Shell, hq_url: &str) -> Result<Arc<Engine>, CommandError> {
    let identity = Arc::new(shell.identity()?);
    let device = shell
        .db
        .call(|s| Ok(siteline_core::store::outbox::device(s.conn())?.device_id))
        .await?;
    let client = HqClient::new(&ClientConfig::new(hq_url), device, identity)?;
    Ok(Engine::new(shell.db.clone(), client))
}

/// Starts (or restarts) the background sync task; call it inside the async runtime.
pub fn start_sync(shell: &Shell, engine: Arc<Engine>) {
    let handle = worker::spawn(engine, WorkerConfig::default());
    if let Some(old) = shell.sync().replace(Sync { handle }) {
        old.handle.stop();
    }
}

/// Every command, for the app and for the mock-runtime tests alike.
#[macro_export]
macro_rules! handlers {
    () => {
        tauri::generate_handler![
            $crate::commands::staff::app_status,
            $crate::commands::staff::create_first_manager,
            $crate::commands::staff::sign_in,
            $crate::commands::staff::sign_out,
            $crate::commands::settings::set_idle_lock,
            $crate::commands::staff::create_staff,
            $crate::commands::staff::list_staff,
            $crate::commands::progress::site_overview,
            $crate::commands::learners::search_learners,
            $crate::commands::learners::list_learners,
            $crate::commands::learners::check_id_number,
            $crate::commands::learners::register_learner,
            $crate::commands::learners::import_learners,
            $crate::commands::learners::save_import_template,
            $crate::commands::learners::learner_profile,
            $crate::commands::learners::certificate,
            $crate::commands::learners::export_credential,
            $crate::commands::learners::unmask_learner,
            $crate::commands::learners::record_consent,
            $crate::commands::learners::erase_learner,
            $crate::commands::learners::edit_learner,
            $crate::commands::cohorts::programme_versions,
            $crate::commands::assessments::rubric,
            $crate::commands::cohorts::list_cohorts,
            $crate::commands::cohorts::create_cohort,
            $crate::commands::cohorts::set_cohort_status,
            $crate::commands::cohorts::reopen_cohort,
            $crate::commands::cohorts::cohort_history,
            $crate::commands::cohorts::edit_cohort,
            $crate::commands::cohorts::cohort_changes,
            $crate::commands::cohorts::enrol_learner,
            $crate::commands::cohorts::schedule_session,
            $crate::commands::cohorts::cohort_sessions,
            $crate::commands::cohorts::sessions_between,
            $crate::commands::attendance::roll,
            $crate::commands::attendance::roll_header,
            $crate::commands::attendance::correct_attendance,
            $crate::commands::attendance::mark,
            $crate::commands::attendance::close_session,
            $crate::commands::progress::cohort_progress,
            $crate::commands::assessments::attempts,
            $crate::commands::assessments::record_attempt,
            $crate::commands::assessments::update_draft_attempt,
            $crate::commands::assessments::lock_attempt,
            $crate::commands::assessments::correct_attempt,
            $crate::commands::sync::sync_status,
            $crate::commands::sync::enrol_device,
            $crate::commands::sync::sync_now,
            $crate::commands::cohorts::load_demo,
            $crate::commands::progress::site_review,
            $crate::commands::progress::default_export_dir,
            $crate::commands::progress::export_cohort,
            $crate::commands::claims::submit_claims,
            $crate::commands::sync::quarantined_records,
            $crate::commands::sync::set_hq_url,
            $crate::commands::sync::export_bundle,
            $crate::commands::sync::import_bundle_answer,
            $crate::commands::backups::list_backups,
            $crate::commands::backups::back_up_now,
            $crate::commands::backups::check_backup,
            $crate::commands::backups::restore_backup,
            $crate::commands::settings::get_settings,
            $crate::commands::settings::save_settings,
            $crate::commands::settings::set_language,
            $crate::commands::staff::set_staff_active,
            $crate::commands::staff::reset_staff_password,
            $crate::commands::settings::check_update,
            $crate::commands::settings::install_update,
            $crate::commands::settings::restart_app,
            $crate::commands::devices::site_devices,
            $crate::commands::devices::lan_info,
            $crate::commands::devices::lan_sync,
            $crate::commands::devices::discover_devices,
            $crate::commands::devices::recovery_code,
            $crate::commands::devices::join_site,
            $crate::commands::devices::late_marks,
            $crate::commands::devices::answer_late_mark,
            $crate::commands::devices::duplicate_learners,
            $crate::commands::devices::merge_learners,
            $crate::commands::devices::edit_overlaps,
            $crate::commands::devices::settle_overlap,
        ]
    };
}

/// Builds and runs the app.
pub fn run() {
    // One TLS provider for every client (sync and the updater both use rustls without one).
    siteline_core::sync::client::install_tls_provider();
    let result = tauri::Builder::default()
        .plugin(tauri_plugin_updater::Builder::new().build())
        .plugin(tauri_plugin_dialog::init())
        .setup(|app| {
            webview::tune(app);
            let path = database_path(app)?;
            let db = tauri::async_runtime::block_on(Db::open(path.clone()))?;
            let changes = events::start(app.handle().clone());
            let shell = Shell::new(db.clone(), path.clone(), changes);
            tauri::async_runtime::block_on(async {
                if let Ok(Some((url, _))) = db.call(|s| engine::enrolment(s)).await
                    && let Ok(engine) = sync_engine(&shell, &url).await
                {
                    start_sync(&shell, engine);
                }
            });
            tauri::async_runtime::block_on(lan::start(&shell));
            let idle = tauri::async_runtime::block_on(
                db.call(|s| siteline_core::store::settings::get(s.conn())),
            )?
            .idle_minutes;
            shell.session().idle = std::time::Duration::from_secs(u64::from(idle) * 60);
            app.manage(shell);
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                // The daily backup: checked at start and every hour after.
                loop {
                    let shell = handle.state::<Shell>();
                    match commands::backups::daily_backup(&shell).await {
                        Ok(Some(b)) => eprintln!("daily backup written: {}", b.path),
                        Ok(None) => {}
                        Err(e) => eprintln!("daily backup failed: {}", e.message),
                    }
                    tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
                }
            });
            Ok(())
        })
        .invoke_handler(handlers!())
        .run(tauri::generate_context!());
    if let Err(e) = result {
        eprintln!("Siteline could not start: {e}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    /// The data folder read before start (the time zone) is the one Tauri opens after.
    #[test]
    fn the_identifier_naming_the_data_folder_is_the_apps() {
        let conf: serde_json::Value =
            serde_json::from_str(include_str!("../tauri.conf.json")).unwrap_or_default();
        assert_eq!(conf["identifier"], super::IDENTIFIER);
    }
}
