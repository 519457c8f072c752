import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { seededRandom } from "@weather/schema/testing";
import { describe, expect, it } from "vitest";

// patches/kafkajs@2.2.4.patch rewrites how kafkajs encodes what a producer sends: all records of a
// batch into one buffer (encodeRecords) instead of an Encoder per record and per header, the
// record batch and each level of the request written once at their exact sizes, messages grouped
// per partition in place, murmur2 in 32-bit arithmetic, and the CRC32C eight bytes at a time:
// sensor-producer's hottest library code. These tests hold the new path to kafkajs's own
// Record()/RecordBatch() chain, which the patch leaves in place.
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

const murmur2 = require("kafkajs/src/producer/partitioners/default/murmur2") as (
  key: string | Buffer,
) => number;
const { DefaultPartitioner } = require("kafkajs").Partitioners as {
  DefaultPartitioner: () => (args: {
    topic: string;
    partitionMetadata: readonly { partitionId: number; leader: number }[];
    message: Message & { partition?: number };
  }) => number;
};
const frameRequest = require("kafkajs/src/protocol/request") as (args: {
  correlationId: number;
  clientId: string | null;
  request: { apiKey: number; apiVersion: number; encode(): Promise<EncoderLike> };
}) => Promise<EncoderLike>;
interface WritableEncoder extends EncoderLike {
  writeInt16(value: number): WritableEncoder;
}
const Encoder = require("kafkajs/src/protocol/encoder") as new () => WritableEncoder;

interface LongLike {
  multiply(other: LongLike): LongLike;
  xor(other: LongLike | number): LongLike;
  toInt(): number;
}
const LongOf = require("kafkajs/src/utils/long") as { fromValue(value: number | LongLike): LongLike };

/** kafkajs 2.2.4's murmur2 as shipped: 64-bit Long arithmetic, the reference for the patched one. */
function murmur2WithLongs(key: string | Buffer): number {
  const data = Buffer.isBuffer(key) ? key : Buffer.from(String(key));
  const M = LongOf.fromValue(0x5bd1e995);
  let h = LongOf.fromValue(LongOf.fromValue(0x9747b28c).xor(data.length));
  for (let i = 0; i < Math.floor(data.length / 4); i++) {
    const i4 = i * 4;
    const word =
      ((data[i4] as number) & 0xff) +
      (((data[i4 + 1] as number) & 0xff) << 8) +
      (((data[i4 + 2] as number) & 0xff) << 16) +
      (((data[i4 + 3] as number) & 0xff) << 24);
    let k = LongOf.fromValue(word).multiply(M);
    k = LongOf.fromValue(k.xor(k.toInt() >>> 24)).multiply(M);
    h = h.multiply(M).xor(k);
  }
  const tail = data.length & ~3;
  const rest = data.length % 4;
  if (rest >= 3) h = h.xor(((data[tail + 2] as number) & 0xff) << 16);
  if (rest >= 2) h = h.xor(((data[tail + 1] as number) & 0xff) << 8);
  if (rest >= 1) h = h.xor((data[tail] as number) & 0xff).multiply(M);
  h = h.xor(h.toInt() >>> 13).multiply(M);
  return h.xor(h.toInt() >>> 15).toInt();
}

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
function seededMessages(seed: number, count: number): Message[] {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const shared = pick(HEADER_SETS);
  return Array.from({ length: count }, () => {
    const message: Message = {
      key: pick([null, undefined, "CYWG", "станция", Buffer.from("k"), Buffer.alloc(0), "x".repeat(300)]),
      value: pick([
        null,
        "text",
        Buffer.from("v"),
        randomBytes(Math.floor(random() * 200)),
        randomBytes(20_000),
      ]),
      headers: random() < 0.8 ? shared : pick(HEADER_SETS),
    };
    if (message.key === undefined) delete message.key;
    if (random() < 0.2) message.timestamp = String(1_764_000_000_000 + Math.floor(random() * 100_000));
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
      const messages = seededMessages(1_000 + run, run === 0 ? 0 : 1 + run * 7);
      const deltaOf = (m: Message) =>
        m.timestamp === undefined ? 123 : Number(m.timestamp) - 1_764_000_000_000;
      const original = Buffer.concat(
        messages.map((m, i) => Record({ ...m, offsetDelta: i, timestampDelta: deltaOf(m) }).buffer),
      );
      expect(Record.encodeRecords(messages, deltaOf).buffer.equals(original)).toBe(true);
    }
  });

  it("falls back to Record() for timestamp deltas beyond 2^50 and negative ones, with the same bytes", () => {
    const messages = seededMessages(2_000, 50);
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
      const messages = seededMessages(3_000 + run, 2_000);
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
    const messages = seededMessages(4_000, 500).map((m) => ({ ...m, timestamp: "1764000000000" }));
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
    const messages = seededMessages(5_000, 1_000);
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

  it("hashes keys with murmur2 as the Long arithmetic did: buffers, ASCII strings from their characters, other strings from their UTF-8", () => {
    const random = seededRandom(6_000);
    for (let i = 0; i < 3_000; i++) {
      const bytes = Buffer.from(Array.from({ length: i % 40 }, () => Math.floor(random() * 256)));
      // hex: ASCII only; latin1 of random bytes: characters up to 0xff, encoded as UTF-8; utf8: anything.
      const text = [bytes.toString("hex"), bytes.toString("latin1"), bytes.toString("utf8")][i % 3] as string;
      expect(murmur2(bytes)).toBe(murmur2WithLongs(bytes));
      expect(murmur2(text)).toBe(murmur2WithLongs(text));
    }
    for (const text of ["", "C", "CY", "CYW", "\u007f\u0000", "clé", "станция"]) {
      expect(murmur2(text)).toBe(murmur2WithLongs(text));
    }
    // The Java client's value for a station id, so other producers put it in the same partition.
    expect(murmur2("CYWG")).toBe(murmur2WithLongs("CYWG"));
  });

  it("partitions as the Java client: a given partition, a key by murmur2, no key round the partitions with a leader", () => {
    const partition = DefaultPartitioner();
    const partitionMetadata = [
      { partitionId: 0, leader: 1 },
      { partitionId: 1, leader: -1 },
      { partitionId: 2, leader: 2 },
    ];
    const place = (message: Message & { partition?: number }) =>
      partition({ topic: "readings", partitionMetadata, message });
    expect(place({ value: "v", partition: 1 })).toBe(1);
    expect(place({ key: "CYWG", value: "v" })).toBe((murmur2WithLongs("CYWG") & 0x7fffffff) % 3);
    const keyless = Array.from({ length: 10 }, () => place({ key: null, value: "v" }));
    expect(new Set(keyless)).toEqual(new Set([0, 2]));
  });

  it("frames a request in one buffer: size, api key and version, correlation id, client id, payload", async () => {
    for (const clientId of ["sensor-producer", "clïent", null]) {
      const payload = new Encoder().writeInt16(7).writeInt16(-2);
      const framed = (
        await frameRequest({
          correlationId: 99,
          clientId,
          request: { apiKey: 0, apiVersion: 7, encode: async () => payload },
        })
      ).buffer;
      const id = clientId === null ? Buffer.alloc(0) : Buffer.from(clientId);
      const header = Buffer.alloc(12);
      header.writeInt16BE(0, 4);
      header.writeInt16BE(7, 6);
      header.writeInt32BE(99, 8);
      const idLength = Buffer.alloc(2);
      idLength.writeInt16BE(clientId === null ? -1 : id.length);
      const body = Buffer.concat([header.subarray(4), idLength, id, payload.buffer]);
      header.writeInt32BE(body.length, 0);
      expect(framed).toEqual(Buffer.concat([header.subarray(0, 4), body]));
    }
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
