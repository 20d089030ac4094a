// Display helpers shared by screens; pure functions so they are unit-tested.

const LEVEL_ZH = ["", "一级/高级技师", "二级/技师", "三级/高级工", "四级/中级工", "五级/初级工"];

/** 五级/初级工 for level 5, and so on. */
export function levelName(level: number, lang: "zh" | "en" = "zh"): string {
  if (lang === "en") return `Level ${level}`;
  return LEVEL_ZH[level] ?? `${level}级`;
}

/** Credits are stored in exact tenths: 65 → "6.5". */
export function formatCredits(tenths: number): string {
  const sign = tenths < 0 ? "-" : "";
  const abs = Math.abs(tenths);
  return `${sign}${Math.floor(abs / 10)}.${abs % 10}`;
}

/** HQ writes its reasons as "中文 / English": the part for the current language. */
export function hqReason(text: string | null | undefined, lang: string): string {
  if (!text) return "";
  const i = text.indexOf(" / ");
  if (i < 0) return text;
  return lang === "en" ? text.slice(i + 3) : text.slice(0, i);
}

/** A programme in the user's language with its level: 母婴护理 · 五级/初级工, or
 * Maternity and newborn care · Level 5. Never the other language's name. */
export function programmeLabel(p: { name_zh: string; name_en: string; level: number }, locale: string): string {
  const en = locale === "en";
  return `${en ? p.name_en : p.name_zh} · ${levelName(p.level, en ? "en" : "zh")}`;
}

/** The last part of a path: a toast shows the file's name, not a temporary folder. */
export function fileName(path: string): string {
  return path.split(/[\\/]/).filter(Boolean).pop() ?? path;
}

/** A time of day in the user's language, 24-hour: 15:00. */
export function clock(iso: string, locale: string): string {
  return new Date(iso).toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit", hour12: false });
}

/** A date and time in the user's language: 2026/12/2 15:20:49, or 12/2/2026, 3:20:49 PM. */
export function stamp(iso: string, locale: string): string {
  return new Date(iso).toLocaleString(locale);
}

/** A changed field's value as a screen shows it: dates `2026-09-01/2026-10-01` as a range,
 * a removed phone number as `removed`, anything else as stored. */
export function changeValue(value: string | null, removed: string): string {
  if (value === null) return removed;
  const dates = /^(\d{4}-\d{2}-\d{2})\/(\d{4}-\d{2}-\d{2})$/.exec(value);
  return dates ? `${dates[1]} – ${dates[2]}` : value;
}
