import { DEAD_LETTER_HEADERS, type WeatherReading } from "@weather/schema";
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
  startTestSink,
  storedReadingIds,
  type World,
  waitFor,
} from "./harness.ts";

describe("pg-sink stores known readings", () => {
  let world: World;
  const readings = makeReadings(600, 1);

  beforeAll(async () => {
    world = await createWorld("known");
    await produceReadings(world, readings);
  });
  afterAll(() => world?.close());

  it("stores exactly the readings produced (Avro v1, Avro v2, JSON), each once, with their values", async () => {
    const sink = await startTestSink(world);
    try {
      await sink.caughtUp;
      expect(await rowCounts(world)).toEqual({ rows: 600, distinct: 600 });
      expect(await storedReadingIds(world)).toEqual(readings.map((r) => r.readingId).sort());

      const sample = readings[4] as WeatherReading; // index 4: Avro v2, with pressure
      const [row] = await world.sql<Record<string, unknown>[]>`
        select station_id, city, observed_at, temperature_c, wind_speed_kmh, humidity_pct, pressure_hpa,
          source_topic from weather_readings where reading_id = ${sample.readingId}`;
      expect(row).toEqual({
        station_id: sample.stationId,
        city: sample.city,
        observed_at: sample.observedAt,
        temperature_c: sample.temperatureC,
        wind_speed_kmh: sample.windSpeedKmh,
        humidity_pct: sample.humidityPct,
        pressure_hpa: sample.pressureHpa,
        source_topic: world.topic,
      });
      const [city] = await world.sql<
        { n: number }[]
      >`select count(*)::int as n from weather_readings_winnipeg`;
      expect(city?.n).toBe(300);

      const base = `http://127.0.0.1:${sink.httpPort}`;
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      await waitFor("readiness", async () => (await fetch(`${base}/readyz`)).status === 200, 30_000);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      const { rowsWritten, chunkDuration, partitionLag } = SINK_METRICS.metrics;
      expect(metrics).toMatch(
        new RegExp(`${rowsWritten.name}\\{topic="${world.topic.replaceAll(".", "\\.")}"\\} 600`),
      );
      expect(metrics).toContain(`${chunkDuration.name}_bucket`);
      expect(metrics).toContain(`${partitionLag.name}{`);
      expect(metrics).toMatch(
        new RegExp(`${SINK_METRICS.buildInfo}\\{version="[^"]+",node_version="v[^"]+"\\} 1`),
      );
      // Node's process metrics under their standard names, as Node dashboards expect them.
      expect(metrics).toMatch(/^process_cpu_seconds_total \d/m);
      expect(metrics).toMatch(/^nodejs_heap_size_used_bytes \d/m);
    } finally {
      await sink.stop();
    }
  });

  it("resumes from the offsets stored in PostgreSQL and writes nothing twice", async () => {
    const more = makeReadings(30, 2);
    await produceReadings(world, more);
    await drainWithSink(world);
    expect(await rowCounts(world)).toEqual({ rows: 630, distinct: 630 });
    const [offsets] = await world.sql<{ total: number }[]>`
      select sum(next_offset)::int as total from consumer_offsets where topic = ${world.topic}`;
    expect(offsets?.total).toBe(630);
  });
});

describe("pg-sink dead-letters poison and keeps going", () => {
  let world: World;
  // A station the sink's catalog knows but the database has no table for.
  const catalog = CATALOG_WITH_CALGARY;

  beforeAll(async () => {
    world = await createWorld("poison", 1);
  });
  afterAll(() => world?.close());

  it("sends each kind of poison to <topic>.dlq with its headers while the valid readings around it are stored", async () => {
    const encoders = await createEncoders(world);
    const valid = makeReadings(40, 3);
    const template = valid[0] as WeatherReading;
    const header = (schemaId: number) => {
      const b = Buffer.alloc(5);
      b.writeInt32BE(schemaId, 1);
      return b;
    };
    const poison: (RawMessage & { kind: string })[] = [
      {
        kind: "bad-magic-byte",
        key: "p1",
        value: Buffer.from("not avro at all"),
        headers: { origin: "test" },
      },
      { kind: "bad-magic-byte", key: "p2", value: Buffer.from([0, 1]) },
      {
        kind: "unknown-schema",
        key: "p3",
        value: Buffer.concat([header(2_000_000_000), Buffer.from([1, 2, 3])]),
      },
      {
        kind: "undecodable",
        key: "p4",
        value: Buffer.concat([header(encoders.avroSchemaId), Buffer.from([0xff])]),
      },
      {
        kind: "invalid",
        key: "p5",
        value: await encoders.encode({ ...template, readingId: crypto.randomUUID(), temperatureC: 999 }, 0),
      },
      {
        kind: "invalid",
        key: "p6",
        value: await encoders.encode({ ...template, readingId: crypto.randomUUID(), stationId: "ZZZZ" }, 1),
      },
      {
        kind: "no-table",
        key: "p7",
        value: await encoders.encode(
          { ...template, readingId: crypto.randomUUID(), stationId: "CYYC", city: "calgary" },
          2,
        ),
      },
      { kind: "empty-value", key: "p8", value: null },
    ];
    // Five valid readings, a poison message, five valid readings, ...
    const messages: RawMessage[] = [];
    for (const [i, reading] of valid.entries()) {
      messages.push({ key: reading.stationId, value: await encoders.encode(reading, i) });
      const bad = poison[Math.floor(i / 5)];
      if (i % 5 === 4 && bad) messages.push(bad);
    }
    await produceRaw(world, messages);
    const offsetOf = new Map(poison.map((p) => [p.key, messages.indexOf(p)]));

    const metrics = await drainWithSink(world, { SINK_BATCH_SIZE: "7" }, { catalog });

    expect(await storedReadingIds(world)).toEqual(valid.map((r) => r.readingId).sort());
    const letters = await readTopic(world, world.deadLetterTopic, poison.length);
    expect(letters).toHaveLength(poison.length);
    for (const letter of letters) {
      const key = letter.key?.toString() ?? "";
      const original = poison.find((p) => p.key === key);
      const h = (name: string) => letter.headers?.[name]?.toString();
      expect(original, `unexpected dead letter ${key}`).toBeDefined();
      expect(h(DEAD_LETTER_HEADERS.errorKind), key).toBe(original?.kind);
      expect(h(DEAD_LETTER_HEADERS.errorClass), key).toMatch(/Error$/);
      expect(h(DEAD_LETTER_HEADERS.errorMessage)?.length, key).toBeGreaterThan(5);
      expect(h(DEAD_LETTER_HEADERS.sourceTopic)).toBe(world.topic);
      expect(h(DEAD_LETTER_HEADERS.sourcePartition)).toBe("0");
      expect(h(DEAD_LETTER_HEADERS.sourceOffset), key).toBe(String(offsetOf.get(key)));
      expect(Date.parse(h(DEAD_LETTER_HEADERS.failedAt) ?? "")).toBeGreaterThan(Date.now() - 600_000);
      expect(letter.value, key).toEqual(original?.value ?? null);
      for (const [name, value] of Object.entries(original?.headers ?? {})) expect(h(name)).toBe(value);
    }
    const { deadLettered } = SINK_METRICS.metrics;
    expect(metrics).toMatch(new RegExp(`${deadLettered.name}\\{topic="[^"]+",reason="bad-magic-byte"\\} 2`));
    expect(metrics).toMatch(new RegExp(`${deadLettered.name}\\{topic="[^"]+",reason="no-table"\\} 1`));
  });
});
