import { DEAD_LETTER_HEADERS } from "@weather/schema";
import { describe, expect, it } from "vitest";
import { buildDeadLetter } from "./dead-letter.ts";

describe("buildDeadLetter", () => {
  const original = {
    key: Buffer.from("CYWG"),
    value: Buffer.from([1, 2, 3]),
    headers: { "trace-id": Buffer.from("abc") },
    offset: "17",
    timestamp: "1700000000000",
  };
  const letter = buildDeadLetter(
    original,
    { topic: "weather.readings", partition: 2 },
    { errorClass: "ReadingDecodeError", kind: "bad-magic-byte", message: "first byte 1" },
    new Date("2025-01-02T03:04:05.678Z"),
  );

  it("keeps the original key, value and headers so the message can be replayed as-is", () => {
    expect(letter.key).toBe(original.key);
    expect(letter.value).toBe(original.value);
    expect(letter.headers?.["trace-id"]).toEqual(Buffer.from("abc"));
  });

  it("names the error, its kind, the source position and the time", () => {
    expect(letter.headers).toMatchObject({
      [DEAD_LETTER_HEADERS.errorClass]: "ReadingDecodeError",
      [DEAD_LETTER_HEADERS.errorKind]: "bad-magic-byte",
      [DEAD_LETTER_HEADERS.errorMessage]: "first byte 1",
      [DEAD_LETTER_HEADERS.sourceTopic]: "weather.readings",
      [DEAD_LETTER_HEADERS.sourcePartition]: "2",
      [DEAD_LETTER_HEADERS.sourceOffset]: "17",
      [DEAD_LETTER_HEADERS.sourceTimestamp]: "1700000000000",
      [DEAD_LETTER_HEADERS.failedAt]: "2025-01-02T03:04:05.678Z",
    });
  });

  it("keeps a tombstone a tombstone", () => {
    const tombstone = buildDeadLetter(
      { ...original, value: null, headers: {} },
      { topic: "t", partition: 0 },
      { errorClass: "EmptyValueError", kind: "empty-value", message: "none" },
      new Date(0),
    );
    expect(tombstone.value).toBeNull();
  });
});
