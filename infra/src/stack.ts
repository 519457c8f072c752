import { readFileSync, writeFileSync } from "node:fs";
import { readConnectionSettings } from "@weather/service-kit";
import type { ServiceState, ServiceStatus, StackContext } from "./context.ts";
import { stopDaemon } from "./daemon.ts";
import type { StackPaths } from "./paths.ts";
import { KAFKA, kafkaDown, kafkaStatus, kafkaUp } from "./services/kafka.ts";
import { readKafkaLayout } from "./services/kafka-layout.ts";
import { POSTGRES, postgresStatus, postgresUp } from "./services/postgres.ts";
import { postgresPairDown, postgresPairStatus, postgresPairUp } from "./services/postgres-pair.ts";
import { PAIR_NODE_NAMES, POSTGRES_PAIR, readPostgresPair } from "./services/postgres-pair-layout.ts";
import { REGISTRY, registryStatus, registryUp } from "./services/registry.ts";

/**
 * In start order; `down` goes the other way, so the registry never loses its database first.
 * KAFKA stands for all of Kafka's nodes: one (`kafka`) or a cluster's (`kafka-1`, `kafka-2`, ...);
 * POSTGRES_PAIR for the stack's own primary and standby (`postgres-1`, `postgres-2`), when asked for.
 */
export const SERVICES = [POSTGRES, POSTGRES_PAIR, KAFKA, REGISTRY] as const;
export type ServiceName = (typeof SERVICES)[number];

/**
 * Where the stack lives and what it runs: PostgreSQL from DATABASE_URL, Kafka's layout from
 * `brokers` (the --brokers flag), STACK_KAFKA_BROKERS and STACK_KAFKA_PORT (see readKafkaLayout),
 * the PostgreSQL pair from `postgresStandby` (the --postgres-standby flag) and STACK_POSTGRES_*
 * (see readPostgresPair).
 * @throws ConfigError for a bad value.
 */
export function stackContext(
  paths: StackPaths,
  env: Readonly<Record<string, string | undefined>>,
  log: (message: string) => void,
  options: { brokers?: string; postgresStandby?: string } = {},
): StackContext {
  return {
    paths,
    postgresUrl: stackServerUrl(env),
    kafka: readKafkaLayout(env, paths, options.brokers),
    postgresPair: readPostgresPair(env, paths, options.postgresStandby),
    log,
  };
}

/**
 * The one server the stack uses or starts, where the registry keeps its schemas: DATABASE_URL's,
 * unless DATABASE_URL lists several hosts (the pair's URL, exported for the workers), which names
 * no single server to start; the stack's default server stays then.
 */
function stackServerUrl(env: Readonly<Record<string, string | undefined>>): URL {
  const multiHost = /^[a-z]+:\/\/[^/?#]*,/i.test(env.DATABASE_URL?.trim() ?? "");
  return new URL(readConnectionSettings(multiHost ? { ...env, DATABASE_URL: undefined } : env).databaseUrl);
}

export function isHealthy(state: ServiceState): boolean {
  return state.kind === "started" || state.kind === "running" || state.kind === "external";
}

/**
 * Starts whatever is not answering yet and waits until all three are ready. Idempotent: what runs
 * already is left alone. With `startedFile`, records which services this call started, so that a
 * test run can stop exactly those and leave a developer's running stack as it found it.
 */
export async function stackUp(
  context: StackContext,
  options: { startedFile?: string } = {},
): Promise<ServiceStatus[]> {
  const postgres = await postgresUp(context);
  // Kafka, the registry and the PostgreSQL pair do not depend on each other: start them side by side.
  const rest = await Promise.allSettled([
    postgresPairUp(context),
    kafkaUp(context),
    registryUp(context).then((s) => [s]),
  ]);
  const failures = rest
    .filter((result) => result.status === "rejected")
    .map((result) => result.reason as Error);
  const statuses = [
    postgres,
    ...rest.flatMap((result) => (result.status === "fulfilled" ? result.value : [])),
  ];
  if (options.startedFile) {
    // A cluster's nodes are recorded as KAFKA: `down --only-from` stops them together.
    const started = new Set(
      statuses
        .filter((status) => status.state.kind === "started")
        .map((status) => (status.name.startsWith(`${KAFKA}-`) ? KAFKA : status.name))
        .map((name) => ((PAIR_NODE_NAMES as readonly string[]).includes(name) ? POSTGRES_PAIR : name)),
    );
    writeFileSync(options.startedFile, `${[...started].join("\n")}\n`);
  }
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1)
    throw new AggregateError(failures, failures.map((error) => error.message).join("\n"));
  return statuses;
}

/** Reads a file `up --started-file` wrote; unknown names are ignored rather than guessed at. */
export function readStartedFile(file: string): ServiceName[] {
  const names = readFileSync(file, "utf8")
    .split("\n")
    .map((line) => line.trim());
  return SERVICES.filter((service) => names.includes(service));
}

/**
 * Stops, by pid, the services the stack started (or only `only` of them), newest first.
 * A service someone else runs is never touched.
 */
export async function stackDown(
  context: StackContext,
  options: { only?: readonly ServiceName[] } = {},
): Promise<{ service: string; stopped: boolean }[]> {
  const results: { service: string; stopped: boolean }[] = [];
  for (const service of [...SERVICES].reverse()) {
    if (options.only && !options.only.includes(service)) continue;
    if (service === KAFKA) results.push(...(await kafkaDown(context)));
    else if (service === POSTGRES_PAIR) results.push(...(await postgresPairDown(context)));
    else results.push({ service, stopped: await stopDaemon(context.paths.run, service) });
  }
  return results;
}

export async function stackStatus(context: StackContext): Promise<ServiceStatus[]> {
  const [postgres, kafka, registry, pair] = await Promise.all([
    postgresStatus(context),
    kafkaStatus(context),
    registryStatus(context),
    postgresPairStatus(context),
  ]);
  return [postgres, ...pair, ...kafka, registry];
}
