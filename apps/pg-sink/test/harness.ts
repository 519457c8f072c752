import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { createDatabaseIfMissing, dropDatabaseIfExists, prepareDatabase } from "@weather/db";
import {
  createReadingEncoder,
  createStationCatalog,
  DEFAULT_STATIONS,
  deadLetterTopicOf,
  type ReadingEncoder,
  type ReadingSchemaVersion,
  type Station,
  type StationCatalog,
  type WeatherReading,
  type WireFormat,
} from "@weather/schema";
import { seededRandom } from "@weather/schema/testing";
import {
  createKafka,
  createLogger,
  createRegistryClient,
  createTopicsAndWait,
  type RegistryClient,
} from "@weather/service-kit";
import { configurationOf } from "@weather/settings";
import { deleteReadingSubjects, seededUuid, testSettings } from "@weather/test-support";
import type { Admin, IHeaders, Kafka, KafkaMessage, Producer } from "kafkajs";
import postgres, { type Sql } from "postgres";
import { SINK_WORKER } from "../src/config.ts";
import { type Sink, startSink } from "../src/sink.ts";

export const APP_DIR = fileURLToPath(new URL("..", import.meta.url));
const settings = testSettings;

/**
 * One isolated world per test file: its own database (migrated, with the catalog's city
 * partitions), its own readings topic and dead-letter topic, its own consumer groups. Test files
 * of every package run at once against the same stack, so nothing here is shared by name.
 */
export interface World {
  readonly runId: string;
  readonly databaseUrl: string;
  readonly topic: string;
  readonly deadLetterTopic: string;
  readonly partitions: number;
  readonly sql: Sql;
  readonly kafka: Kafka;
  readonly admin: Admin;
  readonly producer: Producer;
  readonly registry: RegistryClient;
  readonly catalog: StationCatalog;
  /** Environment for a sink (in-process or spawned) pointed at this world. */
  sinkEnv(overrides?: Record<string, string>): Record<string, string>;
  close(): Promise<void>;
}

export async function createWorld(label: string, partitions = 3): Promise<World> {
  const runId = `${label}_${randomUUID().slice(0, 8)}`;
  const url = new URL(settings.postgres.url);
  url.pathname = `/weather_test_${runId}`;
  const databaseUrl = url.toString();
  const catalog = createStationCatalog(DEFAULT_STATIONS);
  await createDatabaseIfMissing(databaseUrl);
  await prepareDatabase(databaseUrl, catalog.cities);

  const topic = `pg-sink-test.${runId}`;
  const deadLetterTopic = deadLetterTopicOf(topic);
  const kafka = createKafka(settings.kafka, { clientId: `pg-sink-test-${runId}` });
  const admin = kafka.admin();
  await admin.connect();
  await createTopicsAndWait(admin, [
    { topic, numPartitions: partitions },
    { topic: deadLetterTopic, numPartitions: 1 },
  ]);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const sql = postgres(databaseUrl, { max: 2, onnotice: () => {} });
  const registry = createRegistryClient(settings.registry);

  return {
    runId,
    databaseUrl,
    topic,
    deadLetterTopic,
    partitions,
    sql,
    kafka,
    admin,
    producer,
    registry,
    catalog,
    sinkEnv: (overrides = {}) => ({
      KAFKA_BROKERS: settings.kafka.brokers.join(","),
      SCHEMA_REGISTRY_URL: settings.registry.url,
      DATABASE_URL: databaseUrl,
      READINGS_TOPIC: topic,
      SINK_GROUP_ID: `pg-sink-test-${runId}`,
      SINK_HTTP_PORT: "0",
      SINK_BATCH_SIZE: "200",
      SINK_BATCH_MAX_WAIT_MS: "100",
      // A SIGKILLed member holds its partitions this long; the broker's minimum is 6 s.
      SINK_SESSION_TIMEOUT_MS: "8000",
      SINK_BACKOFF_INITIAL_MS: "50",
      SINK_BACKOFF_MAX_MS: "1000",
      LOG_LEVEL: "error",
      ...overrides,
    }),
    async close() {
      await producer.disconnect().catch(() => {});
      await admin.deleteTopics({ topics: [topic, deadLetterTopic] }).catch(() => {});
      await admin.disconnect().catch(() => {});
      await sql.end({ timeout: 5 }).catch(() => {});
      await deleteReadingSubjects(settings.registry, topic);
      await dropDatabaseIfExists(databaseUrl).catch(() => {});
    },
  };
}

/** A station whose city has no table unless a test makes it (a catalog newer than bootstrap's run). */
export const CALGARY: Station = { ...(DEFAULT_STATIONS[0] as Station), id: "CYYC", city: "calgary" };
/** The built-in stations and CALGARY: a sink's catalog that knows a city the database may lack. */
export const CATALOG_WITH_CALGARY = createStationCatalog([...DEFAULT_STATIONS, CALGARY]);

/** `count` plausible readings of the built-in stations, one a minute, alternating stations. */
export function makeReadings(count: number, seed: number): WeatherReading[] {
  const random = seededRandom(seed);
  const start = Date.UTC(2025, 0, 15, 0, 0, 0);
  return Array.from({ length: count }, (_, i) => {
    const station = DEFAULT_STATIONS[i % DEFAULT_STATIONS.length] ?? DEFAULT_STATIONS[0];
    if (station === undefined) throw new Error("no built-in station");
    return {
      readingId: seededUuid(random),
      stationId: station.id,
      city: station.city,
      observedAt: new Date(start + Math.floor(i / 2) * 60_000),
      temperatureC: Math.round((-15 + random() * 10) * 10) / 10,
      windSpeedKmh: Math.round(random() * 400) / 10,
      humidityPct: Math.round((50 + random() * 40) * 10) / 10,
      pressureHpa: i % 3 === 0 ? null : Math.round((990 + random() * 40) * 10) / 10,
    };
  });
}

export interface Encoders {
  encode(reading: WeatherReading, index: number): Promise<Buffer>;
  readonly avroSchemaId: number;
}

/** Encodes through the registry like producers do, rotating Avro v1, Avro v2 and JSON v2. */
export async function createEncoders(world: World): Promise<Encoders> {
  const variants: [WireFormat, ReadingSchemaVersion][] = [
    ["avro", 1],
    ["avro", 2],
    ["json", 2],
  ];
  // One after another: two first registrations under a fresh subject at once race in the registry
  // client's register (both create the subject's compatibility rule; the loser gets a 409).
  const encoders: ReadingEncoder[] = [];
  for (const [format, version] of variants) {
    encoders.push(await createReadingEncoder(world.registry, world.topic, format, { version }));
  }
  const avro = encoders[0];
  if (avro === undefined) throw new Error("no encoder");
  return {
    avroSchemaId: avro.schemaId,
    encode: (reading, index) => {
      const encoder = encoders[index % encoders.length] ?? avro;
      // v1 has no pressure field; null is its value there.
      return encoder.encode(encoder.version === 1 ? { ...reading, pressureHpa: null } : reading);
    },
  };
}

export interface RawMessage {
  readonly key: string;
  readonly value: Buffer | null;
  readonly headers?: IHeaders;
}

export async function produceRaw(world: World, messages: readonly RawMessage[], chunk = 500): Promise<void> {
  for (let i = 0; i < messages.length; i += chunk) {
    await world.producer.send({
      topic: world.topic,
      messages: messages.slice(i, i + chunk).map((m) => ({ ...m })),
      acks: -1,
    });
  }
}

export async function produceReadings(world: World, readings: readonly WeatherReading[]): Promise<void> {
  const encoders = await createEncoders(world);
  const messages: RawMessage[] = [];
  for (const [i, reading] of readings.entries()) {
    messages.push({ key: reading.stationId, value: await encoders.encode(reading, i) });
  }
  await produceRaw(world, messages);
}

/** An in-process sink against the world, with --until-caught-up unless told otherwise. */
export async function startTestSink(
  world: World,
  overrides: Record<string, string> = {},
  options: { catalog?: StationCatalog; untilCaughtUp?: boolean; instanceId?: string } = {},
): Promise<Sink> {
  const env = world.sinkEnv(overrides);
  const config = configurationOf(
    SINK_WORKER,
    env,
    options.untilCaughtUp === false ? [] : ["--until-caught-up"],
  );
  return startSink(config, {
    logger: createLogger("pg-sink-test", config.logging),
    catalog: options.catalog ?? world.catalog,
    instanceId: options.instanceId ?? `test-${randomUUID().slice(0, 6)}`,
  });
}

/**
 * Runs an in-process sink (startTestSink) until it has caught up, and stops it. Returns its
 * /metrics text as it stood once caught up.
 */
export async function drainWithSink(
  world: World,
  overrides: Record<string, string> = {},
  options: Parameters<typeof startTestSink>[2] = {},
): Promise<string> {
  const sink = await startTestSink(world, overrides, options);
  try {
    await sink.caughtUp;
    return await (await fetch(`http://127.0.0.1:${sink.httpPort}/metrics`)).text();
  } finally {
    await sink.stop();
  }
}

export interface SpawnedSink {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
}

/** The sink as operators run it: its own process, `--until-caught-up`. */
export function spawnSink(world: World, overrides: Record<string, string> = {}): SpawnedSink {
  const child = spawn(
    process.execPath,
    ["--conditions=@weather/source", "src/main.ts", "--until-caught-up"],
    { cwd: APP_DIR, env: { ...process.env, ...world.sinkEnv(overrides) }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
  return { child, exited, output: () => output };
}

export async function rowCounts(world: World): Promise<{ rows: number; distinct: number }> {
  const [row] = await world.sql<{ rows: number; distinct: number }[]>`
    select count(*)::int as rows, count(distinct reading_id)::int as distinct from weather_readings`;
  return row ?? { rows: 0, distinct: 0 };
}

export async function storedReadingIds(world: World): Promise<string[]> {
  const rows = await world.sql<
    { id: string }[]
  >`select reading_id::text as id from weather_readings order by 1`;
  return rows.map((r) => r.id);
}

/** Waits until `check` holds, polling; fails with `what` after `timeoutMs`. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 90_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Every message on a topic, read from the beginning by a throwaway group. */
export async function readTopic(
  world: World,
  topic: string,
  expected: number,
  timeoutMs = 60_000,
): Promise<KafkaMessage[]> {
  const consumer = world.kafka.consumer({ groupId: `reader-${randomUUID()}` });
  const messages: KafkaMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(`read ${messages.length} of ${expected} messages from ${topic} in ${timeoutMs} ms`),
          ),
        timeoutMs,
      );
      void consumer.run({
        eachMessage: async ({ message }) => {
          messages.push(message);
          if (messages.length >= expected) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return messages;
}
