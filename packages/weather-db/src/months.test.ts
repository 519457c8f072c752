import { describe, expect, it } from "vitest";
import {
  addMonths,
  bootstrapMonths,
  describeMonths,
  formatMonth,
  monthOf,
  monthStart,
  monthStartLiteral,
  oldestKept,
  parseMonth,
} from "./months.ts";

const at = (iso: string) => new Date(iso);

describe("months", () => {
  it("takes the month of an instant in UTC, whatever the local time zone says", () => {
    expect(formatMonth(monthOf(at("2026-01-31T23:59:59.999Z")))).toBe("2026-01");
    expect(formatMonth(monthOf(at("2026-02-01T00:00:00.000Z")))).toBe("2026-02");
  });

  it("adds months across year ends, both ways", () => {
    expect(formatMonth(addMonths(parseMonth("2026-11"), 3))).toBe("2027-02");
    expect(formatMonth(addMonths(parseMonth("2026-02"), -14))).toBe("2024-12");
  });

  it("writes a month's start as a UTC literal and a Date", () => {
    expect(monthStartLiteral(parseMonth("2026-03"))).toBe("2026-03-01 00:00:00+00");
    expect(monthStart(parseMonth("2026-12")).toISOString()).toBe("2026-12-01T00:00:00.000Z");
  });

  it("refuses text that is no month", () => {
    expect(() => parseMonth("2026-13")).toThrow(/not a month/);
    expect(() => parseMonth("2026-1")).toThrow(/not a month/);
  });

  it("describes a list of months as runs", () => {
    expect(describeMonths(["2026-02", "2025-11", "2025-12", "2026-01", "2026-05"])).toBe(
      "2025-11..2026-02, 2026-05",
    );
    expect(describeMonths([])).toBe("");
  });

  it("keeps the current month and the retention's months before it", () => {
    const now = at("2026-11-27T12:00:00Z");
    expect(oldestKept(now, null)).toBeUndefined();
    expect(formatMonth(oldestKept(now, 12) ?? parseMonth("1970-01"))).toBe("2025-11");
    expect(formatMonth(oldestKept(now, 0) ?? parseMonth("1970-01"))).toBe("2026-11");
  });

  it("makes bootstrap create monthsBack before now to monthsAhead after it", () => {
    const months = bootstrapMonths(at("2026-11-27T12:00:00Z"), {
      monthsBack: 2,
      monthsAhead: 3,
      retentionMonths: null,
    });
    expect(months.map(formatMonth)).toEqual([
      "2026-09",
      "2026-10",
      "2026-11",
      "2026-12",
      "2027-01",
      "2027-02",
    ]);
  });

  it("never makes bootstrap create a month the retention would drop", () => {
    const months = bootstrapMonths(at("2026-11-27T12:00:00Z"), {
      monthsBack: 12,
      monthsAhead: 0,
      retentionMonths: 1,
    });
    expect(months.map(formatMonth)).toEqual(["2026-10", "2026-11"]);
  });
});
