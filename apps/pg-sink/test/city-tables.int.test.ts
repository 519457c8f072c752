import { prepareDatabase } from "@weather/db";
import { DEAD_LETTER_HEADERS, type WeatherReading } from "@weather/schema";
import { SINK_METRICS } from "@weather/service-kit";
import { describe, expect, it } from "vitest";
import type { Sink } from "../src/sink.ts";
import {
  CALGARY,
  CATALOG_WITH_CALGARY,
  createWorld,
  makeReadings,
  produceReadings,
  readTopic,
  startTestSink,
  storedReadingIds,
  type World,
  waitFor,
} from "./harness.ts";

const TIMEOUT = 120_000;

function inCalgary(readings: readonly WeatherReading[]): WeatherReading[] {
  return readings.map((r) => ({ ...r, stationId: CALGARY.id, city: CALGARY.city }));
}

const ids = (readings: readonly WeatherReading[]) => readings.map((r) => r.readingId);

async function storedOffsetTotal(world: World): Promise<number> {
  const [row] = await world.sql<{ total: number | null }[]>`
    select sum(next_offset)::int as total from consumer_offsets where topic = ${world.topic}`;
  return row?.total ?? 0;
}

async function deadLettersIn(world: World): Promise<number> {
  const offsets = await world.admin.fetchTopicOffsets(world.deadLetterTopic);
  return offsets.reduce((sum, { high }) => sum + Number(high), 0);
}

interface Running {
  readonly world: World;
  readonly sink: Sink;
  /** Produces the readings and waits until the sink's stored offset is past them. */
  store(readings: readonly WeatherReading[]): Promise<void>;
}

/**
 * A world of one partition, `prepare`d, and a sink running against it whose catalog knows CALGARY,
 * for `run`; both stopped and removed afterwards.
 */
async function withRunningSink(
  label: string,
  prepare: (world: World) => Promise<unknown>,
  run: (running: Running) => Promise<void>,
): Promise<void> {
  const world = await createWorld(label, 1);
  let sink: Sink | undefined;
  try {
    await prepare(world);
    sink = await startTestSink(world, {}, { catalog: CATALOG_WITH_CALGARY, untilCaughtUp: false });
    let sent = 0;
    await run({
      world,
      sink,
      async store(readings) {
        await produceReadings(world, readings);
        sent += readings.length;
        const upTo = sent;
        await waitFor(
          `the sink to store up to offset ${upTo}`,
          async () => (await storedOffsetTotal(world)) === upTo,
        );
      },
    });
  } finally {
    await sink?.stop();
    await world.close();
  }
}

describe("pg-sink's city tables, made and dropped while it runs", () => {
  it(
    "stores the readings of a city once bootstrap made its table after the sink started, dead-lettering none of them",
    () =>
      withRunningSink(
        "city_made",
        async () => {},
        async ({ world, store }) => {
          // The sink looks the city tables up with its first chunk: calgary has none yet.
          const before = makeReadings(20, 61);
          await store(before);

          await prepareDatabase(world.databaseUrl, [CALGARY.city]);
          const calgarys = inCalgary(makeReadings(15, 62));
          const after = [...calgarys, ...makeReadings(10, 63)];
          await store(after);

          expect(await storedReadingIds(world)).toEqual([...ids(before), ...ids(after)].sort());
          const [city] = await world.sql<{ n: number }[]>`
            select count(*)::int as n from weather_readings_calgary`;
          expect(city?.n).toBe(calgarys.length);
          expect(await deadLettersIn(world)).toBe(0);
        },
      ),
    TIMEOUT,
  );

  it(
    "looks the tables up again when PostgreSQL refuses a row of a dropped table, dead-letters that city's readings as no-table and stores the rest",
    () =>
      withRunningSink(
        "city_dropped",
        (world) => prepareDatabase(world.databaseUrl, [CALGARY.city]),
        async ({ world, sink, store }) => {
          // Stored while the table is there: the sink knows calgary's table.
          const elsewhere = makeReadings(10, 72);
          await store([...inCalgary(makeReadings(10, 71)), ...elsewhere]);

          await world.sql`drop table weather_readings_calgary`;
          const homeless = inCalgary(makeReadings(6, 73));
          const others = makeReadings(10, 74);
          // Calgary's readings among the others, in one chunk: PostgreSQL refuses the whole COPY.
          await store([...others.slice(0, 5), ...homeless, ...others.slice(5)]);

          // Calgary's earlier rows went with its table.
          expect(await storedReadingIds(world)).toEqual([...ids(elsewhere), ...ids(others)].sort());
          const letters = await readTopic(world, world.deadLetterTopic, homeless.length);
          const header = (name: string) => letters.map((letter) => letter.headers?.[name]?.toString());
          expect(header(DEAD_LETTER_HEADERS.errorKind)).toEqual(homeless.map(() => "no-table"));
          expect(header(DEAD_LETTER_HEADERS.errorClass)).toEqual(homeless.map(() => "MissingCityTableError"));
          for (const message of header(DEAD_LETTER_HEADERS.errorMessage)) {
            expect(message).toMatch(/^no table weather_readings_calgary for city "calgary".*run bootstrap/);
          }
          expect(header(DEAD_LETTER_HEADERS.sourceOffset)).toEqual(homeless.map((_, i) => String(25 + i)));
          const metrics = await (await fetch(`http://127.0.0.1:${sink.httpPort}/metrics`)).text();
          expect(metrics).toMatch(
            new RegExp(`${SINK_METRICS.metrics.deadLettered.name}\\{topic="[^"]+",reason="no-table"\\} 6`),
          );
        },
      ),
    TIMEOUT,
  );
});
