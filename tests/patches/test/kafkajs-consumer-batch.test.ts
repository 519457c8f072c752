import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";

// patches/kafkajs@2.2.4.patch compares a fetched batch's offsets with the offset asked for as
// numbers below 2^53 instead of parsing every message's offset into a Long: the same messages kept.
const require = createRequire(import.meta.url);
const Batch = require("kafkajs/src/consumer/batch") as new (
  topic: string,
  fetchedOffset: string,
  partitionData: object,
) => { messages: { offset: string }[] };

const offsetsKept = (fetchedOffset: string, offsets: string[]) =>
  new Batch("readings", fetchedOffset, {
    partition: 0,
    highWatermark: "0",
    abortedTransactions: [],
    messages: offsets.map((offset) => ({ offset, key: null, value: null, headers: {} })),
  }).messages.map((m) => m.offset);

describe("kafkajs's consumer batch, as patched", () => {
  it("drops the messages a fetch returned before the offset asked for, below and beyond 2^53", () => {
    expect(offsetsKept("5", ["3", "4", "5", "6"])).toEqual(["5", "6"]);
    expect(
      offsetsKept("9007199254740992", ["9007199254740991", "9007199254740992", "9007199254740993"]),
    ).toEqual(["9007199254740992", "9007199254740993"]);
    expect(offsetsKept("9007199254740990", ["9007199254740989", "9007199254740993"])).toEqual([
      "9007199254740993",
    ]);
  });
});
