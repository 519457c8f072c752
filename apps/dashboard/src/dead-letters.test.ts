import { DEAD_LETTER_HEADERS } from "@weather/schema";
import { describe, expect, it } from "vitest";
import { toDeadLetter } from "./dead-letters.ts";

describe("toDeadLetter", () => {
  it("reads the reason and the source from the headers the sink writes", () => {
    const letter = toDeadLetter({
      partition: 1,
      offset: "7",
      timestamp: String(Date.UTC(2026, 10, 27, 12, 0, 0)),
      headers: {
        [DEAD_LETTER_HEADERS.errorKind]: Buffer.from("bad-magic-byte"),
        [DEAD_LETTER_HEADERS.errorClass]: Buffer.from("ReadingDecodeError"),
        [DEAD_LETTER_HEADERS.errorMessage]: Buffer.from("first byte 103, expected 0"),
        [DEAD_LETTER_HEADERS.sourceTopic]: Buffer.from("weather.readings"),
        [DEAD_LETTER_HEADERS.sourcePartition]: Buffer.from("2"),
        [DEAD_LETTER_HEADERS.sourceOffset]: Buffer.from("41"),
      },
    });
    expect(letter).toEqual({
      partition: 1,
      offset: 7,
      at: "2026-11-27T12:00:00.000Z",
      reason: "bad-magic-byte",
      errorClass: "ReadingDecodeError",
      message: "first byte 103, expected 0",
      source: "weather.readings[2]@41",
    });
  });

  it("still lists a message without the sink's headers, as of unknown reason", () => {
    const letter = toDeadLetter({
      partition: 0,
      offset: "0",
      timestamp: "0",
      headers: {},
    });
    expect(letter).toMatchObject({ reason: "unknown", source: "(unknown)", message: "(no reason given)" });
  });
});
