import { describe, expect, it } from "vitest";
import { duration, fraction, parseDurationMs, port, wholeNumber } from "./schemas.ts";

const messageOf = (result: { success: boolean; error?: { issues: { message: string }[] } }) =>
  result.success ? undefined : result.error?.issues[0]?.message;

describe("the schemas settings share", () => {
  it("reads durations with units, a bare number as milliseconds", () => {
    expect(parseDurationMs("250ms")).toBe(250);
    expect(parseDurationMs("1.5s")).toBe(1500);
    expect(parseDurationMs("10m")).toBe(600_000);
    expect(parseDurationMs("2d")).toBe(172_800_000);
    expect(parseDurationMs("40")).toBe(40);
    expect(parseDurationMs("1 week")).toBeUndefined();
    expect(duration().parse("2m")).toBe(120_000);
    expect(messageOf(duration().safeParse("soon"))).toBe(
      "expected a duration such as 500ms, 1s, 10m, 1h or 1d",
    );
    expect(messageOf(duration().safeParse("0"))).toBe("must be at least 1ms");
    expect(duration({ min: 0 }).parse("0")).toBe(0);
    expect(messageOf(duration({ min: 0, max: 300_000, why: "too far" }).safeParse("10m"))).toBe(
      "must be at most 5m: too far",
    );
  });

  it("reads whole numbers, fractions and ports, saying what is allowed", () => {
    expect(messageOf(wholeNumber({ min: 0, unit: "months" }).safeParse("1.5"))).toBe(
      "must be a whole number of months",
    );
    expect(fraction.parse("0.02")).toBe(0.02);
    expect(messageOf(fraction.safeParse("1.5"))).toBe("expected a fraction between 0 and 1, e.g. 0.02");
    expect(port().parse("9464")).toBe(9464);
    expect(messageOf(port().safeParse("0"))).toBe("expected a TCP port 1-65535");
    expect(port({ zero: "picks a free one" }).parse("0")).toBe(0);
    expect(messageOf(port({ zero: "picks a free one" }).safeParse("http"))).toBe(
      "expected a TCP port 0-65535 (0 picks a free one)",
    );
  });
});
