/**
 * The one place a kafkajs client is made: where it connects and how securely (the Kafka connection
 * group's value), how patiently it retries (a named preset), and how its own log lines reach ours.
 */
import kafkajs, {
  Kafka,
  type KafkaConfig,
  type LogEntry,
  type logCreator,
  logLevel,
  type RetryOptions,
  type SASLOptions,
} from "kafkajs";
import type { Logger } from "pino";
import type { KafkaConnection, KafkaSecurity } from "./kafka-connection.ts";

// kafkajs spreads its errors into module.exports, which Node's named CommonJS imports cannot see.
const { KafkaJSError } = kafkajs;

/**
 * How long a client keeps trying to connect and to fetch metadata before giving up. Every field is
 * given: under NODE_ENV=test (vitest, and the workers tests spawn) kafkajs would otherwise use
 * tiny test defaults, and tests would not exercise what production runs.
 */
export const KAFKA_RETRY = Object.freeze({
  /** kafkajs's production defaults: about a minute of attempts. Workers that run for long. */
  standard: Object.freeze({
    retries: 5,
    initialRetryTime: 300,
    maxRetryTime: 30_000,
    factor: 0.2,
    multiplier: 2,
  }),
  /** A broker away for up to about a minute and a half costs latency, not a failed run. */
  patient: Object.freeze({
    retries: 12,
    initialRetryTime: 300,
    maxRetryTime: 10_000,
    factor: 0.2,
    multiplier: 2,
  }),
  /** A few short attempts: a reader that shows "unavailable" within seconds and tries again later. */
  quick: Object.freeze({
    retries: 2,
    initialRetryTime: 200,
    maxRetryTime: 1_000,
    factor: 0.2,
    multiplier: 2,
  }),
  /** One attempt: probes, and tests that want to see a failure at once. */
  none: Object.freeze({ retries: 0, initialRetryTime: 100, maxRetryTime: 1_000, factor: 0, multiplier: 1 }),
} satisfies Record<string, RetryOptions>);

export type KafkaRetryPreset = keyof typeof KAFKA_RETRY;

export interface KafkaOptions {
  readonly clientId: string;
  /**
   * Where kafkajs's own lines go, at this logger's level (see kafkaLevelOf); absent: kafkajs stays
   * silent.
   */
  readonly logger?: Logger;
  readonly retry?: KafkaRetryPreset;
  readonly connectionTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
}

/** The kafkajs configuration for a Kafka connection: brokers, TLS and SASL, retries, logging. */
export function kafkaClientConfig(connection: KafkaConnection, options: KafkaOptions): KafkaConfig {
  const { tls, sasl } = connection.security;
  const config: KafkaConfig = {
    clientId: options.clientId,
    brokers: [...connection.brokers],
    retry: { ...KAFKA_RETRY[options.retry ?? "standard"] },
    ...(options.connectionTimeoutMs !== undefined ? { connectionTimeout: options.connectionTimeoutMs } : {}),
    ...(options.requestTimeoutMs !== undefined ? { requestTimeout: options.requestTimeoutMs } : {}),
    ...(options.logger
      ? { logLevel: kafkaLogLevelFor(options.logger), logCreator: kafkaLogBridge(options.logger) }
      : { logLevel: logLevel.NOTHING }),
  };
  if (tls) {
    config.ssl = {
      rejectUnauthorized: tls.rejectUnauthorized,
      ...(tls.ca !== undefined ? { ca: [tls.ca] } : {}),
    };
  }
  if (sasl) config.sasl = saslOptionsOf(sasl);
  return config;
}

function saslOptionsOf(sasl: NonNullable<KafkaSecurity["sasl"]>): SASLOptions {
  const { username, password } = sasl;
  switch (sasl.mechanism) {
    case "plain":
      return { mechanism: "plain", username, password };
    case "scram-sha-256":
      return { mechanism: "scram-sha-256", username, password };
    case "scram-sha-512":
      return { mechanism: "scram-sha-512", username, password };
  }
}

/** A kafkajs client for a Kafka connection (the Kafka group's value); see kafkaClientConfig. */
export function createKafka(connection: KafkaConnection, options: KafkaOptions): Kafka {
  return new Kafka(kafkaClientConfig(connection, options));
}

/** After this many attempts a retried condition is worth a warning: it is lasting. */
const WARN_AFTER_RETRIES = 3;

type OurLevel = "error" | "warn" | "info" | "debug" | "trace";

/**
 * The kafkajs log level that produces exactly the lines `logger` writes, once kafkaLevelOf has
 * mapped them: nothing is built that would be dropped (kafkajs's DEBUG formats every request).
 */
export function kafkaLogLevelFor(logger: Pick<Logger, "isLevelEnabled">): logLevel {
  if (logger.isLevelEnabled("trace")) return logLevel.DEBUG;
  if (logger.isLevelEnabled("debug")) return logLevel.INFO;
  if (logger.isLevelEnabled("warn")) return logLevel.WARN;
  if (logger.isLevelEnabled("error")) return logLevel.ERROR;
  return logLevel.NOTHING;
}

/**
 * How a kafkajs log line is logged here, from its level and structure, never its text:
 * - kafkajs's DEBUG and INFO (per-request and per-connection chatter) become trace and debug;
 * - a connection's failure (namespace "Connection": a broken socket, a request's error answer)
 *   reaches the requester, which retries it or fails with it; whoever reports that says more: debug;
 * - an attempt of a retry loop (it carries `retryCount`) is debug for the first attempts, then warn
 *   once the condition lasts;
 * - a line carrying a kafkajs error that kafkajs marks retriable is debug: kafkajs retries it;
 * - everything else keeps kafkajs's level.
 */
export function kafkaLevelOf({
  namespace,
  level,
  log,
}: Pick<LogEntry, "namespace" | "level" | "log">): OurLevel {
  if (level === logLevel.DEBUG) return "trace";
  if (level === logLevel.INFO) return "debug";
  if (namespace === "Connection") return "debug";
  const { retryCount, error } = log as { retryCount?: unknown; error?: unknown };
  if (typeof retryCount === "number") return retryCount < WARN_AFTER_RETRIES ? "debug" : "warn";
  if (error instanceof KafkaJSError && error.retriable) return "debug";
  return level === logLevel.WARN ? "warn" : "error";
}

/** kafkajs's logCreator, writing into our logger (see kafkaLevelOf for the level mapping). */
function kafkaLogBridge(logger: Logger): logCreator {
  const child = logger.child({ component: "kafkajs" });
  return () => (entry: LogEntry) => {
    const { message, timestamp: _timestamp, logger: _logger, stack, ...extra } = entry.log;
    const to = kafkaLevelOf(entry);
    // A stack is worth its lines only where something really went wrong.
    child[to](
      { namespace: entry.namespace, ...extra, ...(to === "error" && stack !== undefined ? { stack } : {}) },
      message,
    );
  };
}
