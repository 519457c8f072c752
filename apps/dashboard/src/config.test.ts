import { ConfigError } from "@weather/service-kit";
import { describe, expect, it } from "vitest";
import { DEFAULT_PORT, readDashboardConfig } from "./config.ts";

function problemsOf(env: Record<string, string>): string[] {
  try {
    readDashboardConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.setting}: ${p.message}`);
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("readDashboardConfig", () => {
  it("defaults to the local stack, read as the read-only role, and the sink's defaults", () => {
    const config = readDashboardConfig({});
    expect(config).toMatchObject({
      host: "127.0.0.1",
      port: DEFAULT_PORT,
      databaseUrl: "postgres://weather_reader@127.0.0.1:5432/weather",
      readingsTopic: "weather.readings",
      deadLetterTopic: "weather.readings.dlq",
      sinkGroupId: "pg-sink",
      sinkMetricsUrls: ["http://127.0.0.1:9464/metrics"],
      sinkDiscoveryPort: 9464,
      refreshMs: 2000,
    });
    expect(config.stations.map((s) => s.id)).toEqual(expect.arrayContaining(["CYWG", "CYVR"]));
    expect(Object.isFrozen(config)).toBe(true);
  });

  it("reads every setting, DATABASE_URL as given", () => {
    const config = readDashboardConfig({
      DATABASE_URL: "postgres://someone@db:5432/lab",
      DASHBOARD_HOST: "0.0.0.0",
      DASHBOARD_PORT: "0",
      READINGS_TOPIC: "lab.readings",
      SINK_GROUP_ID: "lab-sink",
      DASHBOARD_SINK_METRICS_URLS: "http://a:9464/metrics, http://b:9464/metrics,http://a:9464/metrics",
      DASHBOARD_SINK_DISCOVERY_PORT: "off",
      DASHBOARD_REFRESH_MS: "500",
      DASHBOARD_SERIES_REFRESH_MS: "5000",
      DASHBOARD_SERIES_RECOMPUTE_MS: "20000",
      DASHBOARD_SOURCE_TIMEOUT_MS: "3000",
    });
    expect(config).toMatchObject({
      databaseUrl: "postgres://someone@db:5432/lab",
      host: "0.0.0.0",
      port: 0,
      deadLetterTopic: "lab.readings.dlq",
      sinkGroupId: "lab-sink",
      sinkMetricsUrls: ["http://a:9464/metrics", "http://b:9464/metrics"],
      sinkDiscoveryPort: null,
      refreshMs: 500,
      seriesRefreshMs: 5000,
      seriesRecomputeMs: 20000,
      sourceTimeoutMs: 3000,
    });
  });

  it("watches no configured sink with DASHBOARD_SINK_METRICS_URLS=none", () => {
    expect(readDashboardConfig({ DASHBOARD_SINK_METRICS_URLS: "none" }).sinkMetricsUrls).toEqual([]);
  });

  it("reports every bad variable at once, by name", () => {
    const problems = problemsOf({
      DATABASE_URL: "mysql://db/weather",
      DASHBOARD_PORT: "http",
      DASHBOARD_SINK_METRICS_URLS: "127.0.0.1:9464",
      DASHBOARD_SINK_DISCOVERY_PORT: "99999",
      DASHBOARD_REFRESH_MS: "5",
      READINGS_TOPIC: "bad topic",
    });
    expect(problems.map((p) => p.split(":")[0]).sort()).toEqual([
      "DASHBOARD_PORT",
      "DASHBOARD_REFRESH_MS",
      "DASHBOARD_SINK_DISCOVERY_PORT",
      "DASHBOARD_SINK_METRICS_URLS",
      "DATABASE_URL",
      "READINGS_TOPIC",
    ]);
    expect(problems).toContainEqual(
      expect.stringMatching(
        /^DASHBOARD_SINK_METRICS_URLS: "127.0.0.1:9464": "127.0.0.1:9464" is not an http:\/\/ URL/,
      ),
    );
  });
});
