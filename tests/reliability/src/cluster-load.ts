import { fileURLToPath } from "node:url";
import { SINK_METRICS } from "@weather/service-kit";
import {
  killAllWorkers,
  type LogLine,
  spawnWorker,
  stopWorker,
  tail,
  type Worker,
} from "@weather/test-support";
import { type Admin, ConfigResourceTypes } from "kafkajs";
import { afterAll, beforeAll, expect } from "vitest";
import { assertClusterRunning, startAllNodes } from "./cluster-stack.ts";
import {
  assertRunning,
  compareIds,
  isStoredToEnd,
  messagesOn,
  rowCounts,
  storedReadingIds,
  waitFor,
} from "./counts.ts";
import { report } from "./report.ts";
import { producedReadingIds } from "./topic.ts";
import { verifyWorld } from "./verify.ts";
import { createWorld, type World } from "./world.ts";

/**
 * Ten Canadian airports beside the two built-in stations: twelve station keys cover all six
 * partitions (murmur2, as the producer partitions), so every sink instance has work and every
 * broker leads a busy partition. Bootstrap makes a table per city.
 */
export const CLUSTER_STATIONS_FILE = fileURLToPath(
  new URL("../fixtures/cluster-stations.json", import.meta.url),
);
export const CLUSTER_STATIONS = 12;

/** A world (database, topics, group) on the test cluster, with the twelve stations. */
export function createClusterWorld(label: string): Promise<World> {
  assertClusterRunning();
  return createWorld(label, { env: { STATIONS_FILE: CLUSTER_STATIONS_FILE } });
}

/**
 * A cluster scenario's world: made before its test, once the topic's replicas are all in sync, and
 * removed after it, pass or fail, with every worker it started killed and every node running again
 * for the next scenario. Called inside `describe`; the getter works from beforeAll on.
 */
export function useClusterScenarioWorld(label: string): () => World {
  let world: World | undefined;
  beforeAll(async () => {
    world = await createClusterWorld(label);
    await waitForFullIsr(world.admin, [world.topic]);
  });
  afterAll(async () => {
    await killAllWorkers();
    await startAllNodes();
    await world?.close();
  });
  return () => {
    if (world === undefined) throw new Error(`the ${label} scenario's world is made in beforeAll`);
    return world;
  };
}

export interface PartitionState {
  readonly partition: number;
  readonly leader: number;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
}

/** Leader, replicas and in-sync replicas of each partition, as the cluster's metadata says now. */
export async function partitionStates(admin: Admin, topic: string): Promise<PartitionState[]> {
  const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
  return (topics[0]?.partitions ?? [])
    .map((p) => ({ partition: p.partitionId, leader: p.leader, replicas: p.replicas, isr: p.isr }))
    .sort((a, b) => a.partition - b.partition);
}

export async function leaderOf(admin: Admin, topic: string, partition: number): Promise<number> {
  const state = (await partitionStates(admin, topic)).find((p) => p.partition === partition);
  if (state === undefined) throw new Error(`${topic} has no partition ${partition}`);
  return state.leader;
}

/**
 * Waits until every partition of `topics` has a leader and all its replicas in sync (a node that
 * came back has caught up), as a rolling restart waits before the next node. Returns how long it took.
 */
export async function waitForFullIsr(
  admin: Admin,
  topics: readonly string[],
  timeoutMs = 180_000,
): Promise<number> {
  const started = performance.now();
  await waitFor(
    `every replica of ${topics.join(", ")} in sync`,
    async () => {
      try {
        for (const topic of topics) {
          const states = await partitionStates(admin, topic);
          if (states.length === 0) return false;
          if (!states.every((p) => p.leader >= 0 && p.isr.length === p.replicas.length)) return false;
        }
        return true;
      } catch {
        // Metadata from a node that is still starting, or a leader being elected.
        return false;
      }
    },
    { timeoutMs, intervalMs: 250 },
  );
  return performance.now() - started;
}

/** The partition with the most messages so far: the busiest. */
export async function busiestPartition(
  admin: Admin,
  topic: string,
): Promise<{ partition: number; messages: number }> {
  const offsets = await admin.fetchTopicOffsets(topic);
  const sorted = offsets
    .map((o) => ({ partition: o.partition, messages: Number(BigInt(o.high) - BigInt(o.low)) }))
    .sort((a, b) => b.messages - a.messages);
  const first = sorted[0];
  if (first === undefined) throw new Error(`${topic} has no partitions`);
  return first;
}

/** A topic setting as the cluster reports it (explicit, or inherited from the brokers' defaults). */
export async function topicSetting(admin: Admin, topic: string, name: string): Promise<string | undefined> {
  const described = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: [name] }],
  });
  return described.resources[0]?.configEntries.find((entry) => entry.configName === name)?.configValue;
}

/** One pg-sink process of a scaled-out group, as an orchestrator runs it. */
export interface SinkInstance {
  readonly name: string;
  readonly worker: Worker;
  /** Rows this instance has stored, from its /metrics (weather_sink_rows_written_total). */
  rowsWritten(): Promise<number>;
  /** Readings it met that were already stored (weather_sink_duplicate_readings_total): redelivery, skipped. */
  duplicatesSkipped(): Promise<number>;
  /** The partitions it was given at each group join, in order. */
  assignments(): number[][];
  /** When (epoch ms, from its log) it first joined the group. */
  firstJoinAt(): number | undefined;
}

function counterOf(metrics: string, name: string): number {
  let total = 0;
  for (const line of metrics.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    total += Number(line.slice(line.lastIndexOf(" ") + 1)) || 0;
  }
  return total;
}

/** Starts a sink on the world with its HTTP port picked by the OS; logs at info for its port and joins. */
export function startSink(
  world: World,
  name: string,
  overrides: Readonly<Record<string, string>> = {},
): SinkInstance {
  const worker = spawnWorker("pg-sink", [], world.sinkEnv({ LOG_LEVEL: "info", ...overrides }));
  let port: number | undefined;
  const metrics = async (): Promise<string> => {
    if (port === undefined) {
      await waitFor(`${name} to serve its metrics`, async () => {
        assertRunning(worker, `${name}'s start`);
        const started = worker.logLines().find((line) => line.msg === "pg-sink started");
        port = typeof started?.httpPort === "number" ? started.httpPort : undefined;
        return port !== undefined;
      });
    }
    const response = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5_000) });
    return response.text();
  };
  return {
    name,
    worker,
    rowsWritten: async () => counterOf(await metrics(), SINK_METRICS.metrics.rowsWritten.name),
    duplicatesSkipped: async () => counterOf(await metrics(), SINK_METRICS.metrics.duplicatesSkipped.name),
    assignments: () =>
      worker
        .logLines()
        .filter((line) => line.msg === "joined the consumer group")
        .map((line) => (Array.isArray(line.partitions) ? (line.partitions as number[]) : [])),
    firstJoinAt: () => {
      const time = worker.logLines().find((line) => line.msg === "joined the consumer group")?.time;
      return typeof time === "number" ? time : undefined;
    },
  };
}

/** sensor-producer sending at a steady rate, with its acknowledged count readable while it runs. */
export interface SteadyProducer {
  readonly worker: Worker;
  readonly args: readonly string[];
  /** Readings Kafka has acknowledged so far (its latest progress line, logged every 250 ms). */
  acknowledged(): number;
  /** Its closing `stopped` line's count, once it has exited cleanly. */
  finalCount(): number | undefined;
}

function sentOf(lines: readonly LogLine[], msg: "progress" | "stopped"): number | undefined {
  const line = lines.findLast((l) => l.msg === msg);
  return typeof line?.sent === "number" ? line.sent : undefined;
}

/** The producer's arguments: seeded backfill readings of every station, sent at `rate` per second. */
export function steadyProducerArgs(options: { rate: number; perStation: number; seed: string }): string[] {
  return [
    ...["--from", "2024-01-01T00:00:00Z", "--count", String(options.perStation), "--step", "1m"],
    ...["--rate", String(options.rate), "--seed", options.seed, "--progress-interval", "250ms"],
  ];
}

export function startSteadyProducer(world: World, args: readonly string[]): SteadyProducer {
  const worker = spawnWorker("sensor-producer", args, world.producerEnv({ LOG_LEVEL: "info" }));
  return {
    worker,
    args,
    acknowledged: () => {
      const lines = worker.logLines();
      return sentOf(lines, "stopped") ?? sentOf(lines, "progress") ?? 0;
    },
    finalCount: () => sentOf(worker.logLines(), "stopped"),
  };
}

/** Waits until PostgreSQL holds the topic to its end, failing early if a sink that should run died. */
export async function waitUntilAllStored(
  world: World,
  sinks: readonly Worker[],
  timeoutMs = 240_000,
): Promise<void> {
  await waitFor(
    `the sinks to store ${world.topic} to its end`,
    async () => {
      for (const sink of sinks) assertRunning(sink, "the drain");
      return isStoredToEnd(world).catch(() => false);
    },
    { timeoutMs, intervalMs: 250 },
  );
}

/** Everything a scenario asserts at its end: rows, the topic's readings, the dead letters. */
export interface Tally {
  readonly rows: number;
  readonly distinct: number;
  readonly duplicates: number;
  /** Messages on the readings topic (a producer re-run may have written some twice). */
  readonly topicMessages: number;
  /** Distinct reading ids on the readings topic: what must be stored, once each. */
  readonly topicReadings: number;
  readonly missing: number;
  readonly unexpected: number;
  readonly deadLettered: number;
}

export async function tally(world: World): Promise<Tally> {
  const [counts, topicMessages, deadLettered, produced, stored] = await Promise.all([
    rowCounts(world.sql),
    messagesOn(world.admin, world.topic),
    messagesOn(world.admin, world.deadLetterTopic),
    producedReadingIds(world),
    storedReadingIds(world.sql),
  ]);
  const topicIds = [...new Set(produced)];
  const { missing, unexpected } = compareIds(topicIds, stored);
  return {
    rows: counts.rows,
    distinct: counts.distinct,
    duplicates: counts.rows - counts.distinct,
    topicMessages,
    topicReadings: topicIds.length,
    missing: missing.length,
    unexpected: unexpected.length,
    deadLettered,
  };
}

export function describeTally(t: Tally): string {
  return (
    `rows ${t.rows}, distinct ${t.distinct}, duplicates ${t.duplicates}; topic messages ${t.topicMessages} ` +
    `(${t.topicReadings} distinct readings); missing ${t.missing}, unexpected ${t.unexpected}; dead-lettered ${t.deadLettered}`
  );
}

/** Sinks and a steady producer on one world: the load every failure scenario runs under. */
export interface ClusterLoad {
  readonly sinks: readonly SinkInstance[];
  readonly producer: SteadyProducer;
  /** Fails the test at once, naming the phase, when the producer or a sink has exited. */
  assertAllRunning(during: string): void;
}

export function startClusterLoad(
  world: World,
  options: { rate: number; perStation: number; seed: string; sinks?: readonly string[] },
): ClusterLoad {
  const sinks = (options.sinks ?? ["sink-a", "sink-b", "sink-c"]).map((name) => startSink(world, name));
  const producer = startSteadyProducer(world, steadyProducerArgs(options));
  const everyone = [producer.worker, ...sinks.map((sink) => sink.worker)];
  return {
    sinks,
    producer,
    assertAllRunning: (during) => {
      for (const worker of everyone) assertRunning(worker, during);
    },
  };
}

/**
 * Waits until the sinks have stored the topic to its end, then stops each (it must exit 0).
 * @returns the rows each stored, for the report: "sink-a 1200, sink-b 900".
 */
export async function drainAndStopSinks(world: World, sinks: readonly SinkInstance[]): Promise<string> {
  await waitUntilAllStored(
    world,
    sinks.map((sink) => sink.worker),
  );
  const perSink = await Promise.all(sinks.map(async (sink) => `${sink.name} ${await sink.rowsWritten()}`));
  for (const sink of sinks) {
    const exit = await stopWorker(sink.worker);
    expect(exit.code, tail(sink.worker.output())).toBe(0);
  }
  return perSink.join(", ");
}

/**
 * How every scenario ends: each of `readings` readings on the topic stored exactly once, nothing
 * dead-lettered, and `report --verify` accounting for every offset. `topicHoldsEachOnce`: the
 * topic itself has no reading twice (an idempotent producer that was never re-run).
 */
export async function expectEachStoredOnce(
  test: string,
  world: World,
  counts: Tally,
  readings: number | undefined,
  options: { topicHoldsEachOnce: boolean },
): Promise<void> {
  expect(readings, "the number of readings the producer had acknowledged").toBeDefined();
  if (options.topicHoldsEachOnce) expect(counts.topicMessages).toBe(readings);
  expect(counts.topicReadings).toBe(readings);
  expect(counts).toMatchObject({ rows: readings, distinct: readings, duplicates: 0 });
  expect({
    missing: counts.missing,
    unexpected: counts.unexpected,
    deadLettered: counts.deadLettered,
  }).toEqual({
    missing: 0,
    unexpected: 0,
    deadLettered: 0,
  });
  // The operators' proof, from outside: every offset a row, a dead letter or a re-send.
  const verified = await verifyWorld(world);
  report(test, verified.summary);
  expect(verified.result.holds, verified.summary).toBe(true);
}
