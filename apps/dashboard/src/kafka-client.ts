import {
  createKafka,
  KAFKA_RETRY,
  type KafkaConnection as KafkaConnectionSettings,
  type Logger,
} from "@weather/service-kit";
import type { Admin, Kafka } from "kafkajs";

/**
 * The dashboard's kafkajs client and one admin connection, opened on first use. After a failure
 * the admin is dropped and the next refresh opens a new one, so a broker that went away and came
 * back (or was not there at start) is picked up again without a restart. Retries are few and
 * short: the page should say "unavailable" within seconds, and the next refresh tries again anyway.
 */
export class KafkaConnection {
  readonly kafka: Kafka;
  private admin: Promise<Admin> | undefined;
  private closed = false;

  constructor(connection: KafkaConnectionSettings, logger: Logger) {
    // A broker that is away shows on the page; kafkajs's retry lines stay debug (see createKafka).
    this.kafka = createKafka(connection, {
      clientId: "dashboard",
      connectionTimeoutMs: 3_000,
      requestTimeoutMs: 10_000,
      retry: "quick",
      logger,
    });
  }

  /** Runs `work` on the shared admin connection, replacing the connection if `work` fails. */
  async withAdmin<T>(work: (admin: Admin) => Promise<T>): Promise<T> {
    if (this.closed) throw new Error("the Kafka connection is closed");
    this.admin ??= this.openAdmin();
    const opening = this.admin;
    try {
      return await work(await opening);
    } catch (error) {
      if (this.admin === opening) this.admin = undefined;
      void opening.then((admin) => admin.disconnect()).catch(() => {});
      throw error;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const opening = this.admin;
    this.admin = undefined;
    await opening?.then((admin) => admin.disconnect()).catch(() => {});
  }

  private async openAdmin(): Promise<Admin> {
    const admin = this.kafka.admin({ retry: { ...KAFKA_RETRY.quick } });
    await admin.connect();
    return admin;
  }
}

/** One line for the page and the log: what failed, where, and what to do. */
export function describeKafkaError(error: unknown, brokers: readonly string[], topic?: string): string {
  const name = (error as { name?: string }).name ?? "";
  const type = (error as { type?: string }).type ?? "";
  const message = error instanceof Error ? error.message : String(error);
  const cause = (error as { cause?: unknown }).cause;
  const detail = cause instanceof Error && !message.includes(cause.message) ? `: ${cause.message}` : "";
  if (
    type === "UNKNOWN_TOPIC_OR_PARTITION" ||
    /does not host this topic-partition|unknown topic/i.test(message)
  ) {
    return `topic ${topic ?? "(unknown)"} does not exist on ${brokers.join(",")}; run bootstrap: pnpm --filter bootstrap start`;
  }
  if (/Connection|Retries|ECONNREFUSED|ENOTFOUND|timeout|Closed connection/i.test(`${name} ${message}`)) {
    return `cannot reach Kafka at ${brokers.join(",")} (${message}${detail}); is it up? locally: pnpm stack up`;
  }
  if (/SASL|authentic/i.test(`${name} ${type} ${message}`)) {
    return `Kafka at ${brokers.join(",")} refused the dashboard's credentials (${message}); check KAFKA_SASL_*`;
  }
  if (/AUTHORIZATION/i.test(type)) {
    return `Kafka refused the dashboard (${type}): it needs DESCRIBE on the group and the topics, READ on the dead-letter topic`;
  }
  return `Kafka at ${brokers.join(",")} failed: ${name ? `${name}: ` : ""}${message}${detail}`;
}
