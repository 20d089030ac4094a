import { describe, expect, it } from "vitest";
import { ago, attendanceSeries, dayBounds, emptyEntries, entriesToMarks, fullMarks, hours, idChecksumOk, markForKey, percent, rubricResult, shouldLock, standing, localDate } from "./logic";
import type { RubricItem } from "./bindings/RubricItem";

// The pass mark the backend sends with every rubric (`RubricForm.pass_mark`).
const PASS_MARK = 60;

const items: RubricItem[] = [
  { id: "prep", name_zh: "操作准备", name_en: "Preparation", max_points: 10, critical: false },
  { id: "proc", name_zh: "操作流程", name_en: "Procedure", max_points: 90, critical: false },
  { id: "water", name_zh: "未测试水温", name_en: "Water temperature not checked", max_points: 0, critical: true },
];

describe("rubricResult", () => {
  it("totals live and passes at 60", () => {
    const marks = fullMarks(items);
    expect(rubricResult(items, marks, PASS_MARK)).toEqual({ total: 100, criticalFailed: false, passed: true, complete: true });
    marks[1].points = 50;
    expect(rubricResult(items, marks, PASS_MARK).passed).toBe(true);
    marks[1].points = 49;
    expect(rubricResult(items, marks, PASS_MARK)).toMatchObject({ total: 59, passed: false });
  });
  it("fails a critical item at full points", () => {
    const marks = fullMarks(items);
    marks[2].failed = true;
    expect(rubricResult(items, marks, PASS_MARK)).toMatchObject({ total: 100, criticalFailed: true, passed: false });
  });
  it("is not passed until every item is marked", () => {
    expect(rubricResult(items, fullMarks(items).slice(0, 2), PASS_MARK).passed).toBe(false);
  });
});

describe("markForKey", () => {
  it("maps letters and digits to marks", () => {
    expect(markForKey("P", "t")).toEqual({ mark: "present" });
    expect(markForKey("2", "t")).toEqual({ mark: "late", at: "t" });
    expect(markForKey("a", "t")).toEqual({ mark: "absent" });
    expect(markForKey("e", "t")).toEqual({ mark: "excused" });
    expect(markForKey("x", "t")).toBeNull();
  });
});

describe("helpers", () => {
  it("computes local day bounds 24 h apart", () => {
    const { from, to } = dayBounds(new Date(2026, 10, 28, 15, 30));
    expect(new Date(to).getTime() - new Date(from).getTime()).toBe(24 * 3600 * 1000);
    expect(new Date(from).getHours()).toBe(0);
  });
  it("locks after the idle time", () => {
    expect(shouldLock(0, 9 * 60 * 1000, 10)).toBe(false);
    expect(shouldLock(0, 10 * 60 * 1000, 10)).toBe(true);
  });
  it("shows hours with one decimal, never rounding up past the rule", () => {
    expect(hours(5183)).toBe("86.3");
    expect(hours(5760)).toBe("96.0");
  });
  it("checks the ID checksum", () => {
    expect(idChecksumOk("11010519491231002X")).toBe(true);
    expect(idChecksumOk("11010519491231002x")).toBe(true);
    expect(idChecksumOk("110105194912310021")).toBe(false);
    expect(idChecksumOk("1101051949")).toBe(false);
  });
});

describe("review helpers", () => {
  it("percent rounds to one decimal and has no value for an empty whole", () => {
    expect(percent(9, 12)).toBe(75);
    expect(percent(2, 3)).toBe(66.7);
    expect(percent(1, 0)).toBeNull();
  });
  it("attendance series labels weeks by month-day and gives rates", () => {
    const s = attendanceSeries([
      { week: "2026-10-05", attended_minutes: 540, scheduled_minutes: 600 },
      { week: "2026-10-12", attended_minutes: 0, scheduled_minutes: 0 },
    ]);
    expect(s.labels).toEqual(["10-05", "10-12"]);
    expect(s.rates).toEqual([90, null]);
  });
  it("ago says how long ago in both languages", () => {
    const now = Date.parse("2026-11-29T10:00:00Z");
    expect(ago("2026-11-29T09:57:00Z", now, "zh")).toBe("3 分钟前");
    expect(ago("2026-11-27T10:00:00Z", now, "en")).toBe("2 days ago");
    expect(ago(null, now, "en")).toBeNull();
  });
});

describe("standing", () => {
  it("never says passed for a learner who attended too little", () => {
    expect(standing("passed", true)).toBe("passed");
    expect(standing("passed", false)).toBe("passed_not_eligible");
    expect(standing("failed", false)).toBe("failed");
    expect(standing("pending", false)).toBe("pending");
  });
});

describe("localDate", () => {
  it("is the date on the local clock, not UTC's", () => {
    // 07:30 local time on 2 December: the UTC date may still be the 1st, the local one is not.
    expect(localDate(new Date(2026, 11, 2, 7, 30))).toBe("2026-12-02");
    expect(localDate(new Date(2026, 0, 5, 23, 59))).toBe("2026-01-05");
  });
});

describe("the rubric form", () => {
  const items = [
    { id: "a", name_zh: "甲", name_en: "A", max_points: 60, critical: false },
    { id: "b", name_zh: "乙", name_en: "B", max_points: 40, critical: false },
    { id: "c", name_zh: "丙", name_en: "C", max_points: 0, critical: true },
  ] as unknown as Parameters<typeof emptyEntries>[0];

  it("starts with every scored item empty, so nothing passes until each is marked", () => {
    const entries = emptyEntries(items);
    const { marks, unmarked } = entriesToMarks(items, entries);
    expect(unmarked).toBe(2);
    expect(rubricResult(items, marks, 60)).toMatchObject({ total: 0, complete: false, passed: false });
    entries[0].points = 60;
    expect(entriesToMarks(items, entries).unmarked).toBe(1);
    entries[1].points = 0;
    const done = entriesToMarks(items, entries);
    expect(done.unmarked).toBe(0);
    expect(rubricResult(items, done.marks, 60)).toMatchObject({ total: 60, complete: true, passed: true });
    entries[2].failed = true;
    expect(rubricResult(items, entriesToMarks(items, entries).marks, 60).passed).toBe(false);
  });
});
