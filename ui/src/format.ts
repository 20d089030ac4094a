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
