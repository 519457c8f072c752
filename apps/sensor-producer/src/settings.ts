/**
 * What the producer reads, declared once: its own settings, the knobs of a messy stream and the
 * stations to simulate. config.ts reads them into the configuration; --help and the README's
 * tables are made from them.
 */
import { existsSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { CATALOG_SETTINGS, MAX_FUTURE_SKEW_MS, type ReadingSchemaVersion } from "@weather/schema";
import { duration, fraction, port, setting, wholeNumber } from "@weather/settings";
import { z } from "zod";
import { distributionSchema } from "./distribution.ts";
import { INVALID_KINDS, type InvalidKind } from "./invalid.ts";

const instantSchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}/, "expected an ISO-8601 instant such as 2024-01-01T00:00:00Z")
  .transform((text) => Date.parse(text))
  .pipe(z.number().refine(Number.isFinite, "expected an ISO-8601 instant such as 2024-01-01T00:00:00Z"));

const stationsSchema = z
  .string()
  .transform((text) => text.split(",").map((id) => id.trim()))
  .refine((ids) => ids.every((id) => id !== ""), "expected comma-separated station ids, e.g. CYWG,CYVR");

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
 * The producer's own settings, each a flag and a variable: what to send, when (the mode: real
 * time, --count, or a backfill from --from), how fast, and where to report it.
 */
export const PRODUCER_SETTINGS = Object.freeze({
  count: setting({
    env: "PRODUCER_COUNT",
    flag: "count",
    value: "N",
    description:
      "send exactly N readings per station, then exit (the last N intervals up to now, or N steps from --from)",
    schema: wholeNumber({ min: 1 }),
  }),
  interval: setting({
    env: "PRODUCER_INTERVAL",
    flag: "interval",
    value: "DURATION",
    description: "time between readings of a station in real time and in --count mode",
    default: "1s",
    schema: duration(),
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
    schema: duration(),
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
    schema: wholeNumber({ min: 1, max: 100_000 }),
  }),
  sendTimeout: setting({
    env: "PRODUCER_SEND_TIMEOUT",
    flag: "send-timeout",
    value: "DURATION",
    description:
      "longest a batch may wait for Kafka's acknowledgement (kafkajs retries until then); after it the run ends with exit 3",
    default: "2m",
    schema: duration(),
  }),
  progressInterval: setting({
    env: "PRODUCER_PROGRESS_INTERVAL",
    flag: "progress-interval",
    value: "DURATION",
    description: "time between progress log lines",
    default: "5s",
    schema: duration(),
  }),
  metricsPort: setting({
    env: "PRODUCER_METRICS_PORT",
    flag: "metrics-port",
    value: "PORT",
    description: "serve Prometheus metrics on this port at /metrics",
    defaultText: "off",
    schema: port(),
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

const invalidKindsSchema = z
  .string()
  .transform((text) => text.split(",").map((kind) => kind.trim()))
  .refine(
    (kinds) => kinds.every((kind) => (INVALID_KINDS as readonly string[]).includes(kind)),
    `expected comma-separated kinds of ${INVALID_KINDS.join(", ")}`,
  )
  .transform((kinds) => [...new Set(kinds)] as InvalidKind[]);

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
    schema: fraction,
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
    schema: fraction,
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
    schema: fraction,
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
    schema: duration({
      min: 0,
      max: MAX_FUTURE_SKEW_MS,
      why: "the sink refuses readings further in the future",
    }),
  }),
});

/** Which stations to simulate, from the catalog (STATIONS_FILE and the built-in ones). */
export const STATION_SETTINGS = Object.freeze({
  ...CATALOG_SETTINGS,
  stations: setting({
    env: "PRODUCER_STATIONS",
    flag: "stations",
    value: "IDS",
    description: "comma-separated station ids",
    defaultText: "every station of the catalog",
    schema: stationsSchema,
  }),
});
