// The only module that talks to Tauri: every backend call goes through here, so the rest of
// the UI can be tested without a Tauri runtime.
import { invoke } from "@tauri-apps/api/core";

/** An error from the backend: `kind` to branch on, `message` to show. */
export interface BackendError {
  kind: string;
  message: string;
}

/** One programme version's counts at this site. */
export interface ProgrammeOverview {
  programme_version_id: string;
  name_zh: string;
  name_en: string;
  level: number;
  total_hours: number;
  credits_tenths: number;
}

/** What the start screen shows before anyone signs in. */
export interface SiteOverview {
  catalogue_version: string;
  catalogue_source: string;
  schema_version: number;
  learners: number;
  cohorts: number;
  pending_changes: number;
  programmes: ProgrammeOverview[];
}

export function siteOverview(): Promise<SiteOverview> {
  return invoke<SiteOverview>("site_overview");
}
