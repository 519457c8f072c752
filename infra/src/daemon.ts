import { spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/** A long-running process the stack starts and later stops by pid, and nothing else. */
export interface DaemonSpec {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly logFile: string;
  /** A string of the process's command line that proves a pid is still ours (pids get reused). */
  readonly marker: string;
}

interface PidRecord {
  readonly pid: number;
  readonly marker: string;
  readonly startedAt: string;
}

export type DaemonState =
  | { readonly kind: "running"; readonly pid: number; readonly startedAt: string }
  | { readonly kind: "dead"; readonly pid: number }
  | { readonly kind: "absent" };

function pidFile(runDir: string, name: string): string {
  return join(runDir, `${name}.pid`);
}

function readPidRecord(runDir: string, name: string): PidRecord | undefined {
  try {
    return JSON.parse(readFileSync(pidFile(runDir, name), "utf8")) as PidRecord;
  } catch {
    return undefined;
  }
}

function isOurs(pid: number, marker: string): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // /proc separates arguments with NUL; a marker never spans two of them.
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    // Empty while the process execs (setpriv becoming the server) and once it is a zombie.
    if (cmdline === "") return !/^\d+ \(.*\) [ZX]/s.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
    return cmdline.split("\0").some((arg) => arg.includes(marker));
  } catch {
    // No /proc (macOS): the signal check above is the best we have.
    return true;
  }
}

export function daemonState(runDir: string, name: string): DaemonState {
  const record = readPidRecord(runDir, name);
  if (!record) return { kind: "absent" };
  return isOurs(record.pid, record.marker)
    ? { kind: "running", pid: record.pid, startedAt: record.startedAt }
    : { kind: "dead", pid: record.pid };
}

/** Starts the process detached from this one, its output appended to its log file. */
export function startDaemon(runDir: string, spec: DaemonSpec): number {
  mkdirSync(runDir, { recursive: true });
  mkdirSync(dirname(spec.logFile), { recursive: true });
  const log = openSync(spec.logFile, "a");
  try {
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      detached: true,
      stdio: ["ignore", log, log],
    });
    if (child.pid === undefined) throw new Error(`could not start ${spec.command}`);
    child.unref();
    const record: PidRecord = { pid: child.pid, marker: spec.marker, startedAt: new Date().toISOString() };
    writeFileSync(pidFile(runDir, spec.name), JSON.stringify(record));
    return child.pid;
  } finally {
    closeSync(log);
  }
}

/**
 * Stops a daemon the stack started: SIGTERM (or `options.signal`), then SIGKILL once the grace
 * period is over; with `killGroup`, SIGKILL goes to its whole process group (a server's children
 * too, even stopped ones: startDaemon makes each daemon the leader of a group of its own).
 * Returns false when there was nothing of ours to stop.
 */
export async function stopDaemon(
  runDir: string,
  name: string,
  graceMs = 20_000,
  options: { signal?: NodeJS.Signals; killGroup?: boolean } = {},
): Promise<boolean> {
  const state = daemonState(runDir, name);
  if (state.kind !== "running") {
    rmSync(pidFile(runDir, name), { force: true });
    return false;
  }
  const record = readPidRecord(runDir, name);
  const marker = record?.marker ?? "";
  signal(state.pid, options.signal ?? "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && isOurs(state.pid, marker)) await sleep(options.killGroup ? 50 : 200);
  if (isOurs(state.pid, marker)) {
    signal(options.killGroup ? -state.pid : state.pid, "SIGKILL");
    while (isOurs(state.pid, marker)) await sleep(100);
  }
  rmSync(pidFile(runDir, name), { force: true });
  return true;
}

/**
 * SIGKILLs a daemon the stack started, at once: a crash, for tests that prove what survives one.
 * Returns false when there was nothing of ours to kill.
 */
export async function killDaemon(runDir: string, name: string): Promise<boolean> {
  const state = daemonState(runDir, name);
  if (state.kind !== "running") return false;
  const marker = readPidRecord(runDir, name)?.marker ?? "";
  signal(state.pid, "SIGKILL");
  while (isOurs(state.pid, marker)) await sleep(50);
  rmSync(pidFile(runDir, name), { force: true });
  return true;
}

/** The names of the daemons with a pid file in `runDir` whose name matches `pattern`, alive or not. */
export function recordedDaemons(runDir: string, pattern: RegExp): string[] {
  let files: string[];
  try {
    files = readdirSync(runDir);
  } catch {
    return [];
  }
  return files
    .filter((file) => file.endsWith(".pid"))
    .map((file) => file.slice(0, -".pid".length))
    .filter((name) => pattern.test(name))
    .sort();
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone between the check and the signal.
  }
}

/** The last lines of a log, to show next to an error without sending the reader off to find it. */
export function tailOf(file: string, lines = 15): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log written)";
  }
}
