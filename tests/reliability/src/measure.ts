/**
 * A worker run to its end with what it cost: wall time and peak resident memory, for the progress
 * lines of tests that move a lot of data. Reported, never asserted: the machine is shared.
 */
import { readFile } from "node:fs/promises";
import { type App, type Exit, exitWithin, spawnWorker, type Worker } from "@weather/test-support";

/** How often /proc is read while the worker runs; VmHWM keeps the peak in between. */
const POLL_MS = 250;

export interface MeasuredRun {
  readonly exit: Exit;
  readonly output: string;
  readonly worker: Worker;
  readonly wallMs: number;
  /** VmHWM, the most resident memory the process had, as last read; 0 where /proc is not there. */
  readonly peakRssBytes: number;
}

/** VmHWM of a live process in bytes, or undefined once it is gone (or on a system without /proc). */
async function peakRssOf(pid: number): Promise<number | undefined> {
  try {
    const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(await readFile(`/proc/${pid}/status`, "utf8"));
    return match?.[1] === undefined ? undefined : Number(match[1]) * 1024;
  } catch {
    return undefined;
  }
}

/** spawnWorkerToExit, timed, with the worker's peak memory read from /proc while it runs. */
export async function runMeasured(
  app: App,
  args: readonly string[],
  env: Readonly<Record<string, string>>,
  timeoutMs: number,
): Promise<MeasuredRun> {
  const start = performance.now();
  const worker = spawnWorker(app, args, env);
  let peakRssBytes = 0;
  const read = async () => {
    const pid = worker.child.pid;
    const bytes = pid === undefined ? undefined : await peakRssOf(pid);
    if (bytes !== undefined && bytes > peakRssBytes) peakRssBytes = bytes;
  };
  const poller = setInterval(() => void read(), POLL_MS);
  try {
    const exit = await exitWithin(worker, timeoutMs);
    return { exit, output: worker.output(), worker, wallMs: performance.now() - start, peakRssBytes };
  } finally {
    clearInterval(poller);
  }
}

export function mebibytes(bytes: number): string {
  return `${Math.round(bytes / 2 ** 20)} MiB`;
}

/** "1,051,200 rows in 36.2s (29,039/s)". */
export function rate(count: number, what: string, ms: number): string {
  const perSecond = ms > 0 ? Math.round((count * 1000) / ms) : 0;
  return `${count.toLocaleString("en-US")} ${what} in ${(ms / 1000).toFixed(1)}s (${perSecond.toLocaleString("en-US")}/s)`;
}
