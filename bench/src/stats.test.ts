import { describe, expect, it } from "vitest";
import { median, percentile, ratePerSecond, ratio, summarizeLatencies } from "./stats.ts";

describe("median", () => {
  it("takes the middle value of an odd count, whatever the order", () => {
    expect(median([5, 1, 3])).toBe(3);
  });
  it("averages the middle two of an even count", () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
  it("ignores failed runs (NaN) and is NaN with no runs at all", () => {
    expect(median([Number.NaN, 2, 4, 6])).toBe(4);
    expect(median([])).toBeNaN();
  });
});

describe("percentile", () => {
  const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
  it("returns an observed sample by nearest rank", () => {
    expect(percentile(sorted, 50)).toBe(50);
    expect(percentile(sorted, 99)).toBe(99);
    expect(percentile(sorted, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
  });
  it("summarises unsorted latencies", () => {
    const summary = summarizeLatencies([...sorted].reverse());
    expect(summary).toEqual({ samples: 100, p50: 50, p95: 95, p99: 99, max: 100 });
  });
});

describe("rates and ratios", () => {
  it("turns a count over milliseconds into a rate per second", () => {
    expect(ratePerSecond(5_000, 2_000)).toBe(2_500);
    expect(ratePerSecond(1, 0)).toBeNaN();
  });
  it("refuses a ratio to nothing", () => {
    expect(ratio(1, 4)).toBe(0.25);
    expect(ratio(1, 0)).toBeNaN();
    expect(ratio(Number.NaN, 2)).toBeNaN();
  });
});
