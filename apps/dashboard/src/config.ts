import {
  DEFAULT_SINK_GROUP_ID,
  deadLetterTopicOf,
  loadStationCatalog,
  readingsTopicFrom,
  type Station,
} from "@weather/schema";
import {
  ConfigError,
  type ConfigProblem,
  type ConnectionSettings,
  collectProblems,
  DEFAULT_READER_DATABASE_URL,
  DEFAULT_SINK_HTTP_PORT,
  type Env,
  LOCAL_STACK,
  presentVariables,
  readConnectionSettings,
  toConfigProblems,
} from "@weather/service-kit";
import { z } from "zod";

/** Everything the dashboard needs, parsed once at the edge and frozen. */
export interface DashboardConfig extends ConnectionSettings {
  /** Address the web page is served on; 127.0.0.1 unless opened up on purpose (0.0.0.0 in a container). */
  readonly host: string;
  /** 0 picks a free port (tests); the "listening" log line names the one taken. */
  readonly port: number;
  readonly readingsTopic: string;
  readonly deadLetterTopic: string;
  /** The sink's consumer group, whose lag and members are shown. */
  readonly sinkGroupId: string;
  /** /metrics URLs of sinks to watch, whether or not they are running. */
  readonly sinkMetricsUrls: readonly string[];
  /** Port to scrape on every host of the group's members; null: no discovery. */
  readonly sinkDiscoveryPort: number | null;
  /** How often the latest readings, rows per second, lag, sinks and dead letters are refreshed. */
  readonly refreshMs: number;
  /** How often the 24-hour and 7-day charts take in new readings (their newest buckets). */
  readonly seriesRefreshMs: number;
  /** How often the whole 24 hours and 7 days are aggregated again (picks up readings stored late). */
  readonly seriesRecomputeMs: number;
  /** Longest one refresh of one source may take before that source is shown unavailable. */
  readonly sourceTimeoutMs: number;
  /** The station catalog: which stations to show, their city and time zone. */
  readonly stations: readonly Station[];
}

export const DEFAULT_PORT = 8080;
export const DEFAULT_HOST = LOCAL_STACK.host;
export const DEFAULT_SINK_METRICS_URL = `http://${LOCAL_STACK.host}:${DEFAULT_SINK_HTTP_PORT}/metrics`;

const int = (min: number, max: number) =>
  z.coerce
    .number({ error: "must be a whole number" })
    .int("must be a whole number")
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);

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

const dashboardEnvSchema = z.object({
  DASHBOARD_HOST: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9.:[\]-]+$/, "must be a host name or IP address, e.g. 127.0.0.1 or 0.0.0.0")
    .default(DEFAULT_HOST),
  DASHBOARD_PORT: int(0, 65_535).default(DEFAULT_PORT),
  SINK_GROUP_ID: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9._-]{1,249}$/, "must be 1-249 letters, digits, '.', '_' or '-'")
    .default(DEFAULT_SINK_GROUP_ID),
  DASHBOARD_SINK_METRICS_URLS: metricsUrls.default([DEFAULT_SINK_METRICS_URL]),
  DASHBOARD_SINK_DISCOVERY_PORT: z
    .union([z.literal("off").transform(() => null), int(1, 65_535)], {
      error: "must be a port (1-65535) or off",
    })
    .default(DEFAULT_SINK_HTTP_PORT),
  DASHBOARD_REFRESH_MS: int(100, 60_000).default(2_000),
  DASHBOARD_SERIES_REFRESH_MS: int(100, 3_600_000).default(5_000),
  DASHBOARD_SERIES_RECOMPUTE_MS: int(1_000, 86_400_000).default(600_000),
  DASHBOARD_SOURCE_TIMEOUT_MS: int(500, 120_000).default(10_000),
});

/**
 * Reads the dashboard's configuration, reporting every problem at once. DATABASE_URL defaults to
 * the read-only role bootstrap creates, not to the superuser the other workers default to.
 * Empty variables count as unset.
 * @throws ConfigError
 */
export function readDashboardConfig(env: Env): DashboardConfig {
  const problems: ConfigProblem[] = [];
  const present = presentVariables(env);
  const connections = collectProblems(problems, "connections", () =>
    readConnectionSettings({ ...env, DATABASE_URL: present.DATABASE_URL ?? DEFAULT_READER_DATABASE_URL }),
  );
  const readingsTopic = collectProblems(problems, "READINGS_TOPIC", () => readingsTopicFrom(env));
  const catalog = collectProblems(problems, "STATIONS_FILE", () => loadStationCatalog(env));
  const parsed = dashboardEnvSchema.safeParse(present);
  if (!parsed.success) problems.push(...toConfigProblems(parsed.error));
  if (problems.length > 0 || !parsed.success || !connections || !readingsTopic || !catalog) {
    throw new ConfigError(problems);
  }
  const data = parsed.data;
  return Object.freeze({
    ...connections,
    host: data.DASHBOARD_HOST,
    port: data.DASHBOARD_PORT,
    readingsTopic,
    deadLetterTopic: deadLetterTopicOf(readingsTopic),
    sinkGroupId: data.SINK_GROUP_ID,
    sinkMetricsUrls: Object.freeze([...new Set(data.DASHBOARD_SINK_METRICS_URLS)]),
    sinkDiscoveryPort: data.DASHBOARD_SINK_DISCOVERY_PORT,
    refreshMs: data.DASHBOARD_REFRESH_MS,
    seriesRefreshMs: data.DASHBOARD_SERIES_REFRESH_MS,
    seriesRecomputeMs: data.DASHBOARD_SERIES_RECOMPUTE_MS,
    sourceTimeoutMs: data.DASHBOARD_SOURCE_TIMEOUT_MS,
    stations: catalog.stations,
  });
}
