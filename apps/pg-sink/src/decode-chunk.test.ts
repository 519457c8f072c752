import { CopyRows } from "@weather/db";
import {
  cityTableName,
  createReadingDecoder,
  createReadingReader,
  createStationCatalog,
  DEFAULT_STATIONS,
  ReadingDecodeError,
  type Station,
  type WeatherReading,
} from "@weather/schema";
import {
  encodeAvro,
  encodeJson,
  offlineRegistry,
  seededRandom,
  seededReadings,
} from "@weather/schema/testing";
import { DependencyUnavailableError } from "@weather/service-kit";
import type { KafkaMessage } from "kafkajs";
import { describe, expect, it } from "vitest";
import { CityTableSet, type CityTables } from "./city-tables.ts";
import { createChunkDecoder, type DecodedChunk } from "./decode-chunk.ts";
import type { Poison } from "./poison.ts";

const IDS = { avroV1: 1, avroV2: 2, jsonV2: 3 };
const TOPIC = "weather.readings";
const PARTITION = 4;
const SOURCE = { topic: TOPIC, partition: PARTITION };
const NOW_MS = Date.UTC(2025, 5, 1, 12, 0, 0);
const now = () => new Date(NOW_MS);
const calgary: Station = { ...(DEFAULT_STATIONS[0] as Station), id: "CYYC", city: "calgary" };
const catalog = createStationCatalog([...DEFAULT_STATIONS, calgary]);
const registry = offlineRegistry(IDS);
const reader = createReadingReader(registry, { catalog, now });
const decoder = createReadingDecoder(registry, { catalog, now });

/** The city tables of `cities`, as one lookup would find them. */
const tablesOf = (...cities: string[]) => new CityTableSet(new Set(cities.map(cityTableName)));
const EVERY_TABLE = tablesOf(...catalog.cities);

/** City tables whose lookups answer in turn from `answers` (the last one again once they run out). */
function cityTables(...answers: CityTableSet[]): CityTables & { lookups(): number } {
  let lookups = 0;
  const look = async () => answers[Math.min(lookups++, answers.length - 1)] as CityTableSet;
  let known: CityTableSet | undefined;
  return {
    current: async () => (known ??= await look()),
    refresh: async () => (known = await look()),
    lookups: () => lookups,
  };
}

function message(offset: number, value: Buffer | null): KafkaMessage {
  return { key: null, value, offset: String(offset), timestamp: "0", attributes: 0, headers: {} };
}

/** Seeded readings in every format, and damaged or implausible messages between them. */
function corpus(seed: number, count: number): KafkaMessage[] {
  const random = seededRandom(seed);
  const messages: KafkaMessage[] = [];
  for (const [i, reading] of seededReadings(count, seed, catalog.stations, NOW_MS).entries()) {
    const value =
      i % 3 === 2
        ? encodeJson(IDS.jsonV2, 2, reading)
        : encodeAvro(i % 3 === 0 ? IDS.avroV1 : IDS.avroV2, i % 3 === 0 ? 1 : 2, reading);
    messages.push(message(messages.length, value));
    if (random() < 0.25) {
      const damaged = Buffer.from(value);
      const roll = random();
      if (roll < 0.3) damaged[5 + Math.floor(random() * (damaged.length - 5))] = Math.floor(random() * 256);
      const bad =
        roll < 0.3
          ? damaged
          : roll < 0.5
            ? value.subarray(0, 5 + Math.floor(random() * (value.length - 5)))
            : roll < 0.6
              ? null
              : roll < 0.7
                ? Buffer.from("not wire format")
                : encodeAvro(IDS.avroV2, 2, { ...reading, temperatureC: 60 + random() });
      messages.push(message(messages.length, bad));
    }
  }
  return messages;
}

/**
 * What the chunk must be, from the general decoder alone: each reading's row written from the
 * decoded reading (CopyRows.appendReading, never the fast path's appendSlots), each rejection its poison.
 */
async function expectedChunk(messages: readonly KafkaMessage[]) {
  const rows = new CopyRows();
  const rowStart: number[] = [];
  const poison: { index: number; poison: Poison }[] = [];
  for (const [index, { value, offset }] of messages.entries()) {
    rowStart.push(rows.length);
    if (value === null || value.length === 0) {
      poison.push({
        index,
        poison: {
          errorClass: "EmptyValueError",
          kind: "empty-value",
          message: "message has no value (a tombstone?)",
        },
      });
      continue;
    }
    const decoded = await decoder.decode(value).catch((error: unknown) => error);
    if (decoded instanceof ReadingDecodeError) {
      poison.push({
        index,
        poison: { errorClass: "ReadingDecodeError", kind: decoded.kind, message: decoded.message },
      });
    } else {
      rows.appendReading(decoded as WeatherReading, new TextEncoder().encode(TOPIC), PARTITION, offset);
    }
  }
  rowStart.push(rows.length);
  return { rows: rows.bytes().toString("hex"), rowStart, poison };
}

function comparable(chunk: DecodedChunk) {
  return {
    rows: chunk.rows.toString("hex"),
    rowStart: [...chunk.rowStart],
    poison: chunk.poison.map(({ index, poison }) => ({ index, poison })),
  };
}

describe("createChunkDecoder", () => {
  it("writes byte for byte the rows and poison the general decoder alone would", async () => {
    const chunks = createChunkDecoder(reader, cityTables(EVERY_TABLE));
    for (const seed of [1, 2, 3]) {
      const messages = corpus(seed, 3_000);
      const chunk = await chunks.decode(SOURCE, messages);
      expect(comparable(chunk)).toEqual(await expectedChunk(messages));
      expect(chunk.poison.every(({ index, message }) => messages[index] === message)).toBe(true);
      // The Avro readings (two thirds of the readings) went the fast way; JSON and poison did not.
      expect(chunk.fastRows).toBeGreaterThan(1_900);
      expect(chunk.poison.length).toBeGreaterThan(300);
    }
  });

  it("names each poison message as the general decoder does", async () => {
    const chunks = createChunkDecoder(reader, cityTables(EVERY_TABLE));
    const reading = seededReadings(1, 9, DEFAULT_STATIONS, NOW_MS)[0] as WeatherReading;
    const hot = encodeAvro(IDS.avroV1, 1, { ...reading, temperatureC: 57 });
    const chunk = await chunks.decode(SOURCE, [
      message(0, hot),
      message(1, null),
      message(2, Buffer.from([1, 2])),
      message(3, Buffer.alloc(0)),
    ]);
    expect(chunk.poison.map(({ index, poison }) => ({ index, ...poison }))).toEqual([
      {
        index: 0,
        errorClass: "ReadingDecodeError",
        kind: "invalid",
        message: `implausible reading ${reading.readingId}: temperatureC: got 57; expected a finite number within -60..50 °C`,
      },
      {
        index: 1,
        errorClass: "EmptyValueError",
        kind: "empty-value",
        message: "message has no value (a tombstone?)",
      },
      expect.objectContaining({ index: 2, errorClass: "ReadingDecodeError", kind: "bad-magic-byte" }),
      expect.objectContaining({ index: 3, errorClass: "EmptyValueError", kind: "empty-value" }),
    ]);
    expect([...chunk.rowStart]).toEqual([0, 0, 0, 0, 0]);
    expect(chunk.rows.length).toBe(0);
  });

  it("waits for a registry that does not answer instead of dead-lettering the chunk, asking it before PostgreSQL", async () => {
    const postgresDown = async (): Promise<CityTableSet> => {
      throw Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });
    };
    const chunks = createChunkDecoder(reader, { current: postgresDown, refresh: postgresDown });
    const reading = seededReadings(1, 10, DEFAULT_STATIONS, NOW_MS)[0] as WeatherReading;
    const unknownToTheCache = encodeAvro(99, 2, reading);
    const failure = await chunks
      .decode(SOURCE, [message(0, encodeAvro(IDS.avroV2, 2, reading)), message(1, unknownToTheCache)])
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DependencyUnavailableError);
    expect((failure as DependencyUnavailableError).dependency).toBe("schema registry");
  });
});

describe("createChunkDecoder's city tables", () => {
  const readings = seededReadings(30, 12, catalog.stations, NOW_MS);
  const messages = readings.map((r, i) => message(i, encodeAvro(IDS.avroV2, 2, r)));
  const inCalgary = readings.flatMap((r, i) => (r.city === "calgary" ? [i] : []));
  const inOthers = readings.length - inCalgary.length;

  it("holds calgary's readings as readings of another city", () => {
    expect(inCalgary.length).toBeGreaterThan(3);
    expect(inOthers).toBeGreaterThan(3);
  });

  it("dead-letters the readings of a city without a table as no-table, telling to run bootstrap, having looked again first", async () => {
    const tables = cityTables(tablesOf(...DEFAULT_STATIONS.map((s) => s.city)));
    const chunk = await createChunkDecoder(reader, tables).decode(SOURCE, messages);
    expect(chunk.poison.map((p) => p.index)).toEqual(inCalgary);
    for (const { poison } of chunk.poison) {
      expect(poison).toEqual({
        errorClass: "MissingCityTableError",
        kind: "no-table",
        message: `no table weather_readings_calgary for city "calgary" of station CYYC; run bootstrap so it creates the city's partition`,
      });
    }
    expect(chunk.rowStart[messages.length]).toBe(chunk.rows.length);
    // The first look, and one more before dead-lettering.
    expect(tables.lookups()).toBe(2);
  });

  it("stores the readings of a city whose table was made since the last look", async () => {
    const others = tablesOf(...DEFAULT_STATIONS.map((s) => s.city));
    const tables = cityTables(others, EVERY_TABLE);
    const chunks = createChunkDecoder(reader, tables);
    const chunk = await chunks.decode(SOURCE, messages);
    expect(chunk.poison).toEqual([]);
    expect(chunk.rows).toEqual(
      (await createChunkDecoder(reader, cityTables(EVERY_TABLE)).decode(SOURCE, messages)).rows,
    );
    // Known from now on: the next chunk looks no more.
    await chunks.decode(SOURCE, messages);
    expect(tables.lookups()).toBe(2);
  });

  it("decides a chunk again when PostgreSQL found no table for a row and a look finds one gone", async () => {
    const others = tablesOf(...DEFAULT_STATIONS.map((s) => s.city));
    const chunks = createChunkDecoder(reader, cityTables(EVERY_TABLE, others));
    const chunk = await chunks.decode(SOURCE, messages);
    expect(chunk.poison).toEqual([]);
    const noPartition = Object.assign(
      new Error('no partition of relation "weather_readings" found for row'),
      {
        code: "23514",
      },
    );

    const again = await chunks.decideAgain(chunk, noPartition);

    expect(again?.poison.map((p) => [p.index, p.poison.kind])).toEqual(inCalgary.map((i) => [i, "no-table"]));
    expect(again?.rowStart[messages.length]).toBeLessThan(chunk.rows.length);
    // The tables are now as the chunk was decided against: the same error is an outage to wait out.
    expect(await chunks.decideAgain(again as DecodedChunk, noPartition)).toBeUndefined();
  });

  it("leaves a chunk as it is when the write failed for another reason", async () => {
    const tables = cityTables(EVERY_TABLE);
    const chunks = createChunkDecoder(reader, tables);
    const chunk = await chunks.decode(SOURCE, messages);
    const terminated = Object.assign(new Error("terminating connection"), { code: "57P01" });
    expect(await chunks.decideAgain(chunk, terminated)).toBeUndefined();
    expect(tables.lookups()).toBe(1);
  });
});
