// The only module that talks to Tauri: every backend call goes through here, typed with the
// bindings ts-rs generates from the Rust types (src/bindings/), so nothing is hand-copied.
import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type { AppStatus } from "./bindings/AppStatus";
import type { Attempt } from "./bindings/Attempt";
import type { Cohort } from "./bindings/Cohort";
import type { CohortProgress } from "./bindings/CohortProgress";
import type { CohortStatus } from "./bindings/CohortStatus";
import type { CorrectionLine } from "./bindings/CorrectionLine";
import type { CohortEdit } from "./bindings/CohortEdit";
import type { FieldChange } from "./bindings/FieldChange";
import type { LearnerEdit } from "./bindings/LearnerEdit";
import type { Overlap } from "./bindings/Overlap";
import type { DaySession } from "./bindings/DaySession";
import type { IdCheck } from "./bindings/IdCheck";
import type { IdType } from "./bindings/IdType";
import type { ConsentInput } from "./bindings/ConsentInput";
import type { ImportReport } from "./bindings/ImportReport";
import type { LearnerFilter } from "./bindings/LearnerFilter";
import type { LearnerPage } from "./bindings/LearnerPage";
import type { LearnerCertificate } from "./bindings/LearnerCertificate";
import type { LearnerProfile } from "./bindings/LearnerProfile";
import type { LearnerSummary } from "./bindings/LearnerSummary";
import type { Mark } from "./bindings/Mark";
import type { Marks } from "./bindings/Marks";
import type { Me } from "./bindings/Me";
import type { NewAttempt } from "./bindings/NewAttempt";
import type { NewCohort } from "./bindings/NewCohort";
import type { NewLearner } from "./bindings/NewLearner";
import type { NewSession } from "./bindings/NewSession";
import type { NewStaff } from "./bindings/NewStaff";
import type { ProgrammeSummary } from "./bindings/ProgrammeSummary";
import type { Reason } from "./bindings/Reason";
import type { RollLine } from "./bindings/RollLine";
import type { RollHeader } from "./bindings/RollHeader";
import type { RubricForm } from "./bindings/RubricForm";
import type { Session } from "./bindings/Session";
import type { SiteOverview } from "./bindings/SiteOverview";
import type { StaffSummary } from "./bindings/StaffSummary";
import type { SyncStatus } from "./bindings/SyncStatus";
import type { BackupCheck } from "./bindings/BackupCheck";
import type { BackupFile } from "./bindings/BackupFile";
import type { Backups } from "./bindings/Backups";
import type { ClaimsSubmitted } from "./bindings/ClaimsSubmitted";
import type { CommandError } from "./bindings/CommandError";
import type { QuarantinedRecord } from "./bindings/QuarantinedRecord";
import type { ReportFormat } from "./bindings/ReportFormat";
import type { Restored } from "./bindings/Restored";
import type { ReviewFilter } from "./bindings/ReviewFilter";
import type { SiteReview } from "./bindings/SiteReview";
import type { SiteSettings } from "./bindings/SiteSettings";
import type { UpdateInfo } from "./bindings/UpdateInfo";
import type { SiteDevice } from "./bindings/SiteDevice";
import type { LanInfo } from "./bindings/LanInfo";
import type { LanReport } from "./bindings/LanReport";
import type { LateMark } from "./bindings/LateMark";
import type { DuplicatePair } from "./bindings/DuplicatePair";
import type { Found } from "./bindings/Found";

/** An error from the backend: `kind` and `params` to branch on and word, `message` as fallback. */
export type BackendError = CommandError;
export { isCommandError as isBackendError } from "./errors";

export const api = {
  appStatus: () => invoke<AppStatus>("app_status"),
  createFirstManager: (newStaff: NewStaff) => invoke<Me>("create_first_manager", { new: newStaff }),
  signIn: (username: string, password: string) => invoke<Me>("sign_in", { username, password }),
  signOut: () => invoke<void>("sign_out"),
  setIdleLock: (minutes: number) => invoke<void>("set_idle_lock", { minutes }),
  createStaff: (newStaff: NewStaff) => invoke<StaffSummary>("create_staff", { new: newStaff }),
  listStaff: () => invoke<StaffSummary[]>("list_staff"),
  siteOverview: () => invoke<SiteOverview>("site_overview"),
  searchLearners: (query: string) => invoke<LearnerSummary[]>("search_learners", { query }),
  listLearners: (filter: LearnerFilter) => invoke<LearnerPage>("list_learners", { filter }),
  checkIdNumber: (idType: IdType, number: string) => invoke<IdCheck>("check_id_number", { idType, number }),
  recordConsent: (learner: string, consent: ConsentInput) => invoke<void>("record_consent", { learner, consent }),
  eraseLearner: (learner: string) => invoke<void>("erase_learner", { learner }),
  editLearner: (learner: string, edit: LearnerEdit) => invoke<LearnerSummary>("edit_learner", { learner, edit }),
  registerLearner: (learner: NewLearner) => invoke<LearnerSummary>("register_learner", { new: learner }),
  importLearners: (path: string, cohort: string | null) => invoke<ImportReport>("import_learners", { path, cohort }),
  saveImportTemplate: (dir: string) => invoke<string>("save_import_template", { dir }),
  learnerProfile: (id: string) => invoke<LearnerProfile>("learner_profile", { id }),
  certificate: (number: string) => invoke<LearnerCertificate>("certificate", { number }),
  exportCredential: (number: string, dir: string) => invoke<string>("export_credential", { number, dir }),
  unmaskLearner: (id: string) => invoke<[string, string | null]>("unmask_learner", { id }),
  programmeVersions: () => invoke<ProgrammeSummary[]>("programme_versions"),
  rubric: (programmeVersionId: string) => invoke<RubricForm>("rubric", { programmeVersionId }),
  listCohorts: () => invoke<Cohort[]>("list_cohorts"),
  createCohort: (cohort: NewCohort) => invoke<Cohort>("create_cohort", { new: cohort }),
  setCohortStatus: (cohort: string, status: CohortStatus) => invoke<void>("set_cohort_status", { cohort, status }),
  reopenCohort: (cohort: string, reason: Reason) => invoke<void>("reopen_cohort", { cohort, reason }),
  cohortHistory: (cohort: string) => invoke<CorrectionLine[]>("cohort_history", { cohort }),
  editCohort: (cohort: string, edit: CohortEdit) => invoke<void>("edit_cohort", { cohort, edit }),
  cohortChanges: (cohort: string) => invoke<FieldChange[]>("cohort_changes", { cohort }),
  enrolLearner: (cohort: string, learner: string) => invoke<string>("enrol_learner", { cohort, learner }),
  scheduleSession: (cohort: string, session: NewSession) => invoke<Session>("schedule_session", { cohort, new: session }),
  cohortSessions: (cohort: string) => invoke<Session[]>("cohort_sessions", { cohort }),
  sessionsBetween: (from: string, to: string) => invoke<DaySession[]>("sessions_between", { from, to }),
  roll: (session: string) => invoke<RollLine[]>("roll", { session }),
  rollHeader: (session: string) => invoke<RollHeader>("roll_header", { session }),
  correctAttendance: (session: string, learner: string, mark: Mark, reason: Reason) =>
    invoke<RollLine>("correct_attendance", { session, learner, mark, reason }),
  mark: (session: string, learner: string, mark: Mark) => invoke<RollLine>("mark", { session, learner, mark }),
  closeSession: (session: string) => invoke<void>("close_session", { session }),
  cohortProgress: (cohort: string) => invoke<CohortProgress>("cohort_progress", { cohort }),
  attempts: (enrolment: string) => invoke<Attempt[]>("attempts", { enrolment }),
  recordAttempt: (attempt: NewAttempt) => invoke<Attempt>("record_attempt", { new: attempt }),
  updateDraftAttempt: (id: string, marks: Marks) => invoke<Attempt>("update_draft_attempt", { id, marks }),
  lockAttempt: (id: string) => invoke<void>("lock_attempt", { id }),
  correctAttempt: (id: string, marks: Marks, reason: Reason) => invoke<Attempt>("correct_attempt", { id, marks, reason }),
  syncStatus: () => invoke<SyncStatus>("sync_status"),
  enrolDevice: (hqUrl: string, code: string) => invoke<string>("enrol_device", { hqUrl, code }),
  syncNow: () => invoke<void>("sync_now"),
  loadDemo: (todayStart: string) => invoke<string>("load_demo", { todayStart }),
  siteReview: (filter: ReviewFilter) => invoke<SiteReview>("site_review", { filter }),
  defaultExportDir: () => invoke<string>("default_export_dir"),
  exportCohort: (cohort: string, format: ReportFormat, dir: string) => invoke<string>("export_cohort", { cohort, format, dir }),
  submitClaims: (cohort: string) => invoke<ClaimsSubmitted>("submit_claims", { cohort }),
  quarantinedRecords: () => invoke<QuarantinedRecord[]>("quarantined_records"),
  setHqUrl: (url: string) => invoke<void>("set_hq_url", { url }),
  exportBundle: (dir: string) => invoke<string>("export_bundle", { dir }),
  importBundleAnswer: (path: string) => invoke<void>("import_bundle_answer", { path }),
  listBackups: () => invoke<Backups>("list_backups"),
  backUpNow: (dir: string | null) => invoke<BackupFile>("back_up_now", { dir }),
  checkBackup: (path: string) => invoke<BackupCheck>("check_backup", { path }),
  restoreBackup: (path: string) => invoke<Restored>("restore_backup", { path }),
  getSettings: () => invoke<SiteSettings>("get_settings"),
  saveSettings: (settings: SiteSettings) => invoke<SiteSettings>("save_settings", { new: settings }),
  setLanguage: (language: string) => invoke<void>("set_language", { language }),
  setStaffActive: (id: string, active: boolean) => invoke<void>("set_staff_active", { id, active }),
  resetStaffPassword: (id: string, password: string) => invoke<void>("reset_staff_password", { id, password }),
  checkUpdate: () => invoke<UpdateInfo | null>("check_update"),
  installUpdate: () => invoke<void>("install_update"),
  restartApp: () => invoke<void>("restart_app"),
  siteDevices: () => invoke<SiteDevice[]>("site_devices"),
  lanInfo: () => invoke<LanInfo>("lan_info"),
  lanSync: (address: string) => invoke<LanReport>("lan_sync", { address }),
  discoverDevices: () => invoke<Found[]>("discover_devices"),
  recoveryCode: () => invoke<string>("recovery_code"),
  joinSite: (hqUrl: string, code: string, recoveryCode: string) => invoke<string>("join_site", { hqUrl, code, recoveryCode }),
  lateMarks: () => invoke<LateMark[]>("late_marks"),
  answerLateMark: (id: string, accept: boolean, reason: Reason) => invoke<void>("answer_late_mark", { id, accept, reason }),
  duplicateLearners: () => invoke<DuplicatePair[]>("duplicate_learners"),
  mergeLearners: (keep: string, duplicate: string) => invoke<void>("merge_learners", { keep, duplicate }),
  editOverlaps: () => invoke<Overlap[]>("edit_overlaps"),
  settleOverlap: (record: string, field: string, stamp: string) => invoke<void>("settle_overlap", { record, field, stamp }),
};

/** Calls `callback` with `[received, remaining]` while a LAN sync runs. */
export function onLanProgress(callback: (progress: [number, number]) => void): Promise<UnlistenFn> {
  return listen<[number, number]>("lan-progress", (event) => callback(event.payload));
}

/** Calls `callback` with the kinds of data that changed (batched by the backend). */
export function onDataChanged(callback: (kinds: string[]) => void): Promise<UnlistenFn> {
  return listen<string[]>("data-changed", (event) => callback(event.payload));
}
