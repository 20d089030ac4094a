// Shared by every screen: the app, navigation, roles, statuses and marks.
export default {
  app: {
    name: "Siteline training site",
    signOut: "Sign out",
  },
  picker: {
    choose: "Choose…",
    folderHint: "Full path of a folder",
    fileHint: "Full path of a file",
    xlsx: "Excel workbook",
    json: "Sync answer file",
  },
  nav: {
    today: "Today",
    learners: "Learners",
    cohorts: "Cohorts",
    settings: "Settings",
  },
  nav2: {
    review: "Review",
    sync: "Sync centre",
    devices: "Site devices",
  },
  role: {
    instructor: "Instructor",
    site_manager: "Site manager",
    assessor: "Assessor",
  },
  common: {
    cancel: "Cancel",
    colon: ": ",
    next: "Next",
    save: "Save",
    search: "Search",
  },
  status: {
    passed: "Passed",
    failed: "Failed",
    pending: "Pending",
    passed_not_eligible: "Passed · attendance short",
  },
  cohortStatus: {
    draft: "Draft",
    running: "Running",
    closed: "Closed",
  },
  attendance: {
    present: "Present",
    late: "Late",
    absent: "Absent",
    excused: "Excused",
    unmarked: "Unmarked",
  },
  reason: {
    entry_error: "Entry error",
    late_evidence: "Late evidence",
    appeal: "Appeal upheld",
    other: "Other",
  },
  hqStatus: {
    accredited: "Accredited",
    needs_info: "Needs information",
    rejected: "Rejected",
    none: "—",
  },
  progress: {
    status: "Result",
    eligible: "Eligible",
  },
};
