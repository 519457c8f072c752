import { DEFAULT_SINK_GROUP_ID } from "@weather/schema";
import { DEFAULT_SINK_HTTP_PORT } from "@weather/service-kit";
import { ConfigError, configurationOf } from "@weather/settings";
import { describe, expect, it } from "vitest";
import { SINK_WORKER } from "./config.ts";

const sinkConfigOf = (env: Record<string, string>, argv: string[] = []) =>
  configurationOf(SINK_WORKER, env, argv);

describe("the sink's configuration", () => {
  it("runs against the local stack with defaults when nothing is set", () => {
    const config = sinkConfigOf({});
    expect(config.topics.readings).toBe("weather.readings");
    expect(config.sinkGroup).toBe(DEFAULT_SINK_GROUP_ID);
    expect(config.sink).toMatchObject({
      httpPort: DEFAULT_SINK_HTTP_PORT,
      batchSize: 5_000,
      partitionsConcurrently: 3,
      untilCaughtUp: false,
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.sink)).toBe(true);
  });

  it("reads the sink's variables and --until-caught-up", () => {
    const config = sinkConfigOf(
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
    expect(config.topics).toEqual({ readings: "lab.readings", deadLetters: "lab.readings.dlq" });
    expect(config.sinkGroup).toBe("sink-a");
    expect(config.sink).toEqual({
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
      sinkConfigOf(
        {
          KAFKA_BROKERS: "no-port",
          READINGS_TOPIC: "bad topic",
          SINK_BATCH_SIZE: "0",
          SINK_HTTP_PORT: "http",
          SINK_BACKOFF_INITIAL_MS: "500",
          SINK_BACKOFF_MAX_MS: "100",
          LOG_LEVEL: "verbose",
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
      "LOG_LEVEL",
      "READINGS_TOPIC",
      "SINK_BACKOFF_MAX_MS",
      "SINK_BATCH_SIZE",
      "SINK_HTTP_PORT",
      "command line",
    ]);
  });

  it("rejects a backoff cap below its start", () => {
    expect(() => sinkConfigOf({ SINK_BACKOFF_INITIAL_MS: "500", SINK_BACKOFF_MAX_MS: "100" })).toThrow(
      /SINK_BACKOFF_MAX_MS/,
    );
  });
});
