//! The Siteline desktop shell: opens the site database in the OS app-data folder (or the file
//! named by `SITELINE_DB`, which tests use) and exposes thin commands over `siteline-core`.

mod commands;
mod error;

use std::path::PathBuf;

use tauri::Manager;

/// Where the site database lives.
fn database_path(app: &tauri::App) -> Result<PathBuf, Box<dyn std::error::Error>> {
    if let Some(path) = std::env::var_os("SITELINE_DB") {
        return Ok(PathBuf::from(path));
    }
    let dir = app.path().app_data_dir()?;
    std::fs::create_dir_all(&dir)?;
    Ok(dir.join("site.db"))
}

/// Builds and runs the app.
pub fn run() {
    let result = tauri::Builder::default()
        .setup(|app| {
            let path = database_path(app)?;
            let db = tauri::async_runtime::block_on(siteline_core::store::db::Db::open(path))?;
            app.manage(db);
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![commands::site_overview])
        .run(tauri::generate_context!());
    if let Err(e) = result {
        eprintln!("Siteline could not start: {e}");
        std::process::exit(1);
    }
}
