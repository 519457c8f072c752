import { describe, expect, it } from "vitest";
import { readWireHeader } from "./wire.ts";

describe("wire header", () => {
  it("reads the magic byte and the big-endian schema id, also from a sliced buffer", () => {
    const whole = Buffer.from([9, 9, 0, 0, 0, 1, 2, 42]);
    expect(readWireHeader(whole.subarray(2))).toEqual({ magicByte: 0, schemaId: 258 });
  });

  it("has no header in fewer than five bytes", () => {
    expect(readWireHeader(Buffer.from([0, 0, 0, 1]))).toBeUndefined();
  });
});
