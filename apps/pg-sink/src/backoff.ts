import { setTimeout as timeout } from "node:timers/promises";

export interface BackoffPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
}

/**
 * Delay before retry number `attempt` (0-based): doubling from initialMs, capped at maxMs, with
 * "equal jitter" (half fixed, half random) so several sinks that lost PostgreSQL at the same moment
 * do not all come back at the same instant.
 */
export function backoffDelay(
  attempt: number,
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  const exponential = policy.initialMs * 2 ** Math.min(attempt, 30);
  const capped = Math.min(policy.maxMs, exponential);
  return Math.round(capped / 2 + (capped / 2) * random());
}

/** Waits `ms`; rejects once `signal` aborts. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

const sleepOnTimers: Sleep = async (ms, signal) => {
  await timeout(ms, undefined, signal ? { signal } : {});
};

export interface RetryOptions {
  readonly policy: BackoffPolicy;
  /** Whether an error is worth waiting out (an outage) rather than propagated (a bug, a rebalance). */
  readonly isTransient: (error: unknown) => boolean;
  /** Called before each wait: says what we wait for. May throw to give up (e.g. a rebalance). */
  readonly onRetry?: (error: unknown, attempt: number, delayMs: number) => void | Promise<void>;
  /** Called after success when at least one retry was needed. */
  readonly onRecovered?: (attempts: number) => void;
  /** Aborting stops waiting: the last error is thrown. */
  readonly signal?: AbortSignal;
  readonly random?: () => number;
  /** How a wait is made; the timers unless a test drives the waits itself. */
  readonly sleep?: Sleep;
}

/**
 * Runs `work` until it succeeds, waiting out transient errors with capped exponential backoff.
 * Nothing is skipped: the same work is retried, so callers must make it idempotent.
 */
export async function retryWithBackoff<T>(work: () => Promise<T>, options: RetryOptions): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      const result = await work();
      if (attempt > 0) options.onRecovered?.(attempt);
      return result;
    } catch (error) {
      if (!options.isTransient(error) || options.signal?.aborted) throw error;
      const delayMs = backoffDelay(attempt, options.policy, options.random);
      await options.onRetry?.(error, attempt, delayMs);
      try {
        await (options.sleep ?? sleepOnTimers)(delayMs, options.signal);
      } catch {
        throw error;
      }
    }
  }
}
