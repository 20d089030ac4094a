//! TypeScript bindings of every type the UI sends or receives, generated from the Rust types
//! by ts-rs into `ui/src/bindings/` and committed. The test fails when they are stale; run
//! `UPDATE_BINDINGS=1 cargo test -p siteline-desktop bindings` to regenerate.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ts_rs::TS;

fn export(dir: &Path) {
    use siteline_core::store::*;
    macro_rules! all {
        ($($t:ty),* $(,)?) => {$( <$t>::export_all_to(dir).expect(stringify!($t)); )*};
    }
    all!(
        crate::commands::staff::AppStatus,
        crate::commands::staff::Me,
        crate::commands::learners::LearnerProfile,
        crate::commands::attendance::RollHeader,
        staff::NewStaff,
        staff::StaffSummary,
        learners::NewLearner,
        learners::IdCheck,
        learners::LearnerSummary,
        learners::ConsentLine,
        import::ImportReport,
        learner_list::LearnerFilter,
        learner_list::LearnerPage,
        cohorts::NewCohort,
        cohorts::Cohort,
        cohorts::CohortStatus,
        cohorts::NewSession,
        cohorts::Session,
        cohorts::DaySession,
        attendance::Mark,
        attendance::RollLine,
        assessments::NewAttempt,
        assessments::Attempt,
        assessments::Marks,
        corrections::Reason,
        corrections::CorrectionLine,
        catalogue::ProgrammeSummary,
        catalogue::RubricForm,
        progress::CohortProgress,
        progress::SiteOverview,
        progress::EnrolmentProgress,
        siteline_core::sync::status::SyncStatus,
        siteline_core::sync::status::RecordSync,
        siteline_core::sync::status::QuarantinedRecord,
        review::ReviewFilter,
        review::SiteReview,
        reports::ReportFormat,
        backup::BackupFile,
        backup::BackupCheck,
        backup::Restored,
        settings::SiteSettings,
        crate::commands::claims::ClaimsSubmitted,
        crate::commands::backups::Backups,
        crate::updates::UpdateInfo,
        crate::error::CommandError,
        siteline_proto::sync::DecisionStatus,
        site_devices::SiteDevice,
        late_marks::LateMark,
        duplicates::DuplicatePair,
        edits::LearnerEdit,
        edits::CohortEdit,
        edits::FieldChange,
        edits::Overlap,
        crate::commands::devices::LanReport,
        crate::commands::devices::LanInfo,
        siteline_core::sync::discovery::Found,
    );
}

fn files(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "ts") {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            out.insert(name, std::fs::read_to_string(&path).unwrap_or_default());
        }
    }
    out
}

#[test]
fn typescript_bindings_are_fresh() {
    let committed: PathBuf = [env!("CARGO_MANIFEST_DIR"), "..", "ui", "src", "bindings"]
        .iter()
        .collect();
    let fresh = tempfile::tempdir().expect("temp dir");
    export(fresh.path());
    let generated = files(fresh.path());
    assert!(
        generated.len() > 20,
        "ts-rs wrote only {} files",
        generated.len()
    );
    if std::env::var_os("UPDATE_BINDINGS").is_some() {
        let _ = std::fs::remove_dir_all(&committed);
        std::fs::create_dir_all(&committed).expect("bindings dir");
        for (name, text) in &generated {
            std::fs::write(committed.join(name), text).expect("write binding");
        }
    }
    let on_disk = files(&committed);
    let stale: Vec<_> = generated
        .iter()
        .filter(|(n, t)| on_disk.get(*n) != Some(t))
        .map(|(n, _)| n.clone())
        .collect();
    let extra: Vec<_> = on_disk
        .keys()
        .filter(|n| !generated.contains_key(*n))
        .cloned()
        .collect();
    assert!(
        stale.is_empty() && extra.is_empty(),
        "ui/src/bindings is stale (changed: {stale:?}, no longer generated: {extra:?}); run \
         `UPDATE_BINDINGS=1 cargo test -p siteline-desktop bindings` and commit"
    );
}
