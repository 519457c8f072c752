import { configurationOf, helpText, readConfiguration } from "@weather/settings";
import { describe, expect, it } from "vitest";
import { DASHBOARD_WORKER, DEFAULT_PORT } from "./config.ts";

const readDashboardConfig = (env: Record<string, string>) => configurationOf(DASHBOARD_WORKER, env);

/** Every problem of a configuration, as "SETTING: message". */
const problemsOf = (env: Record<string, string>): string[] =>
  readConfiguration(DASHBOARD_WORKER, { env, argv: [] }).problems.map((p) => `${p.setting}: ${p.message}`);

describe("the dashboard's configuration", () => {
  it("defaults to the local stack, read as the read-only role, and the sink's defaults", () => {
    const config = readDashboardConfig({});
    expect(config.dashboard).toMatchObject({
      host: "127.0.0.1",
      port: DEFAULT_PORT,
      sinkMetricsUrls: ["http://127.0.0.1:9464/metrics"],
      sinkDiscoveryPort: 9464,
      refreshMs: 2000,
    });
    expect(config.postgres.url).toBe("postgres://weather_reader@127.0.0.1:5432/weather");
    expect(config.topics).toEqual({ readings: "weather.readings", deadLetters: "weather.readings.dlq" });
    expect(config.sinkGroup).toBe("pg-sink");
    expect(config.catalog.stations.map((s) => s.id)).toEqual(expect.arrayContaining(["CYWG", "CYVR"]));
    expect(Object.isFrozen(config)).toBe(true);
  });

  it("lists only what it reads in --help: no schema registry", () => {
    const text = helpText(DASHBOARD_WORKER);
    expect(text).toContain("DATABASE_URL");
    expect(text).toContain("(default: postgres://weather_reader@127.0.0.1:5432/weather)");
    expect(text).not.toContain("SCHEMA_REGISTRY_URL");
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
    expect(config.postgres.url).toBe("postgres://someone@db:5432/lab");
    expect(config.topics.deadLetters).toBe("lab.readings.dlq");
    expect(config.sinkGroup).toBe("lab-sink");
    expect(config.dashboard).toMatchObject({
      host: "0.0.0.0",
      port: 0,
      sinkMetricsUrls: ["http://a:9464/metrics", "http://b:9464/metrics"],
      sinkDiscoveryPort: null,
      refreshMs: 500,
      seriesRefreshMs: 5000,
      seriesRecomputeMs: 20000,
      sourceTimeoutMs: 3000,
    });
  });

  it("watches no configured sink with DASHBOARD_SINK_METRICS_URLS=none", () => {
    expect(readDashboardConfig({ DASHBOARD_SINK_METRICS_URLS: "none" }).dashboard.sinkMetricsUrls).toEqual(
      [],
    );
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
