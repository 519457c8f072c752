import { readFileSync, writeFileSync } from "node:fs";
import { readConnectionSettings } from "@weather/service-kit";
import type { ServiceState, ServiceStatus, StackContext } from "./context.ts";
import { stopDaemon } from "./daemon.ts";
import type { StackPaths } from "./paths.ts";
import { KAFKA, kafkaDown, kafkaStatus, kafkaUp } from "./services/kafka.ts";
import { readKafkaLayout } from "./services/kafka-layout.ts";
import { POSTGRES, postgresStatus, postgresUp } from "./services/postgres.ts";
import { REGISTRY, registryStatus, registryUp } from "./services/registry.ts";

/**
 * In start order; `down` goes the other way, so the registry never loses its database first.
 * KAFKA stands for all of Kafka's nodes: one (`kafka`) or a cluster's (`kafka-1`, `kafka-2`, ...).
 */
export const SERVICES = [POSTGRES, KAFKA, REGISTRY] as const;
export type ServiceName = (typeof SERVICES)[number];

/**
 * Where the stack lives and what it runs: PostgreSQL from DATABASE_URL, Kafka's layout from
 * `brokers` (the --brokers flag), STACK_KAFKA_BROKERS and STACK_KAFKA_PORT (see readKafkaLayout).
 * @throws ConfigError for a bad value.
 */
export function stackContext(
  paths: StackPaths,
  env: Readonly<Record<string, string | undefined>>,
  log: (message: string) => void,
  options: { brokers?: string } = {},
): StackContext {
  return {
    paths,
    postgresUrl: new URL(readConnectionSettings(env).databaseUrl),
    kafka: readKafkaLayout(env, paths, options.brokers),
    log,
  };
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
  // Kafka and the registry do not depend on each other: start and download them side by side.
  const rest = await Promise.allSettled([kafkaUp(context), registryUp(context).then((s) => [s])]);
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
        .map((status) => (status.name.startsWith(`${KAFKA}-`) ? KAFKA : status.name)),
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
    else results.push({ service, stopped: await stopDaemon(context.paths.run, service) });
  }
  return results;
}

export async function stackStatus(context: StackContext): Promise<ServiceStatus[]> {
  const [postgres, kafka, registry] = await Promise.all([
    postgresStatus(context),
    kafkaStatus(context),
    registryStatus(context),
  ]);
  return [postgres, ...kafka, registry];
}
