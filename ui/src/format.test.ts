import { describe, expect, it } from "vitest";
import { changeValue, formatCredits, hqReason, levelName } from "./format";

describe("formatCredits", () => {
  it("shows exact tenths without floating point", () => {
    expect(formatCredits(65)).toBe("6.5");
    expect(formatCredits(110)).toBe("11.0");
    expect(formatCredits(-65)).toBe("-6.5");
    expect(formatCredits(3)).toBe("0.3");
  });
});

describe("levelName", () => {
  it("names levels as the national standard does", () => {
    expect(levelName(5)).toBe("五级/初级工");
    expect(levelName(1)).toBe("一级/高级技师");
    expect(levelName(3, "en")).toBe("Level 3");
  });
});

describe("HQ reasons", () => {
  it("shows the part for the language, or the whole text when HQ sent one language", () => {
    const r = "学员没有姓名 / the learner has no name";
    expect(hqReason(r, "zh-CN")).toBe("学员没有姓名");
    expect(hqReason(r, "en")).toBe("the learner has no name");
    expect(hqReason("meets the rules", "zh-CN")).toBe("meets the rules");
    expect(hqReason(null, "en")).toBe("");
  });
});

describe("changeValue", () => {
  it("shows a dates change as a range, a removed number as removed, anything else as stored", () => {
    expect(changeValue("2026-09-01/2026-10-01", "（已删除）")).toBe("2026-09-01 – 2026-10-01");
    expect(changeValue(null, "（已删除）")).toBe("（已删除）");
    expect(changeValue("139****1111", "x")).toBe("139****1111");
    expect(changeValue("王小芳", "x")).toBe("王小芳");
    expect(changeValue("40", "x")).toBe("40");
  });
});
