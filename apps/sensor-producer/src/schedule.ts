import { setTimeout as sleep } from "node:timers/promises";

/**
 * When readings happen. Real time follows the wall clock until stopped; simulated time (a backfill,
 * or `--count`) walks a fixed number of steps from a start instant as fast as it is consumed.
 */
export type Schedule =
  | { readonly kind: "realtime"; readonly intervalMs: number }
  | { readonly kind: "simulated"; readonly fromMs: number; readonly stepMs: number; readonly ticks: number };

/** What the settings say about the schedule; which of them are given picks the mode. */
export interface ScheduleChoice {
  /** --count: readings per station, then stop. */
  readonly count?: number;
  /** --interval: between a station's readings in real time and in --count mode. */
  readonly intervalMs: number;
  /** --from: a backfill's first instant. */
  readonly fromMs?: number;
  /** --to: a backfill's end, exclusive; default: now. */
  readonly toMs?: number;
  /** --step: a backfill's simulated time between readings. */
  readonly stepMs: number;
}

/** Why a choice gives no schedule, and which of its settings to name. */
export interface ScheduleProblem {
  readonly setting: "from" | "to";
  readonly message: string;
}

/**
 * Picks the mode from the settings given: a backfill with --from (to --to, default now, or for
 * --count steps), the last --count intervals up to now with --count, else real time.
 */
export function selectSchedule(choice: ScheduleChoice, now: number): Schedule | ScheduleProblem {
  const { count, intervalMs, fromMs, toMs, stepMs } = choice;
  if (fromMs === undefined) {
    if (toMs !== undefined) return { setting: "to", message: "needs --from (a backfill)" };
    if (count === undefined) return { kind: "realtime", intervalMs };
    // The last N intervals up to now: N readings per station at once, none of them in the future.
    return { kind: "simulated", fromMs: now - (count - 1) * intervalMs, stepMs: intervalMs, ticks: count };
  }
  if (count !== undefined) {
    if (toMs !== undefined)
      return { setting: "to", message: "give either --to or --count with --from, not both" };
    return { kind: "simulated", fromMs, stepMs, ticks: count };
  }
  const endMs = toMs ?? now;
  if (endMs <= fromMs) {
    return {
      setting: toMs === undefined ? "from" : "to",
      message: `the backfill from ${new Date(fromMs).toISOString()} to ${new Date(endMs).toISOString()} is empty; --to must be after --from`,
    };
  }
  return { kind: "simulated", fromMs, stepMs, ticks: Math.ceil((endMs - fromMs) / stepMs) };
}

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
