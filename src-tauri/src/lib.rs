//! The Siteline desktop shell: opens the site database in the OS app-data folder (or the file
//! named by `SITELINE_DB`, which tests use) and exposes thin commands over `siteline-core`.

#[cfg(test)]
mod bindings;
pub mod commands;
pub mod error;
pub mod events;
pub mod manage;
pub mod state;
pub mod updates;

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
    std::fs::create_dir_all(&dir)?;
    Ok(dir.join("site.db"))
}

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
            $crate::commands::app_status,
            $crate::commands::create_first_manager,
            $crate::commands::sign_in,
            $crate::commands::sign_out,
            $crate::commands::set_idle_lock,
            $crate::commands::create_staff,
            $crate::commands::list_staff,
            $crate::commands::site_overview,
            $crate::commands::search_learners,
            $crate::commands::check_id_number,
            $crate::commands::register_learner,
            $crate::commands::learner_profile,
            $crate::commands::unmask_learner,
            $crate::commands::programme_versions,
            $crate::commands::rubric,
            $crate::commands::list_cohorts,
            $crate::commands::create_cohort,
            $crate::commands::set_cohort_status,
            $crate::commands::enrol_learner,
            $crate::commands::schedule_session,
            $crate::commands::cohort_sessions,
            $crate::commands::sessions_between,
            $crate::commands::roll,
            $crate::commands::mark,
            $crate::commands::close_session,
            $crate::commands::cohort_progress,
            $crate::commands::attempts,
            $crate::commands::record_attempt,
            $crate::commands::lock_attempt,
            $crate::commands::correct_attempt,
            $crate::commands::sync_status,
            $crate::commands::enrol_device,
            $crate::commands::sync_now,
            $crate::commands::load_demo,
            $crate::manage::site_review,
            $crate::manage::default_export_dir,
            $crate::manage::export_cohort,
            $crate::manage::submit_claims,
            $crate::manage::quarantined_records,
            $crate::manage::set_hq_url,
            $crate::manage::export_bundle,
            $crate::manage::import_bundle_answer,
            $crate::manage::list_backups,
            $crate::manage::back_up_now,
            $crate::manage::check_backup,
            $crate::manage::restore_backup,
            $crate::manage::get_settings,
            $crate::manage::save_settings,
            $crate::manage::set_language,
            $crate::manage::set_staff_active,
            $crate::manage::reset_staff_password,
            $crate::manage::check_update,
            $crate::manage::install_update,
        ]
    };
}

/// Builds and runs the app.
pub fn run() {
    // One TLS provider for every client (sync and the updater both use rustls without one).
    siteline_core::sync::client::install_tls_provider();
    let result = tauri::Builder::default()
        .plugin(tauri_plugin_updater::Builder::new().build())
        .setup(|app| {
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
                    match manage::daily_backup(&shell).await {
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
