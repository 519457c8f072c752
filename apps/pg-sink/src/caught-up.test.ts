import { describe, expect, it } from "vitest";
import { isCaughtUp } from "./caught-up.ts";

describe("isCaughtUp", () => {
  const marks = [
    { partition: 0, low: "0", high: "10" },
    { partition: 1, low: "0", high: "0" },
  ];

  it("is caught up when every non-empty partition is stored to its high watermark", () => {
    expect(isCaughtUp(marks, new Map([[0, 10n]]))).toBe(true);
  });

  it("is not while a partition is behind or was never stored", () => {
    expect(isCaughtUp(marks, new Map([[0, 9n]]))).toBe(false);
    expect(isCaughtUp(marks, new Map())).toBe(false);
  });

  it("counts a partition whose messages all expired as done", () => {
    expect(isCaughtUp([{ partition: 0, low: "7", high: "7" }], new Map())).toBe(true);
  });
});
