import { readFileSync, writeFileSync } from "node:fs";
import { READINGS_TOPICS, SINK_GROUP } from "@weather/schema";
import { POSTGRES_CONNECTION } from "@weather/service-kit";
import { configurationOf } from "@weather/settings";
import type { ServiceState, ServiceStatus, StackContext } from "./context.ts";
import { stopDaemon } from "./daemon.ts";
import type { StackPaths } from "./paths.ts";
import { kafkaDown, kafkaStatus, kafkaUp } from "./services/kafka.ts";
import { kafkaPrincipals } from "./services/kafka-authz.ts";
import { KAFKA, readKafkaLayout } from "./services/kafka-layout.ts";
import { POSTGRES, postgresStatus, postgresUp } from "./services/postgres.ts";
import { postgresPairDown, postgresPairStatus, postgresPairUp } from "./services/postgres-pair.ts";
import { PAIR_NODE_NAMES, POSTGRES_PAIR, readPostgresPair } from "./services/postgres-pair-layout.ts";
import { REGISTRY, readRegistryLayout, registryStatus, registryUp } from "./services/registry.ts";
import {
  REGISTRY_PROXY,
  registryCredentialFiles,
  registryProxyStatus,
  registryProxyUp,
} from "./services/registry-proxy.ts";
import { stackCaFiles } from "./services/stack-ca.ts";

/**
 * In start order; `down` goes the other way, so the registry never loses its database first.
 * KAFKA stands for all of Kafka's nodes: one (`kafka`) or a cluster's (`kafka-1`, `kafka-2`, ...);
 * POSTGRES_PAIR for the stack's own primary and standby (`postgres-1`, `postgres-2`), when asked for.
 * REGISTRY_PROXY (nginx in front of the registry) runs only under `up --secure`.
 */
export const SERVICES = [POSTGRES, POSTGRES_PAIR, KAFKA, REGISTRY, REGISTRY_PROXY] as const;
export type ServiceName = (typeof SERVICES)[number];

/**
 * Where the stack lives and what it runs: PostgreSQL from DATABASE_URL, Kafka's layout from
 * `brokers` (the --brokers flag), STACK_KAFKA_BROKERS and STACK_KAFKA_PORT (see readKafkaLayout),
 * locked down or not from `secure` (the --secure flag) and STACK_SECURE, the registry's ports from
 * STACK_REGISTRY_PORT and STACK_REGISTRY_PROXY_PORT, and, for the workers' ACLs under --secure,
 * the topic and group from READINGS_TOPIC and SINK_GROUP_ID, and the PostgreSQL pair from `postgresStandby` (the --postgres-standby flag) and STACK_POSTGRES_*
 * (see readPostgresPair).
 * @throws ConfigError for a bad value.
 */
export function stackContext(
  paths: StackPaths,
  env: Readonly<Record<string, string | undefined>>,
  log: (message: string) => void,
  options: { brokers?: string; secure?: boolean; postgresStandby?: string } = {},
): StackContext {
  const { postgres, topics, sinkGroup } = configurationOf(
    { groups: { postgres: POSTGRES_CONNECTION, topics: READINGS_TOPICS, sinkGroup: SINK_GROUP } },
    withoutMultiHostDatabaseUrl(env),
  );
  return {
    paths,
    postgresUrl: new URL(postgres.url),
    kafka: readKafkaLayout(env, paths, options.brokers, options.secure),
    registry: readRegistryLayout(env),
    kafkaAclNames: { readingsTopic: topics.readings, sinkGroupId: sinkGroup },
    postgresPair: readPostgresPair(env, paths, options.postgresStandby),
    log,
  };
}

/**
 * The environment the stack reads its one server from (the one it uses or starts, where the
 * registry keeps its schemas): DATABASE_URL's, unless DATABASE_URL lists several hosts (the pair's
 * URL, exported for the workers), which names no single server to start; the default stays then.
 */
function withoutMultiHostDatabaseUrl(
  env: Readonly<Record<string, string | undefined>>,
): Readonly<Record<string, string | undefined>> {
  const multiHost = /^[a-z]+:\/\/[^/?#]*,/i.test(env.DATABASE_URL?.trim() ?? "");
  return multiHost ? { ...env, DATABASE_URL: undefined } : env;
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
  // Locked down, the registry is reached through its TLS proxy, once it answers itself.
  if (context.kafka.lockedDown && rest[1]?.status === "fulfilled") {
    try {
      statuses.push(await registryProxyUp(context));
    } catch (error) {
      failures.push(error as Error);
    }
  }
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
  const [postgres, kafka, registry, proxy, pair] = await Promise.all([
    postgresStatus(context),
    kafkaStatus(context),
    registryStatus(context),
    registryProxyStatus(context),
    postgresPairStatus(context),
  ]);
  return [postgres, ...pair, ...kafka, registry, ...proxy];
}

/**
 * The files a client of the locked-down stack (`up --secure`) needs, what each is for: `up` and
 * `status` print them. Every one is in the stack's secrets folder, mode 0600.
 */
export function secureStackFiles(context: StackContext): { readonly what: string; readonly file: string }[] {
  if (!context.kafka.lockedDown) return [];
  const ca = stackCaFiles(context.paths);
  const registry = registryCredentialFiles(context.paths);
  const { admin, workers } = kafkaPrincipals(context.paths);
  return [
    { what: "CA certificate (trust it for Kafka and the registry)", file: ca.caCert },
    { what: `registry: basic auth user ${registry.user}, password`, file: registry.passwordFile },
    { what: "registry: bearer token", file: registry.tokenFile },
    { what: "registry: client certificate (mutual TLS port)", file: ca.clientCert },
    { what: "registry: client certificate's key", file: ca.clientKey },
    { what: `kafka: ${admin.name} (super user), password`, file: admin.passwordFile },
    ...Object.values(workers).map((user) => ({
      what: `kafka: ${user.name}, password`,
      file: user.passwordFile,
    })),
  ];
}
