import { parseArgs } from "node:util";
import { DEFAULT_SINK_GROUP_ID, readingsTopicFrom } from "@weather/schema";
import {
  ConfigError,
  type ConfigProblem,
  type ConnectionSettings,
  collectProblems,
  DEFAULT_SINK_HTTP_PORT,
  presentVariables,
  readConnectionSettings,
  toConfigProblems,
} from "@weather/service-kit";
import { z } from "zod";

type Env = Readonly<Record<string, string | undefined>>;

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
}

export const DEFAULT_GROUP_ID = DEFAULT_SINK_GROUP_ID;
export const DEFAULT_HTTP_PORT = DEFAULT_SINK_HTTP_PORT;

const int = (min: number, max: number) =>
  z.coerce
    .number({ error: "must be a whole number" })
    .int("must be a whole number")
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);

const sinkEnvSchema = z.object({
  SINK_GROUP_ID: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9._-]{1,249}$/, "must be 1-249 letters, digits, '.', '_' or '-'")
    .default(DEFAULT_GROUP_ID),
  // Measured with pnpm bench (500k readings, 6 partitions, 2 cores): 500 per transaction drains about
  // 26k rows/s, 2000 about 42k, 5000 about 42k alone and 50-65k with three partitions at once;
  // larger chunks do not help, a fetch brings at most 1 MB (about 6,000 readings) per partition.
  SINK_BATCH_SIZE: int(1, 100_000).default(5_000),
  // At most the pool's four connections (database.ts); the caught-up check shares them.
  SINK_PARTITIONS_CONCURRENTLY: int(1, 4).default(3),
  SINK_BATCH_MAX_WAIT_MS: int(0, 60_000).default(500),
  SINK_HTTP_PORT: int(0, 65_535).default(DEFAULT_HTTP_PORT),
  // The broker's group.min.session.timeout.ms is 6 s by default.
  SINK_SESSION_TIMEOUT_MS: int(6_000, 300_000).default(30_000),
  SINK_BACKOFF_INITIAL_MS: int(1, 60_000).default(200),
  SINK_BACKOFF_MAX_MS: int(1, 600_000).default(10_000),
});

/**
 * Reads the sink's configuration from the environment and its command line, reporting every
 * problem at once. Empty variables count as unset, as `VAR= cmd` usually means "use the default".
 * @throws ConfigError
 */
export function readSinkConfig(env: Env, argv: readonly string[] = []): SinkConfig {
  const problems: ConfigProblem[] = [];
  const present = presentVariables(env);
  const connections = collectProblems(problems, "connections", () => readConnectionSettings(env));
  const readingsTopic = collectProblems(problems, "READINGS_TOPIC", () => readingsTopicFrom(env));

  const parsed = sinkEnvSchema.safeParse(present);
  if (!parsed.success) problems.push(...toConfigProblems(parsed.error));

  let untilCaughtUp = false;
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: { "until-caught-up": { type: "boolean", default: false } },
      strict: true,
      allowPositionals: false,
    });
    untilCaughtUp = values["until-caught-up"];
  } catch (error) {
    problems.push({
      setting: "command line",
      message: `${(error as Error).message}; known: --until-caught-up`,
    });
  }

  if (parsed.success && parsed.data.SINK_BACKOFF_MAX_MS < parsed.data.SINK_BACKOFF_INITIAL_MS) {
    problems.push({ setting: "SINK_BACKOFF_MAX_MS", message: "must not be below SINK_BACKOFF_INITIAL_MS" });
  }
  if (problems.length > 0 || !parsed.success || !connections || !readingsTopic) {
    throw new ConfigError(problems);
  }
  return Object.freeze({
    ...connections,
    readingsTopic,
    groupId: parsed.data.SINK_GROUP_ID,
    batchSize: parsed.data.SINK_BATCH_SIZE,
    partitionsConcurrently: parsed.data.SINK_PARTITIONS_CONCURRENTLY,
    batchMaxWaitMs: parsed.data.SINK_BATCH_MAX_WAIT_MS,
    httpPort: parsed.data.SINK_HTTP_PORT,
    sessionTimeoutMs: parsed.data.SINK_SESSION_TIMEOUT_MS,
    backoffInitialMs: parsed.data.SINK_BACKOFF_INITIAL_MS,
    backoffMaxMs: parsed.data.SINK_BACKOFF_MAX_MS,
    untilCaughtUp,
  });
}
