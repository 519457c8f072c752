import { setTimeout as sleep } from "node:timers/promises";
import {
  daemonState,
  KAFKA,
  kafkaUp,
  POSTGRES,
  postgresUp,
  probeKafka,
  probeRegistry,
  REGISTRY,
  registryUp,
  stackContext,
  stackPaths,
  stopDaemon,
} from "@weather/infra";
import { report } from "./report.ts";

/**
 * Stops and starts the stack's services through the stack manager itself, so only a process the
 * stack recorded as its own is ever signalled, and "up" means what `pnpm stack up` means: ready.
 */
export type StackService = typeof KAFKA | typeof REGISTRY | typeof POSTGRES;

const paths = stackPaths();
const context = stackContext(paths, process.env, (message) => report("stack", message));

const UP = {
  [KAFKA]: kafkaUp,
  [REGISTRY]: registryUp,
  [POSTGRES]: postgresUp,
} as const;

/** Whether the stack started this service and may therefore stop it. */
export function ownedByStack(service: StackService): boolean {
  return daemonState(paths.run, service).kind === "running";
}

/** Why a test that must stop `service` cannot: undefined when it may. */
export function whyNotOwned(service: StackService): string | undefined {
  if (ownedByStack(service)) return undefined;
  return `${service} is not run by the local stack here (no live pid under ${paths.run}); it is someone else's server, and the suite never stops those`;
}

/** Stops the service (SIGTERM, then SIGKILL after the stack's grace period); returns how long it took. */
export async function stopService(service: StackService): Promise<number> {
  const started = performance.now();
  const stopped = await stopDaemon(paths.run, service);
  if (!stopped) throw new Error(`${service} was not running under the stack; nothing was stopped`);
  return performance.now() - started;
}

/** Starts the service unless it runs and waits until it is ready; returns how long that took. */
export async function startService(service: StackService): Promise<number> {
  const started = performance.now();
  await UP[service](context);
  return performance.now() - started;
}

const PROBES = { [KAFKA]: probeKafka, [REGISTRY]: probeRegistry } as const;

/**
 * Probes a service in the background (about every 250 ms) and measures how long it did not answer:
 * the outage as clients saw it, whoever ended it.
 */
export function watchOutage(service: typeof KAFKA | typeof REGISTRY): {
  stop(): Promise<{ unreachableMs: number; probes: number; failures: number }>;
} {
  let running = true;
  let unreachableMs = 0;
  let probes = 0;
  let failures = 0;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      const answer = await PROBES[service]();
      probes++;
      if (answer !== true) failures++;
      // Unref'd: a test that failed before stop() must not keep the run alive with this loop.
      await sleep(250, undefined, { ref: false });
      if (answer !== true) unreachableMs += performance.now() - started;
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { unreachableMs, probes, failures };
    },
  };
}
