// Backend errors reach the screen in the user's language, worded from their kind and rule.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createI18n } from "vue-i18n";
import { errorText, ruleText } from "./errors";
import { messages } from "./messages";
import type { CommandError } from "./bindings/CommandError";

function words(locale: "zh-CN" | "en") {
  const i18n = createI18n({ legacy: false, locale, messages });
  const { t, te } = i18n.global;
  return { t: (k: string, p?: Record<string, unknown>) => t(k, p ?? {}), te: (k: string) => te(k) };
}

const checksum: CommandError = {
  kind: "invalid",
  params: { field: "learner.id_number", rule: { rule: "id_checksum" } },
  message: "learner.id_number: the check character does not match (a digit is probably mistyped); check the number against the card",
};

describe("errorText", () => {
  it("words a broken rule in Chinese on a Chinese screen, with its field", () => {
    const { t, te } = words("zh-CN");
    expect(errorText(checksum, t, te)).toBe("证件号码：校验位不符（可能有数字输错），请对照证件核对");
    expect(errorText(checksum, t, te)).not.toMatch(/check character/);
  });

  it("words it in English on an English screen, parameters filled in", () => {
    const { t, te } = words("en");
    const range: CommandError = {
      kind: "invalid",
      params: { field: "cohort.capacity", rule: { rule: "out_of_range", min: 1, max: 200, value: 500 } },
      message: "cohort.capacity: a whole number from 1 to 200, not 500",
    };
    expect(errorText(range, t, te)).toBe("Capacity：A whole number from 1 to 200, not 500");
  });

  it("falls back to core's sentence, after the field's label, when a rule has no words yet", () => {
    const { t, te } = words("zh-CN");
    const other: CommandError = { kind: "invalid", params: { field: "backup", rule: null }, message: "backup: the file is damaged" };
    expect(errorText(other, t, te)).toBe("backup：the file is damaged");
  });

  it("words a refused claim in Chinese with its parameters, not core's English", () => {
    const { t, te } = words("zh-CN");
    const e: CommandError = {
      kind: "invalid",
      params: { field: "claim", rule: { rule: "claim_attendance", name: "王秀英", attended: "80.0", required: 120 } },
      message: "claim: 王秀英 attended 80.0 of 120 required hours",
    };
    expect(errorText(e, t, te)).toBe("学分认定申请：王秀英出勤 80.0 学时，未达到要求的 120 学时；请先补录出勤");
  });

  it("words the other kinds from their parameters", () => {
    const { t, te } = words("zh-CN");
    expect(errorText({ kind: "screen_locked", message: "the screen locked" }, t, te)).toBe("长时间未操作已锁屏，请重新登录");
    expect(errorText({ kind: "refused", params: { code: "bad_enrolment_code" }, message: "used" }, t, te)).toContain("bad_enrolment_code");
    expect(errorText("boom", t, te)).toBe("boom");
  });

  it("has Chinese and English words for every rule the backend can send", () => {
    // Every rule in the generated binding (the Rust enum), not a hand-kept list.
    const binding = readFileSync(join(__dirname, "bindings", "Rule.ts"), "utf8");
    const rules = [...binding.matchAll(/"rule": "([a-z_]+)"/g)].map((m) => m[1]);
    expect(rules.length).toBeGreaterThan(25);
    for (const locale of ["zh-CN", "en"] as const) {
      const { t, te } = words(locale);
      for (const rule of rules) expect(ruleText({ rule } as never, t, te), `${locale} ${rule}`).not.toBeNull();
    }
  });
});
