import type { WeatherReading } from "@weather/schema";
import { DEFAULT_STATIONS } from "@weather/schema";
import { describe, expect, it } from "vitest";
import { produceReadings, type ReadingDestination } from "./produce.ts";
import type { Clock } from "./schedule.ts";
import { createSimulation } from "./simulate.ts";

/** A clock whose sleeps pass instantly but advance its time, so real-time runs take no real time. */
function fakeClock(startMs = Date.UTC(2024, 0, 1)): Clock & { slept: number } {
  let nowMs = startMs;
  const clock = {
    slept: 0,
    now: () => nowMs,
    sleep: async (ms: number, signal: AbortSignal) => {
      if (signal.aborted) throw signal.reason;
      nowMs += ms;
      clock.slept += ms;
      await Promise.resolve();
    },
  };
  return clock;
}

function recordingSink(): ReadingDestination & { batches: WeatherReading[][] } {
  const batches: WeatherReading[][] = [];
  return {
    batches,
    send: async (messages) => {
      await new Promise((resolve) => setImmediate(resolve));
      batches.push(messages.map((message) => message.reading));
    },
  };
}

const simulation = () => createSimulation(DEFAULT_STATIONS, "produce");

describe("produceReadings", () => {
  it("sends exactly N readings per station in --count mode, in batches, each station in time order", async () => {
    const sink = recordingSink();
    const sent = await produceReadings({
      schedule: { kind: "simulated", fromMs: Date.UTC(2024, 0, 1), stepMs: 1000, ticks: 134 },
      simulation: simulation(),
      destination: sink,
      batchSize: 50,
      ratePerSecond: null,
      signal: new AbortController().signal,
    });
    const all = sink.batches.flat();
    expect(sent).toBe(268);
    expect(all.filter((r) => r.stationId === "CYWG")).toHaveLength(134);
    expect(all.filter((r) => r.stationId === "CYVR")).toHaveLength(134);
    expect(Math.max(...sink.batches.map((b) => b.length))).toBe(50);
    const winnipegTimes = all.filter((r) => r.stationId === "CYWG").map((r) => r.observedAt.getTime());
    expect(winnipegTimes).toEqual([...winnipegTimes].sort((a, b) => a - b));
  });

  it("stops generating on abort and still sends what was generated", async () => {
    const controller = new AbortController();
    const sink = recordingSink();
    const clock = fakeClock();
    let acknowledged = 0;
    const sent = await produceReadings({
      schedule: { kind: "realtime", intervalMs: 1000 },
      simulation: simulation(),
      destination: sink,
      batchSize: 1000,
      ratePerSecond: null,
      signal: controller.signal,
      clock,
      onSent: (batch) => {
        acknowledged += batch.length;
        if (acknowledged >= 20) controller.abort();
      },
    });
    expect(sent).toBe(sink.batches.flat().length);
    expect(sent).toBe(acknowledged);
    expect(sent).toBeGreaterThanOrEqual(20);
    expect(sent % 2).toBe(0); // whole ticks: one reading per station
  });

  it("caps the rate: 100 readings at 10/s take about 10 simulated seconds", async () => {
    const clock = fakeClock();
    const sent = await produceReadings({
      schedule: { kind: "simulated", fromMs: 0, stepMs: 1000, ticks: 50 },
      simulation: simulation(),
      destination: recordingSink(),
      batchSize: 1000,
      ratePerSecond: 10,
      signal: new AbortController().signal,
      clock,
    });
    expect(sent).toBe(100);
    expect(clock.slept).toBeGreaterThanOrEqual(9_000);
    expect(clock.slept).toBeLessThanOrEqual(10_000);
  });

  it("fails loudly when a send fails instead of dropping readings", async () => {
    const failing: ReadingDestination = {
      send: async () => {
        throw new Error("broker gone");
      },
    };
    await expect(
      produceReadings({
        schedule: { kind: "simulated", fromMs: 0, stepMs: 1000, ticks: 10 },
        simulation: simulation(),
        destination: failing,
        batchSize: 4,
        ratePerSecond: null,
        signal: new AbortController().signal,
      }),
    ).rejects.toThrow("broker gone");
  });
});
