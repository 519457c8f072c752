import { setTimeout as sleep } from "node:timers/promises";
import { maintenanceUrlOf } from "@weather/db";
import {
  classifyFailure,
  createKafka,
  type Dependency,
  fetchRegistry,
  type KafkaConnection,
  type Logger,
  type PostgresSecurityOptions,
  type RegistryConnection,
  reasonOf,
  redactUrl,
} from "@weather/service-kit";
import postgres from "postgres";
import { BootstrapError } from "./errors.ts";

/** One service to wait for: its name and address for the messages, and a check that throws until it answers. */
export interface ServiceProbe {
  readonly dependency: Dependency;
  readonly service: string;
  readonly address: string;
  /** What the operator should try when the service never answers. */
  readonly hint: string;
  check(): Promise<void>;
}

const STACK_HINT = "is the stack up? run: pnpm stack up";

export function kafkaProbe(connection: KafkaConnection): ServiceProbe {
  return {
    dependency: "Kafka",
    service: "Kafka",
    address: connection.brokers.join(","),
    hint: `${STACK_HINT}; or fix KAFKA_BROKERS`,
    async check() {
      // No retries inside kafkajs: the loop below owns retrying and reports every attempt.
      const kafka = createKafka(connection, {
        clientId: "bootstrap-probe",
        connectionTimeoutMs: 2_000,
        requestTimeoutMs: 5_000,
        retry: "none",
      });
      const admin = kafka.admin();
      try {
        await admin.connect();
        await admin.describeCluster();
      } finally {
        await admin.disconnect().catch(() => {});
      }
    },
  };
}

export function registryProbe(registry: RegistryConnection): ServiceProbe {
  return {
    dependency: "schema registry",
    service: "the schema registry",
    address: registry.url,
    hint: `${STACK_HINT}; or fix SCHEMA_REGISTRY_URL (Apicurio serves the Confluent API under /apis/ccompat/v7)`,
    async check() {
      const response = await fetchRegistry(registry, "/subjects", { signal: AbortSignal.timeout(3_000) });
      await response.body?.cancel();
      if (response.ok) return;
      // Apicurio answers 503 while it migrates its storage: an outage, waited for like no answer at all.
      throw Object.assign(new Error(`HTTP ${response.status} ${response.statusText} from GET /subjects`), {
        status: response.status,
      });
    },
  };
}

export function postgresProbe(
  databaseUrl: string,
  security: PostgresSecurityOptions = { ssl: false },
): ServiceProbe {
  const url = new URL(databaseUrl);
  return {
    dependency: "PostgreSQL",
    service: "PostgreSQL",
    address: `${url.hostname}:${url.port || "5432"}`,
    hint: `${STACK_HINT}; or fix DATABASE_URL (${redactUrl(databaseUrl)})`,
    async check() {
      const sql = postgres(maintenanceUrlOf(databaseUrl), {
        ...security,
        max: 1,
        connect_timeout: 3,
        onnotice: () => {},
      });
      try {
        await sql`select 1`;
      } finally {
        await sql.end({ timeout: 1 });
      }
    },
  };
}

export interface WaitOptions {
  /** Give up after this long. */
  readonly waitMs: number;
  readonly log: Logger;
  /** First pause between attempts; doubles up to maxIntervalMs. */
  readonly intervalMs?: number;
  readonly maxIntervalMs?: number;
  /** Stops waiting (rejects with the abort reason) when aborted. */
  readonly signal?: AbortSignal;
}

/**
 * Retries one probe until it answers, refuses (wrong password, an untrusted certificate: waiting
 * will not fix that), says what bootstrap needs is missing (the maintenance database, a URL path
 * the registry does not serve), or the deadline passes.
 */
export async function waitFor(probe: ServiceProbe, options: WaitOptions): Promise<void> {
  const deadline = Date.now() + options.waitMs;
  let interval = options.intervalMs ?? 250;
  for (let attempt = 1; ; attempt++) {
    options.signal?.throwIfAborted();
    try {
      await probe.check();
      if (attempt > 1) options.log.info({ service: probe.service, attempt }, `${probe.service} answers`);
      return;
    } catch (error) {
      const failure = classifyFailure(probe.dependency, error);
      if (failure.kind === "refused" || failure.kind === "missing") {
        throw new BootstrapError(`${probe.service} refused bootstrap`, probe.address, error, failure.hint);
      }
      if (Date.now() + interval > deadline) {
        throw new BootstrapError(
          `cannot reach ${probe.service}`,
          probe.address,
          error,
          probe.hint,
          `gave up after ${attempt} attempts in ${Math.round(options.waitMs / 1000)} s; BOOTSTRAP_WAIT_MS sets how long to wait`,
        );
      }
      options.log.info(
        { service: probe.service, address: probe.address, attempt, reason: reasonOf(error) },
        `waiting for ${probe.service} at ${probe.address}`,
      );
      await sleep(interval, undefined, options.signal ? { signal: options.signal } : {});
      interval = Math.min(interval * 2, options.maxIntervalMs ?? 2_000);
    }
  }
}

/** Waits for every probe at once; the first to give up decides the failure and stops the others. */
export async function waitForServices(probes: readonly ServiceProbe[], options: WaitOptions): Promise<void> {
  const stop = new AbortController();
  await Promise.all(
    probes.map((probe) =>
      waitFor(probe, { ...options, signal: stop.signal }).catch((error: unknown) => {
        stop.abort(error);
        throw error;
      }),
    ),
  );
}
