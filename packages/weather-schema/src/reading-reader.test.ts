import { describe, expect, it } from "vitest";
import {
  encodeAvro,
  encodeJson,
  offlineRegistry,
  readingOfSlots,
  seededRandom,
  seededReadings,
} from "../test/seeded-readings.ts";
import { createStationCatalog } from "./catalog.ts";
import { createReadingDecoder } from "./codec.ts";
import { ReadingDecodeError } from "./decode-error.ts";
import type { WeatherReading } from "./reading.ts";
import { createReadingReader, type ReadingVisitor } from "./reading-reader.ts";
import { DEFAULT_STATIONS } from "./stations.ts";

const IDS = { avroV1: 1, avroV2: 2, jsonV2: 3 };
const NOW_MS = Date.UTC(2025, 5, 1, 12, 0, 0);
const catalog = createStationCatalog(DEFAULT_STATIONS);
const now = () => new Date(NOW_MS);

type Told =
  | { readonly index: number; readonly how: "fast" | "general"; readonly reading: WeatherReading }
  | { readonly index: number; readonly how: "rejected"; readonly kind: string; readonly message: string }
  | { readonly index: number; readonly how: "empty" };

/** Records what the reader tells, in the order it tells it. */
function recorder(): { told: Told[]; visitor: ReadingVisitor } {
  const told: Told[] = [];
  return {
    told,
    visitor: {
      slots: (index, slots) => told.push({ index, how: "fast", reading: readingOfSlots(slots) }),
      reading: (index, reading) => told.push({ index, how: "general", reading }),
      rejected: (index, error) =>
        told.push({ index, how: "rejected", kind: error.kind, message: error.message }),
      empty: (index) => told.push({ index, how: "empty" }),
    },
  };
}

/** Avro v1, Avro v2 and JSON readings, with damaged and empty messages between them. */
function corpus(count: number, seed: number): { value: Buffer | null }[] {
  const random = seededRandom(seed);
  const messages: { value: Buffer | null }[] = [];
  for (const [i, reading] of seededReadings(count, seed, DEFAULT_STATIONS, NOW_MS).entries()) {
    const value =
      i % 3 === 0
        ? encodeAvro(IDS.avroV1, 1, reading)
        : i % 3 === 1
          ? encodeAvro(IDS.avroV2, 2, reading)
          : encodeJson(IDS.jsonV2, 2, reading);
    messages.push({ value });
    const roll = random();
    if (roll < 0.05) messages.push({ value: null });
    else if (roll < 0.1) messages.push({ value: Buffer.alloc(0) });
    else if (roll < 0.2) messages.push({ value: value.subarray(0, 5 + Math.floor(random() * 20)) });
    else if (roll < 0.25) messages.push({ value: Buffer.from("not wire format") });
    else if (roll < 0.3)
      messages.push({ value: encodeAvro(IDS.avroV2, 2, { ...reading, humidityPct: 101 }) });
  }
  return messages;
}

describe("createReadingReader", () => {
  it("tells each message once, in order, exactly as the general decoder alone would judge it", async () => {
    const registry = offlineRegistry(IDS);
    const reader = createReadingReader(registry, { catalog, now });
    const decoder = createReadingDecoder(registry, { catalog, now });
    const messages = corpus(2_000, 5);
    const { told, visitor } = recorder();

    const fastReads = await reader.readAll(messages, visitor);

    expect(told.map((t) => t.index)).toEqual(messages.map((_, i) => i));
    for (const [i, { value }] of messages.entries()) {
      const said = told[i] as Told;
      if (value === null || value.length === 0) {
        expect(said, `message ${i}`).toEqual({ index: i, how: "empty" });
        continue;
      }
      const expected = await decoder.decode(value).catch((error: unknown) => error);
      if (expected instanceof ReadingDecodeError) {
        expect(said, `message ${i}`).toEqual({
          index: i,
          how: "rejected",
          kind: expected.kind,
          message: expected.message,
        });
      } else {
        const reading = expected as WeatherReading;
        expect(said.how, `message ${i}`).not.toMatch(/rejected|empty/);
        if (said.how !== "fast" && said.how !== "general") continue;
        expect(said.reading, `message ${i}`).toEqual({
          ...reading,
          readingId: said.how === "fast" ? reading.readingId.toLowerCase() : reading.readingId,
          pressureHpa: reading.pressureHpa ?? null,
        });
      }
    }
    // The Avro readings (two thirds) went the fast way, learning both schema ids on the way; JSON did not.
    const fast = told.filter((t) => t.how === "fast").length;
    expect(fastReads).toBe(fast);
    expect(fast).toBeGreaterThan(1_300);
    expect(told.filter((t) => t.how === "general").length).toBeGreaterThan(600);
    expect(told.filter((t) => t.how === "rejected").length).toBeGreaterThan(100);
  });

  it("judges a reading from the future by one clock on both paths", async () => {
    const registry = offlineRegistry(IDS);
    const reader = createReadingReader(registry, { catalog, now });
    const [reading] = seededReadings(1, 6, DEFAULT_STATIONS, NOW_MS) as [WeatherReading];
    const ahead = { ...reading, observedAt: new Date(NOW_MS + 300_001) };
    const { told, visitor } = recorder();
    await reader.readAll(
      [{ value: encodeAvro(IDS.avroV2, 2, ahead) }, { value: encodeJson(IDS.jsonV2, 2, ahead) }],
      visitor,
    );
    expect(told.map((t) => (t.how === "rejected" ? t.kind : t.how))).toEqual(["invalid", "invalid"]);
  });

  it("fails the whole read, with no ReadingDecodeError, while the registry does not answer for a schema id", async () => {
    const reader = createReadingReader(offlineRegistry(IDS), { catalog, now });
    const [reading] = seededReadings(1, 7, DEFAULT_STATIONS, NOW_MS) as [WeatherReading];
    const { visitor } = recorder();
    const failure = await reader
      .readAll(
        [{ value: encodeAvro(IDS.avroV2, 2, reading) }, { value: encodeAvro(99, 2, reading) }],
        visitor,
      )
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Error);
    expect(failure).not.toBeInstanceOf(ReadingDecodeError);
    expect((failure as Error).message).toMatch(/cannot fetch schema 99/);
  });
});
