import { describe, expect, it } from "vitest";
import { type Clock, chunkSizeOf, createRateLimiter, ticksOf } from "./schedule.ts";

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
