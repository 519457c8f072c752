import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * CPU quotas for processes the bench starts: each in a cgroup of its own, the way a container
 * runtime limits a container's CPU. cgroup v1 (`cpu.cfs_quota_us` / `cpu.cfs_period_us`, the cpu
 * hierarchy mounted at /sys/fs/cgroup/cpu) or v2 (`cpu.max`, the unified hierarchy), whichever this
 * machine lets us write. Groups are children of this process's own cgroup, named
 * `weather-bench-<pid>-<n>`, hold only processes the bench started, and are removed when done,
 * on failure, and at exit (Ctrl-C and SIGTERM included: see removeAllCpuGroups).
 */

/** The CFS period every group uses: the kernel's and the container runtimes' default, 100 ms. */
export const CPU_PERIOD_US = 100_000;

export interface CpuLimiter {
  readonly version: "v1" | "v2";
  /** The folder the groups are made in. */
  readonly parent: string;
}

export type LimiterProbe = { readonly limiter: CpuLimiter } | { readonly problem: string };

/** Throttling the kernel counted for a group: periods, periods in which it hit its quota, time held back. */
export interface Throttling {
  readonly periods: number;
  readonly throttledPeriods: number;
  readonly throttledMs: number;
}

export interface CpuGroup {
  readonly path: string;
  readonly cpus: number;
  /** Moves a process (all its threads) into the group. */
  add(pid: number): void;
  throttling(): Throttling;
  /** Moves out and stops what is left in it (only processes the bench put there), then removes it. */
  remove(): void;
}

/** This process's cgroup path in the hierarchy of `controller` ("" for v2's unified line). */
function ownCgroup(controller: string, selfCgroup: string): string | undefined {
  for (const line of selfCgroup.split("\n")) {
    const [, controllers, path] = /^\d+:([^:]*):(.*)$/.exec(line) ?? [];
    if (controllers === undefined || path === undefined) continue;
    if (controller === "" ? controllers === "" : controllers.split(",").includes(controller)) return path;
  }
  return undefined;
}

/** Where the unified (v2) hierarchy is mounted: /sys/fs/cgroup on pure v2, …/unified on hybrid. */
function unifiedMount(mountinfo: string): string | undefined {
  for (const line of mountinfo.split("\n")) {
    const [before, after] = line.split(" - ");
    if (after?.startsWith("cgroup2 ")) return before?.split(" ")[4];
  }
  return undefined;
}

function errorText(error: unknown): string {
  const { code, message } = error as { code?: string; message?: string };
  return code ?? message ?? String(error);
}

/** Makes a group, sets its quota, removes it: proof that the bench may do so here. */
function tryGroup(limiter: CpuLimiter): string | undefined {
  const probe = join(limiter.parent, `weather-bench-${process.pid}-probe`);
  try {
    mkdirSync(probe);
  } catch (error) {
    return `cannot create ${probe} (${errorText(error)})`;
  }
  try {
    setQuota(limiter, probe, 0.5);
    return undefined;
  } catch (error) {
    return `cannot set a CPU quota in ${probe} (${errorText(error)})`;
  } finally {
    rmdirSync(probe);
  }
}

function setQuota(limiter: CpuLimiter, path: string, cpus: number): void {
  const quota = Math.max(1_000, Math.round(cpus * CPU_PERIOD_US));
  if (limiter.version === "v1") {
    writeFileSync(join(path, "cpu.cfs_period_us"), String(CPU_PERIOD_US));
    writeFileSync(join(path, "cpu.cfs_quota_us"), String(quota));
  } else {
    writeFileSync(join(path, "cpu.max"), `${quota} ${CPU_PERIOD_US}`);
  }
}

/**
 * Which cgroup version can limit the CPU of processes the bench starts here, proven by creating
 * and removing a probe group; or, when neither can, why (one line per version).
 */
export function detectCpuLimiter(root = "/sys/fs/cgroup"): LimiterProbe {
  const problems: string[] = [];
  let selfCgroup = "";
  let mountinfo = "";
  try {
    selfCgroup = readFileSync("/proc/self/cgroup", "utf8");
    mountinfo = readFileSync("/proc/self/mountinfo", "utf8");
  } catch (error) {
    return { problem: `no /proc/self/cgroup (${errorText(error)}): not Linux, no cgroups` };
  }
  const v1Root = join(root, "cpu");
  const v1Own = ownCgroup("cpu", selfCgroup);
  if (v1Own !== undefined && existsSync(join(v1Root, "cpu.cfs_quota_us"))) {
    const limiter: CpuLimiter = { version: "v1", parent: join(v1Root, v1Own) };
    const problem = tryGroup(limiter);
    if (problem === undefined) return { limiter };
    problems.push(`cgroup v1: ${problem}`);
  } else {
    problems.push(`cgroup v1: no cpu hierarchy at ${v1Root}`);
  }
  const v2Root = unifiedMount(mountinfo);
  const v2Own = ownCgroup("", selfCgroup);
  if (v2Root === undefined || v2Own === undefined) {
    problems.push("cgroup v2: no unified hierarchy mounted");
  } else {
    const parent = join(v2Root, v2Own);
    let controllers: string[] = [];
    try {
      controllers = readFileSync(join(parent, "cgroup.subtree_control"), "utf8").split(/\s+/);
    } catch (error) {
      problems.push(`cgroup v2: cannot read ${parent}/cgroup.subtree_control (${errorText(error)})`);
    }
    if (!controllers.includes("cpu")) {
      problems.push(
        `cgroup v2: the cpu controller is not enabled for children of ${parent} (cgroup.subtree_control: "${controllers.join(" ").trim()}")`,
      );
    } else {
      const limiter: CpuLimiter = { version: "v2", parent };
      const problem = tryGroup(limiter);
      if (problem === undefined) return { limiter };
      problems.push(`cgroup v2: ${problem}`);
    }
  }
  return { problem: problems.join("; ") };
}

const live = new Set<CpuGroup>();
let serial = 0;

function readNumbers(file: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const [name, value] = line.split(" ");
    if (name && value) values.set(name, Number(value));
  }
  return values;
}

function pidsIn(path: string): number[] {
  try {
    return readFileSync(join(path, "cgroup.procs"), "utf8").split("\n").filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Creates a group limited to `cpus` CPUs (0.5: 50 ms of every 100 ms period). */
export function createCpuGroup(limiter: CpuLimiter, cpus: number): CpuGroup {
  const path = join(limiter.parent, `weather-bench-${process.pid}-${++serial}`);
  mkdirSync(path);
  const added = new Set<number>();
  const group: CpuGroup = {
    path,
    cpus,
    add(pid) {
      writeFileSync(join(path, "cgroup.procs"), String(pid));
      added.add(pid);
    },
    throttling() {
      const stat = readNumbers(join(path, "cpu.stat"));
      return {
        periods: stat.get("nr_periods") ?? 0,
        throttledPeriods: stat.get("nr_throttled") ?? 0,
        throttledMs:
          limiter.version === "v1"
            ? (stat.get("throttled_time") ?? 0) / 1e6
            : (stat.get("throttled_usec") ?? 0) / 1e3,
      };
    },
    remove() {
      for (const pid of pidsIn(path)) {
        try {
          writeFileSync(join(limiter.parent, "cgroup.procs"), String(pid));
        } catch {
          // gone meanwhile
        }
        if (added.has(pid)) {
          try {
            process.kill(pid, "SIGTERM");
          } catch {
            // gone meanwhile
          }
        }
      }
      // A process that just exited may hold the group for a moment longer.
      for (let attempt = 0; ; attempt++) {
        try {
          rmdirSync(path);
          break;
        } catch (error) {
          const code = (error as { code?: string }).code;
          if (code === "ENOENT") break;
          if (code !== "EBUSY" || attempt >= 50) throw error;
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
        }
      }
      live.delete(group);
    },
  };
  live.add(group);
  try {
    setQuota(limiter, path, cpus);
  } catch (error) {
    group.remove();
    throw error;
  }
  if (live.size === 1 && !exitHookInstalled) {
    exitHookInstalled = true;
    process.once("exit", removeAllCpuGroups);
  }
  return group;
}

let exitHookInstalled = false;

/**
 * Removes every group this process created and still holds: called by the bench's Ctrl-C and
 * SIGTERM handling, and at exit whatever the reason. Synchronous, so it runs in an exit handler.
 */
export function removeAllCpuGroups(): void {
  for (const group of [...live]) {
    try {
      group.remove();
    } catch (error) {
      console.error(
        `bench: could not remove the cgroup ${group.path} (${errorText(error)}); remove it with rmdir`,
      );
    }
  }
}

/** Runs `work` with `count` fresh groups of `cpus` each, and removes them whatever happens. */
export async function withCpuGroups<T>(
  limiter: CpuLimiter,
  count: number,
  cpus: number,
  work: (groups: readonly CpuGroup[]) => Promise<T>,
): Promise<T> {
  const groups: CpuGroup[] = [];
  try {
    for (let i = 0; i < count; i++) groups.push(createCpuGroup(limiter, cpus));
    return await work(groups);
  } finally {
    for (const group of groups) group.remove();
  }
}
