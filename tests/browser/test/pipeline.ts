import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { dirname } from "node:path";
import { dropDatabaseIfExists } from "@weather/db";
import { deadLetterTopicOf, deleteReadingSubjects } from "@weather/schema";
import { createKafka, deleteTopicsIfPresent, readConnectionSettings } from "@weather/service-kit";

export type WorkerName = "bootstrap" | "sensor-producer" | "pg-sink" | "dashboard";

const require = createRequire(import.meta.url);
/** Each worker's folder, found through this package's dependencies on them. */
const dirOf = (worker: WorkerName) => dirname(require.resolve(`${worker}/package.json`));

export interface RunningWorker {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
}

/** A worker as operators start it (`pnpm --filter <worker> start`): its own process, from its sources. */
export function startWorker(
  worker: WorkerName,
  args: readonly string[],
  env: Record<string, string>,
): RunningWorker {
  const child = spawn(process.execPath, ["--conditions=@weather/source", "src/main.ts", ...args], {
    cwd: dirOf(worker),
    env: { ...process.env, LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  return { child, exited, output: () => output };
}

/** Runs a worker to its end; fails with its output unless it exits 0. */
export async function runWorker(
  worker: WorkerName,
  args: readonly string[],
  env: Record<string, string>,
  timeoutMs = 120_000,
): Promise<string> {
  const running = startWorker(worker, args, env);
  const timer = setTimeout(() => running.child.kill("SIGKILL"), timeoutMs);
  const { code, signal } = await running.exited;
  clearTimeout(timer);
  if (code !== 0) {
    throw new Error(`${worker} ${args.join(" ")} exited ${code ?? signal}:\n${running.output()}`);
  }
  return running.output();
}

/** A port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
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
  const settings = readConnectionSettings(process.env);
  const id = `${label}_${randomBytes(4).toString("hex")}`;
  const adminUrl = new URL(settings.databaseUrl);
  adminUrl.pathname = `/weather_test_${id}`;
  const topic = `browser-test.${id}`;
  const as = (role: string, port?: number) => {
    const url = new URL(adminUrl);
    url.username = role;
    if (port !== undefined) url.port = String(port);
    return url.toString();
  };
  return {
    settings,
    id,
    topic,
    deadLetterTopic: deadLetterTopicOf(topic),
    groupId: `browser-test-${id}`,
    adminDatabaseUrl: adminUrl.toString(),
    sinkDatabaseUrl: as("weather_sink"),
    /** The read-only role's URL, optionally through another port (a proxy). */
    readerDatabaseUrl: (port?: number) => as("weather_reader", port),
    async cleanup() {
      const admin = createKafka(settings, { clientId: "browser-test-cleanup" }).admin();
      await admin.connect();
      try {
        await deleteTopicsIfPresent(admin, [topic, deadLetterTopicOf(topic)]);
        await admin.deleteGroups([`browser-test-${id}`]).catch(() => {});
      } finally {
        await admin.disconnect();
      }
      await deleteReadingSubjects(settings.schemaRegistryUrl, topic);
      await dropDatabaseIfExists(adminUrl.toString());
    },
  };
}
