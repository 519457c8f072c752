import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { removeWorld, testSettings, worldNames } from "@weather/test-support";

export const WORKERS = ["bootstrap", "sensor-producer", "pg-sink", "report", "dashboard"] as const;
export type Worker = (typeof WORKERS)[number];

export const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));

/** Longest a build or deploy may take; far above the few seconds they need with a warm store. */
const PNPM_TIMEOUT_MS = 180_000;

function pnpm(args: readonly string[]): void {
  const result = spawnSync("pnpm", args, { cwd: repoRoot, encoding: "utf8", timeout: PNPM_TIMEOUT_MS });
  const timedOut = (result.error as NodeJS.ErrnoException | undefined)?.code === "ETIMEDOUT";
  if (result.error || result.status !== 0) {
    throw new Error(
      `pnpm ${args.join(" ")} ${timedOut ? `did not finish within ${PNPM_TIMEOUT_MS / 1000} s` : "failed"}: ` +
        `${result.error?.message ?? ""}\n${result.stdout}\n${result.stderr}`,
    );
  }
}

/**
 * Builds the workers (turbo: a cache hit when `turbo run test` already built them through ^build)
 * and deploys each with `pnpm --filter <app> --prod deploy <dir>`, exactly as the README says, into
 * a folder outside the repository, so nothing can be resolved from the workspace by accident.
 */
export function deployWorkers(): { root: string; dirOf(worker: Worker): string; remove(): void } {
  pnpm([
    "exec",
    "turbo",
    "run",
    "build",
    "--output-logs=errors-only",
    ...WORKERS.map((w) => `--filter=${w}`),
  ]);
  const root = mkdtempSync(join(tmpdir(), "weather-deploy-"));
  // One at a time: concurrent deploys of one workspace contend for the same store and lockfile.
  // --offline: `pnpm install` already put every package in the store, so a deploy never needs the
  // registry; offline, a package missing from the store fails at once instead of waiting on a
  // slow or unreachable registry. (turbo runs this test with the caller's whole environment,
  // envMode "loose" in turbo.json, so pnpm finds the same store as the install did.)
  try {
    for (const worker of WORKERS) {
      pnpm(["--filter", worker, "--prod", "deploy", "--offline", join(root, worker)]);
    }
  } catch (error) {
    rmSync(root, { recursive: true, force: true });
    throw error;
  }
  return {
    root,
    dirOf: (worker) => join(root, worker),
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `node dist/main.js` in a deployed folder as a container would: plain node (no
 * --conditions, no NODE_OPTIONS), and only the variables given (plus PATH and HOME), so nothing of
 * the test's own environment (NODE_ENV=test, vitest's variables) leaks in.
 */
export function runDeployed(
  dir: string,
  args: readonly string[],
  env: Record<string, string>,
  timeoutMs = 90_000,
): Promise<RunResult> {
  if (!existsSync(join(dir, "dist", "main.js"))) throw new Error(`${dir} holds no dist/main.js`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["dist/main.js", ...args], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface StartedDeployed {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  output(): string;
}

/** Starts `node dist/main.js` in a deployed folder as runDeployed does, for a worker that keeps running. */
export function startDeployed(dir: string, env: Record<string, string>): StartedDeployed {
  if (!existsSync(join(dir, "dist", "main.js"))) throw new Error(`${dir} holds no dist/main.js`);
  const child = spawn(process.execPath, ["dist/main.js"], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, exited, output: () => output };
}

/** Fails with the process's output, so a failing worker says why in the test report. */
export function expectSuccess(what: string, result: RunResult): RunResult {
  if (result.code !== 0) {
    throw new Error(
      `${what} exited ${result.code}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`,
    );
  }
  return result;
}

/** One pipeline run's own names: database, topic, consumer group; cleanup() removes them. */
export function runEnvironment(label: string) {
  const names = worldNames("deploy-test", label);
  return {
    settings: testSettings,
    id: names.runId,
    topic: names.topic,
    groupId: names.groupId,
    adminDatabaseUrl: names.databaseUrl,
    /** The same database as the sink's least-privilege role. */
    sinkDatabaseUrl(role: string, password: string): string {
      const url = new URL(names.databaseUrl);
      url.username = role;
      url.password = password;
      return url.toString();
    },
    cleanup: () => removeWorld(names),
  };
}
