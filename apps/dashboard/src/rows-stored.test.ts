import { describe, expect, it } from "vitest";
import { InsertRate } from "./rows-stored.ts";

const sample = (at: number, winnipeg: number, vancouver: number) => ({
  at,
  byCity: new Map([
    ["winnipeg", winnipeg],
    ["vancouver", vancouver],
  ]),
});

describe("InsertRate", () => {
  it("turns PostgreSQL's insert counters into rows per second, in total and per city", () => {
    const rate = new InsertRate();
    expect(rate.add(sample(0, 100, 50)).perSecond).toBeNull();
    rate.add(sample(2_000, 300, 50));
    const now = rate.add(sample(4_000, 500, 150));
    expect(now.perSecond).toBe((650 - 150) / 4);
    expect(now.perCity).toEqual({ winnipeg: 100, vancouver: 25 });
    expect(now.history).toEqual([
      [2, 100],
      [4, 150],
    ]);
  });

  it("starts afresh when a counter goes down (statistics reset, server restart) instead of going negative", () => {
    const rate = new InsertRate();
    rate.add(sample(0, 1_000, 1_000));
    rate.add(sample(2_000, 1_200, 1_000));
    expect(rate.add(sample(4_000, 10, 0)).perSecond).toBeNull();
    expect(rate.add(sample(6_000, 30, 0)).perSecond).toBe(10);
  });

  it("rates over the last ten seconds only", () => {
    const rate = new InsertRate();
    rate.add(sample(0, 0, 0));
    rate.add(sample(5_000, 10_000, 0));
    rate.add(sample(15_000, 10_000, 0));
    expect(rate.current().perSecond).toBe(0);
  });
});
