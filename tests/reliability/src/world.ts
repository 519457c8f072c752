import { createKafka, createRegistryClient, type RegistryClient } from "@weather/service-kit";
import {
  removeWorld,
  spawnWorkerToExit,
  tail,
  testSettings,
  type WorldNames,
  worldNames,
} from "@weather/test-support";
import type { Admin, Kafka } from "kafkajs";
import postgres, { type Sql } from "postgres";

/** How the test's own connections name themselves, so terminating "everyone else" spares them. */
export const SUITE_APPLICATION_NAME = "reliability-suite";

/** One test's isolated environment, made by bootstrap exactly as operators make theirs. */
export interface World extends WorldNames {
  readonly partitions: number;
  /** The test's own pool on the world's database. */
  readonly sql: Sql;
  readonly kafka: Kafka;
  readonly admin: Admin;
  readonly registry: RegistryClient;
  /** Environment of a sink on this world; quick to notice a dead member and to retry. */
  sinkEnv(overrides?: Readonly<Record<string, string>>): Record<string, string>;
  /** Environment of a producer on this world. */
  producerEnv(overrides?: Readonly<Record<string, string>>): Record<string, string>;
  close(): Promise<void>;
}

export function bootstrapEnv(names: WorldNames, partitions: number): Record<string, string> {
  return {
    DATABASE_URL: names.databaseUrl,
    READINGS_TOPIC: names.topic,
    READINGS_PARTITIONS: String(partitions),
    LOG_LEVEL: "info",
  };
}

export function suiteKafka(clientId: string): Kafka {
  return createKafka(testSettings.kafka, { clientId });
}

/**
 * Runs bootstrap as a process for these names and opens the test's connections to the result.
 * `env` goes to every worker of the world (bootstrap, sinks, producers), e.g. a STATIONS_FILE.
 */
export async function createWorld(
  label: string,
  options: { partitions?: number; env?: Readonly<Record<string, string>> } = {},
): Promise<World> {
  const names = worldNames("reliability", label);
  const partitions = options.partitions ?? 6;
  const shared = options.env ?? {};
  const { exit, output } = await spawnWorkerToExit(
    "bootstrap",
    [],
    { ...bootstrapEnv(names, partitions), ...shared },
    120_000,
  );
  if (exit.code !== 0) {
    await removeWorld(names).catch(() => {});
    throw new Error(`bootstrap for ${names.runId} exited ${exit.code}:\n${tail(output)}`);
  }
  const kafka = suiteKafka(`reliability-${names.runId}`);
  const admin = kafka.admin();
  await admin.connect();
  const sql = postgres(names.databaseUrl, {
    max: 2,
    onnotice: () => {},
    connection: { application_name: SUITE_APPLICATION_NAME },
  });
  let closed = false;
  return {
    ...names,
    partitions,
    sql,
    kafka,
    admin,
    registry: createRegistryClient(testSettings.registry),
    sinkEnv: (overrides = {}) => ({
      DATABASE_URL: names.databaseUrl,
      READINGS_TOPIC: names.topic,
      SINK_GROUP_ID: names.groupId,
      SINK_HTTP_PORT: "0",
      // The broker's minimum: a SIGKILLed member's partitions move on after 6 s.
      SINK_SESSION_TIMEOUT_MS: "6000",
      SINK_BACKOFF_INITIAL_MS: "100",
      SINK_BACKOFF_MAX_MS: "1000",
      LOG_LEVEL: "warn",
      ...shared,
      ...overrides,
    }),
    producerEnv: (overrides = {}) => ({
      READINGS_TOPIC: names.topic,
      LOG_LEVEL: "warn",
      ...shared,
      ...overrides,
    }),
    async close() {
      if (closed) return;
      closed = true;
      await sql.end({ timeout: 5 }).catch(() => {});
      await admin.disconnect().catch(() => {});
      await removeWorld(names);
    },
  };
}
