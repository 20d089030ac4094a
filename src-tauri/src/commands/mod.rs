//! Tauri commands, one module per area of `siteline_core::store` (and sync): each command takes
//! state, calls `siteline-core` and maps the error. Nothing else. Roles are checked in core (an
//! `Actor` comes only from the database).

pub mod assessments;
pub mod attendance;
pub mod backups;
pub mod claims;
pub mod cohorts;
pub mod devices;
pub mod learners;
pub mod progress;
pub mod settings;
pub mod staff;
pub mod sync;

use siteline_core::sync::engine;
use std::path::PathBuf;

use siteline_domain::Rule;

use crate::error::CommandError;
use crate::state::Shell;

/// What every command returns.
pub type Res<T> = Result<T, CommandError>;

/// A folder path the user typed, refused unless it is absolute.
/// `field` names the input (`export.dir`, `backup.dir`, `bundle.dir`).
pub(crate) fn folder(dir: &str, field: &'static str) -> Res<PathBuf> {
    let dir = dir.trim();
    let path = PathBuf::from(dir);
    if dir.is_empty() || !path.is_absolute() {
        return Err(siteline_core::Error::rule(field, Rule::FolderPath).into());
    }
    Ok(path)
}

/// The HQ address this device is enrolled with.
pub(crate) async fn hq_url(shell: &Shell) -> Res<String> {
    shell
        .db
        .call(|s| engine::enrolment(s))
        .await?
        .map(|(url, _)| url)
        .ok_or_else(|| siteline_core::Error::NotEnrolled.into())
}
