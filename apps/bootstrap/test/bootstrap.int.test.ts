import { connectOnce } from "@weather/db";
import { compatibilityPath, jsonValueSubjectOf, valueSubjectOf } from "@weather/schema";
import { createLogger, createRegistryClient, fetchRegistry } from "@weather/service-kit";
import { configurationOf } from "@weather/settings";
import { testAdmin } from "@weather/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runBootstrap } from "../src/bootstrap.ts";
import { BOOTSTRAP_WORKER } from "../src/config.ts";
import { summarize } from "../src/outcome.ts";
import { runBootstrapProcess, summaryFromLog, testEnvironment, torontoStationsFile } from "./harness.ts";

const log = createLogger("bootstrap-test", { level: "silent" });

/** Runs bootstrap's logic in this process: the same code main.ts runs, minus the exit. */
async function bootstrapInProcess(env: Record<string, string>) {
  return summarize(await runBootstrap(configurationOf(BOOTSTRAP_WORKER, env), log));
}

async function partitionsOf(databaseUrl: string): Promise<string[]> {
  const sql = connectOnce(databaseUrl);
  try {
    const rows = await sql<{ name: string }[]>`
      select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
      where i.inhparent = 'weather_readings'::regclass order by 1`;
    return rows.map((r) => r.name);
  } finally {
    await sql.end();
  }
}

async function topicPartitions(topics: string[]): Promise<Record<string, number>> {
  const admin = await testAdmin("bootstrap-test");
  try {
    const metadata = await admin.fetchTopicMetadata({ topics });
    return Object.fromEntries(metadata.topics.map((t) => [t.name, t.partitions.length]));
  } finally {
    await admin.disconnect();
  }
}

describe("bootstrap on a fresh environment", () => {
  const environment = testEnvironment("fresh");
  const { env, topic, databaseUrl, settings } = environment;
  afterAll(() => environment.cleanup());

  it("creates the database, tables, partitions, offsets table, topics and subject", async () => {
    const summary = await bootstrapInProcess(env);
    expect(summary.conflicts).toEqual([]);
    expect(summary.found).toEqual([]);
    expect(summary.created).toEqual(
      expect.arrayContaining([
        `database ${new URL(databaseUrl).pathname.slice(1)}`,
        "table weather_readings_winnipeg",
        "table weather_readings_vancouver",
        `topic ${topic} (3 partitions, replication 1)`,
        `topic ${topic}.dlq (3 partitions, replication 1)`,
      ]),
    );

    expect(await partitionsOf(databaseUrl)).toEqual([
      "weather_readings_vancouver",
      "weather_readings_winnipeg",
    ]);
    const sql = connectOnce(databaseUrl);
    try {
      const [tables] = await sql`
        select to_regclass('consumer_offsets')::text as offsets, to_regclass('weather_readings')::text as readings`;
      expect(tables).toEqual({ offsets: "consumer_offsets", readings: "weather_readings" });
    } finally {
      await sql.end();
    }
    expect(await topicPartitions([topic, `${topic}.dlq`])).toEqual({
      [topic]: 3,
      [`${topic}.dlq`]: 3,
    });
    const registry = createRegistryClient(settings.registry);
    for (const subject of [valueSubjectOf(topic), jsonValueSubjectOf(topic)]) {
      expect(await registry.client.getLatestSchemaId(subject)).toBeGreaterThan(0);
      const config = await fetchRegistry(settings.registry, compatibilityPath(subject));
      expect(await config.json()).toMatchObject({ compatibilityLevel: "BACKWARD" });
    }
  });

  it("changes nothing when run again", async () => {
    const summary = await bootstrapInProcess(env);
    expect(summary.created).toEqual([]);
    expect(summary.conflicts).toEqual([]);
    expect(summary.found).toEqual(expect.arrayContaining(["table weather_readings_winnipeg"]));
  });

  it("gives a station's new city its table, and only that", async () => {
    const summary = await bootstrapInProcess({ ...env, STATIONS_FILE: torontoStationsFile() });
    // The new table with its months, and the sink's and the read-only role granted on it (5 tables before, 6 now: the readings parent, two cities, the offsets, the re-sends).
    expect(summary.created).toEqual([
      "table weather_readings_toronto",
      expect.stringMatching(/^months \d{4}-\d{2}\.\.\d{4}-\d{2} of weather_readings_toronto$/),
      expect.stringMatching(/^role weather_sink .*; 6 tables\)$/),
      expect.stringMatching(/^role weather_reader \(read-only: .*; 6 tables\)$/),
    ]);
    expect(await partitionsOf(databaseUrl)).toContain("weather_readings_toronto");
  });

  it("reports a topic whose partition count differs from the configuration", async () => {
    const summary = await bootstrapInProcess({ ...env, READINGS_PARTITIONS: "4" });
    expect(summary.conflicts).toEqual([
      expect.stringContaining(`topic ${topic} has 3 partitions but READINGS_PARTITIONS is 4`),
      expect.stringContaining(`topic ${topic}.dlq has 3 partitions but READINGS_PARTITIONS is 4`),
    ]);
    // Reported, not "fixed": the topic keeps its partitions.
    expect((await topicPartitions([topic]))[topic]).toBe(3);
  });

  it("exits non-zero on that conflict when run as a process", async () => {
    const result = await runBootstrapProcess({ ...env, READINGS_PARTITIONS: "4" });
    expect(result.code).toBe(4);
    expect(result.stdout).toContain("bootstrap: NOT READY, 2 conflicts");
  });
});

describe("two bootstraps at the same time", () => {
  const environment = testEnvironment("twice");
  beforeAll(() => environment.cleanup());
  afterAll(() => environment.cleanup());

  it("both exit 0 and create one set of objects between them", async () => {
    const [a, b] = await Promise.all([
      runBootstrapProcess(environment.env),
      runBootstrapProcess(environment.env),
    ]);
    expect([a?.code, b?.code], `${a?.errorLines}\n${b?.errorLines}`).toEqual([0, 0]);
    const both = [summaryFromLog(a?.stdout ?? ""), summaryFromLog(b?.stdout ?? "")];
    const createdBoth = both.flatMap((s) => s.created);
    // Each object was created by exactly one of the two.
    for (const item of [
      `database ${new URL(environment.databaseUrl).pathname.slice(1)}`,
      "3 migrations applied",
      "table weather_readings_winnipeg",
      "table weather_readings_vancouver",
      `topic ${environment.topic} (3 partitions, replication 1)`,
    ]) {
      expect(
        createdBoth.filter((c) => c === item),
        item,
      ).toHaveLength(1);
    }
    expect(await partitionsOf(environment.databaseUrl)).toHaveLength(2);
    expect(a?.stdout).toMatch(/^bootstrap: ready/m);
  });
});

describe("bad configuration", () => {
  it("exits 2 with one line naming the variable when DATABASE_URL is malformed", async () => {
    const result = await runBootstrapProcess({ DATABASE_URL: "postgres//127.0.0.1/weather" });
    expect(result.code).toBe(2);
    expect(result.errorLines).toHaveLength(1);
    expect(result.errorLines[0]).toMatch(
      /^bootstrap: invalid configuration: DATABASE_URL: "postgres\/\/127\.0\.0\.1\/weather": must be a postgres:\/\/ URL/,
    );
  });

  it("exits 3 with one line naming the broker when Kafka is unreachable", async () => {
    const result = await runBootstrapProcess({ KAFKA_BROKERS: "127.0.0.1:1", BOOTSTRAP_WAIT_MS: "1500" });
    expect(result.code).toBe(3);
    expect(result.errorLines).toHaveLength(1);
    expect(result.errorLines[0]).toMatch(
      /^bootstrap: cannot reach Kafka at 127\.0\.0\.1:1: .*ECONNREFUSED.*\(gave up after .*\); hint: .*pnpm stack up/,
    );
  });

  it("exits 3 at once when PostgreSQL refuses the user", async () => {
    const url = new URL(testEnvironment("refused").databaseUrl);
    url.username = "no_such_role";
    // Ten minutes to wait: "at once" means it never tried PostgreSQL a second time.
    const result = await runBootstrapProcess({ DATABASE_URL: url.toString(), BOOTSTRAP_WAIT_MS: "600000" });
    expect(result.code).toBe(3);
    expect(result.errorLines).toEqual([
      expect.stringMatching(/^bootstrap: PostgreSQL refused bootstrap at .*no_such_role/),
    ]);
    expect(result.stdout).not.toContain("waiting for PostgreSQL");
  });

  it("exits 3 with one line when the registry is down", async () => {
    const result = await runBootstrapProcess({
      SCHEMA_REGISTRY_URL: "http://127.0.0.1:1/apis/ccompat/v7",
      BOOTSTRAP_WAIT_MS: "1500",
    });
    expect(result.code).toBe(3);
    expect(result.errorLines).toEqual([
      expect.stringMatching(
        /^bootstrap: cannot reach the schema registry at http:\/\/127\.0\.0\.1:1\/apis\/ccompat\/v7: /,
      ),
    ]);
  });
});
