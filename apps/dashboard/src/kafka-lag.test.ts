import { describe, expect, it } from "vitest";
import { lagOf } from "./kafka-lag.ts";

describe("lagOf", () => {
  it("is the messages between the group's committed offset and the end of the partition", () => {
    expect(lagOf(0, 120, 0, 100)).toEqual({ partition: 0, high: 120, low: 0, committed: 100, lag: 20 });
  });

  it("counts every retained message when the group has committed nothing", () => {
    expect(lagOf(1, 120, 20, null).lag).toBe(100);
  });

  it("counts from the log's start when retention removed what the group had not read", () => {
    expect(lagOf(2, 120, 50, 10).lag).toBe(70);
  });
});
