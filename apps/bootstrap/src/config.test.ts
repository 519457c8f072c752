import { DEFAULT_READER_DB_ROLE } from "@weather/service-kit";
import { configurationOf, readConfiguration } from "@weather/settings";
import { describe, expect, it } from "vitest";
import {
  BOOTSTRAP_WORKER,
  DEFAULT_DEAD_LETTER_RETENTION_MS,
  DEFAULT_READINGS_PARTITIONS,
  DEFAULT_READINGS_RETENTION_MS,
} from "./config.ts";

const readBootstrapConfig = (env: Record<string, string>, argv: string[] = []) =>
  configurationOf(BOOTSTRAP_WORKER, env, argv);

/** Every problem of a configuration, as "SETTING: message". */
const problemsOf = (env: Record<string, string>): string[] =>
  readConfiguration(BOOTSTRAP_WORKER, { env, argv: [] }).problems.map((p) => `${p.setting}: ${p.message}`);

describe("bootstrap's configuration", () => {
  it("defaults to the local stack, weather.readings and the built-in cities", () => {
    const config = readBootstrapConfig({});
    expect(config.topics).toEqual({ readings: "weather.readings", deadLetters: "weather.readings.dlq" });
    expect(config.bootstrap.readingsPartitions).toBe(DEFAULT_READINGS_PARTITIONS);
    expect(config.bootstrap.readingsRetentionMs).toBe(DEFAULT_READINGS_RETENTION_MS);
    expect(config.bootstrap.deadLetterRetentionMs).toBe(DEFAULT_DEAD_LETTER_RETENTION_MS);
    expect(config.bootstrap.deadLetterRetentionMs).toBeGreaterThan(config.bootstrap.readingsRetentionMs);
    expect(config.catalog.cities).toEqual(expect.arrayContaining(["winnipeg", "vancouver"]));
    expect(config.postgres.url).toBe("postgres://postgres@127.0.0.1:5432/weather");
  });

  it("is frozen, so no module can change what another one sees", () => {
    const config = readBootstrapConfig({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.bootstrap)).toBe(true);
    expect(Object.isFrozen(config.catalog.cities)).toBe(true);
  });

  it("reads topic, partitions, retention and the wait bound", () => {
    const config = readBootstrapConfig({
      READINGS_TOPIC: "lab.readings",
      READINGS_PARTITIONS: "12",
      READINGS_RETENTION_MS: "-1",
      DLQ_RETENTION_MS: "86400000",
      BOOTSTRAP_WAIT_MS: "5000",
    });
    expect(config.topics).toEqual({ readings: "lab.readings", deadLetters: "lab.readings.dlq" });
    expect(config.bootstrap).toMatchObject({
      readingsPartitions: 12,
      readingsRetentionMs: -1,
      deadLetterRetentionMs: 86_400_000,
      waitMs: 5000,
    });
  });

  it("treats empty variables as unset", () => {
    const config = readBootstrapConfig({ READINGS_PARTITIONS: " ", READINGS_TOPIC: "" });
    expect(config.bootstrap.readingsPartitions).toBe(DEFAULT_READINGS_PARTITIONS);
    expect(config.topics.readings).toBe("weather.readings");
  });

  it("reports every bad variable at once, by name", () => {
    const problems = problemsOf({
      DATABASE_URL: "postgres//no-scheme",
      READINGS_TOPIC: "bad topic",
      READINGS_PARTITIONS: "zero",
      READINGS_RETENTION_MS: "10",
      BOOTSTRAP_WAIT_MS: "-5",
      STATIONS_FILE: "/nonexistent/stations.json",
    });
    const settings = problems.map((p) => p.split(":")[0]).sort();
    expect(settings).toEqual([
      "BOOTSTRAP_WAIT_MS",
      "DATABASE_URL",
      "READINGS_PARTITIONS",
      "READINGS_RETENTION_MS",
      "READINGS_TOPIC",
      "STATIONS_FILE",
    ]);
  });

  it("refuses a partition count Kafka would not take", () => {
    // Every worker names the setting, echoes the value (passwords masked) and says what is allowed.
    expect(problemsOf({ READINGS_PARTITIONS: "0" })).toEqual([
      'READINGS_PARTITIONS: "0": must be at least 1',
    ]);
    expect(problemsOf({ READINGS_PARTITIONS: "2.5" })).toEqual([
      'READINGS_PARTITIONS: "2.5": must be a whole number',
    ]);
  });

  it("creates the read-only role weather_reader unless told otherwise", () => {
    expect(readBootstrapConfig({}).bootstrap.readerRole).toEqual({ name: DEFAULT_READER_DB_ROLE });
    expect(
      readBootstrapConfig({ READER_DB_ROLE: "lab_reader", READER_DB_PASSWORD: "s3cret" }).bootstrap
        .readerRole,
    ).toEqual({ name: "lab_reader", password: "s3cret" });
    expect(readBootstrapConfig({ READER_DB_ROLE: "none" }).bootstrap.readerRole).toBeNull();
  });

  it("refuses a read-only role named like the sink's role", () => {
    expect(problemsOf({ SINK_DB_ROLE: "weather_app", READER_DB_ROLE: "weather_app" })).toEqual([
      expect.stringMatching(/^READER_DB_ROLE: must differ from SINK_DB_ROLE \(weather_app\)/),
    ]);
  });

  it("keeps a year of months back, three ahead and every month by default, and does not maintain", () => {
    expect(readBootstrapConfig({}).partitions).toEqual({
      maintain: false,
      window: { monthsBack: 12, monthsAhead: 3, retentionMonths: null },
    });
  });

  it("reads the monthly partitions' window and --maintain from flags and variables", () => {
    const config = readBootstrapConfig(
      { PARTITION_MONTHS_BACK: "2", PARTITION_RETENTION_MONTHS: "24", PARTITION_MONTHS_AHEAD: "9" },
      ["--maintain", "--months-ahead", "6"],
    );
    expect(config.partitions).toEqual({
      maintain: true,
      window: { monthsBack: 2, monthsAhead: 6, retentionMonths: 24 },
    });
    expect(readBootstrapConfig({ BOOTSTRAP_MAINTAIN: "true" }).partitions.maintain).toBe(true);
  });

  it("refuses a month count that is negative or not whole", () => {
    expect(problemsOf({ PARTITION_RETENTION_MONTHS: "-1", PARTITION_MONTHS_AHEAD: "1.5" }).sort()).toEqual([
      'PARTITION_MONTHS_AHEAD: "1.5": must be a whole number of months',
      'PARTITION_RETENTION_MONTHS: "-1": must not be negative',
    ]);
  });
});
