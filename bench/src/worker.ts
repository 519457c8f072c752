import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { WorkerTrace } from "./trace/recorder.ts";

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** A pino line of a worker, parsed. */
export type LogLine = Record<string, unknown> & { readonly msg?: string; readonly time?: number };

export interface WorkerExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** VmHWM: the most resident memory the process ever had, read from /proc while it ran. */
  readonly peakRssBytes: number;
  readonly wallMs: number;
  readonly logs: readonly LogLine[];
  readonly stderr: string;
}

export interface Worker {
  readonly child: ChildProcess;
  /** Every log line so far (the array grows while the worker runs). */
  readonly logs: readonly LogLine[];
  /** Resolves with the first log line whose msg is `msg` (rejects if the worker exits first). */
  waitForLog(msg: string): Promise<LogLine>;
  readonly exited: Promise<WorkerExit>;
}

const RSS_POLL_MS = 100;

/** VmHWM of a live process in bytes, or undefined once it is gone. */
export async function peakRssOf(pid: number): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
    return match?.[1] === undefined ? undefined : Number(match[1]) * 1024;
  } catch {
    return undefined;
  }
}

/**
 * The node flags of an app's `start` script (between `node` and the entry file, besides the
 * source condition), so the bench runs the worker with the flags operators run it with.
 */
export function startScriptFlags(app: string): string[] {
  const manifest = JSON.parse(readFileSync(`${REPO_ROOT}apps/${app}/package.json`, "utf8")) as {
    scripts?: Record<string, string>;
  };
  const words = (manifest.scripts?.start ?? "").split(/\s+/);
  const entry = words.findIndex((word) => word.endsWith("main.ts"));
  return words
    .slice(words.indexOf("node") + 1, entry < 0 ? words.length : entry)
    .filter((word) => word.startsWith("--") && !word.startsWith("--conditions"));
}

/**
 * Starts one of the product's workers the way its `start` script does (node and its flags,
 * sources, no build), as a direct child, so its pid is the worker's own and /proc/<pid>/status
 * describes it.
 */
export function startWorker(
  app: "sensor-producer" | "pg-sink",
  args: readonly string[],
  env: Readonly<Record<string, string>>,
  nodeFlags: readonly string[] = [],
): Worker {
  const startedAt = performance.now();
  const child = spawn(
    process.execPath,
    [...startScriptFlags(app), ...nodeFlags, "--conditions=@weather/source", "src/main.ts", ...args],
    {
      cwd: `${REPO_ROOT}apps/${app}`,
      env: { ...process.env, LOG_LEVEL: "info", NODE_ENV: "production", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const logs: LogLine[] = [];
  const waiters: { msg: string; resolve: (line: LogLine) => void; reject: (error: Error) => void }[] = [];
  let stderr = "";
  let partial = "";
  let peakRssBytes = 0;

  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    const lines = (partial + chunk).split("\n");
    partial = lines.pop() ?? "";
    for (const text of lines) {
      if (!text.startsWith("{")) continue;
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        continue;
      }
      logs.push(line);
      for (const waiter of waiters.filter((w) => w.msg === line.msg)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });

  const poller = setInterval(() => {
    if (child.pid === undefined) return;
    void peakRssOf(child.pid).then((bytes) => {
      if (bytes !== undefined && bytes > peakRssBytes) peakRssBytes = bytes;
    });
  }, RSS_POLL_MS);

  const exited = new Promise<WorkerExit>((resolve, reject) => {
    child.once("error", (error) => {
      clearInterval(poller);
      reject(new Error(`cannot start ${app}: ${error.message}`, { cause: error }));
    });
    child.once("exit", (code, signal) => {
      clearInterval(poller);
      for (const waiter of waiters.splice(0))
        waiter.reject(
          new Error(
            `${app} exited (${code ?? signal}) before logging "${waiter.msg}"; stderr: ${stderr.slice(-2000)}; last logs: ${JSON.stringify(logs.slice(-5))}`,
          ),
        );
      resolve({ code, signal, peakRssBytes, wallMs: performance.now() - startedAt, logs, stderr });
    });
  });
  exited.catch(() => {});

  return {
    child,
    logs,
    exited,
    waitForLog(msg) {
      const seen = logs.find((line) => line.msg === msg);
      if (seen !== undefined) return Promise.resolve(seen);
      if (child.exitCode !== null || child.signalCode !== null)
        return Promise.reject(new Error(`${app} already exited before logging "${msg}"`));
      return new Promise((resolve, reject) => waiters.push({ msg, resolve, reject }));
    },
  };
}

/** Fails with the worker's last words unless it exited 0. */
export function assertClean(app: string, exit: WorkerExit): void {
  if (exit.code === 0) return;
  const last = exit.logs.slice(-5).map((line) => JSON.stringify(line));
  throw new Error(
    `${app} exited with ${exit.code ?? exit.signal}; last log lines:\n${last.join("\n")}\nstderr: ${exit.stderr.slice(-2000)}`,
  );
}

/** The module that records a worker's trace (bench/src/trace/preload.ts), loaded with --import. */
const TRACE_PRELOAD = fileURLToPath(new URL("./trace/preload.ts", import.meta.url));

/** The node flags and variables that make a worker write its trace to `file` when it exits. */
export function traceOptions(file: string): { nodeFlags: string[]; env: Record<string, string> } {
  return { nodeFlags: [`--import=${TRACE_PRELOAD}`], env: { BENCH_TRACE_FILE: file } };
}

/** A trace a worker wrote, or undefined when it wrote none (it was killed, or tracing was off). */
export async function readTrace(file: string): Promise<WorkerTrace | undefined> {
  try {
    return JSON.parse(await readFile(file, "utf8")) as WorkerTrace;
  } catch {
    return undefined;
  }
}
