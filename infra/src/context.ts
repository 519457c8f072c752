import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { WorkerAclNames } from "@weather/schema";
import { LOCAL_STACK } from "@weather/service-kit";
import { daemonState, tailOf } from "./daemon.ts";
import type { StackPaths } from "./paths.ts";
import type { KafkaLayout } from "./services/kafka-layout.ts";
import type { PostgresPairLayout } from "./services/postgres-pair-layout.ts";
import type { RegistryLayout } from "./services/registry.ts";
import { StackError } from "./stack-error.ts";

/** What every service of the stack is handed: where to write, how to report, which PostgreSQL. */
export interface StackContext {
  readonly paths: StackPaths;
  /** The PostgreSQL server to use or start (its database part is ignored). */
  readonly postgresUrl: URL;
  /**
   * How many Kafka nodes, on which ports (one node on 9092 unless told otherwise), and whether
   * locked down: `kafka.lockedDown` is `pnpm stack up --secure`, which also puts the registry
   * behind its TLS proxy.
   */
  readonly kafka: KafkaLayout;
  /** The registry's ports and its proxy's (default: registryLayout()). */
  readonly registry?: RegistryLayout;
  /** The topic and group names the workers' ACLs name under --secure (default: the defaults). */
  readonly kafkaAclNames?: WorkerAclNames;
  /** The stack's own PostgreSQL primary and standby; absent: read from the environment and the record. */
  readonly postgresPair?: PostgresPairLayout;
  readonly log: (message: string) => void;
}

/** How a service came to be answering after `up`, or why it is not. */
export type ServiceState =
  | { readonly kind: "started"; readonly pid: number }
  | { readonly kind: "running"; readonly pid: number; readonly startedAt: string }
  | { readonly kind: "external" }
  | { readonly kind: "stopped" }
  | { readonly kind: "unhealthy"; readonly pid: number; readonly reason: string };

export interface ServiceStatus {
  readonly name: string;
  readonly address: string;
  readonly state: ServiceState;
  readonly logFile: string;
  /** What else `status` shows about it (a PostgreSQL node's role and replication). */
  readonly detail?: string;
}

export function logFileOf(paths: StackPaths, service: string): string {
  return join(paths.logs, `${service}.log`);
}

export const STACK_HOST = LOCAL_STACK.host;

/**
 * Polls `probe` until it answers or the time is up. Fails early when the process we started has
 * died, because waiting longer cannot help then; either way the error carries the log's tail.
 */
export async function waitUntilReady(options: {
  readonly service: string;
  readonly paths: StackPaths;
  readonly probe: () => Promise<string | true>;
  readonly timeoutMs: number;
  readonly log: (message: string) => void;
}): Promise<void> {
  const { service, paths, probe, timeoutMs, log } = options;
  const logFile = logFileOf(paths, service);
  const started = Date.now();
  let lastReason = "no answer yet";
  let nextProgress = started + 15_000;
  while (Date.now() - started < timeoutMs) {
    const answer = await probe();
    if (answer === true) return;
    lastReason = answer;
    const daemon = daemonState(paths.run, service);
    if (daemon.kind === "dead") {
      throw new StackError(
        service,
        `the process (pid ${daemon.pid}) exited while starting:\n${tailOf(logFile)}`,
        logFile,
      );
    }
    if (Date.now() >= nextProgress) {
      log(
        `${service}: still waiting to be ready (${Math.round((Date.now() - started) / 1000)} s; ${lastReason})`,
      );
      nextProgress += 15_000;
    }
    await sleep(500);
  }
  throw new StackError(
    service,
    `not ready after ${Math.round(timeoutMs / 1000)} s (last probe: ${lastReason}):\n${tailOf(logFile)}`,
    logFile,
  );
}

/** A service's state as `status` reports it: ours (healthy or not), someone else's, or absent. */
export async function observeService(options: {
  readonly name: string;
  readonly address: string;
  readonly paths: StackPaths;
  readonly probe: () => Promise<string | true>;
}): Promise<ServiceStatus> {
  const { name, address, paths, probe } = options;
  const logFile = logFileOf(paths, name);
  const ours = daemonState(paths.run, name);
  const answer = await probe();
  let state: ServiceState;
  if (ours.kind === "running") {
    state =
      answer === true
        ? { kind: "running", pid: ours.pid, startedAt: ours.startedAt }
        : { kind: "unhealthy", pid: ours.pid, reason: answer };
  } else {
    state = answer === true ? { kind: "external" } : { kind: "stopped" };
  }
  return { name, address, state, logFile };
}

/**
 * The decision `up` makes for every service: leave ours running, use someone else's that already
 * answers (and never stop it), or start one; then wait, bounded, until it is really ready.
 */
export async function bringUp(options: {
  readonly name: string;
  readonly paths: StackPaths;
  readonly probe: () => Promise<string | true>;
  readonly start: () => Promise<number>;
  readonly readyWithinMs: number;
  readonly log: (message: string) => void;
}): Promise<ServiceState> {
  const { name, paths, probe, start, readyWithinMs, log } = options;
  const ours = daemonState(paths.run, name);
  let state: ServiceState;
  if (ours.kind === "running") state = { kind: "running", pid: ours.pid, startedAt: ours.startedAt };
  else if ((await probe()) === true) state = { kind: "external" };
  else state = { kind: "started", pid: await start() };
  await waitUntilReady({ service: name, paths, probe, timeoutMs: readyWithinMs, log });
  return state;
}
