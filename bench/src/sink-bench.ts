import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { SchemaRegistry } from "@kafkajs/confluent-schema-registry";
import { weatherReadings } from "@weather/db";
import { createReadingDecoder, type WeatherReading } from "@weather/schema";
import { readTopicToEnd } from "@weather/service-kit";
import { getTableName } from "drizzle-orm";
import postgres, { type Sql } from "postgres";
import type { BenchConfig } from "./config.ts";
import { highWatermarks, totalOf } from "./kafka-read.ts";
import { ratio } from "./stats.ts";
import { assertClean, startWorker } from "./worker.ts";
import type { BenchWorld } from "./world.ts";

const READINGS_TABLE = getTableName(weatherReadings);
const COLUMNS = [
  "reading_id",
  "station_id",
  "city",
  "observed_at",
  "temperature_c",
  "wind_speed_kmh",
  "humidity_pct",
  "pressure_hpa",
  "source_topic",
  "source_partition",
  "source_offset",
] as const;
const CAUGHT_UP_POLL_MS = 100;

function openSql(databaseUrl: string): Sql {
  return postgres(databaseUrl, { max: 1, onnotice: () => {}, connection: { application_name: "bench" } });
}

/** The backlog, decoded once, as COPY text lines in chunks of about a megabyte. */
export interface Backlog {
  readonly topic: string;
  readonly readings: number;
  readonly copyChunks: readonly string[];
}

function copyLine(reading: WeatherReading, topic: string, partition: number, offset: string): string {
  return [
    reading.readingId,
    reading.stationId,
    reading.city,
    reading.observedAt.toISOString(),
    reading.temperatureC,
    reading.windSpeedKmh,
    reading.humidityPct,
    reading.pressureHpa ?? "\\N",
    topic,
    partition,
    offset,
  ].join("\t");
}

/** Decodes every message of the filled topic the way the sink does, into COPY lines kept in memory. */
export async function loadBacklog(world: BenchWorld, config: BenchConfig, topic: string): Promise<Backlog> {
  const decoder = createReadingDecoder(new SchemaRegistry({ host: config.schemaRegistryUrl }), {
    catalog: world.catalog,
  });
  const chunks: string[] = [];
  let lines: string[] = [];
  let readings = 0;
  await readTopicToEnd(world.kafka, world.admin, topic, async (partition, messages) => {
    for (const message of messages) {
      if (message.value === null) continue;
      const reading = await decoder.decode(message.value);
      lines.push(copyLine(reading, topic, partition, message.offset));
      readings += 1;
      if (lines.length >= 8_000) {
        chunks.push(`${lines.join("\n")}\n`);
        lines = [];
      }
    }
  });
  if (lines.length > 0) chunks.push(`${lines.join("\n")}\n`);
  return { topic, readings, copyChunks: chunks };
}

export interface DrainRun {
  readonly rows: number;
  readonly rowsPerSecond: number;
  readonly elapsedMs: number;
  readonly peakRssBytes?: number;
  /** pg-sink only: from spawning the process to its exit, start-up and shutdown included. */
  readonly wallMs?: number;
}

/**
 * pg-sink drains the backlog into a fresh database with `--until-caught-up`. Its rate is the rows
 * stored over the time from its first transaction's start (the earliest ingested_at, now() in that
 * transaction) until the bench sees every partition's stored offset at the end of the log (polled
 * every 100 ms in consumer_offsets, which commits with the rows): the drain, not the process
 * start-up, the group join or the sink's own one-second caught-up poll.
 */
export function runPgSink(
  world: BenchWorld,
  backlog: Pick<Backlog, "topic" | "readings">,
  run: number,
): Promise<DrainRun> {
  return drainWithPgSink(world, backlog, { run });
}

/**
 * runPgSink with `instances` pg-sink processes in one consumer group, started together (each
 * exits once the group has stored everything), and `env` for all of them (e.g. another cluster's
 * KAFKA_BROKERS). Peak RSS and wall time are the largest of the instances'.
 */
export async function drainWithPgSink(
  world: BenchWorld,
  backlog: Pick<Backlog, "topic" | "readings">,
  options: { run: number; instances?: number; env?: Readonly<Record<string, string>> },
): Promise<DrainRun> {
  const instances = options.instances ?? 1;
  const databaseUrl = await world.createDatabase("sink");
  const group = `bench-sink-${world.runId}-${instances}-${options.run}`;
  const sql = openSql(databaseUrl);
  try {
    const total = totalOf(await highWatermarks(world.admin, backlog.topic));
    const workers = Array.from({ length: instances }, () =>
      startWorker("pg-sink", ["--until-caught-up"], {
        DATABASE_URL: databaseUrl,
        READINGS_TOPIC: backlog.topic,
        SINK_GROUP_ID: group,
        SINK_HTTP_PORT: "0",
        ...options.env,
      }),
    );
    let caughtUpAt: number | undefined;
    let exited = 0;
    for (const worker of workers)
      void worker.exited.finally(() => {
        exited += 1;
      });
    while (caughtUpAt === undefined && exited < instances) {
      const [row] = await sql<{ stored: string | null }[]>`
        select sum(next_offset)::text as stored from consumer_offsets
        where consumer_group = ${group} and topic = ${backlog.topic}`.catch(() => []);
      if (Number(row?.stored ?? 0) >= total) caughtUpAt = Date.now();
      else await sleep(CAUGHT_UP_POLL_MS);
    }
    const exits = await Promise.all(workers.map((worker) => worker.exited));
    for (const exit of exits) assertClean("pg-sink", exit);
    caughtUpAt ??= Date.now();
    const [stats] = await sql<{ rows: number; first: number }[]>`
      select count(*)::int as rows, (extract(epoch from min(ingested_at)) * 1000)::float8 as first
      from ${sql(READINGS_TABLE)}`;
    const rows = stats?.rows ?? 0;
    const elapsedMs = caughtUpAt - (stats?.first ?? caughtUpAt);
    if (rows !== backlog.readings)
      throw new Error(
        `pg-sink stored ${rows} rows of ${backlog.readings}; the benchmark expects all of them`,
      );
    return {
      rows,
      elapsedMs,
      rowsPerSecond: (rows * 1000) / elapsedMs,
      peakRssBytes: Math.max(...exits.map((exit) => exit.peakRssBytes)),
      wallMs: Math.max(...exits.map((exit) => exit.wallMs)),
    };
  } finally {
    await sql.end({ timeout: 5 });
    await world.admin.deleteGroups([group]).catch(() => {});
    await world.dropDatabase(databaseUrl);
  }
}

/**
 * The database's limit here: the same rows, already decoded in memory, in one COPY into the same
 * partitioned table (PostgreSQL routes each row to its city's table, as for the sink's INSERT),
 * with the same indexes, in a fresh database. Timed from opening the COPY to its completion.
 */
export async function runRawCopy(world: BenchWorld, backlog: Backlog): Promise<DrainRun> {
  const databaseUrl = await world.createDatabase("copy");
  const sql = openSql(databaseUrl);
  try {
    await sql`select 1`;
    const started = performance.now();
    const writable =
      await sql`copy ${sql(READINGS_TABLE)} (${sql.unsafe(COLUMNS.join(", "))}) from stdin`.writable();
    await pipeline(Readable.from(backlog.copyChunks), writable);
    const elapsedMs = performance.now() - started;
    const [stats] = await sql<{ rows: number }[]>`select count(*)::int as rows from ${sql(READINGS_TABLE)}`;
    const rows = stats?.rows ?? 0;
    if (rows !== backlog.readings) throw new Error(`COPY stored ${rows} rows of ${backlog.readings}`);
    return { rows, elapsedMs, rowsPerSecond: (rows * 1000) / elapsedMs };
  } finally {
    await sql.end({ timeout: 5 });
    await world.dropDatabase(databaseUrl);
  }
}

/**
 * The original project's approach: a kafkajs consumer whose eachMessage decodes one message and
 * INSERTs it on its own (autocommit, kafkajs committing offsets on its own schedule: at least once,
 * not exactly once). It runs on the first `limit` messages of the backlog only, because at its
 * pace the whole backlog would take most of an hour; its rate is per message, so the subset does
 * not flatter it (the table is smaller, if anything it helps). Timed from the first message
 * handed to eachMessage to the limit-th INSERT's completion.
 */
export async function runInsertPerMessage(
  world: BenchWorld,
  config: BenchConfig,
  backlog: Backlog,
  limit: number,
  run: number,
): Promise<DrainRun> {
  const databaseUrl = await world.createDatabase("insert");
  const sql = openSql(databaseUrl);
  const groupId = `bench-insert-${world.runId}-${run}`;
  const decoder = createReadingDecoder(new SchemaRegistry({ host: config.schemaRegistryUrl }), {
    catalog: world.catalog,
  });
  const consumer = world.kafka.consumer({ groupId });
  let inserted = 0;
  let firstAt: number | undefined;
  let lastAt = 0;
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  try {
    await consumer.connect();
    await consumer.subscribe({ topic: backlog.topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        if (inserted >= limit || message.value === null) return;
        firstAt ??= performance.now();
        const r = await decoder.decode(message.value);
        await sql`
          insert into ${sql(READINGS_TABLE)} (${sql.unsafe(COLUMNS.join(", "))})
          values (${r.readingId}, ${r.stationId}, ${r.city}, ${r.observedAt.toISOString()},
            ${r.temperatureC}, ${r.windSpeedKmh}, ${r.humidityPct}, ${r.pressureHpa ?? null},
            ${topic}, ${partition}, ${message.offset})
          on conflict do nothing`;
        inserted += 1;
        if (inserted === limit) {
          lastAt = performance.now();
          finish();
        }
      },
    });
    await done;
    const elapsedMs = lastAt - (firstAt ?? lastAt);
    return { rows: inserted, elapsedMs, rowsPerSecond: (inserted * 1000) / elapsedMs };
  } finally {
    await consumer.disconnect().catch(() => {});
    await world.admin.deleteGroups([groupId]).catch(() => {});
    await sql.end({ timeout: 5 });
    await world.dropDatabase(databaseUrl);
  }
}

export interface SinkComparison {
  readonly pgSink: DrainRun;
  readonly rawCopy: DrainRun;
  readonly insertPerMessage: DrainRun;
  readonly ofRawCopy: number;
  readonly timesInsertPerMessage: number;
}

export async function compareSinks(
  world: BenchWorld,
  config: BenchConfig,
  backlog: Backlog,
  run: number,
  log: (line: string) => void,
): Promise<SinkComparison> {
  const pgSink = await runPgSink(world, backlog, run);
  log(`  pg-sink: ${Math.round(pgSink.rowsPerSecond)} rows/s (${pgSink.rows} rows)`);
  const rawCopy = await runRawCopy(world, backlog);
  log(`  raw COPY: ${Math.round(rawCopy.rowsPerSecond)} rows/s`);
  const insertPerMessage = await runInsertPerMessage(world, config, backlog, config.insertReadings, run);
  log(
    `  one INSERT per message: ${Math.round(insertPerMessage.rowsPerSecond)} rows/s (${insertPerMessage.rows} rows)`,
  );
  return {
    pgSink,
    rawCopy,
    insertPerMessage,
    ofRawCopy: ratio(pgSink.rowsPerSecond, rawCopy.rowsPerSecond),
    timesInsertPerMessage: ratio(pgSink.rowsPerSecond, insertPerMessage.rowsPerSecond),
  };
}
