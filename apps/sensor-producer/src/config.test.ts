import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { configurationOf, helpText, readConfiguration } from "@weather/settings";
import { describe, expect, it } from "vitest";
import { PRODUCER_WORKER } from "./config.ts";

const STATIONS = ["CYWG", "CYVR"];
const NOW = Date.parse("2024-05-01T12:00:00Z");

const run = (argv: string[], env: Record<string, string> = {}) =>
  configurationOf(PRODUCER_WORKER, env, argv, { now: NOW });

function problemsOf(argv: string[], env: Record<string, string> = {}) {
  const { problems } = readConfiguration(PRODUCER_WORKER, { env, argv, now: NOW });
  if (problems.length === 0) throw new Error("expected problems");
  return problems;
}

const stationIdsOf = (config: ReturnType<typeof run>) => config.stations.selected.map((s) => s.id);

describe("the producer's configuration", () => {
  it("defaults to real time, every second, all stations, Avro, the default topic", () => {
    const config = run([]);
    expect(config.producer.schedule).toEqual({ kind: "realtime", intervalMs: 1000 });
    expect(stationIdsOf(config)).toEqual(STATIONS);
    expect(config.producer.format).toBe("avro");
    expect(config.topics.readings).toBe("weather.readings");
    expect(config.producer.compression).toBe("none");
    expect(config.producer.ratePerSecond).toBeNull();
    expect(config.producer.seed).toMatch(/^\d+$/);
    expect(config.producer.schemaVersion).toBe(1);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.producer)).toBe(true);
  });

  it("writes reading schema v2 with --schema-version 2 or PRODUCER_SCHEMA_VERSION=2, and only 1 or 2", () => {
    expect(run(["--schema-version", "2"]).producer.schemaVersion).toBe(2);
    expect(run([], { PRODUCER_SCHEMA_VERSION: "2" }).producer.schemaVersion).toBe(2);
    expect(run(["--schema-version", "1"], { PRODUCER_SCHEMA_VERSION: "2" }).producer.schemaVersion).toBe(1);
    expect(problemsOf(["--schema-version", "3"])).toEqual([
      { setting: "--schema-version", message: '"3": expected 1 or 2' },
    ]);
  });

  it("makes --count the last N intervals up to now", () => {
    expect(run(["--count", "134"]).producer.schedule).toEqual({
      kind: "simulated",
      fromMs: NOW - 133_000,
      stepMs: 1000,
      ticks: 134,
    });
  });

  it("makes --from/--to/--step a backfill over [from, to)", () => {
    const config = run(["--from", "2024-01-01T00:00:00Z", "--to", "2024-01-02T00:00:00Z", "--step", "1h"]);
    expect(config.producer.schedule).toEqual({
      kind: "simulated",
      fromMs: Date.UTC(2024, 0, 1),
      stepMs: 3_600_000,
      ticks: 24,
    });
  });

  it("reads every setting from its environment variable, and lets a flag win", () => {
    const env = {
      PRODUCER_COUNT: "5",
      PRODUCER_INTERVAL: "2s",
      PRODUCER_STATIONS: "CYVR",
      PRODUCER_FORMAT: "json",
      PRODUCER_SEED: "abc",
      PRODUCER_RATE: "50",
      PRODUCER_COMPRESSION: "gzip",
      PRODUCER_BATCH_SIZE: "10",
      PRODUCER_METRICS_PORT: "9464",
      READINGS_TOPIC: "t.env",
    };
    const config = run(["--format", "avro", "--topic", "t.flag"], env);
    expect(config.producer).toMatchObject({
      schedule: { kind: "simulated", stepMs: 2000, ticks: 5 },
      format: "avro",
      seed: "abc",
      ratePerSecond: 50,
      compression: "gzip",
      batchSize: 10,
      metricsPort: 9464,
    });
    expect(stationIdsOf(config)).toEqual(["CYVR"]);
    expect(config.topics.readings).toBe("t.flag");
  });

  it("names the flag or variable, the value and what is allowed, for every problem at once", () => {
    const problems = problemsOf(["--count", "0", "--format", "xml", "--stations", "CYWG,XXXX"], {
      PRODUCER_INTERVAL: "soon",
      PRODUCER_COMPRESSION: "snappy",
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        { setting: "--count", message: '"0": must be at least 1' },
        { setting: "--format", message: '"xml": expected avro or json' },
        {
          setting: "PRODUCER_INTERVAL",
          message: '"soon": expected a duration such as 500ms, 1s, 10m, 1h or 1d',
        },
        expect.objectContaining({
          setting: "PRODUCER_COMPRESSION",
          message: expect.stringContaining("gzip"),
        }),
        expect.objectContaining({ setting: "--stations", message: expect.stringContaining('"XXXX"') }),
      ]),
    );
    expect(problems).toHaveLength(5);
  });

  it("rejects unknown flags, an empty backfill, and --to without --from", () => {
    expect(problemsOf(["--cuont", "3"])[0]?.message).toMatch(/Unknown option '--cuont'.*--help/);
    expect(problemsOf(["--from", "2024-01-02", "--to", "2024-01-01"])[0]?.setting).toBe("--to");
    expect(problemsOf(["--to", "2024-01-01"])[0]).toEqual({
      setting: "--to",
      message: "needs --from (a backfill)",
    });
    expect(problemsOf(["--topic", "bad topic!"])[0]?.setting).toBe("--topic");
    expect(problemsOf([], { KAFKA_BROKERS: "nope" })[0]?.setting).toBe("KAFKA_BROKERS");
  });

  it("answers --help with every flag, its variable and its default, and only what it reads", () => {
    expect(readConfiguration(PRODUCER_WORKER, { env: {}, argv: ["--help"], now: NOW }).help).toBe(true);
    const text = helpText(PRODUCER_WORKER);
    for (const name of [
      "--count",
      "PRODUCER_COUNT",
      "--interval",
      "--rate",
      "READINGS_TOPIC",
      "(default: 1s)",
      "SCHEMA_REGISTRY_URL",
      "LOG_LEVEL",
    ]) {
      expect(text).toContain(name);
    }
    // The producer never opens PostgreSQL.
    expect(text).not.toContain("DATABASE_URL");
  });
});

describe("the messy-stream settings", () => {
  it("are all off by default, and no manifest is written", () => {
    const config = run([]);
    expect(config.mess).toMatchObject({
      lateFraction: 0,
      resendFraction: 0,
      invalidFraction: 0,
      burstsPerDay: 0,
      clockSkewMs: 0,
      invalidKinds: [
        "implausible",
        "unknown-station",
        "bad-magic-byte",
        "unknown-schema",
        "undecodable",
        "empty-value",
      ],
    });
    expect(config.producer.manifestPath).toBeNull();
  });

  it("reads every knob from its flag or variable", () => {
    const folder = mkdtempSync(join(tmpdir(), "producer-config-"));
    const config = run(
      [
        "--late-fraction",
        "0.02",
        "--lateness",
        "lognormal:5m:1",
        "--resend-fraction",
        "0.01",
        "--invalid-kinds",
        "empty-value,implausible",
        "--manifest",
        join(folder, "m.json"),
      ],
      {
        PRODUCER_RESEND_DELAY: "fixed:30s",
        PRODUCER_INVALID_FRACTION: "0.005",
        PRODUCER_BURSTS_PER_DAY: "2",
        PRODUCER_BURST_LENGTH: "uniform:5m..1h",
        PRODUCER_CLOCK_SKEW: "90s",
      },
    );
    expect(config.mess).toEqual({
      lateFraction: 0.02,
      lateness: { kind: "lognormal", medianMs: 300_000, sigma: 1 },
      resendFraction: 0.01,
      resendDelay: { kind: "fixed", ms: 30_000 },
      invalidFraction: 0.005,
      invalidKinds: ["empty-value", "implausible"],
      burstsPerDay: 2,
      burstLength: { kind: "uniform", minMs: 300_000, maxMs: 3_600_000 },
      clockSkewMs: 90_000,
    });
    expect(config.producer.manifestPath).toBe(join(folder, "m.json"));
  });

  it("names every bad knob at once, with what is allowed", () => {
    const problems = problemsOf(
      ["--late-fraction", "1.5", "--lateness", "soon", "--invalid-kinds", "garbage", "--clock-skew", "10m"],
      { PRODUCER_MANIFEST: "/nonexistent/folder/m.json" },
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        { setting: "--late-fraction", message: '"1.5": expected a fraction between 0 and 1, e.g. 0.02' },
        {
          setting: "--lateness",
          message: '"soon": expected fixed:5m, uniform:1m..1h, exponential:10m or lognormal:10m:1',
        },
        {
          setting: "--invalid-kinds",
          message: expect.stringContaining("expected comma-separated kinds of implausible, unknown-station"),
        },
        { setting: "--clock-skew", message: expect.stringContaining("must be at most 5m") },
        { setting: "PRODUCER_MANIFEST", message: '"/nonexistent/folder/m.json": its folder does not exist' },
      ]),
    );
    expect(problems).toHaveLength(5);
  });
});
