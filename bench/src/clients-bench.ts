import { readFileSync } from "node:fs";
import { compatibilityPartitioner, Producer as PlatformaticProducer } from "@platformatic/kafka";
import { readTopicToEnd } from "@weather/service-kit";
import { type Message, Partitioners } from "kafkajs";
import type { BenchConfig } from "./config.ts";
import { highWatermarks, totalOf } from "./kafka-read.ts";
import { runSensorProducer } from "./producer-bench.ts";
import { ratePerSecond, ratio } from "./stats.ts";
import type { BenchWorld } from "./world.ts";

/** The installed @platformatic/kafka version (pinned in package.json). */
export const platformaticVersion = String(
  (
    JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
      dependencies: Record<string, string>;
    }
  ).dependencies["@platformatic/kafka"],
);

/** The readings both clients send: key (station id), Confluent-framed Avro value, headers as sensor-producer sets them. */
export interface EncodedReadings {
  readonly keys: readonly Buffer[];
  readonly values: readonly Buffer[];
  readonly headers: ReadonlyMap<string, Buffer>;
  /** Mean value size in bytes. */
  readonly meanValueBytes: number;
}

/** Readings per produce request: the worker's own setting (PRODUCER_BATCH_SIZE, default 2,000). */
export function clientBatchSize(env: Readonly<Record<string, string | undefined>>): number {
  const size = Number(env.PRODUCER_BATCH_SIZE ?? 2_000);
  return Number.isInteger(size) && size > 0 ? size : 2_000;
}

/**
 * The values are the real worker's: sensor-producer fills a throwaway topic once, and its first
 * `readings` messages are read back (key, value, headers), so both clients send byte-for-byte what
 * the product sends, encoded beforehand and held in memory.
 */
export async function loadEncodedReadings(world: BenchWorld, readings: number): Promise<EncodedReadings> {
  const topic = await world.createTopic("clients-source");
  await runSensorProducer(world, topic, readings);
  const keys: Buffer[] = [];
  const values: Buffer[] = [];
  let headers = new Map<string, Buffer>();
  let bytes = 0;
  await readTopicToEnd(world.kafka, world.admin, topic, (_partition, messages) => {
    for (const message of messages) {
      if (keys.length >= readings) return;
      if (message.key === null || message.value === null)
        throw new Error(`message without key or value on ${topic}`);
      if (keys.length === 0)
        headers = new Map(
          Object.entries(message.headers ?? {}).flatMap(([name, value]) =>
            Buffer.isBuffer(value) ? [[name, value] as const] : [],
          ),
        );
      keys.push(message.key);
      values.push(message.value);
      bytes += message.value.length;
    }
  });
  await world.deleteTopic(topic);
  if (keys.length < readings) throw new Error(`read only ${keys.length} of ${readings} readings back`);
  return { keys, values, headers, meanValueBytes: bytes / keys.length };
}

export interface ClientRun {
  readonly records: number;
  readonly recordsPerSecond: number;
  readonly elapsedMs: number;
  /** Messages per partition on the topic afterwards (checks that both clients partition alike). */
  readonly perPartition: readonly number[];
}

/** Sends every reading in batches, one request in flight at a time (as sensor-producer does), timing the first send to the last acknowledgement. */
async function timeSends(
  world: BenchWorld,
  topic: string,
  total: number,
  batchSize: number,
  sendBatch: (from: number, to: number) => Promise<void>,
): Promise<ClientRun> {
  const startedAt = performance.now();
  for (let from = 0; from < total; from += batchSize)
    await sendBatch(from, Math.min(total, from + batchSize));
  const elapsedMs = performance.now() - startedAt;
  const ends = await highWatermarks(world.admin, topic);
  if (totalOf(ends) !== total)
    throw new Error(`topic ${topic} holds ${totalOf(ends)} messages after sending ${total}`);
  const perPartition = [...ends].sort(([a], [b]) => a - b).map(([, high]) => Number(high));
  return { records: total, recordsPerSecond: ratePerSecond(total, elapsedMs), elapsedMs, perPartition };
}

/** kafkajs 2.2.4 configured as sensor-producer configures it: idempotent, acks=all, one request in flight, murmur2. */
export async function runKafkajs(
  world: BenchWorld,
  topic: string,
  readings: EncodedReadings,
  batchSize: number,
): Promise<ClientRun> {
  const headers = Object.fromEntries(readings.headers);
  const messages: Message[] = readings.keys.map((key, i) => ({
    key,
    value: readings.values[i] ?? null,
    headers,
  }));
  const producer = world.kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  try {
    return await timeSends(world, topic, messages.length, batchSize, async (from, to) => {
      await producer.send({ topic, messages: messages.slice(from, to), acks: -1, timeout: 30_000 });
    });
  } finally {
    await producer.disconnect().catch(() => {});
  }
}

/**
 * @platformatic/kafka (pure JavaScript) with the same settings: idempotent (which also makes it
 * acks=all and one request in flight per connection), Java-compatible murmur2 (the same partition
 * as kafkajs's DefaultPartitioner for the same key), same batches, same headers.
 */
export async function runPlatformatic(
  world: BenchWorld,
  config: BenchConfig,
  topic: string,
  readings: EncodedReadings,
  batchSize: number,
): Promise<ClientRun> {
  const headers = new Map([...readings.headers].map(([name, value]) => [Buffer.from(name), value] as const));
  const messages = readings.keys.map((key, i) => ({
    topic,
    key,
    value: readings.values[i] ?? Buffer.alloc(0),
    headers,
  }));
  const producer = new PlatformaticProducer({
    clientId: `bench-platformatic-${world.runId}`,
    bootstrapBrokers: [...config.kafkaBrokers],
    idempotent: true,
    acks: -1,
    autocreateTopics: false,
    partitioner: compatibilityPartitioner,
    timeout: 30_000,
  });
  try {
    return await timeSends(world, topic, messages.length, batchSize, async (from, to) => {
      await producer.send({ messages: messages.slice(from, to), acks: -1 });
    });
  } finally {
    await producer.close().catch(() => {});
  }
}

export interface ClientComparison {
  readonly kafkajs: ClientRun;
  readonly platformatic: ClientRun;
  /** platformatic / kafkajs */
  readonly ratio: number;
}

/** One run of each client on its own fresh topic, back to back; the order alternates between runs. */
export async function compareClients(
  world: BenchWorld,
  config: BenchConfig,
  readings: EncodedReadings,
  run: number,
  log: (line: string) => void,
): Promise<ClientComparison> {
  const batchSize = clientBatchSize(process.env);
  const results: { kafkajs?: ClientRun; platformatic?: ClientRun } = {};
  const order =
    run % 2 === 1 ? (["kafkajs", "platformatic"] as const) : (["platformatic", "kafkajs"] as const);
  for (const client of order) {
    const topic = await world.createTopic(`clients-${client}`);
    try {
      const result =
        client === "kafkajs"
          ? await runKafkajs(world, topic, readings, batchSize)
          : await runPlatformatic(world, config, topic, readings, batchSize);
      log(`  ${client}: ${Math.round(result.recordsPerSecond)} records/s`);
      results[client] = result;
    } finally {
      await world.deleteTopic(topic);
    }
  }
  const { kafkajs, platformatic } = results;
  if (kafkajs === undefined || platformatic === undefined) throw new Error("a client did not run");
  if (kafkajs.perPartition.join() !== platformatic.perPartition.join())
    log(
      `  note: partitions differ: kafkajs ${kafkajs.perPartition.join("/")}, platformatic ${platformatic.perPartition.join("/")}`,
    );
  return { kafkajs, platformatic, ratio: ratio(platformatic.recordsPerSecond, kafkajs.recordsPerSecond) };
}
