/**
 * The workers as operators run them, for tests: each its own Node process (killed for real), its
 * output kept, its JSON log lines parsed. Every suite that starts a worker starts it here.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root, where apps/<app>/src/main.ts live. */
export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

export type App = "bootstrap" | "sensor-producer" | "pg-sink" | "report" | "dashboard";

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** One pino log line of a worker (the workers log JSON, one object a line, when not on a terminal). */
export interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly [field: string]: unknown;
}

export interface Worker {
  readonly app: App;
  readonly child: ChildProcess;
  /** Settles once the process has exited, however it ended. */
  readonly exited: Promise<Exit>;
  running(): boolean;
  /** Everything it wrote, stdout and stderr interleaved: for failure messages. */
  output(): string;
  stdout(): string;
  stderr(): string;
  /** Its log lines that are JSON; anything else it printed is left out. */
  logLines(): LogLine[];
  kill(signal: NodeJS.Signals): void;
}

const live = new Set<Worker>();

/**
 * Our environment minus the test runner's markers: under NODE_ENV=test kafkajs swaps in tiny retry
 * defaults, and a worker under test must behave as it does in production. Logs are JSON, whatever
 * the terminal, so tests can read them.
 */
function operatorEnv(overrides: Readonly<Record<string, string>>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (name === "NODE_ENV" || name.startsWith("VITEST")) continue;
    env[name] = value;
  }
  return { ...env, LOG_FORMAT: "json", ...overrides };
}

/** Starts `node --conditions=@weather/source apps/<app>/src/main.ts ...args`. */
export function spawnWorker(
  app: App,
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
): Worker {
  const child = spawn(process.execPath, ["--conditions=@weather/source", "src/main.ts", ...args], {
    cwd: join(REPO_ROOT, "apps", app),
    env: operatorEnv(env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
    stdout += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
    stderr += chunk.toString();
  });
  let done = false;
  const exited = new Promise<Exit>((resolve) => {
    child.once("exit", (code, signal) => {
      done = true;
      resolve({ code, signal });
    });
    child.once("error", (error) => {
      output += `\nspawn failed: ${error.message}`;
      done = true;
      resolve({ code: null, signal: null });
    });
  });
  const worker: Worker = {
    app,
    child,
    exited,
    running: () => !done,
    output: () => output,
    stdout: () => stdout,
    stderr: () => stderr,
    logLines: () => parseLogLines(stdout),
    kill(signal) {
      if (!done) child.kill(signal);
    },
  };
  live.add(worker);
  void exited.then(() => live.delete(worker));
  return worker;
}

export function parseLogLines(output: string): LogLine[] {
  const lines: LogLine[] = [];
  for (const line of output.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      const parsed = JSON.parse(line) as Partial<LogLine>;
      if (typeof parsed.msg === "string" && typeof parsed.level === "number") lines.push(parsed as LogLine);
    } catch {
      // A line cut by the kill, or not a log line at all.
    }
  }
  return lines;
}

/** Spawns a worker (spawnWorker) and waits for its exit; SIGKILLs it and fails after `timeoutMs`. */
export async function spawnWorkerToExit(
  app: App,
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
  timeoutMs = 120_000,
): Promise<{ exit: Exit; output: string; worker: Worker }> {
  const worker = spawnWorker(app, args, env);
  const exit = await exitWithin(worker, timeoutMs);
  return { exit, output: worker.output(), worker };
}

/** The worker's exit, or an error with its output once `timeoutMs` pass (the worker is then SIGKILLed). */
export async function exitWithin(worker: Worker, timeoutMs: number): Promise<Exit> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      worker.kill("SIGKILL");
      reject(new Error(`${worker.app} did not exit within ${timeoutMs} ms:\n${tail(worker.output())}`));
    }, timeoutMs);
  });
  try {
    return await Promise.race([worker.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** SIGTERM, then SIGKILL after `graceMs`: how an orchestrator stops a worker. */
export async function stopWorker(worker: Worker, graceMs = 30_000): Promise<Exit> {
  worker.kill("SIGTERM");
  const timer = setTimeout(() => worker.kill("SIGKILL"), graceMs);
  try {
    return await worker.exited;
  } finally {
    clearTimeout(timer);
  }
}

/** SIGKILLs every worker still running: a failed test must not leave processes behind. */
export async function killAllWorkers(): Promise<void> {
  const running = [...live];
  for (const worker of running) worker.kill("SIGKILL");
  await Promise.all(running.map((worker) => worker.exited));
}

/** The last lines of a worker's output, for an assertion message. */
export function tail(output: string, lines = 30): string {
  return output.trimEnd().split("\n").slice(-lines).join("\n");
}
