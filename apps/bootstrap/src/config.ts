import { DEFAULT_MONTH_WINDOW, type MonthWindow } from "@weather/db";
import { READINGS_TOPICS, STATION_CATALOG } from "@weather/schema";
import {
  DEFAULT_READER_DB_ROLE,
  KAFKA_CONNECTION,
  LOGGING,
  POSTGRES_CONNECTION,
  REGISTRY_CONNECTION,
  secretFrom,
  secretSettings,
} from "@weather/service-kit";
import {
  type ConfigOf,
  defineSettingsGroup,
  defineWorkerSettings,
  setting,
  switchSchema,
  wholeNumber,
} from "@weather/settings";
import { z } from "zod";

const DAY_MS = 24 * 60 * 60 * 1000;
export const DEFAULT_READINGS_PARTITIONS = 6;
export const DEFAULT_READINGS_RETENTION_MS = 7 * DAY_MS;
/** Dead letters wait for a human, who may be on holiday: keep them longer than the readings. */
export const DEFAULT_DEAD_LETTER_RETENTION_MS = 30 * DAY_MS;
const DEFAULT_WAIT_MS = 60_000;
/** The PostgreSQL role the sink runs as: insert and select readings, read and write its offsets. */
const DEFAULT_SINK_DB_ROLE = "weather_sink";

/** A role bootstrap creates and grants; the password is set only when given. */
export interface RoleSpec {
  readonly name: string;
  readonly password?: string;
}

const retentionMs = wholeNumber({ unit: "milliseconds" }).refine(
  (n) => n === -1 || n >= 60_000,
  "must be at least 60000 (one minute), or -1 to keep forever",
);

const roleName = z
  .string()
  .trim()
  .regex(
    /^[a-z_][a-z0-9_]{0,62}$/,
    "must be a lower-case PostgreSQL role name (letters, digits, _), or none",
  );

const sinkPassword = secretSettings(
  "SINK_DB_PASSWORD",
  "the password bootstrap sets on the sink's role (absent: left as it is)",
);
const readerPassword = secretSettings(
  "READER_DB_PASSWORD",
  "the password bootstrap sets on the read-only role (absent: left as it is)",
);

/** Bootstrap's own settings; the topic, the catalog and the connections are shared groups. */
const BOOTSTRAP_SETTINGS = Object.freeze({
  readingsPartitions: setting({
    env: "READINGS_PARTITIONS",
    value: "N",
    description: "partitions of the readings topic and of its .dlq",
    default: String(DEFAULT_READINGS_PARTITIONS),
    schema: wholeNumber({ min: 1, max: 1000 }),
  }),
  readingsRetentionMs: setting({
    env: "READINGS_RETENTION_MS",
    value: "MS",
    description: "retention.ms of the readings topic (-1 keeps messages forever)",
    default: String(DEFAULT_READINGS_RETENTION_MS),
    defaultText: "604800000 (7 days)",
    schema: retentionMs,
  }),
  deadLetterRetentionMs: setting({
    env: "DLQ_RETENTION_MS",
    value: "MS",
    description: "retention.ms of the dead-letter topic: dead letters wait for a human, so longer",
    default: String(DEFAULT_DEAD_LETTER_RETENTION_MS),
    defaultText: "2592000000 (30 days)",
    schema: retentionMs,
  }),
  waitMs: setting({
    env: "BOOTSTRAP_WAIT_MS",
    value: "MS",
    description: "how long to wait for Kafka, the registry and PostgreSQL to answer",
    default: String(DEFAULT_WAIT_MS),
    schema: wholeNumber({ min: 0, unit: "milliseconds" }),
  }),
  sinkRole: setting({
    env: "SINK_DB_ROLE",
    value: "ROLE",
    description: "the sink's least-privilege PostgreSQL role, created with LOGIN (none: create none)",
    default: DEFAULT_SINK_DB_ROLE,
    schema: roleName,
  }),
  sinkPassword: sinkPassword.value,
  sinkPasswordFile: sinkPassword.file,
  readerRole: setting({
    env: "READER_DB_ROLE",
    value: "ROLE",
    description:
      "a read-only PostgreSQL role (SELECT only, read-only sessions), the dashboard's; created with LOGIN (none: create none)",
    default: DEFAULT_READER_DB_ROLE,
    schema: roleName,
  }),
  readerPassword: readerPassword.value,
  readerPasswordFile: readerPassword.file,
});

const monthCount = (max: number) => wholeNumber({ min: 0, max, unit: "months" });

/** The monthly partitions of the city tables (packages/weather-db/README.md). */
const PARTITION_SETTINGS = Object.freeze({
  maintain: setting({
    env: "BOOTSTRAP_MAINTAIN",
    flag: "maintain",
    switch: true,
    description:
      "only maintain the monthly partitions, for cron: create months ahead, move rows out of the DEFAULT partitions, drop months past the retention (PostgreSQL only)",
    default: "false",
    schema: switchSchema,
  }),
  monthsBack: setting({
    env: "PARTITION_MONTHS_BACK",
    flag: "months-back",
    value: "N",
    description:
      "months before the current one that bootstrap gives a partition (a backfill of them lands there)",
    default: String(DEFAULT_MONTH_WINDOW.monthsBack),
    schema: monthCount(1200),
  }),
  monthsAhead: setting({
    env: "PARTITION_MONTHS_AHEAD",
    flag: "months-ahead",
    value: "N",
    description: "months after the current one that bootstrap and the maintenance keep created",
    default: String(DEFAULT_MONTH_WINDOW.monthsAhead),
    schema: monthCount(120),
  }),
  retentionMonths: setting({
    env: "PARTITION_RETENTION_MONTHS",
    flag: "retention-months",
    value: "N",
    description:
      "the maintenance drops month partitions older than the current month minus N (keeps the current month and N before it)",
    defaultText: "keep every month",
    schema: monthCount(1200),
  }),
});

/** The topics' partitions and retention, how long to wait for the services, and the roles to create. */
const BOOTSTRAP = defineSettingsGroup({
  title: "bootstrap",
  settings: BOOTSTRAP_SETTINGS,
  read(own, { problems }) {
    const sinkSecret = secretFrom(
      { value: own.sinkPassword, file: own.sinkPasswordFile },
      "SINK_DB_PASSWORD",
      problems,
    );
    const readerSecret = secretFrom(
      { value: own.readerPassword, file: own.readerPasswordFile },
      "READER_DB_PASSWORD",
      problems,
    );
    if (own.sinkRole !== "none" && own.sinkRole === own.readerRole) {
      problems.push({
        setting: "READER_DB_ROLE",
        message: `must differ from SINK_DB_ROLE (${own.sinkRole}): the read-only role would take the sink's right to insert away`,
      });
    }
    return Object.freeze({
      readingsPartitions: own.readingsPartitions,
      /** retention.ms of the readings topic; -1 keeps messages forever. */
      readingsRetentionMs: own.readingsRetentionMs,
      deadLetterRetentionMs: own.deadLetterRetentionMs,
      /** How long to wait for Kafka, the registry and PostgreSQL to answer before giving up. */
      waitMs: own.waitMs,
      /** The sink's least-privilege role; null: create none (SINK_DB_ROLE=none). */
      sinkRole: roleSpec(own.sinkRole, sinkSecret),
      /** The read-only role (the dashboard's); null: create none (READER_DB_ROLE=none). */
      readerRole: roleSpec(own.readerRole, readerSecret),
    });
  },
});

/** The monthly partitions of the city tables, and whether to only maintain them (--maintain). */
const PARTITIONS = defineSettingsGroup({
  title: "Monthly partitions",
  settings: PARTITION_SETTINGS,
  read: (values): { readonly maintain: boolean; readonly window: MonthWindow } =>
    Object.freeze({
      /** Only maintain the monthly partitions, for cron: no Kafka, no registry. */
      maintain: values.maintain,
      /** Which months to create, how long to keep them. */
      window: Object.freeze({
        monthsBack: values.monthsBack,
        monthsAhead: values.monthsAhead,
        retentionMonths: values.retentionMonths ?? null,
      }),
    }),
});

/** What bootstrap reads, as --help and its README show it. */
export const BOOTSTRAP_WORKER = defineWorkerSettings({
  name: "bootstrap",
  summary:
    "Makes an environment ready, idempotently: the database, its migrations and city tables, the sink's role, the topics and the reading schemas.",
  details: [
    "A second run changes nothing and says so; two runs at once both succeed with one set of objects.",
    "Exits 4 when an existing topic contradicts the configuration (its partition count), after doing the rest.",
    "With --maintain it only maintains the city tables' monthly partitions, for cron: months ahead created, rows moved out of the DEFAULT partitions, months past PARTITION_RETENTION_MONTHS dropped; safe to run concurrently and again.",
  ],
  groups: {
    bootstrap: BOOTSTRAP,
    partitions: PARTITIONS,
    topics: READINGS_TOPICS,
    // Every city of the catalog gets its partition of weather_readings.
    catalog: STATION_CATALOG,
    kafka: KAFKA_CONNECTION,
    registry: REGISTRY_CONNECTION,
    postgres: POSTGRES_CONNECTION,
    logging: LOGGING,
  },
});

/** Everything bootstrap needs, validated once and frozen: each group's value. */
export type BootstrapConfig = ConfigOf<typeof BOOTSTRAP_WORKER.groups>;

function roleSpec(name: string, password: string | undefined): RoleSpec | null {
  if (name === "none") return null;
  return Object.freeze({ name, ...(password !== undefined ? { password } : {}) });
}
