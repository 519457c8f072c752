import { SchemaRegistry, SchemaType } from "@kafkajs/confluent-schema-registry";
import avro from "avsc";
import { readingAvroSchema } from "../src/avro.ts";
import { READING_NUMBER_FIELDS, type ReadingSlots } from "../src/fast-reader.ts";
import { readingJsonSchema } from "../src/json-schema.ts";
import type { ReadingSchemaVersion, WeatherReading } from "../src/reading.ts";
import type { Station } from "../src/stations.ts";
import { toWireRecord } from "../src/wire-record.ts";

/** mulberry32: a small seeded generator, so a failing case can be replayed from its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Values at the edges of what validation allows: the cases a hand-written reader gets wrong. */
const EDGE_NUMBERS = [0, -0, 5e-324, -5e-324, Number.MIN_VALUE, 2.2250738585072014e-308, 1e-300, 0.1, 1 / 3];

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

/** The neighbouring double of a non-zero value, one step further from zero (+1) or closer to it (-1). */
function step(value: number, direction: 1 | -1): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value);
  view.setBigUint64(0, view.getBigUint64(0) + BigInt(direction));
  return view.getFloat64(0);
}

/** The doubles right at and right inside the limits. */
function limits(min: number, max: number): number[] {
  const aboveMin = min === 0 ? Number.MIN_VALUE : step(min, min > 0 ? 1 : -1);
  const belowMax = max === 0 ? -Number.MIN_VALUE : step(max, max > 0 ? -1 : 1);
  return [min, max, aboveMin, belowMax];
}

function hexDigits(random: () => number, count: number, upper: boolean): string {
  let out = "";
  for (let i = 0; i < count; i++) out += Math.floor(random() * 16).toString(16);
  return upper ? out.toUpperCase() : out;
}

/** A UUID of version 1-8 and variant 10xx, in either case: what z.uuid() accepts (besides nil and max). */
export function seededUuid(random: () => number): string {
  const upper = random() < 0.1;
  const version = String(1 + Math.floor(random() * 8));
  const variant = pick(random, upper ? ["8", "9", "A", "B"] : ["8", "9", "a", "b"]);
  return [
    hexDigits(random, 8, upper),
    hexDigits(random, 4, upper),
    version + hexDigits(random, 3, upper),
    variant + hexDigits(random, 3, upper),
    hexDigits(random, 12, upper),
  ].join("-");
}

function inRange(random: () => number, min: number, max: number): number {
  const roll = random();
  if (roll < 0.04) return pick(random, limits(min, max));
  if (roll < 0.12) {
    const edge = pick(random, EDGE_NUMBERS);
    if (edge >= min && edge <= max) return edge;
  }
  // Unrounded doubles most of the time, a sensor's one decimal sometimes.
  const value = min + random() * (max - min);
  return roll < 0.5 ? Math.round(value * 10) / 10 : value;
}

/**
 * `count` valid readings of the given stations, with every field's edge cases mixed in: range ends
 * and the doubles right inside them, -0.0, subnormals, pressure null and present, millisecond
 * timestamps from about 1900 up to the five minutes after `nowMs` validation allows, UUIDs of every
 * version in either case. For the tests that hold a fast path to the general one and the stored
 * values to the sent ones (pg-sink's too: `@weather/schema/testing`, never in a deployed package).
 */
export function seededReadings(
  count: number,
  seed: number,
  stations: readonly Station[],
  nowMs: number,
): WeatherReading[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => {
    const station = pick(random, stations);
    const roll = random();
    const observedAtMs =
      roll < 0.05
        ? nowMs - Math.floor(random() * 4_000_000_000_000) // back to about 1900
        : roll < 0.1
          ? nowMs + Math.floor(random() * 300_000) // up to the allowed 5 minutes ahead
          : nowMs - Math.floor(random() * 10 * 365 * 86_400_000);
    return {
      readingId: seededUuid(random),
      stationId: station.id,
      city: station.city,
      observedAt: new Date(observedAtMs),
      temperatureC: inRange(random, -60, 50),
      windSpeedKmh: inRange(random, 0, 250),
      humidityPct: inRange(random, 0, 100),
      pressureHpa: random() < 0.3 ? null : inRange(random, 870, 1085),
    };
  });
}

const avroTypes = new Map<ReadingSchemaVersion, avro.Type>();

/**
 * The Confluent-framed Avro bytes of a record, written by avsc directly: like the registry client,
 * but without its validation, so tests can also write records no producer should send.
 */
export function frameAvro(schemaId: number, version: ReadingSchemaVersion, record: object): Buffer {
  let type = avroTypes.get(version);
  if (type === undefined) {
    type = avro.Type.forSchema(readingAvroSchema(version) as avro.Schema);
    avroTypes.set(version, type);
  }
  const header = Buffer.alloc(5);
  header.writeInt32BE(schemaId, 1);
  return Buffer.concat([header, type.toBuffer(record)]);
}

/** A reading's Confluent-framed Avro bytes, as sensor-producer sends them. */
export function encodeAvro(schemaId: number, version: ReadingSchemaVersion, reading: WeatherReading): Buffer {
  return frameAvro(schemaId, version, toWireRecord(reading, "avro", version));
}

/** The schema ids under which offlineRegistry holds the reading's schemas. */
export interface OfflineSchemaIds {
  readonly avroV1: number;
  readonly avroV2: number;
  readonly jsonV2: number;
}

type CachedSchema = Parameters<SchemaRegistry["cache"]["setSchema"]>[2];

/** How a registry client caches an Avro schema: avsc's type. */
export function cachedAvroSchema(schema: object): CachedSchema {
  return avro.Type.forSchema(schema as avro.Schema) as unknown as CachedSchema;
}

/**
 * A registry client that answers from its cache only (its host is a closed port), as a consumer
 * does once it has seen each schema id: the reading's Avro v1 and v2 and JSON v2 under `ids`. Any
 * other id is a registry that does not answer (a plain Error, not a ReadingDecodeError).
 */
export function offlineRegistry(ids: OfflineSchemaIds): SchemaRegistry {
  const registry = new SchemaRegistry({ host: "http://127.0.0.1:9", retry: { retries: 0 } });
  registry.cache.setSchema(ids.avroV1, SchemaType.AVRO, cachedAvroSchema(readingAvroSchema(1)));
  registry.cache.setSchema(ids.avroV2, SchemaType.AVRO, cachedAvroSchema(readingAvroSchema(2)));
  registry.cache.setSchema(ids.jsonV2, SchemaType.JSON, {
    toBuffer: (payload: object) => Buffer.from(JSON.stringify(payload)),
    fromBuffer: (buffer: Buffer) => JSON.parse(buffer.toString()),
    isValid: () => true,
    schema: readingJsonSchema(2),
  } as unknown as CachedSchema);
  return registry;
}

/** The Confluent-framed JSON bytes of a reading, as a JSON producer of `version` sends them. */
export function encodeJson(schemaId: number, version: ReadingSchemaVersion, reading: WeatherReading): Buffer {
  const header = Buffer.alloc(5);
  header.writeInt32BE(schemaId, 1);
  return Buffer.concat([header, Buffer.from(JSON.stringify(toWireRecord(reading, "json", version)))]);
}

function uuidOf(bytes: Uint8Array): string {
  const hex = Buffer.from(bytes).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** What the fast reader's slots hold, as the general decoder would give it (readingId in lower case). */
export function readingOfSlots(slots: ReadingSlots): WeatherReading {
  const numbers = Object.fromEntries(
    READING_NUMBER_FIELDS.map((name, i) => [name, slots.isNull[i] === 1 ? null : slots.numbers[i]]),
  );
  return {
    readingId: uuidOf(slots.readingId),
    stationId: slots.station.id,
    city: slots.station.city,
    observedAt: new Date(slots.observedAtMs),
    ...numbers,
  } as WeatherReading;
}
