//! Progress and reports: the site overview, a cohort's table, the manager's review, exports.

use siteline_core::store::progress::{self, CohortProgress, SiteOverview};
use siteline_core::store::reports::{self, ReportFormat};
use siteline_core::store::review::{self, ReviewFilter, SiteReview};
use siteline_domain::ids::CohortId;
use tauri::{AppHandle, Manager, Runtime, State};

use super::{Res, folder};
use crate::state::Shell;

/// Counts and catalogue for the start screen.
#[tauri::command]
pub async fn site_overview(shell: State<'_, Shell>) -> Res<SiteOverview> {
    shell.actor().await?;
    Ok(shell.db.call(|s| progress::site_overview(s.conn())).await?)
}

/// A cohort's progress table.
#[tauri::command]
pub async fn cohort_progress(shell: State<'_, Shell>, cohort: CohortId) -> Res<CohortProgress> {
    shell.actor().await?;
    Ok(shell
        .db
        .call(move |s| progress::cohort_progress(s.conn(), cohort))
        .await?)
}

/// The site manager's review: cohorts, attendance by week and pass rates, filtered.
#[tauri::command]
pub async fn site_review(shell: State<'_, Shell>, filter: ReviewFilter) -> Res<SiteReview> {
    shell.actor().await?;
    Ok(shell
        .db
        .call(move |s| review::site_review(s.conn(), &filter))
        .await?)
}

/// Where reports go unless the manager picks another folder: Documents/Siteline.
#[tauri::command]
pub async fn default_export_dir<R: Runtime>(
    app: AppHandle<R>,
    shell: State<'_, Shell>,
) -> Res<String> {
    shell.actor().await?;
    Ok(app
        .path()
        .document_dir()
        .map(|d| d.join("Siteline"))
        .unwrap_or_else(|_| shell.data_dir().join("exports"))
        .display()
        .to_string())
}

/// Writes a cohort's report (site manager) and returns the file's path.
#[tauri::command]
pub async fn export_cohort(
    shell: State<'_, Shell>,
    cohort: CohortId,
    format: ReportFormat,
    dir: String,
) -> Res<String> {
    shell.actor().await?.require_manager("export reports")?;
    let dir = folder(&dir, "export.dir")?;
    Ok(shell
        .db
        .call(move |s| reports::export(s.conn(), cohort, format, &dir))
        .await?
        .display()
        .to_string())
}
