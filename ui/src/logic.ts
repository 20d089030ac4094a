// UI logic without Vue or Tauri, so Vitest covers it: rubric totals, roll-call keys, idle
// lock timing, day bounds. The backend re-checks every rule; this only gives instant feedback.
import type { Mark } from "./bindings/Mark";
import type { PassStatus } from "./bindings/PassStatus";
import type { RubricItem } from "./bindings/RubricItem";
import type { RubricMark } from "./bindings/RubricMark";

/** Live total and pass/fail of a practical rubric as the assessor marks it, against the pass
 * mark the backend sends with the rubric (the rule's one home is the domain crate). */
export function rubricResult(items: RubricItem[], marks: RubricMark[], passMark: number): { total: number; criticalFailed: boolean; passed: boolean; complete: boolean } {
  let total = 0;
  let criticalFailed = false;
  for (const item of items) {
    const m = marks.find((x) => x.item_id === item.id);
    if (!m) continue;
    total += Math.min(Math.max(0, m.points), item.max_points);
    if (item.critical && m.failed) criticalFailed = true;
  }
  const complete = items.every((i) => marks.some((m) => m.item_id === i.id));
  return { total, criticalFailed, passed: complete && total >= passMark && !criticalFailed, complete };
}

/** Full marks on every item, nothing failed. */
export function fullMarks(items: RubricItem[]): RubricMark[] {
  return items.map((i) => ({ item_id: i.id, points: i.max_points, failed: false }));
}

/** One line of the rubric form: points stay empty (null) until the assessor gives them. */
export type RubricEntry = { points: number | null; failed: boolean };

/** The rubric form's start: every scored item empty (an assessor marks each one, so nothing
 * passes by default); a critical (veto) item starts not failed. */
export function emptyEntries(items: RubricItem[]): RubricEntry[] {
  return items.map((i) => ({ points: i.critical ? i.max_points : null, failed: false }));
}

/** The marks given so far (an empty item is left out, so the total says it is incomplete),
 * and how many items are still unmarked. */
export function entriesToMarks(items: RubricItem[], entries: RubricEntry[]): { marks: RubricMark[]; unmarked: number } {
  const marks: RubricMark[] = [];
  let unmarked = 0;
  items.forEach((item, i) => {
    const e = entries[i];
    if (!e || e.points === null || e.points === undefined) unmarked += 1;
    else marks.push({ item_id: item.id, points: e.points, failed: item.critical && e.failed });
  });
  return { marks, unmarked };
}

/** Roll-call keyboard: P present, L late, A absent, E excused (also 1–4). */
export function markForKey(key: string, lateAt: string): Mark | null {
  switch (key.toLowerCase()) {
    case "p":
    case "1":
      return { mark: "present" };
    case "l":
    case "2":
      return { mark: "late", at: lateAt };
    case "a":
    case "3":
      return { mark: "absent" };
    case "e":
    case "4":
      return { mark: "excused" };
    default:
      return null;
  }
}

/** The start and end of the local day containing `now`, as ISO instants. */
export function dayBounds(now: Date): { from: string; to: string } {
  const start = new Date(now.getFullYear(), now.getMonth(), now.getDate());
  const end = new Date(start.getTime() + 24 * 3600 * 1000);
  return { from: start.toISOString(), to: end.toISOString() };
}

/** True when the screen should lock: no activity for `idleMinutes`. */
export function shouldLock(lastActivityMs: number, nowMs: number, idleMinutes: number): boolean {
  return nowMs - lastActivityMs >= idleMinutes * 60 * 1000;
}

/** Hours with one decimal from minutes: 5183 → "86.3". */
export function hours(minutes: number): string {
  return (Math.floor((minutes * 10) / 60) / 10).toFixed(1);
}

/** A quick client-side GB 11643 checksum, for instant feedback while typing. */
export function idChecksumOk(id: string): boolean {
  const s = id.trim().toUpperCase();
  if (!/^\d{17}[\dX]$/.test(s)) return false;
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const codes = "10X98765432";
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(s[i]) * w[i];
  return codes[sum % 11] === s[17];
}

/** Percent with one decimal, or null when there is nothing to divide by: (9, 12) → 75.0. */
export function percent(part: number, whole: number): number | null {
  if (whole <= 0) return null;
  return Math.round((part * 1000) / whole) / 10;
}

/** Chart series for attendance by week: labels (the week's Monday) and rates in percent. */
export function attendanceSeries(weeks: { week: string; attended_minutes: number; scheduled_minutes: number }[]): {
  labels: string[];
  rates: (number | null)[];
} {
  return {
    labels: weeks.map((w) => w.week.slice(5)),
    rates: weeks.map((w) => percent(w.attended_minutes, w.scheduled_minutes)),
  };
}

/** How long ago an instant was, in words, for the sync centre ("3 分钟前" / "3 min ago"). */
export function ago(iso: string | null, nowMs: number, lang: "zh" | "en"): string | null {
  if (!iso) return null;
  const s = Math.max(0, Math.round((nowMs - Date.parse(iso)) / 1000));
  const [n, zh, en] =
    s < 60 ? [s, "秒前", "s ago"] : s < 3600 ? [Math.floor(s / 60), "分钟前", "min ago"] : s < 86400 ? [Math.floor(s / 3600), "小时前", "h ago"] : [Math.floor(s / 86400), "天前", "days ago"];
  return lang === "zh" ? `${n} ${zh}` : `${n} ${en}`;
}

/** What a status column says: a learner who passed on scores but attended too little has not
 * passed, and the column says so ("考核合格 · 出勤不足"), never a plain "合格". */
export type Standing = PassStatus | "passed_not_eligible";

export function standing(status: PassStatus, eligible: boolean): Standing {
  return status === "passed" && !eligible ? "passed_not_eligible" : status;
}

/** The calendar date on this computer's clock, `YYYY-MM-DD` (not the UTC date, which is still
 * yesterday before 08:00 in China). */
export function localDate(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}
