//! Tauri commands: each takes state, calls `siteline-core`, maps the error. Nothing else.

use siteline_core::store::db::Db;
use siteline_core::store::progress::{self, SiteOverview};

use crate::error::CommandError;

/// What the start screen shows.
#[tauri::command]
pub async fn site_overview(db: tauri::State<'_, Db>) -> Result<SiteOverview, CommandError> {
    Ok(db.call(|site| progress::site_overview(site.conn())).await?)
}
