import { describe, expect, it } from "vitest";
import { type Distribution, describeDistribution, parseDistribution, sampleMs } from "./distribution.ts";
import { createPrng } from "./prng.ts";

function draws(distribution: Distribution, n = 40_000, seed = "draws"): number[] {
  const prng = createPrng(seed);
  return Array.from({ length: n }, () => sampleMs(distribution, prng));
}

const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;
const median = (values: readonly number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

describe("distributions of durations", () => {
  it("reads each form settings take", () => {
    expect(parseDistribution("fixed:5m")).toEqual({ kind: "fixed", ms: 300_000 });
    expect(parseDistribution("uniform:1m..1h")).toEqual({ kind: "uniform", minMs: 60_000, maxMs: 3_600_000 });
    expect(parseDistribution("exponential:10m")).toEqual({ kind: "exponential", meanMs: 600_000 });
    expect(parseDistribution("exp:90s")).toEqual({ kind: "exponential", meanMs: 90_000 });
    expect(parseDistribution("lognormal:10m:1.5")).toEqual({
      kind: "lognormal",
      medianMs: 600_000,
      sigma: 1.5,
    });
  });

  it("refuses what is no distribution, or an empty one", () => {
    for (const text of [
      "",
      "5m",
      "normal:5m",
      "uniform:1h..1m",
      "uniform:1m",
      "exponential:0",
      "lognormal:10m",
      "fixed:soon",
    ]) {
      expect(parseDistribution(text), text).toBeUndefined();
    }
  });

  it("writes a distribution back in the form it reads", () => {
    for (const text of ["fixed:5m", "uniform:1m..1h", "exponential:10m", "lognormal:10m:1.5"]) {
      const distribution = parseDistribution(text) as Distribution;
      expect(parseDistribution(describeDistribution(distribution))).toEqual(distribution);
    }
  });

  it("draws a fixed duration every time", () => {
    expect(new Set(draws({ kind: "fixed", ms: 1234 }, 100))).toEqual(new Set([1234]));
  });

  it("draws uniformly between the bounds", () => {
    const values = draws({ kind: "uniform", minMs: 60_000, maxMs: 3_600_000 });
    expect(Math.min(...values)).toBeGreaterThanOrEqual(60_000);
    expect(Math.max(...values)).toBeLessThanOrEqual(3_600_000);
    // The midpoint, within 1 % (3.5 standard errors of 40,000 draws).
    expect(mean(values) / 1_830_000).toBeGreaterThan(0.99);
    expect(mean(values) / 1_830_000).toBeLessThan(1.01);
    const lowQuarter = values.filter((v) => v < 60_000 + 3_540_000 / 4).length / values.length;
    expect(lowQuarter).toBeGreaterThan(0.24);
    expect(lowQuarter).toBeLessThan(0.26);
  });

  it("draws an exponential with its mean, its median at mean times ln 2, many short and a few long", () => {
    const values = draws({ kind: "exponential", meanMs: 600_000 });
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(mean(values) / 600_000).toBeGreaterThan(0.98);
    expect(mean(values) / 600_000).toBeLessThan(1.02);
    expect(median(values) / (600_000 * Math.LN2)).toBeGreaterThan(0.97);
    expect(median(values) / (600_000 * Math.LN2)).toBeLessThan(1.03);
    // P(X > 3 * mean) = e^-3, about 5 %.
    const tail = values.filter((v) => v > 1_800_000).length / values.length;
    expect(tail).toBeGreaterThan(0.045);
    expect(tail).toBeLessThan(0.055);
  });

  it("draws a lognormal around its median, with a heavy tail", () => {
    const values = draws({ kind: "lognormal", medianMs: 600_000, sigma: 1 });
    expect(median(values) / 600_000).toBeGreaterThan(0.97);
    expect(median(values) / 600_000).toBeLessThan(1.03);
    expect(mean(values)).toBeGreaterThan(median(values) * 1.5); // e^(sigma^2/2) = 1.65
  });

  it("draws the same durations from the same seed, and others from another", () => {
    const distribution: Distribution = { kind: "exponential", meanMs: 600_000 };
    expect(draws(distribution, 100, "a")).toEqual(draws(distribution, 100, "a"));
    expect(draws(distribution, 100, "a")).not.toEqual(draws(distribution, 100, "b"));
  });
});
