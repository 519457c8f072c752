import { readFileSync, writeFileSync } from "node:fs";
import { readConnectionSettings } from "@weather/service-kit";
import type { ServiceState, ServiceStatus, StackContext } from "./context.ts";
import { stopDaemon } from "./daemon.ts";
import type { StackPaths } from "./paths.ts";
import { KAFKA, kafkaStatus, kafkaUp } from "./services/kafka.ts";
import { POSTGRES, postgresStatus, postgresUp } from "./services/postgres.ts";
import { REGISTRY, registryStatus, registryUp } from "./services/registry.ts";

/** In start order; `down` goes the other way, so the registry never loses its database first. */
export const SERVICES = [POSTGRES, KAFKA, REGISTRY] as const;
export type ServiceName = (typeof SERVICES)[number];

export function stackContext(
  paths: StackPaths,
  env: Readonly<Record<string, string | undefined>>,
  log: (message: string) => void,
): StackContext {
  return { paths, postgresUrl: new URL(readConnectionSettings(env).databaseUrl), log };
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
  const rest = await Promise.allSettled([kafkaUp(context), registryUp(context)]);
  const failures = rest
    .filter((result) => result.status === "rejected")
    .map((result) => result.reason as Error);
  const statuses = [
    postgres,
    ...rest.flatMap((result) => (result.status === "fulfilled" ? [result.value] : [])),
  ];
  if (options.startedFile) {
    const started = statuses.filter((status) => status.state.kind === "started").map((status) => status.name);
    writeFileSync(options.startedFile, `${started.join("\n")}\n`);
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
): Promise<{ service: ServiceName; stopped: boolean }[]> {
  const results: { service: ServiceName; stopped: boolean }[] = [];
  for (const service of [...SERVICES].reverse()) {
    if (options.only && !options.only.includes(service)) continue;
    results.push({ service, stopped: await stopDaemon(context.paths.run, service) });
  }
  return results;
}

export function stackStatus(context: StackContext): Promise<ServiceStatus[]> {
  return Promise.all([postgresStatus(context), kafkaStatus(context), registryStatus(context)]);
}
