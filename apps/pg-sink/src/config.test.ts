import { ConfigError } from "@weather/service-kit";
import { describe, expect, it } from "vitest";
import { DEFAULT_GROUP_ID, DEFAULT_HTTP_PORT, readSinkConfig } from "./config.ts";

describe("readSinkConfig", () => {
  it("runs against the local stack with defaults when nothing is set", () => {
    const config = readSinkConfig({});
    expect(config).toMatchObject({
      readingsTopic: "weather.readings",
      groupId: DEFAULT_GROUP_ID,
      httpPort: DEFAULT_HTTP_PORT,
      batchSize: 5_000,
      partitionsConcurrently: 3,
      untilCaughtUp: false,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it("reads the sink's variables and --until-caught-up", () => {
    const config = readSinkConfig(
      {
        READINGS_TOPIC: "lab.readings",
        SINK_GROUP_ID: "sink-a",
        SINK_BATCH_SIZE: "50",
        SINK_PARTITIONS_CONCURRENTLY: "1",
        SINK_BATCH_MAX_WAIT_MS: "100",
        SINK_HTTP_PORT: "0",
        SINK_SESSION_TIMEOUT_MS: "10000",
        SINK_BACKOFF_INITIAL_MS: "10",
        SINK_BACKOFF_MAX_MS: "100",
      },
      ["--until-caught-up"],
    );
    expect(config).toMatchObject({
      readingsTopic: "lab.readings",
      groupId: "sink-a",
      batchSize: 50,
      partitionsConcurrently: 1,
      batchMaxWaitMs: 100,
      httpPort: 0,
      sessionTimeoutMs: 10_000,
      backoffInitialMs: 10,
      backoffMaxMs: 100,
      untilCaughtUp: true,
    });
  });

  it("reports every problem at once, by setting", () => {
    let error: unknown;
    try {
      readSinkConfig(
        {
          KAFKA_BROKERS: "no-port",
          READINGS_TOPIC: "bad topic",
          SINK_BATCH_SIZE: "0",
          SINK_HTTP_PORT: "http",
          SINK_BACKOFF_INITIAL_MS: "500",
          SINK_BACKOFF_MAX_MS: "100",
        },
        ["--follow"],
      );
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const settings = (error as ConfigError).problems.map((p) => p.setting).sort();
    expect(settings).toEqual([
      "KAFKA_BROKERS",
      "READINGS_TOPIC",
      "SINK_BATCH_SIZE",
      "SINK_HTTP_PORT",
      "command line",
    ]);
  });

  it("rejects a backoff cap below its start", () => {
    expect(() => readSinkConfig({ SINK_BACKOFF_INITIAL_MS: "500", SINK_BACKOFF_MAX_MS: "100" })).toThrow(
      /SINK_BACKOFF_MAX_MS/,
    );
  });
});
