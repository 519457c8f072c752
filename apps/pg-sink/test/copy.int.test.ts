import { ensureSinkRole } from "@weather/db";
import { DEAD_LETTER_HEADERS, DEFAULT_STATIONS, type WeatherReading } from "@weather/schema";
import { seededReadings } from "@weather/schema/testing";
import { SINK_METRICS } from "@weather/service-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CATALOG_WITH_CALGARY,
  createEncoders,
  createWorld,
  drainWithSink,
  makeReadings,
  produceRaw,
  produceReadings,
  type RawMessage,
  readTopic,
  rowCounts,
  storedReadingIds,
  type World,
} from "./harness.ts";

/** The role bootstrap creates for the sink (SINK_DB_ROLE's default). */
const SINK_ROLE = "weather_sink";

/** Rows and offsets as one chunk transaction leaves them: one COPY per chunk at the default size. */
const ONE_CHUNK = { SINK_BATCH_SIZE: "5000" };

function duplicatesIn(metrics: string): number {
  const sample = new RegExp(`${SINK_METRICS.metrics.duplicatesSkipped.name}\\{[^}]*\\} (\\d+)`);
  return Number(sample.exec(metrics)?.[1] ?? 0);
}

async function storedOffsetTotal(world: World): Promise<number> {
  const [row] = await world.sql<{ total: number | null }[]>`
    select sum(next_offset)::int as total from consumer_offsets where topic = ${world.topic}`;
  return row?.total ?? 0;
}

describe("pg-sink stores values exactly as sent", () => {
  let world: World;
  // "Now" two minutes back: the readings stamped ahead of it stay within the five minutes validation
  // allows however long the test takes to get them to the sink.
  const readings = seededReadings(900, 41, DEFAULT_STATIONS, Date.now() - 120_000);

  beforeAll(async () => {
    world = await createWorld("exact", 2);
    await produceReadings(world, readings);
  });
  afterAll(() => world?.close());

  it("keeps every column bit for bit: -0.0, subnormals, range ends, millisecond timestamps, pressure null and present", async () => {
    await drainWithSink(world, ONE_CHUNK);
    const rows = await world.sql<
      {
        id: string;
        station: string;
        city: string;
        observed: Buffer;
        temperature: Buffer;
        wind: Buffer;
        humidity: Buffer;
        pressure: Buffer | null;
      }[]
    >`
      select encode(uuid_send(reading_id), 'hex') as id, station_id as station, city,
        timestamptz_send(observed_at) as observed, float8send(temperature_c) as temperature,
        float8send(wind_speed_kmh) as wind, float8send(humidity_pct) as humidity,
        float8send(pressure_hpa) as pressure
      from weather_readings`;
    const byId = new Map(rows.map((row) => [row.id, row]));
    expect(byId.size).toBe(readings.length);

    const double = (value: number) => {
      const bytes = Buffer.alloc(8);
      bytes.writeDoubleBE(value);
      return bytes;
    };
    const micros = (date: Date) => {
      const bytes = Buffer.alloc(8);
      bytes.writeBigInt64BE((BigInt(date.getTime()) - 946_684_800_000n) * 1000n);
      return bytes;
    };
    let negativeZeros = 0;
    let subnormals = 0;
    for (const [i, sent] of readings.entries()) {
      // The harness rotates Avro v1 (no pressure), Avro v2 and JSON; JSON has no -0 (JSON.stringify writes 0).
      const format = (["avro v1", "avro v2", "json"] as const)[i % 3];
      const onTheWire = (value: number) =>
        format === "json" ? (JSON.parse(JSON.stringify(value)) as number) : value;
      const row = byId.get(sent.readingId.replaceAll("-", "").toLowerCase());
      const label = `reading ${i} (${format}) ${sent.readingId}`;
      expect(row, label).toBeDefined();
      expect(row?.station, label).toBe(sent.stationId);
      expect(row?.city, label).toBe(sent.city);
      expect(row?.observed, label).toEqual(micros(sent.observedAt));
      expect(row?.temperature, label).toEqual(double(onTheWire(sent.temperatureC)));
      expect(row?.wind, label).toEqual(double(onTheWire(sent.windSpeedKmh)));
      expect(row?.humidity, label).toEqual(double(onTheWire(sent.humidityPct)));
      const pressure = format === "avro v1" ? null : (sent.pressureHpa ?? null);
      expect(row?.pressure ?? null, label).toEqual(pressure === null ? null : double(onTheWire(pressure)));
      if (format !== "json" && Object.is(sent.temperatureC, -0)) negativeZeros += 1;
      if (
        format !== "json" &&
        Math.abs(sent.windSpeedKmh) > 0 &&
        Math.abs(sent.windSpeedKmh) < 2.2250738585072014e-308
      )
        subnormals += 1;
    }
    // The seeded set really holds the cases this test is about.
    expect(negativeZeros).toBeGreaterThan(0);
    expect(subnormals).toBeGreaterThan(0);
  });
});

describe("pg-sink stores a reading sent more than once once", () => {
  let world: World;

  beforeAll(async () => {
    world = await createWorld("duplicates", 1);
  });
  afterAll(() => world?.close());

  it("stores a reading repeated inside one COPY chunk once, keeping its first message", async () => {
    const readings = makeReadings(300, 42);
    // Every tenth reading is sent again a few messages later, in the same chunk.
    const sent: WeatherReading[] = [];
    for (const [i, reading] of readings.entries()) {
      sent.push(reading);
      if (i % 10 === 9) sent.push(readings[i - 3] as WeatherReading);
    }
    await produceReadings(world, sent);
    const metrics = await drainWithSink(world, ONE_CHUNK);
    expect(await rowCounts(world)).toEqual({ rows: 300, distinct: 300 });
    expect(await storedReadingIds(world)).toEqual(readings.map((r) => r.readingId).sort());
    expect(duplicatesIn(metrics)).toBe(30);
    expect(await storedOffsetTotal(world)).toBe(330);
    const repeated = readings[6] as WeatherReading;
    const [row] = await world.sql<{ offset: string }[]>`
      select source_offset::text as offset from weather_readings where reading_id = ${repeated.readingId}`;
    expect(row?.offset).toBe(String(sent.indexOf(repeated)));
  });

  it("stores a backfill sent twice once, with the new readings between the repeats, as the sink's least-privilege role", async () => {
    const before = await rowCounts(world);
    const first = makeReadings(2_000, 43);
    await produceReadings(world, first);
    await drainWithSink(world, ONE_CHUNK);
    expect((await rowCounts(world)).rows).toBe(before.rows + 2_000);

    // The same backfill again, with new readings among them: every chunk holds stored readings.
    const fresh = makeReadings(500, 44);
    const again: WeatherReading[] = [];
    for (const [i, reading] of first.entries()) {
      again.push(reading);
      if (i % 4 === 0) again.push(fresh[i / 4] as WeatherReading);
    }
    await produceReadings(world, again);
    // Every chunk now takes the staging table: as the role bootstrap creates, with its grants only
    // (TEMPORARY taken from PUBLIC, as a hardened server would).
    const database = new URL(world.databaseUrl).pathname.slice(1);
    await world.sql.unsafe(`revoke temporary on database "${database}" from public`);
    await ensureSinkRole(world.databaseUrl, { role: SINK_ROLE });
    const asSinkRole = new URL(world.databaseUrl);
    asSinkRole.username = SINK_ROLE;
    const metrics = await drainWithSink(world, { ...ONE_CHUNK, DATABASE_URL: asSinkRole.toString() });
    expect(await rowCounts(world)).toEqual({ rows: before.rows + 2_500, distinct: before.rows + 2_500 });
    expect(duplicatesIn(metrics)).toBe(2_000);
    expect(await storedOffsetTotal(world)).toBe(330 + 2_000 + 2_500);
  });
});

describe("pg-sink dead-letters poison inside a COPY chunk", () => {
  let world: World;
  const catalog = CATALOG_WITH_CALGARY;

  beforeAll(async () => {
    world = await createWorld("copy_poison", 1);
  });
  afterAll(() => world?.close());

  it("sends the poison of a chunk to the dead-letter topic and stores the readings around it once, duplicates included", async () => {
    const encoders = await createEncoders(world);
    const valid = makeReadings(1_000, 45);
    const template = valid[0] as WeatherReading;
    const poison: (RawMessage & { kind: string })[] = [
      { kind: "bad-magic-byte", key: "p1", value: Buffer.from("plain text") },
      {
        kind: "invalid",
        key: "p2",
        value: await encoders.encode({ ...template, readingId: crypto.randomUUID(), humidityPct: 101 }, 0),
      },
      {
        kind: "no-table",
        key: "p3",
        value: await encoders.encode(
          { ...template, readingId: crypto.randomUUID(), stationId: "CYYC", city: "calgary" },
          1,
        ),
      },
      { kind: "empty-value", key: "p4", value: null },
    ];
    const messages: RawMessage[] = [];
    for (const [i, reading] of valid.entries()) {
      messages.push({ key: reading.stationId, value: await encoders.encode(reading, i) });
      // Poison spread through the chunk, and readings repeated a little later in it.
      if (i % 250 === 100) messages.push(poison[Math.floor(i / 250)] as RawMessage);
      if (i % 100 === 50)
        messages.push({ key: reading.stationId, value: await encoders.encode(reading, i + 1) });
    }
    await produceRaw(world, messages);
    const offsetOf = new Map(poison.map((p) => [p.key, messages.indexOf(p)]));

    const metrics = await drainWithSink(world, ONE_CHUNK, { catalog });

    expect(await rowCounts(world)).toEqual({ rows: 1_000, distinct: 1_000 });
    expect(await storedReadingIds(world)).toEqual(valid.map((r) => r.readingId).sort());
    expect(duplicatesIn(metrics)).toBe(10);
    expect(await storedOffsetTotal(world)).toBe(messages.length);
    const letters = await readTopic(world, world.deadLetterTopic, poison.length);
    expect(
      letters
        .map((letter) => ({
          key: letter.key?.toString(),
          kind: letter.headers?.[DEAD_LETTER_HEADERS.errorKind]?.toString(),
          offset: letter.headers?.[DEAD_LETTER_HEADERS.sourceOffset]?.toString(),
        }))
        .sort((a, b) => String(a.key).localeCompare(String(b.key))),
    ).toEqual(poison.map((p) => ({ key: p.key, kind: p.kind, offset: String(offsetOf.get(p.key)) })));
  });
});
