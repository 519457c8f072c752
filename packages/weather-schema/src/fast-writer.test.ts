import { SchemaRegistry, SchemaType } from "@kafkajs/confluent-schema-registry";
import avro from "avsc";
import { describe, expect, it } from "vitest";
import { sampleReading } from "../test/sample-reading.ts";
import { readingAvroSchema } from "./avro.ts";
import { createFastReadingWriter } from "./fast-writer.ts";
import type { ReadingSchemaVersion, WeatherReading } from "./reading.ts";
import { toWireRecord } from "./wire-record.ts";

type Schema = Parameters<SchemaRegistry["cache"]["setSchema"]>[2];
const ID_OF: Record<ReadingSchemaVersion, number> = { 1: 11, 2: 1_234_567 };

/** A registry client that answers from its cache only (its host is a closed port). */
function offlineRegistry(): SchemaRegistry {
  const registry = new SchemaRegistry({ host: "http://127.0.0.1:9", retry: { retries: 0 } });
  for (const version of [1, 2] as const)
    registry.cache.setSchema(
      ID_OF[version],
      SchemaType.AVRO,
      avro.Type.forSchema(readingAvroSchema(version) as avro.Schema) as unknown as Schema,
    );
  return registry;
}

/** What sensor-producer sent before the fast writer: the registry client's encoding of the wire record. */
function registryBytes(registry: SchemaRegistry, version: ReadingSchemaVersion, reading: WeatherReading) {
  return registry.encode(ID_OF[version], toWireRecord(reading, "avro", version));
}

/** mulberry32: a small seeded generator, so every run tests the same readings. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const EDGE_NUMBERS = [
  0,
  -0,
  5e-324,
  -5e-324,
  2.2250738585072014e-308,
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  Number.NaN,
  0.1,
  -60,
  50,
  1085,
  870,
];
const EDGE_TIMES = [
  0,
  -1,
  1,
  63,
  64,
  -64,
  -65,
  2 ** 30 - 1,
  2 ** 30,
  -(2 ** 30),
  -(2 ** 30) - 1,
  2 ** 31,
  1_420_070_400_000,
  1_764_000_000_123,
  8.64e15,
  -8.64e15,
];
/** Every ASCII character, at every length the fast path takes. */
const ASCII = Array.from({ length: 128 }, (_, code) => String.fromCharCode(code)).join("");

function seededReadings(seed: number, count: number): WeatherReading[] {
  const random = seeded(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const number = (min: number, max: number) =>
    random() < 0.2 ? pick(EDGE_NUMBERS) : Math.round((min + random() * (max - min)) * 10) / 10;
  const text = () => {
    const length = 1 + Math.floor(random() * 63);
    const start = Math.floor(random() * (ASCII.length - length));
    return random() < 0.5
      ? ASCII.slice(start, start + length)
      : pick(["CYWG", "CYYC", "winnipeg", "st-johns"]);
  };
  return Array.from({ length: count }, (_, i) => {
    const uuid = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16)).join("");
    const reading: WeatherReading = {
      readingId: `${uuid.slice(0, 8)}-${uuid.slice(8, 12)}-${uuid.slice(12, 16)}-${uuid.slice(16, 20)}-${uuid.slice(20)}`,
      stationId: text(),
      city: text(),
      observedAt: new Date(
        random() < 0.2 ? pick(EDGE_TIMES) : 1_420_070_400_000 + Math.floor(random() * 4e11),
      ),
      temperatureC: number(-60, 50),
      windSpeedKmh: number(0, 250),
      humidityPct: number(0, 100),
    };
    // Pressure absent, null or a number: a v1 writer drops it, a v2 writer writes the union.
    if (i % 3 === 1) return { ...reading, pressureHpa: null };
    if (i % 3 === 2) return { ...reading, pressureHpa: number(870, 1085) };
    return reading;
  });
}

describe("the fast reading writer", () => {
  const registry = offlineRegistry();

  it("writes exactly the registry client's bytes for seeded readings with edge values, both versions", async () => {
    for (const version of [1, 2] as const) {
      const writer = createFastReadingWriter(ID_OF[version], version);
      expect(writer).toBeDefined();
      const readings = seededReadings(version, 5_000);
      // All written first, compared after: later writes into the shared buffer must not touch earlier bytes.
      const written = readings.map((reading) => writer?.write(reading));
      for (const [i, reading] of readings.entries()) {
        const expected = await registryBytes(registry, version, reading);
        expect(written[i], `reading ${i}: ${JSON.stringify(toWireRecord(reading, "avro", version))}`).toEqual(
          expected,
        );
      }
    }
  });

  it("keeps -0.0 and a subnormal bit for bit", () => {
    const writer = createFastReadingWriter(ID_OF[2], 2);
    const bytes = writer?.write(sampleReading({ temperatureC: -0, humidityPct: 5e-324, pressureHpa: -0 }));
    const decoded = avro.Type.forSchema(readingAvroSchema(2) as avro.Schema).fromBuffer(
      bytes?.subarray(5) ?? Buffer.alloc(0),
    ) as Record<string, number>;
    expect(Object.is(decoded.temperatureC, -0)).toBe(true);
    expect(Object.is(decoded.pressureHpa, -0)).toBe(true);
    expect(decoded.humidityPct).toBe(5e-324);
  });

  it("leaves to the general encoder what it cannot vouch for, which then encodes it or says why not", async () => {
    const writer = createFastReadingWriter(ID_OF[2], 2);
    // What the general path answers for each: the bytes, or an error (the reading does not fit).
    const cases: [string, WeatherReading, "bytes" | "error"][] = [
      ["a non-ASCII station id", sampleReading({ stationId: "ZÜRICH" }), "bytes"],
      ["a city with a lone surrogate", sampleReading({ city: "a\ud800b" }), "bytes"],
      ["a 64-character station id", sampleReading({ stationId: "X".repeat(64) }), "bytes"],
      ["a number for a date", sampleReading({ observedAt: 1_764_000_000_000 as unknown as Date }), "bytes"],
      ["an invalid date", sampleReading({ observedAt: new Date(Number.NaN) }), "error"],
      ["a string for a number", sampleReading({ humidityPct: "74" as unknown as number }), "error"],
      ["a missing field", { ...sampleReading(), windSpeedKmh: undefined as unknown as number }, "error"],
      ["a string for pressure", sampleReading({ pressureHpa: "1013" as unknown as number }), "error"],
    ];
    for (const [what, reading, general] of cases) {
      expect(writer?.write(reading), what).toBeUndefined();
      const answer = await registryBytes(registry, 2, reading).then(
        () => "bytes",
        () => "error",
      );
      expect(answer, what).toBe(general);
    }
    // A refused reading leaves the shared buffer as it was: the next one is written as usual.
    expect(writer?.write(sampleReading())).toEqual(await registryBytes(registry, 2, sampleReading()));
  });
});
