import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { SchemaRegistry } from "@kafkajs/confluent-schema-registry";
import { COPY_COLUMNS, COPY_HEADER, COPY_TRAILER, CopyRows, weatherReadings } from "@weather/db";
import { createReadingDecoder, type StationCatalog, type WeatherReading } from "@weather/schema";
import { readTopicToEnd } from "@weather/service-kit";
import { getTableName } from "drizzle-orm";
import postgres, { type Sql } from "postgres";
import type { BenchConfig } from "./config.ts";
import { highWatermarks, totalOf } from "./kafka-read.ts";
import { CpuMeter } from "./proc.ts";
import { BACKFILL_FROM, BENCH_SEED } from "./producer-bench.ts";
import { ratio } from "./stats.ts";
import {
  type FetchSummary,
  summarizeFetches,
  summarizeTransactions,
  type TransactionSummary,
} from "./trace/breakdown.ts";
import type { MemoryTrace } from "./trace/recorder.ts";
import { assertClean, readTrace, startWorker, traceOptions, type Worker } from "./worker.ts";
import type { BenchWorld } from "./world.ts";

const READINGS_TABLE = getTableName(weatherReadings);
const COLUMN_LIST = COPY_COLUMNS.join(", ");
export const CAUGHT_UP_POLL_MS = 100;
/** Rows per chunk of the in-memory backlog (about a megabyte each). */
const ROWS_PER_CHUNK = 8_000;

export function openSql(databaseUrl: string): Sql {
  return postgres(databaseUrl, { max: 1, onnotice: () => {}, connection: { application_name: "bench" } });
}

export function databaseOf(databaseUrl: string): string {
  return new URL(databaseUrl).pathname.slice(1);
}

/** A drain's subject: which stations (so which partitions) the backlog holds. */
export interface SinkScenario {
  /** For labels and keys: "2 stations" or "12 stations". */
  readonly name: string;
  readonly key: string;
  readonly catalog: StationCatalog;
  /** STATIONS_FILE for the producer and the sink, when the catalog is not the built-in one. */
  readonly stationsFile: string | undefined;
}

/** The backlog, decoded once, as COPY data in chunks: text lines and binary rows. */
export interface Backlog {
  readonly topic: string;
  readonly readings: number;
  /** Partitions holding messages. */
  readonly partitions: number;
  readonly textChunks: readonly string[];
  readonly binaryChunks: readonly Buffer[];
}

/** A double as PostgreSQL's text input reads it back exactly (String() drops the sign of -0). */
function textNumber(value: number): string {
  return Object.is(value, -0) ? "-0" : String(value);
}

function copyLine(reading: WeatherReading, topic: string, partition: number, offset: string): string {
  return [
    reading.readingId,
    reading.stationId,
    reading.city,
    reading.observedAt.toISOString(),
    textNumber(reading.temperatureC),
    textNumber(reading.windSpeedKmh),
    textNumber(reading.humidityPct),
    reading.pressureHpa === null || reading.pressureHpa === undefined
      ? "\\N"
      : textNumber(reading.pressureHpa),
    topic,
    partition,
    offset,
  ].join("\t");
}

/**
 * Fills a fresh topic with `readings` readings of the scenario's stations: the real sensor-producer
 * as a backfill, without rate cap, like the producer suite's runs.
 */
export async function fillBacklog(
  world: BenchWorld,
  scenario: SinkScenario,
  readings: number,
): Promise<{ topic: string; readingsPerSecond: number }> {
  const topic = await world.createTopic(`sink-${scenario.key}`);
  const perStation = Math.ceil(readings / scenario.catalog.stations.length);
  const worker = startWorker(
    "sensor-producer",
    ["--from", BACKFILL_FROM, "--step", "1m", "--count", String(perStation), "--seed", BENCH_SEED],
    {
      READINGS_TOPIC: topic,
      ...(scenario.stationsFile === undefined ? {} : { STATIONS_FILE: scenario.stationsFile }),
    },
  );
  const exit = await worker.exited;
  assertClean("sensor-producer", exit);
  const stopped = exit.logs.findLast((line) => line.msg === "stopped");
  return { topic, readingsPerSecond: Number(stopped?.readingsPerSecond ?? Number.NaN) };
}

/** Decodes every message of the filled topic the way the sink does, into COPY data kept in memory. */
export async function loadBacklog(
  world: BenchWorld,
  config: BenchConfig,
  scenario: SinkScenario,
  topic: string,
): Promise<Backlog> {
  const decoder = createReadingDecoder(new SchemaRegistry({ host: config.schemaRegistryUrl }), {
    catalog: scenario.catalog,
  });
  const textChunks: string[] = [];
  const binaryChunks: Buffer[] = [];
  const topicBytes = Buffer.from(topic);
  let lines: string[] = [];
  let rows = new CopyRows();
  let readings = 0;
  const partitions = new Set<number>();
  const flush = () => {
    textChunks.push(`${lines.join("\n")}\n`);
    binaryChunks.push(Buffer.from(rows.bytes()));
    lines = [];
    rows = new CopyRows();
  };
  await readTopicToEnd(world.kafka, world.admin, topic, async (partition, messages) => {
    for (const message of messages) {
      if (message.value === null) continue;
      const reading = await decoder.decode(message.value);
      lines.push(copyLine(reading, topic, partition, message.offset));
      rows.appendReading(reading, topicBytes, partition, message.offset);
      partitions.add(partition);
      readings += 1;
      if (lines.length >= ROWS_PER_CHUNK) flush();
    }
  });
  if (lines.length > 0) flush();
  return { topic, readings, partitions: partitions.size, textChunks, binaryChunks };
}

export interface DrainRun {
  readonly rows: number;
  readonly rowsPerSecond: number;
  readonly elapsedMs: number;
  readonly peakRssBytes?: number;
  /** pg-sink only: from spawning the process to its exit, start-up and shutdown included. */
  readonly wallMs?: number;
  /** CPU time per row of the node process (pg-sink only), microseconds. */
  readonly nodeMicrosPerRow?: number;
  /** CPU time per row of the PostgreSQL backends doing the work, microseconds. */
  readonly backendMicrosPerRow?: number;
  /** pg-sink only, from its trace: memory at its peak, its Fetch answers and its transactions. */
  readonly memory?: MemoryTrace;
  readonly fetches?: FetchSummary;
  readonly transactions?: TransactionSummary;
  /** Bytes the drained rows take in PostgreSQL, indexes included (pg_total_relation_size over the partitions). */
  readonly bytesPerRow?: number;
}

/** Offsets the group has stored on the topic, summed over its partitions (0 before the first chunk). */
export async function storedOffsets(sql: Sql, group: string, topic: string): Promise<number> {
  const [row] = await sql<{ stored: string | null }[]>`
    select sum(next_offset)::text as stored from consumer_offsets
    where consumer_group = ${group} and topic = ${topic}`.catch(() => []);
  return Number(row?.stored ?? 0);
}

/**
 * The rows a drain stored and its time: from its first transaction's start (the earliest
 * ingested_at, now() in that transaction) to `caughtUpAt`. Throws unless every reading was stored.
 */
export async function drainedRows(
  sql: Sql,
  caughtUpAt: number,
  expected: number,
): Promise<{ rows: number; elapsedMs: number }> {
  const [stats] = await sql<{ rows: number; first: number }[]>`
    select count(*)::int as rows, (extract(epoch from min(ingested_at)) * 1000)::float8 as first
    from ${sql(READINGS_TABLE)}`;
  const rows = stats?.rows ?? 0;
  if (rows !== expected)
    throw new Error(`pg-sink stored ${rows} rows of ${expected}; the benchmark expects all of them`);
  return { rows, elapsedMs: caughtUpAt - (stats?.first ?? caughtUpAt) };
}

/**
 * Bytes the readings table takes on disk, indexes and TOAST included, summed over its partitions
 * (a partitioned table's own size is 0). Run after the drain, before the database is dropped.
 */
async function storedBytes(sql: Sql): Promise<number> {
  const [row] = await sql<{ bytes: string }[]>`
    select coalesce(sum(pg_total_relation_size(relid)), 0)::text as bytes
    from pg_partition_tree(${READINGS_TABLE}::regclass)`;
  return Number(row?.bytes ?? Number.NaN);
}

/** Starts pg-sink with `--until-caught-up` on a bench database, topic and group. */
export function startDrainingSink(options: {
  readonly databaseUrl: string;
  readonly topic: string;
  readonly group: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly nodeFlags?: readonly string[];
}): Worker {
  return startWorker(
    "pg-sink",
    ["--until-caught-up"],
    {
      DATABASE_URL: options.databaseUrl,
      READINGS_TOPIC: options.topic,
      SINK_GROUP_ID: options.group,
      SINK_HTTP_PORT: "0",
      ...options.env,
    },
    options.nodeFlags,
  );
}

/**
 * pg-sink drains the backlog into a fresh database with `--until-caught-up`. Its rate is the rows
 * stored over the time from its first transaction's start (the earliest ingested_at, now() in that
 * transaction) until the bench sees every partition's stored offset at the end of the log (polled
 * every 100 ms in consumer_offsets, which commits with the rows): the drain, not the process
 * start-up, the group join or the sink's own one-second caught-up poll.
 *
 * CPU per row: utime+stime from /proc of the sink's node process and of its PostgreSQL backends
 * (application_name 'pg-sink …'), from the first poll that sees rows stored to the poll that sees
 * the end, over the rows stored in between; start-up and shutdown are left out.
 */
export async function runPgSink(
  world: BenchWorld,
  scenario: SinkScenario,
  backlog: Backlog,
  run: number,
  cpuProfileDir?: string,
  /** Extra variables and node flags for the sink (tuning experiments). */
  extra: { env?: Record<string, string>; nodeFlags?: string[] } = {},
): Promise<DrainRun> {
  const databaseUrl = await world.createDatabase("sink", scenario.catalog.cities);
  const group = `bench-sink-${world.runId}-${scenario.key}-${run}`;
  const sql = openSql(databaseUrl);
  try {
    const total = totalOf(await highWatermarks(world.admin, backlog.topic));
    const traceFile = world.traceFile(`drain-${scenario.key}`);
    const trace = traceFile === undefined ? undefined : traceOptions(traceFile);
    const worker = startDrainingSink({
      databaseUrl,
      topic: backlog.topic,
      group,
      env: {
        ...(scenario.stationsFile === undefined ? {} : { STATIONS_FILE: scenario.stationsFile }),
        ...trace?.env,
        ...extra.env,
      },
      nodeFlags: [
        ...(cpuProfileDir === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${cpuProfileDir}`]),
        ...(trace?.nodeFlags ?? []),
        ...(extra.nodeFlags ?? []),
      ],
    });
    let caughtUpAt: number | undefined;
    let exited = false;
    void worker.exited.finally(() => {
      exited = true;
    });
    let meter: CpuMeter | undefined;
    let storedAtMeterStart = 0;
    let storedNow = 0;
    while (caughtUpAt === undefined && !exited) {
      storedNow = await storedOffsets(sql, group, backlog.topic);
      if (meter === undefined && storedNow > 0) {
        meter = await CpuMeter.start(sql, {
          processes: { node: worker.child.pid === undefined ? [] : [worker.child.pid] },
          database: databaseOf(databaseUrl),
          applicationName: "pg-sink %",
        });
        storedAtMeterStart = storedNow;
      } else {
        await meter?.sample();
      }
      if (storedNow >= total) caughtUpAt = Date.now();
      else await sleep(CAUGHT_UP_POLL_MS);
    }
    const exit = await worker.exited;
    assertClean("pg-sink", exit);
    const { rows, elapsedMs } = await drainedRows(sql, caughtUpAt ?? Date.now(), backlog.readings);
    const measuredRows = storedNow - storedAtMeterStart;
    const cpu = meter?.used();
    const traced = traceFile === undefined ? undefined : await readTrace(traceFile);
    const transactions = traced === undefined ? undefined : summarizeTransactions(traced.transactions);
    return {
      rows,
      elapsedMs,
      rowsPerSecond: (rows * 1000) / elapsedMs,
      peakRssBytes: exit.peakRssBytes,
      wallMs: exit.wallMs,
      nodeMicrosPerRow: cpu && measuredRows > 0 ? (cpu.node ?? Number.NaN) / measuredRows : Number.NaN,
      backendMicrosPerRow: cpu && measuredRows > 0 ? (cpu.backends ?? Number.NaN) / measuredRows : Number.NaN,
      bytesPerRow: (await storedBytes(sql)) / rows,
      ...(traced === undefined ? {} : { memory: traced.memory }),
      ...(traced === undefined ? {} : { fetches: summarizeFetches(traced.requests, traced.batches) }),
      ...(transactions === undefined ? {} : { transactions }),
    };
  } finally {
    await sql.end({ timeout: 5 });
    await world.admin.deleteGroups([group]).catch(() => {});
    await world.dropDatabase(databaseUrl);
  }
}

export type CopyFormat = "text" | "binary";

/**
 * The database's limit here: the same rows, already decoded in memory, in one COPY into the same
 * partitioned table (PostgreSQL routes each row to its city's table, as for the sink's COPY), with
 * the same indexes, in a fresh database, in text or binary format. Timed from opening the COPY to
 * its completion; CPU per row is its backend's, from /proc.
 */
export async function runRawCopy(
  world: BenchWorld,
  scenario: SinkScenario,
  backlog: Backlog,
  format: CopyFormat,
): Promise<DrainRun> {
  const databaseUrl = await world.createDatabase("copy", scenario.catalog.cities);
  const sql = openSql(databaseUrl);
  try {
    const [backend] = await sql<{ pid: number }[]>`select pg_backend_pid() as pid`;
    const meter = await CpuMeter.start(sql, { database: databaseOf(databaseUrl), applicationName: "bench" });
    const started = performance.now();
    const options = format === "binary" ? sql.unsafe(" (format binary)") : sql.unsafe("");
    const writable =
      await sql`copy ${sql(READINGS_TABLE)} (${sql.unsafe(COLUMN_LIST)}) from stdin${options}`.writable();
    const chunks =
      format === "binary" ? [COPY_HEADER, ...backlog.binaryChunks, COPY_TRAILER] : backlog.textChunks;
    await pipeline(Readable.from(chunks), writable);
    const elapsedMs = performance.now() - started;
    await meter.sample();
    const [stats] = await sql<{ rows: number }[]>`select count(*)::int as rows from ${sql(READINGS_TABLE)}`;
    const rows = stats?.rows ?? 0;
    if (rows !== backlog.readings) throw new Error(`COPY stored ${rows} rows of ${backlog.readings}`);
    if (backend === undefined) throw new Error("no backend pid");
    return {
      rows,
      elapsedMs,
      rowsPerSecond: (rows * 1000) / elapsedMs,
      backendMicrosPerRow: (meter.used().backends ?? Number.NaN) / rows,
    };
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
  scenario: SinkScenario,
  backlog: Backlog,
  limit: number,
  run: number,
): Promise<DrainRun> {
  const databaseUrl = await world.createDatabase("insert", scenario.catalog.cities);
  const sql = openSql(databaseUrl);
  const groupId = `bench-insert-${world.runId}-${run}`;
  const decoder = createReadingDecoder(new SchemaRegistry({ host: config.schemaRegistryUrl }), {
    catalog: scenario.catalog,
  });
  const consumer = world.kafka.consumer({ groupId });
  let inserted = 0;
  let firstAt: number | undefined;
  let lastAt = 0;
  let finish: () => void = () => {};
  let fail: (error: unknown) => void = () => {};
  const done = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  try {
    await consumer.connect();
    await consumer.subscribe({ topic: backlog.topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        if (inserted >= limit || message.value === null) return;
        firstAt ??= performance.now();
        try {
          const r = await decoder.decode(message.value);
          // No conflict target: the key is (city, reading_id, observed_at) since the month partitions.
          await sql`
            insert into ${sql(READINGS_TABLE)} (${sql.unsafe(COLUMN_LIST)})
            values (${r.readingId}, ${r.stationId}, ${r.city}, ${r.observedAt.toISOString()},
              ${r.temperatureC}, ${r.windSpeedKmh}, ${r.humidityPct}, ${r.pressureHpa ?? null},
              ${topic}, ${partition}, ${message.offset})
            on conflict do nothing`;
        } catch (error) {
          // Thrown to kafkajs, it would retry the message for ever and the bench would hang.
          inserted = limit;
          fail(
            new Error(
              `one INSERT per message: ${topic}[${partition}]@${message.offset}: ${(error as Error).message}`,
            ),
          );
          return;
        }
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
  readonly copyText: DrainRun;
  readonly copyBinary: DrainRun;
  readonly insertPerMessage: DrainRun | undefined;
  /** pg-sink over raw binary COPY of this round (the bytes pg-sink sends; as a rule the faster format). */
  readonly ofRawCopy: number;
  readonly timesInsertPerMessage: number;
}

/**
 * One round, back to back: pg-sink, raw COPY in text and in binary (their order alternating
 * between rounds), and, when asked, the one-INSERT-per-message consumer.
 */
export async function compareSinks(
  world: BenchWorld,
  config: BenchConfig,
  scenario: SinkScenario,
  backlog: Backlog,
  run: number,
  withInsertPerMessage: boolean,
  log: (line: string) => void,
): Promise<SinkComparison> {
  const perRow = (micros: number | undefined) => `${(micros ?? Number.NaN).toFixed(2)} µs`;
  const pgSink = await runPgSink(world, scenario, backlog, run, config.cpuProfileDir, {
    nodeFlags: [...config.sinkNodeFlags],
  });
  log(
    `  pg-sink: ${Math.round(pgSink.rowsPerSecond)} rows/s (${pgSink.rows} rows); CPU per row: node ${perRow(pgSink.nodeMicrosPerRow)}, PostgreSQL ${perRow(pgSink.backendMicrosPerRow)}`,
  );
  const formats: CopyFormat[] = run % 2 === 1 ? ["text", "binary"] : ["binary", "text"];
  const copies = new Map<CopyFormat, DrainRun>();
  for (const format of formats) {
    const copy = await runRawCopy(world, scenario, backlog, format);
    copies.set(format, copy);
    log(
      `  raw COPY (${format}): ${Math.round(copy.rowsPerSecond)} rows/s; PostgreSQL CPU per row ${perRow(copy.backendMicrosPerRow)}`,
    );
  }
  const copyText = copies.get("text") as DrainRun;
  const copyBinary = copies.get("binary") as DrainRun;
  let insertPerMessage: DrainRun | undefined;
  if (withInsertPerMessage) {
    insertPerMessage = await runInsertPerMessage(
      world,
      config,
      scenario,
      backlog,
      config.insertReadings,
      run,
    );
    log(
      `  one INSERT per message: ${Math.round(insertPerMessage.rowsPerSecond)} rows/s (${insertPerMessage.rows} rows)`,
    );
  }
  return {
    pgSink,
    copyText,
    copyBinary,
    insertPerMessage,
    ofRawCopy: ratio(pgSink.rowsPerSecond, copyBinary.rowsPerSecond),
    timesInsertPerMessage: ratio(pgSink.rowsPerSecond, insertPerMessage?.rowsPerSecond ?? Number.NaN),
  };
}
