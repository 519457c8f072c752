import { randomInt } from "node:crypto";
import { parseArgs } from "node:util";
import {
  DEFAULT_READINGS_TOPIC,
  type ReadingSchemaVersion,
  readingsTopicFrom,
  type WireFormat,
} from "@weather/schema";
import {
  ConfigError,
  type ConfigProblem,
  collectProblems,
  type KafkaSecurity,
  readConnectionSettings,
} from "@weather/service-kit";
import { z } from "zod";
import type { Schedule } from "./schedule.ts";

type Env = Readonly<Record<string, string | undefined>>;

/** Everything the producer needs, validated once at start-up and frozen. */
export interface ProducerConfig {
  readonly schedule: Schedule;
  /** Cap on readings per second over all stations; null: as fast as the broker takes them. */
  readonly ratePerSecond: number | null;
  /** Station ids to simulate, in catalog order. */
  readonly stationIds: readonly string[];
  readonly format: WireFormat;
  /** The reading schema version written; 2 adds pressureHpa. */
  readonly schemaVersion: ReadingSchemaVersion;
  readonly seed: string;
  readonly topic: string;
  readonly compression: Compression;
  /** Most readings per produce request. */
  readonly batchSize: number;
  readonly progressIntervalMs: number;
  /** Port of the Prometheus /metrics endpoint; null: none. */
  readonly metricsPort: number | null;
  readonly kafkaBrokers: readonly string[];
  /** TLS and SASL towards Kafka; holds the SASL password: never log it. */
  readonly kafkaSecurity: KafkaSecurity;
  readonly schemaRegistryUrl: string;
}

export type Compression = "none" | "gzip";

export type ParsedCommandLine =
  | { readonly kind: "run"; readonly config: ProducerConfig }
  | { readonly kind: "help"; readonly text: string };

interface OptionSpec {
  readonly env: string;
  readonly value: string;
  readonly help: string;
  readonly default?: string;
}

/** The flags, their environment variables and their defaults: the single source of --help. */
const OPTIONS = {
  count: {
    env: "PRODUCER_COUNT",
    value: "N",
    help: "send exactly N readings per station, then exit (the last N intervals up to now, or N steps from --from)",
  },
  interval: {
    env: "PRODUCER_INTERVAL",
    value: "DURATION",
    help: "time between readings of a station in real time and in --count mode",
    default: "1s",
  },
  from: {
    env: "PRODUCER_FROM",
    value: "ISO-8601",
    help: "backfill: first simulated instant, e.g. 2024-01-01T00:00:00Z",
  },
  to: {
    env: "PRODUCER_TO",
    value: "ISO-8601",
    help: "backfill: end of simulated time, exclusive (default: now)",
  },
  step: {
    env: "PRODUCER_STEP",
    value: "DURATION",
    help: "backfill: simulated time between readings",
    default: "10m",
  },
  rate: {
    env: "PRODUCER_RATE",
    value: "R",
    help: "cap on readings per second over all stations (default: no cap)",
  },
  stations: {
    env: "PRODUCER_STATIONS",
    value: "IDS",
    help: "comma-separated station ids (default: every station of the catalog)",
  },
  format: {
    env: "PRODUCER_FORMAT",
    value: "avro|json",
    help: "registry wire format of the values",
    default: "avro",
  },
  "schema-version": {
    env: "PRODUCER_SCHEMA_VERSION",
    value: "1|2",
    help: "reading schema version to write; 2 adds pressureHpa (registered on first use)",
    default: "1",
  },
  seed: {
    env: "PRODUCER_SEED",
    value: "SEED",
    help: "seed of the simulation; the same seed gives the same readings (default: random, logged)",
  },
  topic: {
    env: "READINGS_TOPIC",
    value: "TOPIC",
    help: "topic to send readings to",
    default: DEFAULT_READINGS_TOPIC,
  },
  compression: {
    env: "PRODUCER_COMPRESSION",
    value: "none|gzip",
    help: "compression of produce requests (kafkajs has only gzip built in)",
    default: "none",
  },
  "batch-size": {
    env: "PRODUCER_BATCH_SIZE",
    value: "N",
    help: "most readings per produce request",
    default: "2000",
  },
  "progress-interval": {
    env: "PRODUCER_PROGRESS_INTERVAL",
    value: "DURATION",
    help: "time between progress log lines",
    default: "5s",
  },
  "metrics-port": {
    env: "PRODUCER_METRICS_PORT",
    value: "PORT",
    help: "serve Prometheus metrics on this port at /metrics (default: off)",
  },
} as const satisfies Record<string, OptionSpec>;

type OptionName = keyof typeof OPTIONS;

const DURATION_UNITS_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** "250ms", "1s", "10m", "1.5h", "1d"; a bare number is milliseconds. */
export function parseDurationMs(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(text.trim());
  if (match === null) return undefined;
  const ms = Number(match[1]) * (DURATION_UNITS_MS[match[2] ?? "ms"] ?? 1);
  return Number.isFinite(ms) ? Math.round(ms) : undefined;
}

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

const FIELD_SCHEMAS = {
  count: positiveIntSchema,
  interval: durationSchema,
  from: instantSchema,
  to: instantSchema,
  step: durationSchema,
  rate: z.coerce
    .number({ error: "expected readings per second, a number > 0" })
    .positive("expected a number > 0"),
  stations: z
    .string()
    .transform((text) => text.split(",").map((id) => id.trim()))
    .refine((ids) => ids.every((id) => id !== ""), "expected comma-separated station ids, e.g. CYWG,CYVR"),
  format: z.enum(["avro", "json"], { error: "expected avro or json" }),
  "schema-version": z
    .enum(["1", "2"], { error: "expected 1 or 2" })
    .transform((text): ReadingSchemaVersion => (text === "2" ? 2 : 1)),
  seed: z.string().min(1, "must not be empty"),
  topic: z.string(),
  compression: z.enum(["none", "gzip"], { error: "expected none or gzip (kafkajs has only gzip built in)" }),
  "batch-size": positiveIntSchema.max(100_000, "expected at most 100000"),
  "progress-interval": durationSchema,
  "metrics-port": z.coerce
    .number({ error: "expected a TCP port 1-65535" })
    .int("expected a TCP port 1-65535")
    .min(1, "expected a TCP port 1-65535")
    .max(65_535, "expected a TCP port 1-65535"),
} as const satisfies Record<OptionName, z.ZodType>;

type Values = { [K in OptionName]?: z.output<(typeof FIELD_SCHEMAS)[K]> };

export function helpText(): string {
  const rows = (Object.entries(OPTIONS) as [OptionName, OptionSpec][]).map(([name, spec]) => {
    const flag = `--${name} ${spec.value}`;
    const fallback = spec.default === undefined ? "" : ` (default: ${spec.default})`;
    return `  ${flag.padEnd(32)} ${spec.env.padEnd(28)} ${spec.help}${fallback}`;
  });
  return [
    "Usage: sensor-producer [options]",
    "",
    "Simulated weather stations sending readings to Kafka through the schema registry.",
    "Modes: real time (default; until SIGINT/SIGTERM), --count N, or a backfill with --from [--to|--count].",
    "Every flag may also be set by its environment variable; a flag wins over the variable.",
    "",
    `  ${"FLAG".padEnd(32)} ${"ENVIRONMENT VARIABLE".padEnd(28)} MEANING`,
    ...rows,
    `  ${"--help".padEnd(32)} ${"".padEnd(28)} print this and exit`,
    "",
    "Also read: KAFKA_BROKERS, SCHEMA_REGISTRY_URL, STATIONS_FILE, LOG_LEVEL.",
    "Durations: 500ms, 1s, 10m, 1h, 1d (a bare number is milliseconds).",
  ].join("\n");
}

/**
 * Parses the command line and the environment into a frozen configuration. A flag wins over its
 * environment variable; an empty variable counts as unset.
 * @param knownStationIds the catalog's station ids, to reject unknown `--stations` up front.
 * @param now the instant `--count` mode ends at and a backfill's `--to` defaults to.
 * @throws ConfigError naming every bad flag or variable, its value, and what is allowed.
 */
export function parseCommandLine(
  argv: readonly string[],
  env: Env,
  knownStationIds: readonly string[],
  now: number = Date.now(),
): ParsedCommandLine {
  const flags = parseFlags(argv);
  if (flags.help === true) return { kind: "help", text: helpText() };

  const problems: ConfigProblem[] = [];
  const values: Values = {};
  const sourceOf = (name: OptionName) => (flags[name] !== undefined ? `--${name}` : OPTIONS[name].env);

  for (const name of Object.keys(OPTIONS) as OptionName[]) {
    const spec: OptionSpec = OPTIONS[name];
    const flagValue = flags[name];
    const envValue = env[spec.env]?.trim() === "" ? undefined : env[spec.env];
    const raw = typeof flagValue === "string" ? flagValue : (envValue ?? spec.default);
    if (raw === undefined) continue;
    const parsed = FIELD_SCHEMAS[name].safeParse(raw);
    if (parsed.success) {
      (values as Record<string, unknown>)[name] = parsed.data;
    } else {
      const setting =
        flagValue !== undefined ? `--${name}` : envValue !== undefined ? spec.env : `--${name} default`;
      problems.push({ setting, message: `"${raw}": ${parsed.error.issues[0]?.message ?? "invalid"}` });
    }
  }

  let topic = "";
  try {
    topic = readingsTopicFrom({ READINGS_TOPIC: values.topic });
  } catch (error) {
    problems.push({
      setting: sourceOf("topic"),
      message: (error as Error).message.replace(/^READINGS_TOPIC /, ""),
    });
  }

  const stationIds = values.stations ?? knownStationIds;
  const unknown = stationIds.filter((id) => !knownStationIds.includes(id));
  if (unknown.length > 0) {
    problems.push({
      setting: sourceOf("stations"),
      message: `unknown station ${unknown.map((id) => `"${id}"`).join(", ")}; known: ${knownStationIds.join(", ")}`,
    });
  }
  if (stationIds.length === 0)
    problems.push({ setting: "STATIONS_FILE", message: "the catalog has no stations" });

  const schedule = scheduleOf(values, sourceOf, problems, now);

  const connections = collectProblems(problems, "connections", () => readConnectionSettings(env));

  if (problems.length > 0 || schedule === undefined || connections === undefined)
    throw new ConfigError(problems);
  return {
    kind: "run",
    config: Object.freeze({
      schedule: Object.freeze(schedule),
      ratePerSecond: values.rate ?? null,
      stationIds: Object.freeze(knownStationIds.filter((id) => stationIds.includes(id))),
      format: values.format ?? "avro",
      schemaVersion: values["schema-version"] ?? 1,
      seed: values.seed ?? String(randomInt(2 ** 31)),
      topic,
      compression: values.compression ?? "none",
      batchSize: values["batch-size"] ?? 2000,
      progressIntervalMs: values["progress-interval"] ?? 5000,
      metricsPort: values["metrics-port"] ?? null,
      kafkaBrokers: connections.kafkaBrokers,
      kafkaSecurity: connections.kafkaSecurity,
      schemaRegistryUrl: connections.schemaRegistryUrl,
    }),
  };
}

function parseFlags(argv: readonly string[]): Record<string, string | boolean | undefined> {
  const options = Object.fromEntries(
    Object.keys(OPTIONS).map((name) => [name, { type: "string" as const }]),
  ) as Record<OptionName, { type: "string" }>;
  try {
    return parseArgs({
      args: [...argv],
      options: { ...options, help: { type: "boolean", short: "h" } },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    // parseArgs explains unknown flags and missing values well; keep its words, drop its advice on "--".
    const message = (error as Error).message.split(". To specify")[0] ?? String(error);
    throw new ConfigError([{ setting: "command line", message: `${message}; see --help` }]);
  }
}

/** Picks the mode from the flags present: a backfill if --from, a burst if --count, else real time. */
function scheduleOf(
  values: Values,
  sourceOf: (name: OptionName) => string,
  problems: ConfigProblem[],
  now: number,
): Schedule | undefined {
  const intervalMs = values.interval ?? 1000;
  const stepMs = values.step ?? 600_000;
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
