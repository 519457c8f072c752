import { deadLetterTopicOf, loadStationCatalog, readingsTopicFrom } from "@weather/schema";
import {
  ConfigError,
  type ConfigProblem,
  type ConnectionSettings,
  collectProblems,
  DEFAULT_READER_DB_ROLE,
  presentVariables,
  readConnectionSettings,
  secretFrom,
  toConfigProblems,
} from "@weather/service-kit";
import { z } from "zod";

type Env = Readonly<Record<string, string | undefined>>;

const DAY_MS = 24 * 60 * 60 * 1000;
export const DEFAULT_READINGS_PARTITIONS = 6;
export const DEFAULT_READINGS_RETENTION_MS = 7 * DAY_MS;
/** Dead letters wait for a human, who may be on holiday: keep them longer than the readings. */
export const DEFAULT_DEAD_LETTER_RETENTION_MS = 30 * DAY_MS;
export const DEFAULT_WAIT_MS = 60_000;
/** The PostgreSQL role the sink runs as: insert and select readings, read and write its offsets. */
export const DEFAULT_SINK_DB_ROLE = "weather_sink";
/** The read-only PostgreSQL role the dashboard runs as: select on the readings and offsets, nothing else. */
export { DEFAULT_READER_DB_ROLE };

/** A role bootstrap creates and grants; the password is set only when given. */
export interface RoleSpec {
  readonly name: string;
  readonly password?: string;
}

export interface BootstrapConfig {
  readonly connections: ConnectionSettings;
  readonly readingsTopic: string;
  readonly deadLetterTopic: string;
  readonly readingsPartitions: number;
  /** retention.ms of the readings topic; -1 keeps messages forever. */
  readonly readingsRetentionMs: number;
  readonly deadLetterRetentionMs: number;
  /** How long to wait for Kafka, the registry and PostgreSQL to answer before giving up. */
  readonly waitMs: number;
  /** Every city of the station catalog: each gets its partition of weather_readings. */
  readonly cities: readonly string[];
  /** The sink's least-privilege role; null: create none (SINK_DB_ROLE=none). */
  readonly sinkRole: RoleSpec | null;
  /** The read-only role (the dashboard's); null: create none (READER_DB_ROLE=none). */
  readonly readerRole: RoleSpec | null;
}

const retentionMs = z.coerce
  .number()
  .int("must be a whole number of milliseconds")
  .refine((n) => n === -1 || n >= 60_000, "must be at least 60000 (one minute), or -1 to keep forever");

const roleName = z
  .string()
  .trim()
  .regex(
    /^[a-z_][a-z0-9_]{0,62}$/,
    "must be a lower-case PostgreSQL role name (letters, digits, _), or none",
  );

const bootstrapEnvSchema = z.object({
  READINGS_PARTITIONS: z.coerce
    .number()
    .int("must be a whole number")
    .min(1, "must be at least 1")
    .max(1000, "must be at most 1000")
    .default(DEFAULT_READINGS_PARTITIONS),
  READINGS_RETENTION_MS: retentionMs.default(DEFAULT_READINGS_RETENTION_MS),
  DLQ_RETENTION_MS: retentionMs.default(DEFAULT_DEAD_LETTER_RETENTION_MS),
  BOOTSTRAP_WAIT_MS: z.coerce
    .number()
    .int("must be a whole number of milliseconds")
    .min(0, "must not be negative")
    .default(DEFAULT_WAIT_MS),
  SINK_DB_ROLE: roleName.default(DEFAULT_SINK_DB_ROLE),
  READER_DB_ROLE: roleName.default(DEFAULT_READER_DB_ROLE),
});

/**
 * Reads and validates bootstrap's whole configuration once, reporting every problem together.
 * Empty variables count as unset, as in readConnectionSettings.
 * @throws ConfigError
 */
export function readBootstrapConfig(env: Env): BootstrapConfig {
  const problems: ConfigProblem[] = [];
  const connections = collectProblems(problems, "connections", () => readConnectionSettings(env));
  const readingsTopic = collectProblems(problems, "READINGS_TOPIC", () => readingsTopicFrom(env));
  const catalog = collectProblems(problems, "STATIONS_FILE", () => loadStationCatalog(env));
  const parsed = bootstrapEnvSchema.safeParse(presentVariables(env));
  if (!parsed.success) problems.push(...toConfigProblems(parsed.error));
  const sinkPassword = secretFrom(env, "SINK_DB_PASSWORD", problems);
  const readerPassword = secretFrom(env, "READER_DB_PASSWORD", problems);
  if (parsed.success) {
    const { SINK_DB_ROLE: sink, READER_DB_ROLE: reader } = parsed.data;
    if (sink !== "none" && sink === reader) {
      problems.push({
        setting: "READER_DB_ROLE",
        message: `must differ from SINK_DB_ROLE (${sink}): the read-only role would take the sink's right to insert away`,
      });
    }
  }
  if (problems.length > 0 || !connections || !readingsTopic || !catalog || !parsed.success) {
    throw new ConfigError(problems);
  }
  return Object.freeze({
    connections,
    readingsTopic,
    deadLetterTopic: deadLetterTopicOf(readingsTopic),
    readingsPartitions: parsed.data.READINGS_PARTITIONS,
    readingsRetentionMs: parsed.data.READINGS_RETENTION_MS,
    deadLetterRetentionMs: parsed.data.DLQ_RETENTION_MS,
    waitMs: parsed.data.BOOTSTRAP_WAIT_MS,
    cities: Object.freeze([...catalog.cities]),
    sinkRole: roleSpec(parsed.data.SINK_DB_ROLE, sinkPassword),
    readerRole: roleSpec(parsed.data.READER_DB_ROLE, readerPassword),
  });
}

function roleSpec(name: string, password: string | undefined): RoleSpec | null {
  if (name === "none") return null;
  return Object.freeze({ name, ...(password !== undefined ? { password } : {}) });
}
