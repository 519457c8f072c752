import { describe, expect, it } from "vitest";
import { chunksOf } from "./batch-handler.ts";

describe("chunksOf", () => {
  it("splits a batch into transactions of at most the batch size, in order", () => {
    expect(chunksOf([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunksOf([1, 2], 5)).toEqual([[1, 2]]);
    expect(chunksOf([], 5)).toEqual([]);
  });
});
