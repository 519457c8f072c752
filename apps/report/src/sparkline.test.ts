import { describe, expect, it } from "vitest";
import { sparkline } from "./sparkline.ts";

describe("sparkline", () => {
  it("draws the minimum as the lowest bar and the maximum as the highest", () => {
    expect(sparkline([-20, 0, 20])).toBe("▁▅█");
  });

  it("draws a flat series at mid height instead of dividing by zero", () => {
    expect(sparkline([5, 5, 5])).toBe("▄▄▄");
  });

  it("leaves a gap for a missing value and draws nothing for no data", () => {
    expect(sparkline([1, Number.NaN, 2])).toBe("▁ █");
    expect(sparkline([])).toBe("");
  });
});
