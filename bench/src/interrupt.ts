import { removeAllCpuGroups } from "./cgroup.ts";

/**
 * What the bench undoes when it is interrupted (Ctrl-C, SIGTERM): each suite registers what it
 * made (topics and databases, a side cluster) while it exists. The CPU cgroups go first and
 * synchronously (removeAllCpuGroups), so nothing is left under /sys/fs/cgroup even if a later
 * step hangs; then the registered cleanups, newest first.
 */
const cleanups: (() => Promise<void> | void)[] = [];

/** Registers a cleanup for an interruption; the function returned unregisters it. */
export function onInterrupt(cleanup: () => Promise<void> | void): () => void {
  cleanups.push(cleanup);
  return () => {
    const index = cleanups.indexOf(cleanup);
    if (index >= 0) cleanups.splice(index, 1);
  };
}

/** On SIGINT or SIGTERM: remove the cgroups, run the cleanups, exit 130. */
export function exitCleanlyOnInterrupt(log: (line: string) => void): void {
  const handle = (signal: NodeJS.Signals) => {
    log(`${signal}: removing what the benchmark made`);
    removeAllCpuGroups();
    void (async () => {
      for (const cleanup of cleanups.splice(0).reverse()) {
        try {
          await cleanup();
        } catch (error) {
          log(`  cleanup failed: ${(error as Error).message}`);
        }
      }
    })().finally(() => process.exit(130));
  };
  process.once("SIGINT", handle);
  process.once("SIGTERM", handle);
}
