import { describe, expect, it } from "vitest";
import { laterOf, nextOffsetAfter, planChunk } from "./offsets.ts";

const messages = (...offsets: number[]) => offsets.map((o) => ({ offset: String(o) }));

describe("planChunk", () => {
  it("stores every message at or after the stored offset", () => {
    expect(planChunk(messages(10, 11, 12), 10n, undefined)).toEqual({
      kind: "store",
      fresh: messages(10, 11, 12),
      alreadyStored: 0,
    });
  });

  it("drops messages below the stored offset: they are in PostgreSQL already", () => {
    expect(planChunk(messages(8, 9, 10, 11), 10n, undefined)).toEqual({
      kind: "store",
      fresh: messages(10, 11),
      alreadyStored: 2,
    });
  });

  it("drops a whole chunk another instance stored meanwhile", () => {
    expect(planChunk(messages(3, 4, 5), 100n, undefined)).toEqual({
      kind: "store",
      fresh: [],
      alreadyStored: 3,
    });
  });

  it("seeks back instead of leaving a gap when a chunk starts after the stored offset", () => {
    expect(planChunk(messages(15, 16), 10n, undefined)).toEqual({ kind: "seek", offset: 10n });
    expect(planChunk(messages(15, 16), 10n, 7n)).toEqual({ kind: "seek", offset: 10n });
  });

  it("accepts a hole in the log once a seek to the stored offset already led past it", () => {
    expect(planChunk(messages(15, 16), 10n, 10n)).toEqual({
      kind: "store",
      fresh: messages(15, 16),
      alreadyStored: 0,
    });
  });

  it("compares offsets as 64-bit integers, not strings or doubles", () => {
    const big = 2n ** 60n;
    const plan = planChunk([{ offset: (big - 1n).toString() }, { offset: big.toString() }], big, undefined);
    expect(plan).toEqual({ kind: "store", fresh: [{ offset: big.toString() }], alreadyStored: 1 });
  });
});

describe("nextOffsetAfter", () => {
  it("is one past the chunk's last message", () => {
    expect(nextOffsetAfter("41")).toBe(42n);
  });

  it("also moves past records kafkajs filtered out at the end of the batch", () => {
    expect(nextOffsetAfter("41", "42")).toBe(43n);
    expect(nextOffsetAfter("41", "41")).toBe(42n);
  });

  it("picks the later of two offsets", () => {
    expect(laterOf(3n, 5n)).toBe(5n);
    expect(laterOf(5n, 3n)).toBe(5n);
  });
});
