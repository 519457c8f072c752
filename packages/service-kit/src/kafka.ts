/**
 * The one place a kafkajs client is made: where it connects and how securely (the Kafka connection
 * group's value), how patiently it retries (a named preset), and how its own log lines reach ours.
 */
import {
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
  /** Where kafkajs's own lines go (see kafkaLogBridge); absent: kafkajs stays silent. */
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
      ? { logLevel: logLevel.DEBUG, logCreator: kafkaLogBridge(options.logger) }
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

/**
 * Messages kafkajs logs at ERROR for conditions Kafka itself calls retriable: a group coordinator
 * still loading or not elected yet (every fresh broker), a rebalance, a leader moving. kafkajs
 * retries them; they become errors only if the retries run out, and then the error reaches our
 * code, which reports it.
 */
const RETRIABLE_CONDITIONS = [
  /coordinator is loading/i,
  /group coordinator is not available/i,
  /not coordinator/i,
  /rebalanc/i,
  /leader not available/i,
  /not leader/i,
  /There is no leader for this topic-partition/i,
  /does not host this topic-partition/i,
  /Request timed out/i,
  /not enough replicas/i,
  /Connection error|ECONNREFUSED|connection (was )?closed|Connection timeout/i,
  /Restarting the consumer/i,
];

/** After this many attempts a retried condition is worth a warning: it is lasting. */
const WARN_AFTER_RETRIES = 3;

/**
 * How a kafkajs log line is logged here: kafkajs's INFO is per-connection chatter (debug); an
 * ERROR that is an attempt of a retry loop, or a condition Kafka calls retriable, is not an error
 * (debug for the first attempts, warn once it lasts); everything else keeps its level.
 */
export function kafkaLevelOf(
  level: logLevel,
  message: string,
  extra: Record<string, unknown>,
): "error" | "warn" | "info" | "debug" | "trace" {
  if (level === logLevel.DEBUG) return "trace";
  if (level === logLevel.INFO) return "debug";
  // A request's error answer, logged by the connection before the requester sees it: the requester
  // retries it or fails with it, and whoever reports that failure says more than this line.
  if (message.startsWith("Response ")) return "debug";
  const retryCount = typeof extra.retryCount === "number" ? extra.retryCount : undefined;
  const text = `${message} ${typeof extra.error === "string" ? extra.error : ""}`;
  const retriable = retryCount !== undefined || RETRIABLE_CONDITIONS.some((pattern) => pattern.test(text));
  if (level === logLevel.WARN) return retriable && (retryCount ?? 0) < WARN_AFTER_RETRIES ? "debug" : "warn";
  if (!retriable) return "error";
  return (retryCount ?? 0) >= WARN_AFTER_RETRIES ? "warn" : "debug";
}

/** kafkajs's logCreator, writing into our logger (see kafkaLevelOf for the level mapping). */
function kafkaLogBridge(logger: Logger): logCreator {
  const child = logger.child({ component: "kafkajs" });
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const { message, timestamp: _timestamp, logger: _logger, stack, ...extra } = log;
      const to = kafkaLevelOf(level, message, extra);
      // A stack is worth its lines only where something really went wrong.
      child[to](
        { namespace, ...extra, ...(to === "error" && stack !== undefined ? { stack } : {}) },
        message,
      );
    };
}
