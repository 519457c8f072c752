import { randomInt } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import {
  CATALOG_SETTINGS,
  loadStationCatalog,
  MAX_FUTURE_SKEW_MS,
  type ReadingSchemaVersion,
  type Station,
  type StationCatalog,
  TOPIC_SETTINGS,
  type WireFormat,
} from "@weather/schema";
import {
  CONNECTION_GROUPS,
  type ConfigProblem,
  type ConnectionSettings,
  collectProblems,
  type Env,
  type KafkaSecurity,
  LOGGING_SETTINGS,
  readCommandLine,
  readConnectionSettings,
  readSettings,
  helpText as renderHelp,
  type SettingsGroup,
  type SettingsInput,
  type SettingValues,
  setting,
  sourceOf as sourceOfSetting,
  throwIfProblems,
} from "@weather/service-kit";
import { z } from "zod";
import { distributionSchema } from "./distribution.ts";
import { parseDurationMs } from "./duration.ts";
import { INVALID_KINDS, type InvalidKind } from "./invalid.ts";
import type { MessyKnobs } from "./messy-stream.ts";
import type { Schedule } from "./schedule.ts";

/** Everything the producer needs, validated once at start-up and frozen. */
export interface ProducerConfig {
  readonly schedule: Schedule;
  /** Cap on readings per second over all stations; null: as fast as the broker takes them. */
  readonly ratePerSecond: number | null;
  /** Station ids to simulate, in catalog order. */
  readonly stationIds: readonly string[];
  /** Those stations, from the catalog (STATIONS_FILE and the built-in ones). */
  readonly stations: readonly Station[];
  /** Every station id of the catalog, simulated or not (an "unknown station" must be none of them). */
  readonly catalogStationIds: readonly string[];
  readonly format: WireFormat;
  /** The reading schema version written; 2 adds pressureHpa. */
  readonly schemaVersion: ReadingSchemaVersion;
  readonly seed: string;
  readonly topic: string;
  readonly compression: Compression;
  /** Most readings per produce request. */
  readonly batchSize: number;
  /** Longest one batch may wait for its acknowledgement before the run fails. */
  readonly sendTimeoutMs: number;
  readonly progressIntervalMs: number;
  /** Port of the Prometheus /metrics endpoint; null: none. */
  readonly metricsPort: number | null;
  readonly kafkaBrokers: readonly string[];
  /** TLS and SASL towards Kafka; holds the SASL password: never log it. */
  readonly kafkaSecurity: KafkaSecurity;
  readonly schemaRegistryUrl: string;
  /** What a messy stream does (all off by default). */
  readonly mess: MessyKnobs;
  /** Where to write the manifest at the end; null: nowhere. */
  readonly manifestPath: string | null;
}

export type Compression = "none" | "gzip";

export type ParsedCommandLine =
  | { readonly kind: "run"; readonly config: ProducerConfig }
  | { readonly kind: "help"; readonly text: string };

export { parseDurationMs };

const durationSchema = z
  .string()
  .transform((text) => parseDurationMs(text) ?? Number.NaN)
  .pipe(
    z
      .number({ error: "expected a duration such as 500ms, 1s, 10m, 1h or 1d" })
      .min(1, "must be at least 1ms"),
  );

const positiveIntSchema = z.coerce
  .number({ error: "expected a whole number >= 1" })
  .int("expected a whole number >= 1")
  .min(1, "expected a whole number >= 1")
  .max(Number.MAX_SAFE_INTEGER, "is too large");

const instantSchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}/, "expected an ISO-8601 instant such as 2024-01-01T00:00:00Z")
  .transform((text) => Date.parse(text))
  .pipe(z.number().refine(Number.isFinite, "expected an ISO-8601 instant such as 2024-01-01T00:00:00Z"));

const stationsSchema = z
  .string()
  .transform((text) => text.split(",").map((id) => id.trim()))
  .refine((ids) => ids.every((id) => id !== ""), "expected comma-separated station ids, e.g. CYWG,CYVR");

/** The producer's own settings, each a flag and a variable: the single source of --help and the docs. */
export const PRODUCER_SETTINGS = Object.freeze({
  count: setting({
    env: "PRODUCER_COUNT",
    flag: "count",
    value: "N",
    description:
      "send exactly N readings per station, then exit (the last N intervals up to now, or N steps from --from)",
    schema: positiveIntSchema,
  }),
  interval: setting({
    env: "PRODUCER_INTERVAL",
    flag: "interval",
    value: "DURATION",
    description: "time between readings of a station in real time and in --count mode",
    default: "1s",
    schema: durationSchema,
  }),
  from: setting({
    env: "PRODUCER_FROM",
    flag: "from",
    value: "ISO-8601",
    description: "backfill: first simulated instant, e.g. 2024-01-01T00:00:00Z",
    schema: instantSchema,
  }),
  to: setting({
    env: "PRODUCER_TO",
    flag: "to",
    value: "ISO-8601",
    description: "backfill: end of simulated time, exclusive",
    defaultText: "now",
    schema: instantSchema,
  }),
  step: setting({
    env: "PRODUCER_STEP",
    flag: "step",
    value: "DURATION",
    description: "backfill: simulated time between readings",
    default: "10m",
    schema: durationSchema,
  }),
  rate: setting({
    env: "PRODUCER_RATE",
    flag: "rate",
    value: "R",
    description: "cap on readings per second over all stations",
    defaultText: "no cap",
    schema: z.coerce
      .number({ error: "expected readings per second, a number > 0" })
      .positive("expected a number > 0"),
  }),
  stations: setting({
    env: "PRODUCER_STATIONS",
    flag: "stations",
    value: "IDS",
    description: "comma-separated station ids",
    defaultText: "every station of the catalog",
    schema: stationsSchema,
  }),
  format: setting({
    env: "PRODUCER_FORMAT",
    flag: "format",
    value: "avro|json",
    description: "registry wire format of the values",
    default: "avro",
    schema: z.enum(["avro", "json"], { error: "expected avro or json" }),
  }),
  schemaVersion: setting({
    env: "PRODUCER_SCHEMA_VERSION",
    flag: "schema-version",
    value: "1|2",
    description: "reading schema version to write; 2 adds pressureHpa (registered on first use)",
    default: "1",
    schema: z
      .enum(["1", "2"], { error: "expected 1 or 2" })
      .transform((text): ReadingSchemaVersion => (text === "2" ? 2 : 1)),
  }),
  seed: setting({
    env: "PRODUCER_SEED",
    flag: "seed",
    value: "SEED",
    description: "seed of the simulation; the same seed gives the same readings",
    defaultText: "random, logged",
    schema: z.string().min(1, "must not be empty"),
  }),
  compression: setting({
    env: "PRODUCER_COMPRESSION",
    flag: "compression",
    value: "none|gzip",
    description: "compression of produce requests (kafkajs has only gzip built in)",
    default: "none",
    schema: z.enum(["none", "gzip"], { error: "expected none or gzip (kafkajs has only gzip built in)" }),
  }),
  batchSize: setting({
    env: "PRODUCER_BATCH_SIZE",
    flag: "batch-size",
    value: "N",
    description: "most readings per produce request",
    default: "2000",
    schema: positiveIntSchema.max(100_000, "expected at most 100000"),
  }),
  sendTimeout: setting({
    env: "PRODUCER_SEND_TIMEOUT",
    flag: "send-timeout",
    value: "DURATION",
    description:
      "longest a batch may wait for Kafka's acknowledgement (kafkajs retries until then); after it the run ends with exit 3",
    default: "2m",
    schema: durationSchema,
  }),
  progressInterval: setting({
    env: "PRODUCER_PROGRESS_INTERVAL",
    flag: "progress-interval",
    value: "DURATION",
    description: "time between progress log lines",
    default: "5s",
    schema: durationSchema,
  }),
  metricsPort: setting({
    env: "PRODUCER_METRICS_PORT",
    flag: "metrics-port",
    value: "PORT",
    description: "serve Prometheus metrics on this port at /metrics",
    defaultText: "off",
    schema: z.coerce
      .number({ error: "expected a TCP port 1-65535" })
      .int("expected a TCP port 1-65535")
      .min(1, "expected a TCP port 1-65535")
      .max(65_535, "expected a TCP port 1-65535"),
  }),
});

const fractionSchema = z.coerce
  .number({ error: "expected a fraction between 0 and 1, e.g. 0.02" })
  .min(0, "expected a fraction between 0 and 1, e.g. 0.02")
  .max(1, "expected a fraction between 0 and 1, e.g. 0.02");

const invalidKindsSchema = z
  .string()
  .transform((text) => text.split(",").map((kind) => kind.trim()))
  .refine(
    (kinds) => kinds.every((kind) => (INVALID_KINDS as readonly string[]).includes(kind)),
    `expected comma-separated kinds of ${INVALID_KINDS.join(", ")}`,
  )
  .transform((kinds) => [...new Set(kinds)] as InvalidKind[]);

const manifestSchema = z
  .string()
  .min(1, "must not be empty")
  .transform((path) => resolve(path))
  .refine(
    (path) => existsSync(dirname(path)) && statSync(dirname(path)).isDirectory(),
    "its folder does not exist",
  )
  .refine((path) => !existsSync(path) || statSync(path).isFile(), "is not a file");

/**
 * The knobs that make the stream messy, for testing what consumes it: all off by default, all
 * seeded by --seed (the same seed and knobs give the same stream). See the README.
 */
export const MESSY_SETTINGS = Object.freeze({
  lateFraction: setting({
    env: "PRODUCER_LATE_FRACTION",
    flag: "late-fraction",
    value: "F",
    description:
      "fraction of readings sent late, after later readings of their station, by a draw of --lateness",
    default: "0",
    schema: fractionSchema,
  }),
  lateness: setting({
    env: "PRODUCER_LATENESS",
    flag: "lateness",
    value: "DIST",
    description:
      "how late: fixed:5m, uniform:1m..1h, exponential:MEAN or lognormal:MEDIAN:SIGMA (schedule time)",
    default: "exponential:10m",
    schema: distributionSchema,
  }),
  resendFraction: setting({
    env: "PRODUCER_RESEND_FRACTION",
    flag: "resend-fraction",
    value: "F",
    description: "fraction of readings sent twice (same reading, same id), the copy --resend-delay later",
    default: "0",
    schema: fractionSchema,
  }),
  resendDelay: setting({
    env: "PRODUCER_RESEND_DELAY",
    flag: "resend-delay",
    value: "DIST",
    description: "how long after the first copy a re-send goes, as a distribution like --lateness",
    default: "exponential:1m",
    schema: distributionSchema,
  }),
  invalidFraction: setting({
    env: "PRODUCER_INVALID_FRACTION",
    flag: "invalid-fraction",
    value: "F",
    description:
      "fraction of readings followed by an invalid message the sink dead-letters (one of --invalid-kinds)",
    default: "0",
    schema: fractionSchema,
  }),
  invalidKinds: setting({
    env: "PRODUCER_INVALID_KINDS",
    flag: "invalid-kinds",
    value: "KINDS",
    description: `which invalid messages, drawn evenly: ${INVALID_KINDS.join(", ")}`,
    default: INVALID_KINDS.join(","),
    defaultText: "all",
    schema: invalidKindsSchema,
  }),
  burstsPerDay: setting({
    env: "PRODUCER_BURSTS_PER_DAY",
    flag: "bursts-per-day",
    value: "R",
    description:
      "silences per station and day: the station holds its readings for --burst-length, then flushes them",
    default: "0",
    schema: z.coerce
      .number({ error: "expected a rate per day, a number >= 0" })
      .min(0, "expected a rate per day, a number >= 0"),
  }),
  burstLength: setting({
    env: "PRODUCER_BURST_LENGTH",
    flag: "burst-length",
    value: "DIST",
    description: "how long a silence lasts, as a distribution like --lateness",
    default: "uniform:10m..2h",
    schema: distributionSchema,
  }),
  clockSkew: setting({
    env: "PRODUCER_CLOCK_SKEW",
    flag: "clock-skew",
    value: "DURATION",
    description: `each station's clock is off by a fixed amount drawn from [-D, +D] (at most ${MAX_FUTURE_SKEW_MS / 60_000}m: the sink refuses readings further in the future)`,
    default: "0",
    schema: z
      .string()
      .transform((text) => parseDurationMs(text) ?? Number.NaN)
      .pipe(
        z
          .number({ error: "expected a duration such as 30s or 2m" })
          .max(
            MAX_FUTURE_SKEW_MS,
            `must be at most ${MAX_FUTURE_SKEW_MS / 60_000}m: the sink refuses readings further in the future`,
          ),
      ),
  }),
  manifest: setting({
    env: "PRODUCER_MANIFEST",
    flag: "manifest",
    value: "FILE",
    description:
      "write a JSON manifest of what was sent at the end: valid readings per city and station, their checksum, re-sends, invalid ones, late ones",
    defaultText: "none",
    schema: manifestSchema,
  }),
});

/** Every setting the producer reads, as --help and its README show them. */
export const PRODUCER_SETTING_GROUPS: readonly SettingsGroup[] = Object.freeze([
  { title: "sensor-producer", settings: PRODUCER_SETTINGS },
  { title: "Messy streams", settings: MESSY_SETTINGS },
  { title: "Topic", settings: TOPIC_SETTINGS },
  { title: "Station catalog", settings: CATALOG_SETTINGS },
  ...CONNECTION_GROUPS.filter((group) => !group.title.startsWith("PostgreSQL")),
  { title: "Logging", settings: LOGGING_SETTINGS },
]);

export const PRODUCER_HELP = Object.freeze({
  name: "sensor-producer",
  summary: "Simulated weather stations sending readings to Kafka through the schema registry.",
  details: [
    "Modes: real time (default; until SIGINT/SIGTERM), --count N, or a backfill with --from [--to|--count].",
    "Messy streams: --late-fraction, --resend-fraction, --invalid-fraction, --bursts-per-day, --clock-skew (seeded; --manifest FILE says what was sent).",
    "Durations: 500ms, 1s, 10m, 1h, 1d (a bare number is milliseconds).",
  ],
  settings: PRODUCER_SETTING_GROUPS,
});

export function helpText(): string {
  return renderHelp({ ...PRODUCER_HELP, groups: PRODUCER_SETTING_GROUPS });
}

/**
 * Reads the producer's configuration from its flags and the environment, adding every problem to
 * `problems`. A flag wins over its environment variable; an empty variable counts as unset.
 * @param now the instant `--count` mode ends at and a backfill's `--to` defaults to.
 */
export function configureProducer(
  { env, commandLine, problems }: SettingsInput,
  now: number = Date.now(),
): ProducerConfig {
  const catalog = collectProblems(problems, "STATIONS_FILE", () => loadStationCatalog(env));
  const knownStationIds = catalog?.stations.map((station) => station.id) ?? [];
  const values = readSettings(PRODUCER_SETTINGS, { env, commandLine }, problems);
  const mess = readSettings(MESSY_SETTINGS, { env, commandLine }, problems);
  const { readingsTopic: topic } = readSettings(TOPIC_SETTINGS, { env, commandLine }, problems);
  const sourceOf = (name: keyof typeof PRODUCER_SETTINGS) =>
    sourceOfSetting(PRODUCER_SETTINGS[name], { env, commandLine });

  const stationIds = values.stations ?? knownStationIds;
  const unknown = stationIds.filter((id) => !knownStationIds.includes(id));
  if (catalog !== undefined && unknown.length > 0) {
    problems.push({
      setting: sourceOf("stations"),
      message: `unknown station ${unknown.map((id) => `"${id}"`).join(", ")}; known: ${knownStationIds.join(", ")}`,
    });
  }
  if (catalog !== undefined && stationIds.length === 0)
    problems.push({ setting: "STATIONS_FILE", message: "the catalog has no stations" });

  const schedule = scheduleOf(values, sourceOf, problems, now);
  const connections = collectProblems(problems, "connections", () => readConnectionSettings(env));

  throwIfProblems(problems);
  return Object.freeze({
    schedule: Object.freeze(schedule as Schedule),
    ratePerSecond: values.rate ?? null,
    stationIds: Object.freeze(knownStationIds.filter((id) => stationIds.includes(id))),
    stations: Object.freeze(
      (catalog as StationCatalog).stations.filter((station) => stationIds.includes(station.id)),
    ),
    catalogStationIds: Object.freeze(knownStationIds),
    format: values.format,
    schemaVersion: values.schemaVersion,
    seed: values.seed ?? String(randomInt(2 ** 31)),
    topic,
    compression: values.compression,
    batchSize: values.batchSize,
    sendTimeoutMs: values.sendTimeout,
    progressIntervalMs: values.progressInterval,
    metricsPort: values.metricsPort ?? null,
    kafkaBrokers: (connections as ConnectionSettings).kafkaBrokers,
    kafkaSecurity: (connections as ConnectionSettings).kafkaSecurity,
    schemaRegistryUrl: (connections as ConnectionSettings).schemaRegistryUrl,
    mess: Object.freeze({
      lateFraction: mess.lateFraction,
      lateness: mess.lateness,
      resendFraction: mess.resendFraction,
      resendDelay: mess.resendDelay,
      invalidFraction: mess.invalidFraction,
      invalidKinds: Object.freeze(mess.invalidKinds),
      burstsPerDay: mess.burstsPerDay,
      burstLength: mess.burstLength,
      clockSkewMs: mess.clockSkew,
    }),
    manifestPath: mess.manifest ?? null,
  });
}

/**
 * The producer's configuration from a command line and an environment, or the request for help.
 * @throws ConfigError naming every bad flag or variable, its value, and what is allowed.
 */
export function parseCommandLine(
  argv: readonly string[],
  env: Env,
  now: number = Date.now(),
): ParsedCommandLine {
  const problems: ConfigProblem[] = [];
  const commandLine = readCommandLine(argv, PRODUCER_SETTING_GROUPS, problems);
  if (commandLine.help && problems.length === 0) return { kind: "help", text: helpText() };
  return { kind: "run", config: configureProducer({ env, commandLine, problems }, now) };
}

/** Picks the mode from the flags present: a backfill if --from, a burst if --count, else real time. */
function scheduleOf(
  values: SettingValues<typeof PRODUCER_SETTINGS>,
  sourceOf: (name: keyof typeof PRODUCER_SETTINGS) => string,
  problems: ConfigProblem[],
  now: number,
): Schedule | undefined {
  const intervalMs = values.interval;
  const stepMs = values.step;
  if (values.from === undefined) {
    if (values.to !== undefined)
      problems.push({ setting: sourceOf("to"), message: "needs --from (a backfill)" });
    if (values.count === undefined) return { kind: "realtime", intervalMs };
    // The last N intervals up to now: N readings per station at once, none of them in the future.
    return {
      kind: "simulated",
      fromMs: now - (values.count - 1) * intervalMs,
      stepMs: intervalMs,
      ticks: values.count,
    };
  }
  if (values.count !== undefined) {
    if (values.to !== undefined) {
      problems.push({
        setting: sourceOf("to"),
        message: "give either --to or --count with --from, not both",
      });
    }
    return { kind: "simulated", fromMs: values.from, stepMs, ticks: values.count };
  }
  const toMs = values.to ?? now;
  if (toMs <= values.from) {
    problems.push({
      setting: sourceOf(values.to === undefined ? "from" : "to"),
      message: `the backfill from ${new Date(values.from).toISOString()} to ${new Date(toMs).toISOString()} is empty; --to must be after --from`,
    });
    return undefined;
  }
  return { kind: "simulated", fromMs: values.from, stepMs, ticks: Math.ceil((toMs - values.from) / stepMs) };
}
