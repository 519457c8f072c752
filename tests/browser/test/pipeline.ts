import {
  type App,
  removeWorld,
  spawnWorker,
  spawnWorkerToExit,
  testSettings,
  type Worker,
  worldNames,
} from "@weather/test-support";

/** A worker as operators start it (`pnpm --filter <worker> start`): its own process, from its sources. */
export function startWorker(worker: App, args: readonly string[], env: Record<string, string>): Worker {
  return spawnWorker(worker, args, { LOG_LEVEL: "warn", ...env });
}

/** Spawns a worker and waits for its exit; fails with its output unless it exits 0. */
export async function spawnWorkerToSuccess(
  worker: App,
  args: readonly string[],
  env: Record<string, string>,
  timeoutMs = 120_000,
): Promise<string> {
  const { exit, output } = await spawnWorkerToExit(worker, args, { LOG_LEVEL: "warn", ...env }, timeoutMs);
  if (exit.code !== 0) {
    throw new Error(`${worker} ${args.join(" ")} exited ${exit.code ?? exit.signal}:\n${output}`);
  }
  return output;
}

/** Polls `check` until it returns a value; fails naming `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 90_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * The names of one run: its database, topic and sink group, so it never meets other suites on the
 * shared stack. The roles are bootstrap's defaults (weather_sink, weather_reader), as deployed.
 */
export function pipelineNames(label: string) {
  const names = worldNames("browser-test", label);
  const as = (role: string, port?: number) => {
    const url = new URL(names.databaseUrl);
    url.username = role;
    if (port !== undefined) url.port = String(port);
    return url.toString();
  };
  return {
    settings: testSettings,
    id: names.runId,
    topic: names.topic,
    deadLetterTopic: names.deadLetterTopic,
    groupId: names.groupId,
    adminDatabaseUrl: names.databaseUrl,
    sinkDatabaseUrl: as("weather_sink"),
    /** The read-only role's URL, optionally through another port (a proxy). */
    readerDatabaseUrl: (port?: number) => as("weather_reader", port),
    cleanup: () => removeWorld(names),
  };
}
