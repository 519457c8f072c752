import { type SchemaRegistry, SchemaType } from "@kafkajs/confluent-schema-registry";
import { describe, expect, it } from "vitest";
import {
  cachedAvroSchema,
  encodeAvro,
  frameAvro,
  offlineRegistry,
  readingOfSlots,
  seededRandom,
  seededReadings,
} from "../test/seeded-readings.ts";
import { readingAvroSchema } from "./avro.ts";
import { createStationCatalog } from "./catalog.ts";
import { createReadingDecoder } from "./codec.ts";
import { ReadingDecodeError } from "./decode-error.ts";
import {
  createFastReadingReader,
  createReadingSlots,
  fastReadableVersions,
  READING_NUMBER_FIELDS,
} from "./fast-reader.ts";
import {
  READING_SCHEMA_VERSIONS,
  type ReadingSchemaVersion,
  readingSchema,
  type WeatherReading,
} from "./reading.ts";
import { DEFAULT_STATIONS, type Station } from "./stations.ts";
import { toWireRecord } from "./wire-record.ts";

const AVRO_V1 = 11;
const AVRO_V2 = 12;
const JSON_V2 = 21;
const V2_OTHER_DOCS = 13;
const V2_RENAMED = 14;
const V2_REORDERED = 15;
const ID_OF: Record<ReadingSchemaVersion, number> = { 1: AVRO_V1, 2: AVRO_V2 };

const NOW_MS = Date.UTC(2025, 5, 1, 12, 0, 0);
const calgary: Station = { ...(DEFAULT_STATIONS[0] as Station), id: "CYYC", city: "calgary" };
const catalog = createStationCatalog([...DEFAULT_STATIONS, calgary]);

/** The reading's schemas, and v2 written by other producers under other ids. */
function offlineRegistryWithVariants(): SchemaRegistry {
  const registry = offlineRegistry({ avroV1: AVRO_V1, avroV2: AVRO_V2, jsonV2: JSON_V2 });
  const v2 = readingAvroSchema(2);
  // Same canonical form: docs, defaults and logical types are not part of it.
  registry.cache.setSchema(
    V2_OTHER_DOCS,
    SchemaType.AVRO,
    cachedAvroSchema({
      ...v2,
      doc: "another producer's copy",
      fields: v2.fields.map((f) => ({ ...f, doc: "", type: f.name === "readingId" ? "string" : f.type })),
    }),
  );
  registry.cache.setSchema(
    V2_RENAMED,
    SchemaType.AVRO,
    cachedAvroSchema({
      ...v2,
      fields: v2.fields.map((f) => (f.name === "humidityPct" ? { ...f, name: "humidity" } : f)),
    }),
  );
  registry.cache.setSchema(
    V2_REORDERED,
    SchemaType.AVRO,
    cachedAvroSchema({ ...v2, fields: [v2.fields[1], v2.fields[0], ...v2.fields.slice(2)] }),
  );
  return registry;
}

const registry = offlineRegistryWithVariants();
const decoder = createReadingDecoder(registry, { catalog, now: () => new Date(NOW_MS) });
const fast = createFastReadingReader(registry, catalog);

function withChar(text: string, index: number, char: string): string {
  return text.slice(0, index) + char + text.slice(index + 1);
}

/** An Avro varint of an already zigzag-encoded value. */
function varint(value: bigint): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80n) {
    bytes.push(Number(rest & 0x7fn) | 0x80);
    rest >>= 7n;
  }
  bytes.push(Number(rest));
  return Buffer.from(bytes);
}

function expectSameReading(fromSlots: WeatherReading, decoded: WeatherReading, label: string): void {
  expect(fromSlots, label).toEqual({
    ...decoded,
    readingId: decoded.readingId.toLowerCase(),
    pressureHpa: decoded.pressureHpa ?? null,
  });
  // toEqual treats -0 and 0 as equal; the row must not.
  for (const name of READING_NUMBER_FIELDS) {
    expect(Object.is(fromSlots[name] ?? null, decoded[name] ?? null), `${label}: ${name} bit for bit`).toBe(
      true,
    );
  }
}

async function decodeOrError(bytes: Buffer): Promise<WeatherReading | ReadingDecodeError> {
  try {
    return await decoder.decode(bytes);
  } catch (error) {
    if (error instanceof ReadingDecodeError) return error;
    throw error;
  }
}

describe("fast reading reader", () => {
  it("reads every version of the reading the fast way", () => {
    expect(fastReadableVersions()).toEqual([...READING_SCHEMA_VERSIONS]);
  });

  it("vouches for valid readings of every version and reads exactly what the decoder reads", async () => {
    const slots = createReadingSlots();
    for (const version of READING_SCHEMA_VERSIONS) {
      const readings = seededReadings(3_000, 100 + version, catalog.stations, NOW_MS);
      const messages = readings.map((r) => encodeAvro(ID_OF[version], version, r));
      await fast.prepare(messages.map((value) => ({ value })));
      for (const [i, bytes] of messages.entries()) {
        const label = `v${version} reading ${i}`;
        const decoded = await decodeOrError(bytes);
        if (decoded instanceof ReadingDecodeError) throw new Error(`${label}: ${decoded.message}`);
        expect(fast.read(bytes, slots, NOW_MS), label).toBe(true);
        expectSameReading(readingOfSlots(slots), decoded, label);
      }
    }
  });

  it("never vouches for a message the decoder rejects, and agrees with it where both accept", async () => {
    const random = seededRandom(7);
    const slots = createReadingSlots();
    const valid = seededReadings(400, 8, catalog.stations, NOW_MS);
    const corpus: Buffer[] = [];
    const record = (r: WeatherReading, version: ReadingSchemaVersion) => toWireRecord(r, "avro", version);
    for (const [i, reading] of valid.entries()) {
      const version: ReadingSchemaVersion = i % 2 === 0 ? 1 : 2;
      const id = ID_OF[version];
      const bytes = encodeAvro(id, version, reading);
      // Damaged bytes: cut short, one byte changed, bytes added, another schema id.
      corpus.push(bytes.subarray(0, 5 + Math.floor(random() * (bytes.length - 5))));
      const flipped = Buffer.from(bytes);
      const at = 5 + Math.floor(random() * (bytes.length - 5));
      flipped[at] = Math.floor(random() * 256);
      corpus.push(flipped);
      corpus.push(Buffer.concat([bytes, Buffer.from([Math.floor(random() * 256)])]));
      corpus.push(
        Buffer.concat([Buffer.from([0, 0, 0, 0, version === 1 ? AVRO_V2 : AVRO_V1]), bytes.subarray(5)]),
      );
      // Well-formed records of implausible readings.
      const bad: Partial<Record<keyof WeatherReading, unknown>>[] = [
        { temperatureC: 50.00000000000001 },
        { temperatureC: -60.00000000000001 },
        { windSpeedKmh: -5e-324 },
        { humidityPct: Number.NaN },
        { temperatureC: Number.POSITIVE_INFINITY },
        { pressureHpa: 869.9999999999999 },
        { stationId: "ZZZZ" },
        { stationId: "CYVR" },
        { city: "Winnipeg" },
        { city: "calgary" },
        { stationId: "" },
        { readingId: "00000000-0000-0000-0000-000000000000" },
        { readingId: "ffffffff-ffff-ffff-ffff-ffffffffffff" },
        { readingId: withChar(reading.readingId, 14, "0") },
        { readingId: withChar(reading.readingId, 14, "9") },
        { readingId: withChar(reading.readingId, 19, "c") },
        { readingId: reading.readingId.replaceAll("-", "") },
        { readingId: `{${reading.readingId}}` },
        { readingId: withChar(reading.readingId, 35, "g") },
        { readingId: `${reading.readingId.slice(0, 35)}é` },
        { observedAt: NOW_MS + 300_001 },
        { observedAt: NOW_MS + 300_000 },
        { observedAt: -8_640_000_000_000_000 },
        { observedAt: -9_000_000_000_001 },
      ];
      for (const change of bad)
        corpus.push(frameAvro(id, version, { ...record(reading, version), ...change }));
    }
    // A long past 2^53, and a union branch that does not exist.
    const v2 = encodeAvro(AVRO_V2, 2, valid[1] as WeatherReading);
    corpus.push(Buffer.concat([v2.subarray(0, v2.length - 9), Buffer.from([4]), v2.subarray(v2.length - 8)]));
    const epoch = frameAvro(AVRO_V1, 1, { ...record(valid[0] as WeatherReading, 1), observedAt: 0 });
    const at = epoch.indexOf(0, 5 + 37 + 1 + 4 + 1); // the timestamp's one byte, after the three strings
    corpus.push(Buffer.concat([epoch.subarray(0, at), varint(2n ** 61n), epoch.subarray(at + 1)]));

    await fast.prepare(corpus.map((value) => ({ value })));
    let vouched = 0;
    let rejectedByDecoder = 0;
    for (const [i, bytes] of corpus.entries()) {
      const decoded = await decodeOrError(bytes);
      const read = fast.read(bytes, slots, NOW_MS);
      if (decoded instanceof ReadingDecodeError) {
        rejectedByDecoder += 1;
        expect(read, `case ${i}: the decoder says ${decoded.kind}: ${decoded.message}`).toBe(false);
      } else if (read) {
        vouched += 1;
        expectSameReading(readingOfSlots(slots), decoded, `case ${i}`);
      }
    }
    // The corpus exercises both sides: most of it is poison, some of it still valid.
    expect(rejectedByDecoder).toBeGreaterThan(corpus.length / 2);
    expect(vouched).toBeGreaterThan(100);
  });

  it("reads a writer schema that differs only outside the canonical form, and no other", async () => {
    const slots = createReadingSlots();
    const reading = seededReadings(1, 3, DEFAULT_STATIONS, NOW_MS)[0] as WeatherReading;
    const payload = encodeAvro(AVRO_V2, 2, reading).subarray(5);
    const framed = (id: number) => Buffer.concat([Buffer.from([0, 0, 0, 0, id]), payload]);
    const ids = [V2_OTHER_DOCS, V2_RENAMED, V2_REORDERED, JSON_V2];
    await fast.prepare(ids.map((id) => ({ value: framed(id) })));
    expect(fast.read(framed(V2_OTHER_DOCS), slots, NOW_MS)).toBe(true);
    expect(fast.read(framed(V2_RENAMED), slots, NOW_MS)).toBe(false);
    expect(fast.read(framed(V2_REORDERED), slots, NOW_MS)).toBe(false);
    const json = Buffer.concat([Buffer.from([0, 0, 0, 0, JSON_V2]), Buffer.from(JSON.stringify({}))]);
    expect(fast.read(json, slots, NOW_MS)).toBe(false);
  });

  it("leaves a schema id it could not learn to the decoder, and learns it once the registry answers", async () => {
    const offline = offlineRegistry({ avroV1: AVRO_V1, avroV2: AVRO_V2, jsonV2: JSON_V2 });
    const reader = createFastReadingReader(offline, catalog);
    const reading = seededReadings(1, 4, DEFAULT_STATIONS, NOW_MS)[0] as WeatherReading;
    const bytes = Buffer.concat([Buffer.from([0, 0, 0, 0, 77]), encodeAvro(AVRO_V2, 2, reading).subarray(5)]);
    await expect(reader.prepare([{ value: bytes }])).resolves.toBeUndefined();
    expect(reader.read(bytes, createReadingSlots(), NOW_MS)).toBe(false);
    offline.cache.setSchema(77, SchemaType.AVRO, cachedAvroSchema(readingAvroSchema(2)));
    await reader.prepare([{ value: bytes }]);
    expect(reader.read(bytes, createReadingSlots(), NOW_MS)).toBe(true);
  });

  it("accepts a reading id only where z.uuid() does", () => {
    const random = seededRandom(11);
    const slots = createReadingSlots();
    const reading = seededReadings(1, 5, DEFAULT_STATIONS, NOW_MS)[0] as WeatherReading;
    const alphabet = "0123456789abcdefABCDEFg-";
    let accepted = 0;
    for (let i = 0; i < 20_000; i++) {
      const chars = [...reading.readingId];
      // Mostly near-UUIDs: a few characters replaced.
      for (let k = 0; k < 1 + Math.floor(random() * 3); k++) {
        chars[Math.floor(random() * 36)] = alphabet[Math.floor(random() * alphabet.length)] as string;
      }
      const id = chars.join("");
      const bytes = encodeAvro(AVRO_V1, 1, { ...reading, readingId: id });
      const zodAccepts = readingSchema.shape.readingId.safeParse(id).success;
      const read = fast.read(bytes, slots, NOW_MS);
      if (read) accepted += 1;
      expect(read && !zodAccepts, id).toBe(false);
      if (read) expect(readingOfSlots(slots).readingId).toBe(id.toLowerCase());
    }
    expect(accepted).toBeGreaterThan(1_000);
  });
});
