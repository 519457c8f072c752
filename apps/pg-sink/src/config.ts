import {
  CATALOG_SETTINGS,
  DEFAULT_SINK_GROUP_ID,
  loadStationCatalog,
  SINK_GROUP_SETTINGS,
  type StationCatalog,
  TOPIC_SETTINGS,
} from "@weather/schema";
import {
  CONNECTION_GROUPS,
  type ConnectionSettings,
  collectProblems,
  configurationOf,
  DEFAULT_SINK_HTTP_PORT,
  type Env,
  LOGGING_SETTINGS,
  readConnectionSettings,
  readSettings,
  type SettingsGroup,
  type SettingsInput,
  setting,
  switchSchema,
  throwIfProblems,
  wholeNumber,
} from "@weather/service-kit";

/** Everything the sink needs to run, parsed once at the edge. */
export interface SinkConfig extends ConnectionSettings {
  readonly readingsTopic: string;
  readonly groupId: string;
  /** Most messages written in one PostgreSQL transaction. */
  readonly batchSize: number;
  /**
   * How many partitions' batches are stored at the same time (kafkajs partitionsConsumedConcurrently),
   * each in its own transaction on its own pooled connection.
   */
  readonly partitionsConcurrently: number;
  /** How long a fetch may wait on the broker for data (kafkajs maxWaitTimeInMs). */
  readonly batchMaxWaitMs: number;
  /** 0 picks a free port (tests). */
  readonly httpPort: number;
  /** How long the group waits for a silent member (a SIGKILLed sink) before reassigning its partitions. */
  readonly sessionTimeoutMs: number;
  readonly backoffInitialMs: number;
  readonly backoffMaxMs: number;
  /** Exit 0 once every partition of the topic is stored up to its high watermark. */
  readonly untilCaughtUp: boolean;
  /** The stations readings are validated against. */
  readonly catalog: StationCatalog;
}

export const DEFAULT_GROUP_ID = DEFAULT_SINK_GROUP_ID;
export const DEFAULT_HTTP_PORT = DEFAULT_SINK_HTTP_PORT;

const int = (min: number, max: number) => wholeNumber({ min, max });

/** The sink's own settings; see CONNECTION_GROUPS, TOPIC_SETTINGS and CATALOG_SETTINGS for the shared ones. */
export const SINK_SETTINGS = Object.freeze({
  // Measured with pnpm bench (500k readings, 6 partitions, 2 cores): 500 per transaction drains about
  // 26k rows/s, 2000 about 42k, 5000 about 42k alone and 50-65k with three partitions at once;
  // larger chunks do not help, a fetch brings at most 1 MB (about 6,000 readings) per partition.
  batchSize: setting({
    env: "SINK_BATCH_SIZE",
    value: "N",
    description: "most messages stored in one transaction",
    default: "5000",
    schema: int(1, 100_000),
  }),
  // At most the pool's four connections (database.ts); the caught-up check shares them.
  partitionsConcurrently: setting({
    env: "SINK_PARTITIONS_CONCURRENTLY",
    value: "N",
    description: "partitions stored at once, each in its own transaction (at most 4, the pool's size)",
    default: "3",
    schema: int(1, 4),
  }),
  batchMaxWaitMs: setting({
    env: "SINK_BATCH_MAX_WAIT_MS",
    value: "MS",
    description: "longest a fetch waits on the broker for data",
    default: "500",
    schema: int(0, 60_000),
  }),
  httpPort: setting({
    env: "SINK_HTTP_PORT",
    value: "PORT",
    description: "port of /healthz, /readyz and /metrics (0 picks a free one)",
    default: String(DEFAULT_HTTP_PORT),
    schema: int(0, 65_535),
  }),
  // The broker's group.min.session.timeout.ms is 6 s by default.
  sessionTimeoutMs: setting({
    env: "SINK_SESSION_TIMEOUT_MS",
    value: "MS",
    description: "how long the group waits for a silent member before reassigning its partitions",
    default: "30000",
    schema: int(6_000, 300_000),
  }),
  backoffInitialMs: setting({
    env: "SINK_BACKOFF_INITIAL_MS",
    value: "MS",
    description: "first wait before retrying while PostgreSQL, Kafka or the registry is down",
    default: "200",
    schema: int(1, 60_000),
  }),
  backoffMaxMs: setting({
    env: "SINK_BACKOFF_MAX_MS",
    value: "MS",
    description: "longest wait between retries during an outage",
    default: "10000",
    schema: int(1, 600_000),
  }),
  untilCaughtUp: setting({
    env: "SINK_UNTIL_CAUGHT_UP",
    flag: "until-caught-up",
    switch: true,
    description: "exit 0 once every partition is stored up to its end, instead of running until stopped",
    default: "false",
    schema: switchSchema,
  }),
});

/** Every setting the sink reads, as --help and its README show them. */
export const SINK_SETTING_GROUPS: readonly SettingsGroup[] = Object.freeze([
  { title: "pg-sink", settings: SINK_SETTINGS },
  { title: "Topic and group", settings: { ...TOPIC_SETTINGS, ...SINK_GROUP_SETTINGS } },
  { title: "Station catalog", settings: CATALOG_SETTINGS },
  ...CONNECTION_GROUPS,
  { title: "Logging", settings: LOGGING_SETTINGS },
]);

/** Reads the sink's configuration, adding every problem to `problems`. */
export function configureSink({ env, commandLine, problems }: SettingsInput): SinkConfig {
  const connections = collectProblems(problems, "connections", () => readConnectionSettings(env));
  const catalog = collectProblems(problems, "STATIONS_FILE", () => loadStationCatalog(env));
  const { readingsTopic } = readSettings(TOPIC_SETTINGS, { env, commandLine }, problems);
  const { sinkGroupId } = readSettings(SINK_GROUP_SETTINGS, { env, commandLine }, problems);
  const before = problems.length;
  const own = readSettings(SINK_SETTINGS, { env, commandLine }, problems);
  // Compared only once both parsed, so a bad value is reported once, for what it is.
  if (problems.length === before && own.backoffMaxMs < own.backoffInitialMs) {
    problems.push({ setting: "SINK_BACKOFF_MAX_MS", message: "must not be below SINK_BACKOFF_INITIAL_MS" });
  }
  throwIfProblems(problems);
  return Object.freeze({
    ...(connections as ConnectionSettings),
    ...own,
    readingsTopic,
    groupId: sinkGroupId,
    catalog: catalog as StationCatalog,
  });
}

/**
 * The sink's configuration from an environment and a command line, every problem at once.
 * @throws ConfigError
 */
export function readSinkConfig(env: Env, argv: readonly string[] = []): SinkConfig {
  return configurationOf(SINK_SETTING_GROUPS, configureSink, env, argv);
}
