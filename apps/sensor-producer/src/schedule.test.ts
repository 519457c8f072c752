import { describe, expect, it } from "vitest";
import { type Clock, chunkSizeOf, createRateLimiter, selectSchedule, ticksOf } from "./schedule.ts";

function fakeClock(startMs: number): Clock {
  let nowMs = startMs;
  return {
    now: () => nowMs,
    sleep: async (ms, signal) => {
      if (signal.aborted) throw signal.reason;
      nowMs += ms;
    },
  };
}

async function collect(iterable: AsyncIterable<Date>, limit: number): Promise<number[]> {
  const out: number[] = [];
  for await (const at of iterable) {
    out.push(at.getTime());
    if (out.length >= limit) break;
  }
  return out;
}

describe("selectSchedule: the mode the settings given pick", () => {
  const now = Date.UTC(2024, 4, 1);
  const every = { intervalMs: 1000, stepMs: 600_000 };

  it("is real time without --count or --from, the last N intervals with --count, a backfill with --from", () => {
    expect(selectSchedule(every, now)).toEqual({ kind: "realtime", intervalMs: 1000 });
    expect(selectSchedule({ ...every, count: 3 }, now)).toEqual({
      kind: "simulated",
      fromMs: now - 2000,
      stepMs: 1000,
      ticks: 3,
    });
    const fromMs = now - 3_600_000;
    expect(selectSchedule({ ...every, fromMs }, now)).toEqual({
      kind: "simulated",
      fromMs,
      stepMs: 600_000,
      ticks: 6,
    });
    expect(selectSchedule({ ...every, fromMs, count: 2 }, now)).toMatchObject({ ticks: 2 });
  });

  it("names the setting at fault when the choice makes no schedule", () => {
    expect(selectSchedule({ ...every, toMs: now }, now)).toEqual({
      setting: "to",
      message: "needs --from (a backfill)",
    });
    expect(selectSchedule({ ...every, fromMs: now, toMs: now, count: 2 }, now)).toMatchObject({
      setting: "to",
    });
    expect(selectSchedule({ ...every, fromMs: now + 1 }, now)).toMatchObject({
      setting: "from",
      message: expect.stringContaining("is empty; --to must be after --from"),
    });
  });
});

describe("ticksOf", () => {
  it("walks simulated time step by step", async () => {
    const ticks = ticksOf(
      { kind: "simulated", fromMs: 1000, stepMs: 10, ticks: 3 },
      new AbortController().signal,
    );
    expect(await collect(ticks, 10)).toEqual([1000, 1010, 1020]);
  });

  it("follows the wall clock on a fixed grid in real time", async () => {
    const ticks = ticksOf(
      { kind: "realtime", intervalMs: 500 },
      new AbortController().signal,
      fakeClock(7000),
    );
    expect(await collect(ticks, 4)).toEqual([7000, 7500, 8000, 8500]);
  });

  it("stops once aborted", async () => {
    const controller = new AbortController();
    controller.abort();
    expect(await collect(ticksOf({ kind: "realtime", intervalMs: 5 }, controller.signal), 10)).toEqual([]);
  });
});

describe("rate limiting", () => {
  it("spaces acquisitions to the rate", async () => {
    const clock = fakeClock(0);
    const limiter = createRateLimiter(100, clock);
    const signal = new AbortController().signal;
    for (let i = 0; i < 5; i++) await limiter.acquire(10, signal);
    expect(clock.now()).toBe(400); // the fifth batch of 10 may start after 40 readings' worth, at 100/s
  });

  it("sizes chunks to a tenth of a second's worth under a cap", () => {
    expect(chunkSizeOf(2000, null)).toBe(2000);
    expect(chunkSizeOf(2000, 500)).toBe(50);
    expect(chunkSizeOf(2000, 3)).toBe(1);
    expect(chunkSizeOf(20, 1_000_000)).toBe(20);
  });
});
