import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { createDatabaseIfMissing, dropDatabaseIfExists, prepareDatabase } from "@weather/db";
import { deadLetterTopicOf, type StationCatalog } from "@weather/schema";
import { createKafka, createTopicsAndWait } from "@weather/service-kit";
import { deleteReadingSubjects } from "@weather/test-support";
import type { Admin, Kafka } from "kafkajs";
import type { BenchConfig } from "./config.ts";

/** Partitions of every benchmark topic: the readings topic bootstrap creates has six. */
export const BENCH_PARTITIONS = 6;

/**
 * What the benchmark creates on the shared stack (topics, registry subjects, databases), all named
 * `bench…<run id>` so nothing collides with tests running at the same time, and all removed by close().
 */
export interface BenchWorld {
  readonly runId: string;
  readonly kafka: Kafka;
  readonly admin: Admin;
  readonly catalog: StationCatalog;
  /** A fresh readings topic (and its dead-letter topic) with BENCH_PARTITIONS partitions unless told. */
  createTopic(label: string, partitions?: number): Promise<string>;
  deleteTopic(topic: string): Promise<void>;
  /** A fresh database, migrated, with every city's partition (of the world's catalog unless told): what bootstrap gives the sink. */
  createDatabase(label: string, cities?: readonly string[]): Promise<string>;
  dropDatabase(url: string): Promise<void>;
  /**
   * Where a worker writes its trace (see trace/preload.ts), in a folder removed by close(); undefined
   * when BENCH_TRACE is off.
   */
  traceFile(label: string): string | undefined;
  close(): Promise<void>;
}

/**
 * Removes a topic's subjects, tried a few times: the reliability suite may be restarting the
 * registry at that moment.
 */
async function deleteSubjects(registryUrl: string, topic: string): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    if (await deleteReadingSubjects({ url: registryUrl }, topic)) return;
    await sleep(3_000);
  }
}

export async function openBenchWorld(config: BenchConfig, catalog: StationCatalog): Promise<BenchWorld> {
  const runId = randomUUID().slice(0, 8);
  const kafka = createKafka(
    { brokers: config.kafkaBrokers, security: { tls: null, sasl: null } },
    { clientId: `bench-${runId}`, retry: "patient" },
  );
  const admin = kafka.admin();
  try {
    await admin.connect();
  } catch (error) {
    throw new Error(
      `cannot reach Kafka at ${config.kafkaBrokers.join(",")} (${(error as Error).message}); is the stack up? run: pnpm stack up`,
      { cause: error },
    );
  }
  const topics = new Set<string>();
  const databases = new Set<string>();
  let serial = 0;
  let traceDir: string | undefined;

  const world: BenchWorld = {
    runId,
    kafka,
    admin,
    catalog,
    async createTopic(label, partitions = BENCH_PARTITIONS) {
      const topic = `bench.${label}.${runId}.${++serial}`;
      topics.add(topic);
      await createTopicsAndWait(admin, [
        { topic, numPartitions: partitions },
        { topic: deadLetterTopicOf(topic), numPartitions: 1 },
      ]);
      return topic;
    },
    async deleteTopic(topic) {
      topics.delete(topic);
      await admin.deleteTopics({ topics: [topic, deadLetterTopicOf(topic)] }).catch(() => {});
      await deleteSubjects(config.schemaRegistryUrl, topic);
    },
    async createDatabase(label, cities = catalog.cities) {
      const url = new URL(config.databaseUrl);
      url.pathname = `/bench_${label}_${runId}_${++serial}`;
      const databaseUrl = url.toString();
      databases.add(databaseUrl);
      await createDatabaseIfMissing(databaseUrl);
      await prepareDatabase(databaseUrl, cities);
      return databaseUrl;
    },
    async dropDatabase(databaseUrl) {
      databases.delete(databaseUrl);
      await dropDatabaseIfExists(databaseUrl).catch(() => {});
    },
    traceFile(label) {
      if (!config.trace) return undefined;
      traceDir ??= mkdtempSync(join(tmpdir(), "bench-trace-"));
      return join(traceDir, `${label}-${++serial}.json`);
    },
    async close() {
      if (traceDir !== undefined) rmSync(traceDir, { recursive: true, force: true });
      for (const topic of [...topics]) await world.deleteTopic(topic);
      for (const databaseUrl of [...databases]) await world.dropDatabase(databaseUrl);
      await admin.disconnect().catch(() => {});
    },
  };
  return world;
}
