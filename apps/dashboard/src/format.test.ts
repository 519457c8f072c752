import { describe, expect, it } from "vitest";
import { age, cityName, clockTime, count, dateTime, fixed, rate } from "../public/format.js";

describe("the page's formatting", () => {
  it("shows an instant in each city's own time zone, with the zone's abbreviation", () => {
    const instant = "2026-01-15T18:30:05.000Z";
    expect(clockTime(instant, "America/Winnipeg")).toBe("12:30:05 CST");
    expect(clockTime(instant, "America/Vancouver")).toBe("10:30:05 PST");
    // Summer time is the zone's business, not ours.
    expect(clockTime("2026-07-15T18:30:05Z", "America/Vancouver")).toBe("11:30:05 PDT");
    expect(dateTime(instant, "America/Winnipeg")).toBe("Jan 15, 12:30 CST");
    expect(dateTime("2026-01-16T05:00:00Z", "America/Vancouver")).toBe("Jan 15, 21:00 PST");
  });

  it("says how old something is in the largest sensible units", () => {
    expect(age(-500)).toBe("0 s");
    expect(age(12_999)).toBe("12 s");
    expect(age(4 * 60_000 + 59_000)).toBe("4 min");
    expect(age(2 * 3_600_000)).toBe("2 h");
    expect(age(2 * 3_600_000 + 5 * 60_000)).toBe("2 h 5 min");
    expect(age(3 * 86_400_000 + 4 * 3_600_000)).toBe("3 d 4 h");
  });

  it("shows numbers at their precision and a dash for nothing", () => {
    expect(fixed(-3.46, 1)).toBe("-3.5");
    expect(fixed(1013.25, 0)).toBe("1013");
    expect(fixed(null, 1)).toBe("—");
    expect(count(12345)).toBe("12,345");
    expect(rate(3.46)).toBe("3.5");
    expect(rate(1234.4)).toBe("1,234");
    expect(rate(null)).toBe("—");
    expect(cityName("new_york")).toBe("New York");
  });
});
