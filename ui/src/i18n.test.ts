// Every string translated: both locales have the same keys, and every key the screens use
// exists.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { messages } from "./messages";

function keys(obj: object, prefix = ""): string[] {
  return Object.entries(obj).flatMap(([k, v]) => (typeof v === "object" ? keys(v, `${prefix}${k}.`) : [`${prefix}${k}`]));
}

function has(obj: unknown, path: string): boolean {
  return path.split(".").reduce<unknown>((o, k) => (o && typeof o === "object" ? (o as Record<string, unknown>)[k] : undefined), obj) !== undefined;
}

describe("translations", () => {
  it("zh-CN and en have exactly the same keys", () => {
    expect(keys(messages.en).sort()).toEqual(keys(messages["zh-CN"]).sort());
  });

  it("every literal key used by a screen exists in both languages", () => {
    const dir = join(__dirname, "views");
    const files = [...readdirSync(dir).map((f) => join(dir, f)), join(__dirname, "App.vue")];
    const used = new Set<string>();
    for (const f of files) {
      for (const m of readFileSync(f, "utf8").matchAll(/\bt\(\s*["']([a-zA-Z.]+)["']/g)) used.add(m[1]);
    }
    expect(used.size).toBeGreaterThan(50);
    const missing = [...used].filter((k) => !has(messages["zh-CN"], k) || !has(messages.en, k));
    expect(missing).toEqual([]);
  });

  it("every status, role and mark the backend sends has a label", () => {
    for (const s of ["passed", "failed", "pending"]) expect(has(messages.en, `status.${s}`)).toBe(true);
    for (const s of ["present", "late", "absent", "excused", "unmarked"]) expect(has(messages["zh-CN"], `attendance.${s}`)).toBe(true);
    for (const r of ["instructor", "site_manager", "assessor"]) expect(has(messages.en, `role.${r}`)).toBe(true);
  });
});
