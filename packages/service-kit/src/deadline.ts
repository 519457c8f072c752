import { setTimeout as sleep } from "node:timers/promises";

/**
 * The work's result, or `onTimeout()`'s error once `ms` have passed without one. The work is not
 * cancelled (kafkajs sends cannot be): its late outcome is ignored, and never reported as an
 * unhandled rejection.
 */
export async function within<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  work.catch(() => {});
  const timer = new AbortController();
  const timedOut = Symbol("timed out");
  try {
    const first = await Promise.race([
      work,
      sleep(ms, timedOut, { signal: timer.signal }).catch(() => undefined),
    ]);
    if (first === timedOut) throw onTimeout();
    return first as T;
  } finally {
    timer.abort();
  }
}
