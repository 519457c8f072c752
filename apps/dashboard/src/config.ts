import {
  CATALOG_SETTINGS,
  deadLetterTopicOf,
  loadStationCatalog,
  SINK_GROUP_SETTINGS,
  type Station,
  type StationCatalog,
  TOPIC_SETTINGS,
} from "@weather/schema";
import {
  CONNECTION_GROUPS,
  CONNECTION_SETTINGS,
  type ConnectionSettings,
  collectProblems,
  configurationOf,
  DEFAULT_READER_DATABASE_URL,
  DEFAULT_SINK_HTTP_PORT,
  type Env,
  LOCAL_STACK,
  LOGGING_SETTINGS,
  readConnectionSettings,
  readSettings,
  type SettingsGroup,
  type SettingsInput,
  setting,
  throwIfProblems,
  wholeNumber,
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
    schema: int(0, 65_535),
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
    schema: z.union([z.literal("off").transform(() => null), int(1, 65_535)], {
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

/** Every setting the dashboard reads, as --help and its README show them. */
export const DASHBOARD_SETTING_GROUPS: readonly SettingsGroup[] = Object.freeze([
  { title: "dashboard", settings: DASHBOARD_SETTINGS },
  { title: "Topic and group", settings: { ...TOPIC_SETTINGS, ...SINK_GROUP_SETTINGS } },
  { title: "Station catalog", settings: CATALOG_SETTINGS },
  // The read-only role bootstrap creates, not the superuser the other workers default to.
  ...CONNECTION_GROUPS.map((group) =>
    group.settings === CONNECTION_SETTINGS
      ? {
          ...group,
          settings: {
            ...CONNECTION_SETTINGS,
            databaseUrl: { ...CONNECTION_SETTINGS.databaseUrl, default: DEFAULT_READER_DATABASE_URL },
          },
        }
      : group,
  ),
  { title: "Logging", settings: LOGGING_SETTINGS },
]);

/** Reads the dashboard's configuration, adding every problem to `problems`. */
export function configureDashboard({ env, commandLine, problems }: SettingsInput): DashboardConfig {
  const databaseUrl = env.DATABASE_URL?.trim() ? env.DATABASE_URL : DEFAULT_READER_DATABASE_URL;
  const connections = collectProblems(problems, "connections", () =>
    readConnectionSettings({ ...env, DATABASE_URL: databaseUrl }),
  );
  const catalog = collectProblems(problems, "STATIONS_FILE", () => loadStationCatalog(env));
  const { readingsTopic } = readSettings(TOPIC_SETTINGS, { env, commandLine }, problems);
  const { sinkGroupId } = readSettings(SINK_GROUP_SETTINGS, { env, commandLine }, problems);
  const own = readSettings(DASHBOARD_SETTINGS, { env, commandLine }, problems);
  throwIfProblems(problems);
  return Object.freeze({
    ...(connections as ConnectionSettings),
    host: own.host,
    port: own.port,
    readingsTopic,
    deadLetterTopic: deadLetterTopicOf(readingsTopic),
    sinkGroupId,
    sinkMetricsUrls: Object.freeze([...new Set(own.sinkMetricsUrls)]),
    sinkDiscoveryPort: own.sinkDiscoveryPort,
    refreshMs: own.refreshMs,
    seriesRefreshMs: own.seriesRefreshMs,
    seriesRecomputeMs: own.seriesRecomputeMs,
    sourceTimeoutMs: own.sourceTimeoutMs,
    stations: (catalog as StationCatalog).stations,
  });
}

/**
 * The dashboard's configuration from an environment, every problem at once.
 * @throws ConfigError
 */
export function readDashboardConfig(env: Env, argv: readonly string[] = []): DashboardConfig {
  return configurationOf(DASHBOARD_SETTING_GROUPS, configureDashboard, env, argv);
}
