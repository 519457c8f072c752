import { setTimeout as sleep } from "node:timers/promises";

/**
 * When readings happen. Real time follows the wall clock until stopped; simulated time (a backfill,
 * or `--count`) walks a fixed number of steps from a start instant as fast as it is consumed.
 */
export type Schedule =
  | { readonly kind: "realtime"; readonly intervalMs: number }
  | { readonly kind: "simulated"; readonly fromMs: number; readonly stepMs: number; readonly ticks: number };

export interface Clock {
  now(): number;
  /** Resolves after `ms`, or rejects with an AbortError once `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: async (ms, signal) => {
    await sleep(ms, undefined, { signal });
  },
};

/** Sleeps, and tells whether the sleep ran to the end (false: aborted). */
async function sleepUnlessAborted(clock: Clock, ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false;
  if (ms <= 0) return true;
  try {
    await clock.sleep(ms, signal);
    return true;
  } catch (error) {
    if (signal.aborted) return false;
    throw error;
  }
}

/**
 * The instants to take readings at; stops early once `signal` aborts. Real-time ticks sit on a
 * fixed grid from the start, so a slow send delays the next readings but never drops or drifts them.
 */
export async function* ticksOf(
  schedule: Schedule,
  signal: AbortSignal,
  clock: Clock = systemClock,
): AsyncGenerator<Date> {
  if (schedule.kind === "simulated") {
    for (let i = 0; i < schedule.ticks && !signal.aborted; i++) yield simulatedTick(schedule, i);
    return;
  }
  const origin = clock.now();
  for (let i = 0; !signal.aborted; i++) {
    const dueMs = origin + i * schedule.intervalMs;
    if (!(await sleepUnlessAborted(clock, dueMs - clock.now(), signal))) return;
    yield new Date(dueMs);
  }
}

/** The instant of a simulated schedule's tick `i` (0-based). */
export function simulatedTick(schedule: Extract<Schedule, { kind: "simulated" }>, i: number): Date {
  return new Date(schedule.fromMs + i * schedule.stepMs);
}

/** Readings each tick yields. */
export function ticksTotal(schedule: Schedule): number | null {
  return schedule.kind === "simulated" ? schedule.ticks : null;
}

/** Paces sends so that, over time, no more than `perSecond` readings go out each second. */
export interface RateLimiter {
  /** Waits until `n` more readings may go; false if aborted while waiting. */
  acquire(n: number, signal: AbortSignal): Promise<boolean>;
}

export function createRateLimiter(perSecond: number | null, clock: Clock = systemClock): RateLimiter {
  if (perSecond === null) return { acquire: async (_n, signal) => !signal.aborted };
  let nextFreeMs = clock.now();
  return {
    async acquire(n, signal) {
      const now = clock.now();
      // A slot left unused does not bank credit for a later burst.
      const startMs = Math.max(now, nextFreeMs);
      nextFreeMs = startMs + (n / perSecond) * 1000;
      return sleepUnlessAborted(clock, startMs - now, signal);
    },
  };
}

/**
 * How many readings to gather per send: the batch size, but with a rate cap no more than a tenth of
 * a second's worth, so the cap holds smoothly instead of in bursts.
 */
export function chunkSizeOf(batchSize: number, perSecond: number | null): number {
  if (perSecond === null) return batchSize;
  return Math.max(1, Math.min(batchSize, Math.ceil(perSecond / 10)));
}
