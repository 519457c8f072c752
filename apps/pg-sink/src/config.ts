import { READINGS_TOPICS, SINK_GROUP, STATION_CATALOG } from "@weather/schema";
import {
  DEFAULT_SINK_HTTP_PORT,
  KAFKA_CONNECTION,
  LOGGING,
  POSTGRES_CONNECTION,
  REGISTRY_CONNECTION,
} from "@weather/service-kit";
import {
  type ConfigOf,
  defineSettingsGroup,
  defineWorkerSettings,
  port,
  setting,
  switchSchema,
  wholeNumber,
} from "@weather/settings";

const int = (min: number, max: number) => wholeNumber({ min, max });

/** The sink's own settings; the topic, group, catalog and connections are shared groups. */
const SINK_SETTINGS = Object.freeze({
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
    default: String(DEFAULT_SINK_HTTP_PORT),
    schema: port({ zero: "picks a free one" }),
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

/**
 * How the sink stores: transaction size, concurrency, fetching, its HTTP port, the group's session,
 * the backoff during outages, and whether to stop once caught up.
 */
const SINK = defineSettingsGroup({
  title: "pg-sink",
  settings: SINK_SETTINGS,
  read(values, { problems, failed }) {
    // Compared only once both parsed, so a bad value is reported once, for what it is.
    if (
      !failed("backoffInitialMs") &&
      !failed("backoffMaxMs") &&
      values.backoffMaxMs < values.backoffInitialMs
    ) {
      problems.push({ setting: "SINK_BACKOFF_MAX_MS", message: "must not be below SINK_BACKOFF_INITIAL_MS" });
    }
    return Object.freeze({ ...values });
  },
});

/** What the sink reads, as --help and its README show it. */
export const SINK_WORKER = defineWorkerSettings({
  name: "pg-sink",
  summary:
    "Consumes the readings topic and stores each reading exactly once in PostgreSQL, one table per city.",
  usage: "[--until-caught-up]",
  details: [
    "Rows and each partition's offset commit in one transaction; messages it cannot store go to <topic>.dlq.",
    "/healthz, /readyz and /metrics are served on SINK_HTTP_PORT. SIGTERM finishes the chunk in flight.",
  ],
  groups: {
    sink: SINK,
    topics: READINGS_TOPICS,
    sinkGroup: SINK_GROUP,
    catalog: STATION_CATALOG,
    kafka: KAFKA_CONNECTION,
    registry: REGISTRY_CONNECTION,
    postgres: POSTGRES_CONNECTION,
    logging: LOGGING,
  },
});

/** Everything the sink needs to run, parsed once at the edge: each group's value. */
export type SinkConfig = ConfigOf<typeof SINK_WORKER.groups>;
