/**
 * A test's own corner of the shared stack: a database, a topic and its dead-letter topic, a
 * consumer group and registry subjects, all named after one run id, so test files of every
 * package run at once without meeting; and the one way to remove them all again.
 */
import { randomUUID } from "node:crypto";
import { dropDatabaseIfExists } from "@weather/db";
import { deadLetterTopicOf } from "@weather/schema";
import {
  createKafka,
  KAFKA_CONNECTION,
  type KafkaConnection,
  POSTGRES_CONNECTION,
  type PostgresConnection,
  REGISTRY_CONNECTION,
  type RegistryConnection,
} from "@weather/service-kit";
import { configurationOf } from "@weather/settings";
import type { Admin } from "kafkajs";
import { deleteReadingSubjects, deleteTopicsIfPresent } from "./cleanup.ts";

/** Where the tests find the stack: the workers' connection groups' values. */
export interface TestSettings {
  readonly kafka: KafkaConnection;
  readonly registry: RegistryConnection;
  readonly postgres: PostgresConnection;
}

/** Where the tests find the stack: the same variables, the same defaults as the workers. */
export const testSettings: TestSettings = configurationOf(
  { groups: { kafka: KAFKA_CONNECTION, registry: REGISTRY_CONNECTION, postgres: POSTGRES_CONNECTION } },
  process.env,
);

/** The names of one test's objects. */
export interface WorldNames {
  readonly runId: string;
  readonly database: string;
  readonly databaseUrl: string;
  readonly topic: string;
  readonly deadLetterTopic: string;
  readonly groupId: string;
}

/**
 * Fresh, unique names: `prefix` says which suite made them (a leftover is traced to its owner),
 * `label` which test.
 */
export function worldNames(prefix: string, label: string): WorldNames {
  const runId = `${label}_${randomUUID().slice(0, 8)}`;
  const database = `weather_test_${runId}`;
  const url = new URL(testSettings.postgres.url);
  url.pathname = `/${database}`;
  const topic = `${prefix}.${runId}`;
  return {
    runId,
    database,
    databaseUrl: url.toString(),
    topic,
    deadLetterTopic: deadLetterTopicOf(topic),
    groupId: `${prefix}-${runId}`,
  };
}

/** The variables that point a worker at a world (bootstrap, producer, sink, report alike). */
export function worldEnv(names: WorldNames): Record<string, string> {
  return { DATABASE_URL: names.databaseUrl, READINGS_TOPIC: names.topic, SINK_GROUP_ID: names.groupId };
}

/** An admin connection to the stack's Kafka, for a test's own set-up and checks. */
export async function testAdmin(clientId: string): Promise<Admin> {
  const admin = createKafka(testSettings.kafka, { clientId }).admin();
  await admin.connect();
  return admin;
}

/**
 * Deletes whatever a world may have left: its topics, its consumer group, its registry subjects
 * (soft, then for good, as the Confluent API wants) and its database. Safe to call twice.
 */
export async function removeWorld(names: WorldNames): Promise<void> {
  const admin = await testAdmin(`cleanup-${names.runId}`);
  try {
    await deleteTopicsIfPresent(admin, [names.topic, names.deadLetterTopic]);
    await admin.deleteGroups([names.groupId]).catch(() => {});
  } finally {
    await admin.disconnect().catch(() => {});
  }
  await deleteReadingSubjects(testSettings.registry, names.topic);
  await dropDatabaseIfExists(names.databaseUrl);
}
