import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { createPrng } from "../src/prng.ts";

// patches/kafkajs@2.2.4.patch rewrites how kafkajs encodes what a producer sends: all records of a
// batch into one buffer (encodeRecords) instead of an Encoder per record and per header, the
// record batch written once at its exact size, messages grouped per partition in place, and the
// CRC32C eight bytes at a time. sensor-producer's hottest library code. These tests hold the new
// path to kafkajs's own Record()/RecordBatch() chain, which the patch leaves in place.
const require = createRequire(import.meta.url);

type HeaderValue = string | Buffer | (string | Buffer)[];
interface Message {
  key?: string | Buffer | null | undefined;
  value: string | Buffer | null;
  headers?: Record<string, HeaderValue>;
  timestamp?: string;
}
interface EncoderLike {
  readonly buffer: Buffer;
}
const Long = require("kafkajs/src/utils/long") as { fromValue(value: string | number): unknown };
const Record = require("kafkajs/src/protocol/recordBatch/record/v0") as ((record: object) => EncoderLike) & {
  encodeRecords(messages: readonly Message[], timestampDeltaOf: (message: Message) => number): EncoderLike;
};
const { RecordBatch } = require("kafkajs/src/protocol/recordBatch/v0") as {
  RecordBatch: (batch: object) => Promise<EncoderLike>;
};
const crc32C = require("kafkajs/src/protocol/recordBatch/crc32C/crc32C") as (buffer: Buffer) => number;
const groupMessagesPerPartition = require("kafkajs/src/producer/groupMessagesPerPartition") as (args: {
  topic: string;
  partitionMetadata: readonly object[];
  messages: readonly Message[];
  partitioner: (args: { message: Message }) => number;
}) => Record<string, Message[]>;
const produceRequestV3 = require("kafkajs/src/protocol/requests/produce/v3/request") as (args: object) => {
  encode(): Promise<EncoderLike>;
};

const SENSOR_PRODUCER_HEADERS = {
  "content-type": "application/vnd.confluent.avro",
  format: "avro",
  producer: "sensor-producer",
};
const HEADER_SETS: readonly Record<string, HeaderValue>[] = [
  {},
  SENSOR_PRODUCER_HEADERS,
  { repeated: ["1", Buffer.from("22")], ключ: "wert ü", empty: "" },
];

/** Seeded messages of every shape a caller may pass: string, Buffer, null and absent keys and values. */
function seededMessages(seed: string, count: number): Message[] {
  const prng = createPrng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(prng.next() * items.length)] as T;
  const shared = pick(HEADER_SETS);
  return Array.from({ length: count }, () => {
    const message: Message = {
      key: pick([null, undefined, "CYWG", "станция", Buffer.from("k"), Buffer.alloc(0), "x".repeat(300)]),
      value: pick([
        null,
        "text",
        Buffer.from("v"),
        randomBytes(Math.floor(prng.next() * 200)),
        randomBytes(20_000),
      ]),
      headers: prng.next() < 0.8 ? shared : pick(HEADER_SETS),
    };
    if (message.key === undefined) delete message.key;
    if (prng.next() < 0.2) message.timestamp = String(1_764_000_000_000 + Math.floor(prng.next() * 100_000));
    return message;
  });
}

const BATCH = {
  maxTimestamp: 1_764_000_000_500,
  producerId: Long.fromValue(4242),
  producerEpoch: 3,
  firstSequence: 77,
};

describe("kafkajs's record encoder, as patched", () => {
  it("writes every record byte for byte as Record() does, for every key, value and header shape", () => {
    for (let run = 0; run < 40; run++) {
      const messages = seededMessages(`records-${run}`, run === 0 ? 0 : 1 + run * 7);
      const deltaOf = (m: Message) =>
        m.timestamp === undefined ? 123 : Number(m.timestamp) - 1_764_000_000_000;
      const original = Buffer.concat(
        messages.map((m, i) => Record({ ...m, offsetDelta: i, timestampDelta: deltaOf(m) }).buffer),
      );
      expect(Record.encodeRecords(messages, deltaOf).buffer.equals(original)).toBe(true);
    }
  });

  it("falls back to Record() for timestamp deltas beyond 2^50 and negative ones, with the same bytes", () => {
    const messages = seededMessages("deltas", 50);
    const deltas = [
      0,
      -1,
      1,
      63,
      64,
      -65,
      2 ** 31,
      -(2 ** 31) - 1,
      2 ** 50 - 1,
      2 ** 50,
      -(2 ** 52),
      2 ** 53 - 1,
    ];
    const deltaOf = (m: Message) => deltas[messages.indexOf(m) % deltas.length] as number;
    const original = Buffer.concat(
      messages.map((m, i) => Record({ ...m, offsetDelta: i, timestampDelta: deltaOf(m) }).buffer),
    );
    expect(Record.encodeRecords(messages, deltaOf).buffer.equals(original)).toBe(true);
  });

  it("gives the same record batch as the Encoder chain, compressed or not, transactional or not", async () => {
    for (const [run, compression] of [0, 1, 0, 1].entries()) {
      const messages = seededMessages(`batch-${run}`, 2_000);
      const firstTimestamp = 1_764_000_000_000;
      const deltaOf = (m: Message) => Number(m.timestamp ?? firstTimestamp) - firstTimestamp;
      const common = {
        ...BATCH,
        compression,
        firstTimestamp,
        transactional: run < 2,
        lastOffsetDelta: messages.length - 1,
      };
      const original = await RecordBatch({
        ...common,
        records: messages.map((m, i) => Record({ ...m, offsetDelta: i, timestampDelta: deltaOf(m) })),
      });
      const patched = await RecordBatch({
        ...common,
        recordsEncoder: Record.encodeRecords(messages, deltaOf),
        recordCount: messages.length,
      });
      expect(patched.buffer.equals(original.buffer)).toBe(true);
    }
  });

  it("encodes a whole produce request with the new path, its batch checksum valid", async () => {
    const messages = seededMessages("request", 500).map((m) => ({ ...m, timestamp: "1764000000000" }));
    const request = produceRequestV3({
      acks: -1,
      timeout: 30_000,
      producerId: Long.fromValue(1),
      producerEpoch: 0,
      topicData: [{ topic: "readings", partitions: [{ partition: 2, firstSequence: 5, messages }] }],
    });
    const encoded = (await request.encode()).buffer;
    const firstTimestamp = 1_764_000_000_000;
    const batch = await RecordBatch({
      ...BATCH,
      producerId: Long.fromValue(1),
      producerEpoch: 0,
      firstSequence: 5,
      firstTimestamp,
      maxTimestamp: firstTimestamp,
      lastOffsetDelta: messages.length - 1,
      records: messages.map((m, i) => Record({ ...m, offsetDelta: i, timestampDelta: 0 })),
    });
    // The request ends with partition, batch size and the batch itself.
    expect(encoded.subarray(encoded.length - batch.buffer.length).equals(batch.buffer)).toBe(true);
  });

  it("groups messages per partition in their order", () => {
    const messages = seededMessages("partitions", 1_000);
    const partitionOf = (message: Message) =>
      messages.indexOf(message) % 3 === 0 ? 5 : messages.indexOf(message) % 2;
    const grouped = groupMessagesPerPartition({
      topic: "t",
      partitionMetadata: [{}],
      messages,
      partitioner: ({ message }) => partitionOf(message),
    });
    expect(Object.keys(grouped).sort()).toEqual(["0", "1", "5"]);
    for (const [partition, inPartition] of Object.entries(grouped))
      expect(inPartition).toEqual(messages.filter((m) => String(partitionOf(m)) === partition));
    expect(
      groupMessagesPerPartition({ topic: "t", partitionMetadata: [], messages, partitioner: () => 0 }),
    ).toEqual({});
  });

  it("computes CRC32C as the bytewise definition does, at every length and alignment", () => {
    const bitwise = (bytes: Buffer): number => {
      let crc = ~0;
      for (const byte of bytes) {
        crc ^= byte;
        for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0x82f63b78 & -(crc & 1));
      }
      return (crc ^ ~0) >>> 0;
    };
    expect(crc32C(Buffer.from("123456789"))).toBe(0xe3069283);
    const data = randomBytes(4_096);
    for (let length = 0; length < 70; length++)
      for (const start of [0, 1, 3, 7]) {
        const slice = data.subarray(start, start + length);
        expect(crc32C(slice)).toBe(bitwise(slice));
      }
    expect(crc32C(data)).toBe(bitwise(data));
  });
});
