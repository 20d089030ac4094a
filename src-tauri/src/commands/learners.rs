//! Learners: search, the live ID check, registration, bulk import from Excel, the profile and
//! audited unmasking.

use serde::Serialize;
use siteline_core::store::edits::{self, FieldChange, LearnerEdit};
use siteline_core::store::hq::{self, LearnerCertificate, LearnerCredits};
use siteline_core::store::import::{self, ImportReport};
use siteline_core::store::learner_list::{self, LearnerFilter, LearnerPage};
use siteline_core::store::learners::{
    self, ConsentInput, ConsentLine, IdCheck, IdType, LearnerSummary, NewLearner,
};
use siteline_core::store::progress::{self, EnrolmentProgress};
use siteline_domain::Rule;
use siteline_domain::ids::{CohortId, LearnerId};
use tauri::State;

use super::{Res, folder};
use crate::state::Shell;

/// Learner search by name, ID tail or phone tail.
#[tauri::command]
pub async fn search_learners(shell: State<'_, Shell>, query: String) -> Res<Vec<LearnerSummary>> {
    shell.actor().await?;
    Ok(shell
        .db
        .call(move |s| learners::search(s, &query, 100))
        .await?)
}

/// A page of the site's learners, searched and filtered.
#[tauri::command]
pub async fn list_learners(shell: State<'_, Shell>, filter: LearnerFilter) -> Res<LearnerPage> {
    shell.actor().await?;
    Ok(shell
        .db
        .call(move |s| learner_list::list(s, &filter))
        .await?)
}

/// Live check of an ID number while it is typed.
#[tauri::command]
pub async fn check_id_number(
    shell: State<'_, Shell>,
    id_type: IdType,
    number: String,
) -> Res<IdCheck> {
    shell.actor().await?;
    Ok(shell
        .db
        .call(move |s| learners::check_id_number(s, id_type, &number))
        .await?)
}

/// Registers a learner with consents.
#[tauri::command]
pub async fn register_learner(shell: State<'_, Shell>, new: NewLearner) -> Res<LearnerSummary> {
    let actor = shell.actor().await?;
    let l = shell
        .db
        .call(move |s| {
            let id = learners::register(s, &actor, &new)?;
            learners::get(s.conn(), id)
        })
        .await?;
    shell.changes.touched("learners");
    Ok(l)
}

/// One certificate HQ issued, for the printed certificate.
#[tauri::command]
pub async fn certificate(shell: State<'_, Shell>, number: String) -> Res<LearnerCertificate> {
    shell.actor().await?;
    Ok(shell
        .db
        .call(move |s| hq::certificate(s.conn(), &number))
        .await?)
}

/// Writes a certificate's signed credential (Open Badges 3.0) to `dir`, for the learner's
/// wallet, and returns the file's path.
#[tauri::command]
pub async fn export_credential(
    shell: State<'_, Shell>,
    number: String,
    dir: String,
) -> Res<String> {
    shell.actor().await?;
    let dir = folder(&dir, "export.dir")?;
    Ok(shell
        .db
        .call(move |s| hq::export_credential(s.conn(), &number, &dir))
        .await?
        .display()
        .to_string())
}

/// A learner's profile: summary, progress in each enrolment, credits from HQ.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct LearnerProfile {
    /// Masked summary.
    pub learner: LearnerSummary,
    /// Progress per enrolment.
    pub enrolments: Vec<EnrolmentProgress>,
    /// HQ's decisions, credits and certificates.
    pub credits: LearnerCredits,
    /// Every consent answer, oldest first.
    pub consents: Vec<ConsentLine>,
    /// Their ID and phone were erased at their request.
    pub erased: bool,
    /// Every correction of their name and phone, latest first.
    pub changes: Vec<FieldChange>,
}

/// One learner's profile.
#[tauri::command]
pub async fn learner_profile(shell: State<'_, Shell>, id: LearnerId) -> Res<LearnerProfile> {
    shell.actor().await?;
    Ok(shell
        .db
        .call(move |s| {
            Ok(LearnerProfile {
                learner: learners::get(s.conn(), id)?,
                enrolments: progress::learner_progress(s.conn(), id)?,
                credits: hq::learner_credits(s.conn(), id.0)?,
                consents: learners::consents_of(s.conn(), id)?,
                erased: learners::is_erased(s.conn(), id)?,
                changes: edits::history(s.conn(), id.0)?,
            })
        })
        .await?)
}

/// Records a consent given or withdrawn (append-only).
#[tauri::command]
pub async fn record_consent(
    shell: State<'_, Shell>,
    learner: LearnerId,
    consent: ConsentInput,
) -> Res<()> {
    let actor = shell.actor().await?;
    shell
        .db
        .call(move |s| learners::record_consent(s, &actor, learner, consent))
        .await?;
    shell.changes.touched("learners");
    Ok(())
}

/// Erases a learner's ID and phone for good by destroying their data key (site manager).
#[tauri::command]
pub async fn erase_learner(shell: State<'_, Shell>, learner: LearnerId) -> Res<()> {
    let actor = shell.actor().await?;
    shell
        .db
        .call(move |s| learners::erase_personal_data(s, &actor, learner))
        .await?;
    shell.changes.touched("learners");
    Ok(())
}

/// Corrects a learner's name or phone, on the version the form was opened on; returns the
/// learner as they now stand.
#[tauri::command]
pub async fn edit_learner(
    shell: State<'_, Shell>,
    learner: LearnerId,
    edit: LearnerEdit,
) -> Res<LearnerSummary> {
    let actor = shell.actor().await?;
    let l = shell
        .db
        .call(move |s| {
            edits::edit_learner(s, &actor, learner, &edit)?;
            learners::get(s.conn(), learner)
        })
        .await?;
    shell.changes.touched("learners");
    Ok(l)
}

/// The full ID and phone (site manager only; audited in core).
#[tauri::command]
pub async fn unmask_learner(
    shell: State<'_, Shell>,
    id: LearnerId,
) -> Res<(String, Option<String>)> {
    let actor = shell.actor().await?;
    Ok(shell
        .db
        .call(move |s| learners::unmask(s, &actor, id))
        .await?)
}

/// Largest spreadsheet the import reads: a 2,000-row class is well under 1 MiB.
const MAX_IMPORT_BYTES: u64 = 10 * 1024 * 1024;

/// Imports a class from an `.xlsx` file filled in from the template, enrolling each learner in
/// `cohort` when one is given. Rows that fail a check are refused with their reason; the rest
/// are registered together, or none are.
#[tauri::command]
pub async fn import_learners(
    shell: State<'_, Shell>,
    path: String,
    cohort: Option<CohortId>,
) -> Res<ImportReport> {
    let actor = shell.actor().await?;
    let bytes = read_spreadsheet(&path)?;
    let report = shell
        .db
        .call(move |s| import::import(s, &actor, &bytes, cohort))
        .await?;
    if report.imported > 0 {
        shell.changes.touched("learners");
    }
    Ok(report)
}

/// The file named by `path`, refused unless it is an absolute path to a readable `.xlsx` file
/// of a sane size.
fn read_spreadsheet(path: &str) -> Res<Vec<u8>> {
    let path = std::path::PathBuf::from(path.trim());
    let is_xlsx = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("xlsx"));
    if !path.is_absolute() || !is_xlsx {
        return Err(siteline_core::Error::rule("import.file", Rule::XlsxFile).into());
    }
    let unreadable = |e: std::io::Error| {
        siteline_core::Error::invalid("import.file", format!("{}: {e}", path.display()))
    };
    let size = std::fs::metadata(&path).map_err(unreadable)?.len();
    if size > MAX_IMPORT_BYTES {
        return Err(siteline_core::Error::rule(
            "import.file",
            Rule::FileTooLarge {
                max_mib: (MAX_IMPORT_BYTES / 1024 / 1024) as u32,
            },
        )
        .into());
    }
    Ok(std::fs::read(&path).map_err(unreadable)?)
}

/// Writes the import template into `dir` and returns the file's path.
#[tauri::command]
pub async fn save_import_template(shell: State<'_, Shell>, dir: String) -> Res<String> {
    shell.actor().await?;
    let dir = folder(&dir, "import.dir")?;
    let bytes = import::template()?;
    let path = dir.join(IMPORT_TEMPLATE);
    let write = |e: std::io::Error| {
        siteline_core::Error::invalid("import.dir", format!("{}: {e}", dir.display()))
    };
    std::fs::create_dir_all(&dir).map_err(write)?;
    std::fs::write(&path, bytes).map_err(write)?;
    Ok(path.display().to_string())
}

/// The template's file name: Chinese first, like the columns inside it.
pub const IMPORT_TEMPLATE: &str = "学员批量导入模板.xlsx";

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    /// The refusal as the UI receives it: its JSON, with the rule broken when there is one.
    fn refusal(path: &str) -> serde_json::Value {
        let e = read_spreadsheet(path).expect_err(path);
        serde_json::to_value(e).unwrap()
    }

    #[test]
    fn only_an_absolute_path_to_a_readable_xlsx_of_sane_size_is_read() {
        let dir = tempfile::tempdir().unwrap();
        // A relative path, or another kind of file: refused by rule before anything is read.
        for path in ["class.xlsx", "/tmp/class.csv", "/tmp/class"] {
            assert_eq!(
                refusal(path)["params"]["rule"]["rule"],
                "xlsx_file",
                "{path}"
            );
        }
        // Missing: refused, naming the file.
        let missing = dir.path().join("没有.xlsx").display().to_string();
        let json = refusal(&missing);
        assert_eq!(json["params"]["field"], "import.file");
        assert!(
            json["message"].as_str().unwrap().contains("没有.xlsx"),
            "{json}"
        );
        // Over 10 MiB: refused by size, the file not read.
        let big = dir.path().join("big.xlsx");
        std::fs::File::create(&big)
            .unwrap()
            .set_len(MAX_IMPORT_BYTES + 1)
            .unwrap();
        let json = refusal(&big.display().to_string());
        assert_eq!(json["params"]["rule"]["rule"], "file_too_large");
        assert_eq!(json["params"]["rule"]["max_mib"], 10);
        // A real file, its extension in capitals, with spaces typed around the path.
        let ok = dir.path().join("Class.XLSX");
        std::fs::write(&ok, b"bytes").unwrap();
        let read = read_spreadsheet(&format!("  {}  ", ok.display())).unwrap();
        assert_eq!(read, b"bytes");
    }
}
