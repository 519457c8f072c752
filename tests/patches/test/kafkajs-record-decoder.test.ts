import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";

// patches/kafkajs@2.2.4.patch rewrites how kafkajs decodes fetched records (numbers instead of
// Long arithmetic on strings, a loop instead of a reduce with spread, records read in place, the
// header keys a batch repeats decoded once): pg-sink's hottest library code. These tests encode
// record batches with kafkajs's own encoder and hold the patched decoder to what the original
// produced.
const require = createRequire(import.meta.url);
type Headers = Record<string, Buffer | Buffer[]>;
interface DecodedRecord {
  offset: string;
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Headers;
}
const Long = require("kafkajs/src/utils/long") as { fromValue(value: string | number): unknown };
const Decoder = require("kafkajs/src/protocol/decoder") as new (buffer: Buffer) => unknown;
const { RecordBatch: encodeBatch } = require("kafkajs/src/protocol/recordBatch/v0") as {
  RecordBatch: (batch: object) => Promise<{ buffer: Buffer }>;
};
const encodeRecord = require("kafkajs/src/protocol/recordBatch/record/v0") as (record: object) => unknown;
const decodeBatch = require("kafkajs/src/protocol/recordBatch/v0/decoder") as (
  decoder: unknown,
) => Promise<{ records: DecodedRecord[] }>;

async function encodedBatch(
  firstOffset: string,
  firstTimestamp: string,
  records: { offsetDelta: number; timestampDelta: number; headers?: Headers }[],
): Promise<Buffer> {
  const encoded = await encodeBatch({
    firstOffset: Long.fromValue(firstOffset),
    firstTimestamp: Long.fromValue(firstTimestamp),
    maxTimestamp: Long.fromValue(firstTimestamp),
    lastOffsetDelta: records.length - 1,
    records: records.map((r, i) =>
      encodeRecord({
        ...r,
        key: Buffer.from(`k${i}`),
        value: Buffer.from(`v${i}`),
        headers: r.headers ?? {},
      }),
    ),
  });
  return encoded.buffer;
}

async function roundTrip(...batch: Parameters<typeof encodedBatch>): Promise<DecodedRecord[]> {
  const { records } = await decodeBatch(new Decoder(await encodedBatch(...batch)));
  return records;
}

describe("kafkajs's record decoder, as patched", () => {
  it("gives offsets and timestamps as exact decimal strings, below and beyond 2^53", async () => {
    const small = await roundTrip("41", "1764000000000", [
      { offsetDelta: 0, timestampDelta: 0 },
      { offsetDelta: 1, timestampDelta: 7 },
      { offsetDelta: 2, timestampDelta: -3 },
    ]);
    expect(small.map((r) => [r.offset, r.timestamp])).toEqual([
      ["41", "1764000000000"],
      ["42", "1764000000007"],
      ["43", "1763999999997"],
    ]);
    const huge = await roundTrip("9007199254740991", "9007199254740990", [
      { offsetDelta: 0, timestampDelta: 0 },
      { offsetDelta: 1, timestampDelta: 1 },
      { offsetDelta: 2, timestampDelta: 2 ** 40 },
    ]);
    expect(huge.map((r) => [r.offset, r.timestamp])).toEqual([
      ["9007199254740991", "9007199254740990"],
      ["9007199254740992", "9007199254740991"],
      ["9007199254740993", "9008298766368766"],
    ]);
  });

  it("collects headers as before: repeated keys into an array, odd names as own properties", async () => {
    const headers = {
      "content-type": Buffer.from("application/vnd.confluent.avro"),
      repeated: [Buffer.from("a"), Buffer.from("b"), Buffer.from("c")],
      ["__proto__"]: Buffer.from("not a prototype"),
      toString: Buffer.from("t"),
    } as Headers;
    const [record] = await roundTrip("0", "0", [{ offsetDelta: 0, timestampDelta: 0, headers }]);
    expect(record?.key).toEqual(Buffer.from("k0"));
    expect(record?.value).toEqual(Buffer.from("v0"));
    expect(Object.getPrototypeOf(record?.headers)).toBe(Object.prototype);
    expect(Object.keys(record?.headers ?? {})).toEqual(["content-type", "repeated", "__proto__", "toString"]);
    expect(record?.headers["content-type"]).toEqual(Buffer.from("application/vnd.confluent.avro"));
    expect(record?.headers.repeated).toEqual([Buffer.from("a"), Buffer.from("b"), Buffer.from("c")]);
    // The original read inherited members too (obj[key]), so "__proto__" and "toString" each became
    // a pair with the inherited value; kept exactly so, as own properties, never a new prototype.
    expect(Object.getOwnPropertyDescriptor(record?.headers, "__proto__")?.value).toEqual([
      Object.prototype,
      Buffer.from("not a prototype"),
    ]);
    expect(record?.headers.toString).toEqual([Object.prototype.toString, Buffer.from("t")]);
  });

  it("reads records in place: each keeps its own key, value and headers, spread, serialised or reassigned", async () => {
    const records = await roundTrip("7", "0", [
      { offsetDelta: 0, timestampDelta: 0, headers: { a: Buffer.from("1") } },
      { offsetDelta: 1, timestampDelta: 0 },
      { offsetDelta: 2, timestampDelta: 0, headers: { b: Buffer.from("2") } },
    ]);
    const [first, second, third] = records as [DecodedRecord, DecodedRecord, DecodedRecord];
    expect(Object.keys(first)).toContain("headers");
    expect({ ...first }.headers).toEqual({ a: Buffer.from("1") });
    expect(first.headers).toBe(first.headers);
    expect(second.headers).toEqual({});
    expect(JSON.parse(JSON.stringify(third)).headers).toEqual({ b: { type: "Buffer", data: [50] } });
    third.headers = { c: Buffer.from("3") };
    expect(third.headers).toEqual({ c: Buffer.from("3") });
    expect(records.map((r) => [r.offset, r.key?.toString(), r.value?.toString()])).toEqual([
      ["7", "k0", "v0"],
      ["8", "k1", "v1"],
      ["9", "k2", "v2"],
    ]);
  });

  it("decodes each record's header keys, however they differ from the record before", async () => {
    const keys = ["ab", "ac", "ac", "clé", "cle", "ab"];
    const records = await roundTrip(
      "0",
      "0",
      keys.map((key, i) => ({
        offsetDelta: i,
        timestampDelta: 0,
        headers: { [key]: Buffer.from(String(i)) },
      })),
    );
    expect(records.map((r) => Object.keys(r.headers))).toEqual(keys.map((key) => [key]));
    expect(records.map((r) => Object.values(r.headers)[0]?.toString())).toEqual(
      keys.map((_, i) => String(i)),
    );
  });

  it("remembers header keys within a batch only: batches with other keys at the same places, decoded in turn, each keep theirs", async () => {
    const batchOf = (keys: string[]) =>
      encodedBatch(
        "0",
        "0",
        [0, 1, 2].map((i) => ({
          offsetDelta: i,
          timestampDelta: 0,
          headers: Object.fromEntries(keys.map((key) => [key, Buffer.from(key)])),
        })),
      );
    const batches = [await batchOf(["format", "producer"]), await batchOf(["formax", "producex"])];
    const decoded = [];
    for (const batch of [...batches, ...batches])
      decoded.push((await decodeBatch(new Decoder(batch))).records);
    expect(decoded.map((records) => records.map((r) => Object.keys(r.headers).join(",")))).toEqual([
      ["format,producer", "format,producer", "format,producer"],
      ["formax,producex", "formax,producex", "formax,producex"],
      ["format,producer", "format,producer", "format,producer"],
      ["formax,producex", "formax,producex", "formax,producex"],
    ]);
  });
});
