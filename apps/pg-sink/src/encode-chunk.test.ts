import { SchemaRegistry, SchemaType } from "@kafkajs/confluent-schema-registry";
import {
  createFastReadingReader,
  createReadingDecoder,
  createStationCatalog,
  DEFAULT_STATIONS,
  type FastReadingReader,
  type ReadingSchemaVersion,
  readingAvroSchema,
  type Station,
  type WeatherReading,
} from "@weather/schema";
import { seededReadings } from "@weather/schema/testing";
import { seededRandom } from "@weather/test-support";
import avro from "avsc";
import type { KafkaMessage } from "kafkajs";
import { describe, expect, it } from "vitest";
import { createChunkEncoder, type EncodedChunk } from "./encode-chunk.ts";

type Schema = Parameters<SchemaRegistry["cache"]["setSchema"]>[2];

const AVRO_V1 = 1;
const AVRO_V2 = 2;
const JSON_V2 = 3;
const NOW_MS = Date.UTC(2025, 5, 1, 12, 0, 0);
const calgary: Station = { ...(DEFAULT_STATIONS[0] as Station), id: "CYYC", city: "calgary" };
const catalog = createStationCatalog([...DEFAULT_STATIONS, calgary]);
const types = {
  1: avro.Type.forSchema(readingAvroSchema(1) as avro.Schema),
  2: avro.Type.forSchema(readingAvroSchema(2) as avro.Schema),
} as const;

/** A registry client answering from its cache only, as a sink does once it has seen each schema id. */
function offlineRegistry(): SchemaRegistry {
  const registry = new SchemaRegistry({ host: "http://127.0.0.1:9", retry: { retries: 0 } });
  registry.cache.setSchema(AVRO_V1, SchemaType.AVRO, types[1] as unknown as Schema);
  registry.cache.setSchema(AVRO_V2, SchemaType.AVRO, types[2] as unknown as Schema);
  registry.cache.setSchema(JSON_V2, SchemaType.JSON, {
    toBuffer: (payload: object) => Buffer.from(JSON.stringify(payload)),
    fromBuffer: (buffer: Buffer) => JSON.parse(buffer.toString()),
    isValid: () => true,
  } as unknown as Schema);
  return registry;
}

function framed(schemaId: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.writeInt32BE(schemaId, 1);
  return Buffer.concat([header, payload]);
}

/** A record as sensor-producer writes it (timestamps as millis in Avro, ISO strings in JSON). */
function wire(
  reading: WeatherReading,
  version: ReadingSchemaVersion,
  json: boolean,
): Record<string, unknown> {
  const { pressureHpa, observedAt, ...rest } = reading;
  const record: Record<string, unknown> = {
    ...rest,
    observedAt: json ? observedAt.toISOString() : observedAt.getTime(),
  };
  if (version === 2) record.pressureHpa = pressureHpa ?? null;
  return record;
}

function message(offset: number, value: Buffer | null): KafkaMessage {
  return {
    key: null,
    value,
    offset: String(offset),
    timestamp: "0",
    attributes: 0,
    headers: {},
  } as KafkaMessage;
}

/** Seeded readings in every format, and damaged or implausible messages between them. */
function corpus(seed: number, count: number): KafkaMessage[] {
  const random = seededRandom(seed);
  const messages: KafkaMessage[] = [];
  for (const [i, reading] of seededReadings(count, seed, catalog.stations, NOW_MS).entries()) {
    const kind = i % 3;
    const value =
      kind === 2
        ? framed(JSON_V2, Buffer.from(JSON.stringify(wire(reading, 2, true))))
        : framed(
            kind === 0 ? AVRO_V1 : AVRO_V2,
            types[kind === 0 ? 1 : 2].toBuffer(wire(reading, kind === 0 ? 1 : 2, false)),
          );
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
                : framed(
                    AVRO_V2,
                    types[2].toBuffer({ ...wire(reading, 2, false), temperatureC: 60 + random() }),
                  );
      messages.push(message(messages.length, bad));
    }
  }
  return messages;
}

const neverFast: FastReadingReader = { prepare: async () => {}, unlearned: () => false, read: () => false };

function comparable(chunk: EncodedChunk) {
  return {
    rows: chunk.rows.toString("hex"),
    rowStart: [...chunk.rowStart],
    rowEnd: [...chunk.rowEnd],
    cities: chunk.cities,
    stationIds: chunk.stationIds,
    poison: chunk.poison,
  };
}

describe("createChunkEncoder", () => {
  const registry = offlineRegistry();
  const decoder = createReadingDecoder(registry, { catalog, now: () => new Date(NOW_MS) });
  const fast = createChunkEncoder(createFastReadingReader(registry, catalog), decoder, () => NOW_MS);
  const general = createChunkEncoder(neverFast, decoder, () => NOW_MS);

  it("writes byte for byte the rows and poison the general decoder alone would", async () => {
    for (const seed of [1, 2, 3]) {
      const messages = corpus(seed, 3_000);
      const viaFast = await fast.encode("weather.readings", 4, messages);
      const viaGeneral = await general.encode("weather.readings", 4, messages);
      expect(comparable(viaFast)).toEqual(comparable(viaGeneral));
      // The Avro readings (two thirds of the readings) went the fast way; JSON and poison did not.
      expect(viaGeneral.fastRows).toBe(0);
      expect(viaFast.fastRows).toBeGreaterThan(1_900);
      expect(viaFast.poison.filter(Boolean).length).toBeGreaterThan(300);
    }
  });

  it("names each poison message as the general decoder does", async () => {
    const reading = seededReadings(1, 9, DEFAULT_STATIONS, NOW_MS)[0] as WeatherReading;
    const hot = framed(AVRO_V1, types[1].toBuffer({ ...wire(reading, 1, false), temperatureC: 57 }));
    const chunk = await fast.encode("t", 0, [
      message(0, hot),
      message(1, null),
      message(2, Buffer.from([1, 2])),
    ]);
    expect(chunk.poison).toEqual([
      {
        errorClass: "ReadingDecodeError",
        kind: "invalid",
        message: `implausible reading ${reading.readingId}: temperatureC: got 57; expected a finite number within -60..50 °C`,
      },
      { errorClass: "EmptyValueError", kind: "empty-value", message: "message has no value (a tombstone?)" },
      expect.objectContaining({ kind: "bad-magic-byte" }),
    ]);
    expect([...chunk.rowStart]).toEqual([-1, -1, -1]);
    expect(chunk.rows.length).toBe(0);
  });
});
