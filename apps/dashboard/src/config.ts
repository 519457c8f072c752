import { READINGS_TOPICS, SINK_GROUP, STATION_CATALOG } from "@weather/schema";
import {
  DEFAULT_READER_DATABASE_URL,
  DEFAULT_SINK_HTTP_PORT,
  KAFKA_CONNECTION,
  LOCAL_STACK,
  LOGGING,
  postgresConnectionGroup,
} from "@weather/service-kit";
import {
  type ConfigOf,
  defineSettingsGroup,
  defineWorkerSettings,
  port,
  setting,
  wholeNumber,
} from "@weather/settings";
import { z } from "zod";

export const DEFAULT_PORT = 8080;
const DEFAULT_HOST = LOCAL_STACK.host;
const DEFAULT_SINK_METRICS_URL = `http://${LOCAL_STACK.host}:${DEFAULT_SINK_HTTP_PORT}/metrics`;

const int = (min: number, max: number) => wholeNumber({ min, max });

const metricsUrls = z
  .string()
  .trim()
  .transform((raw) => (raw === "none" ? [] : raw.split(",").map((url) => url.trim())))
  .check((ctx) => {
    for (const url of ctx.value) {
      if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
        ctx.issues.push({
          code: "custom",
          input: ctx.value,
          message: `"${url}" is not an http:// URL; expected e.g. ${DEFAULT_SINK_METRICS_URL} (comma-separate several, or none)`,
        });
      }
    }
  });

/** The dashboard's own settings; the topic, group, catalog and connections are shared ones. */
const DASHBOARD_SETTINGS = Object.freeze({
  host: setting({
    env: "DASHBOARD_HOST",
    value: "HOST",
    description: "address the web page is served on (0.0.0.0 in a container)",
    default: DEFAULT_HOST,
    schema: z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9.:[\]-]+$/, "must be a host name or IP address, e.g. 127.0.0.1 or 0.0.0.0"),
  }),
  port: setting({
    env: "DASHBOARD_PORT",
    value: "PORT",
    description: "port of the web page (0 picks a free one, named in the log)",
    default: String(DEFAULT_PORT),
    schema: port({ zero: "picks a free one, named in the log" }),
  }),
  sinkMetricsUrls: setting({
    env: "DASHBOARD_SINK_METRICS_URLS",
    value: "URLS",
    description:
      "comma-separated /metrics URLs of sinks to watch, whether or not they run (none: no fixed list)",
    default: DEFAULT_SINK_METRICS_URL,
    schema: metricsUrls,
  }),
  sinkDiscoveryPort: setting({
    env: "DASHBOARD_SINK_DISCOVERY_PORT",
    value: "PORT|off",
    description: "port scraped on every host of the sink group's members (off: no discovery)",
    default: String(DEFAULT_SINK_HTTP_PORT),
    schema: z.union([z.literal("off").transform(() => null), port()], {
      error: "must be a port (1-65535) or off",
    }),
  }),
  refreshMs: setting({
    env: "DASHBOARD_REFRESH_MS",
    value: "MS",
    description: "how often the latest readings, rows per second, lag, sinks and dead letters are refreshed",
    default: "2000",
    schema: int(100, 60_000),
  }),
  seriesRefreshMs: setting({
    env: "DASHBOARD_SERIES_REFRESH_MS",
    value: "MS",
    description: "how often the 24-hour and 7-day charts take in new readings (their newest buckets)",
    default: "5000",
    schema: int(100, 3_600_000),
  }),
  seriesRecomputeMs: setting({
    env: "DASHBOARD_SERIES_RECOMPUTE_MS",
    value: "MS",
    description:
      "how often the whole 24 hours and 7 days are aggregated again (picks up readings stored late)",
    default: "600000",
    schema: int(1_000, 86_400_000),
  }),
  sourceTimeoutMs: setting({
    env: "DASHBOARD_SOURCE_TIMEOUT_MS",
    value: "MS",
    description: "longest one refresh of one source may take before it is shown unavailable",
    default: "10000",
    schema: int(500, 120_000),
  }),
});

/** Where the page is served, which sinks it watches, how often each source is refreshed. */
const DASHBOARD = defineSettingsGroup({
  title: "dashboard",
  settings: DASHBOARD_SETTINGS,
  read: (own) =>
    Object.freeze({
      ...own,
      /** /metrics URLs of sinks to watch, whether or not they are running. */
      sinkMetricsUrls: Object.freeze([...new Set(own.sinkMetricsUrls)]),
    }),
});

/** What the dashboard reads, as --help and its README show it. */
export const DASHBOARD_WORKER = defineWorkerSettings({
  name: "dashboard",
  summary:
    "Serves a live web page of each city's weather and of the pipeline (rows stored, lag, sinks, dead letters).",
  details: [
    "Reads PostgreSQL as the read-only role bootstrap creates, Kafka's admin API and the sinks' /metrics;",
    "a source that cannot be reached is shown as such, and picked up again when it is back.",
  ],
  groups: {
    dashboard: DASHBOARD,
    topics: READINGS_TOPICS,
    // The sink's consumer group, whose lag and members are shown.
    sinkGroup: SINK_GROUP,
    // Which stations to show, their city and time zone.
    catalog: STATION_CATALOG,
    kafka: KAFKA_CONNECTION,
    // The read-only role bootstrap creates, not the superuser the other workers default to.
    postgres: postgresConnectionGroup(DEFAULT_READER_DATABASE_URL),
    logging: LOGGING,
  },
});

/** Everything the dashboard needs, parsed once at the edge and frozen: each group's value. */
export type DashboardConfig = ConfigOf<typeof DASHBOARD_WORKER.groups>;
