import {
  createStationCatalog,
  DEFAULT_STATIONS,
  validateReading,
  type WeatherReading,
} from "@weather/schema";
import { describe, expect, it } from "vitest";
import { INVALID_KINDS } from "./invalid.ts";
import {
  createMessyStream,
  type MessyKnobs,
  NO_MESS,
  type OutgoingMessage,
  plainMessages,
} from "./messy-stream.ts";
import { createSimulation } from "./simulate.ts";

const MINUTE = 60_000;
const FROM = Date.UTC(2025, 0, 1);
const catalog = createStationCatalog(DEFAULT_STATIONS);

interface Sent {
  readonly message: OutgoingMessage;
  /** The tick whose call released it (Infinity: the final drain). */
  readonly releasedAt: number;
}

/** Runs `ticks` one-minute ticks of the seeded simulation through a messy stream, as produce.ts does. */
function run(knobs: Partial<MessyKnobs>, ticks: number, seed = "mess", stations = DEFAULT_STATIONS): Sent[] {
  const simulation = createSimulation(stations, seed);
  const stream = createMessyStream(stations, seed, { ...NO_MESS, ...knobs }, MINUTE);
  const sent: Sent[] = [];
  for (let i = 0; i < ticks; i++) {
    const at = FROM + i * MINUTE;
    for (const message of stream.at(at, simulation.readingsAt(new Date(at))))
      sent.push({ message, releasedAt: at });
  }
  for (const message of stream.drain()) sent.push({ message, releasedAt: Number.POSITIVE_INFINITY });
  return sent;
}

const firstCopies = (sent: readonly Sent[]) =>
  sent.flatMap(({ message }) => (message.kind === "reading" ? [message] : []));
const ofKind = <K extends OutgoingMessage["kind"]>(sent: readonly Sent[], kind: K) =>
  sent.map((s) => s.message).filter((m): m is Extract<OutgoingMessage, { kind: K }> => m.kind === kind);

/** How far each first copy of a station was observed before the latest one sent ahead of it (0: in order). */
function outOfOrderMs(sent: readonly Sent[]): number[] {
  const latest = new Map<string, number>();
  return firstCopies(sent).map(({ reading }) => {
    const at = reading.observedAt.getTime();
    const before = latest.get(reading.stationId) ?? Number.NEGATIVE_INFINITY;
    latest.set(reading.stationId, Math.max(before, at));
    return Math.max(0, before - at);
  });
}

/** Whether a count of n trials with probability p is within 4.5 standard deviations of n p. */
function plausible(count: number, n: number, p: number): boolean {
  return Math.abs(count - n * p) <= 4.5 * Math.sqrt(n * p * (1 - p));
}

describe("a messy stream", () => {
  it("with every knob off, sends each reading once, on its own tick, in the simulation's order", () => {
    const simulation = createSimulation(DEFAULT_STATIONS, "mess");
    const expected = Array.from({ length: 500 }, (_, i) =>
      plainMessages(simulation.readingsAt(new Date(FROM + i * MINUTE))),
    );
    const sent = run({}, 500);
    expect(sent.map((s) => s.message)).toEqual(expected.flat());
    expect(sent.every((s, i) => s.releasedAt === FROM + Math.floor(i / 2) * MINUTE)).toBe(true);
  });

  it("makes the same stream from the same seed and knobs, message for message, and another from another seed", () => {
    const knobs: Partial<MessyKnobs> = {
      lateFraction: 0.05,
      resendFraction: 0.05,
      invalidFraction: 0.05,
      invalidKinds: INVALID_KINDS,
      burstsPerDay: 4,
      clockSkewMs: 90_000,
    };
    const a = run(knobs, 3_000, "same");
    expect(run(knobs, 3_000, "same")).toEqual(a);
    expect(run(knobs, 3_000, "other")).not.toEqual(a);
  });

  it("holds back the late fraction by the lateness drawn, so later readings of their station overtake them", () => {
    const ticks = 20_000;
    const sent = run({ lateFraction: 0.1, lateness: { kind: "fixed", ms: 30 * MINUTE } }, ticks);
    const readings = firstCopies(sent);
    expect(readings).toHaveLength(ticks * 2);
    const delayed = readings.filter((r) => r.delayed);
    expect(plausible(delayed.length, ticks * 2, 0.1)).toBe(true);
    // Released on the first tick at or after observed + 30 minutes, before that tick's own reading:
    // the reading observed 29 minutes later went first, unless it was held back itself.
    const gaps = outOfOrderMs(sent);
    const observed = new Set(readings.map((r) => `${r.reading.stationId}@${r.reading.observedAt.getTime()}`));
    const delayedAt = new Set(delayed.map((r) => `${r.reading.stationId}@${r.reading.observedAt.getTime()}`));
    const lastTick = FROM + (ticks - 1) * MINUTE;
    readings.forEach((r, i) => {
      // Held past the last tick: sent at the end, after whatever followed it.
      if (!r.delayed || r.reading.observedAt.getTime() + 30 * MINUTE > lastTick) return;
      const key29 = `${r.reading.stationId}@${r.reading.observedAt.getTime() + 29 * MINUTE}`;
      if (observed.has(key29) && !delayedAt.has(key29)) expect(gaps[i]).toBe(29 * MINUTE);
      expect(gaps[i]).toBeGreaterThan(0);
      expect(gaps[i]).toBeLessThanOrEqual(29 * MINUTE);
    });
    // Nothing else is out of order.
    expect(gaps.filter((gap, i) => gap > 0 && !readings[i]?.delayed)).toEqual([]);
  });

  it("spreads the lateness as its distribution says", () => {
    const sent = run({ lateFraction: 0.2, lateness: { kind: "exponential", meanMs: 20 * MINUTE } }, 20_000);
    // Released on the first tick at or after due: the wait in whole ticks is the delay rounded up.
    const waits = sent.flatMap(({ message, releasedAt }) =>
      message.kind === "reading" && message.delayed && Number.isFinite(releasedAt)
        ? [releasedAt - message.reading.observedAt.getTime()]
        : [],
    );
    const meanWait = waits.reduce((a, b) => a + b, 0) / waits.length;
    // Exponential(20 min) rounded up to the minute: mean about 20.5 minutes.
    expect(meanWait / MINUTE).toBeGreaterThan(19.5);
    expect(meanWait / MINUTE).toBeLessThan(21.5);
    const beyondHour = waits.filter((w) => w > 60 * MINUTE).length / waits.length;
    expect(beyondHour).toBeGreaterThan(0.04); // e^-3 = 5 %
    expect(beyondHour).toBeLessThan(0.065);
  });

  it("re-sends a fraction: the same reading, same id and values, after its first copy", () => {
    const ticks = 10_000;
    const sent = run(
      { resendFraction: 0.03, resendDelay: { kind: "uniform", minMs: 0, maxMs: 10 * MINUTE } },
      ticks,
    );
    const resends = ofKind(sent, "resend");
    expect(plausible(resends.length, ticks * 2, 0.03)).toBe(true);
    const position = new Map(sent.map((s, i) => [s.message, i]));
    const firstById = new Map(firstCopies(sent).map((m) => [m.reading.readingId, m]));
    for (const resend of resends) {
      const first = firstById.get(resend.reading.readingId);
      expect(first?.reading).toEqual(resend.reading);
      expect(position.get(resend) ?? -1).toBeGreaterThan(position.get(first as OutgoingMessage) ?? Infinity);
    }
    expect(new Set(resends.map((r) => r.reading.readingId)).size).toBe(resends.length);
  });

  it("adds invalid messages of each kind, about evenly, with ids of their own and faults the sink refuses", () => {
    const ticks = 10_000;
    const sent = run({ invalidFraction: 0.2, invalidKinds: INVALID_KINDS }, ticks);
    const invalid = ofKind(sent, "invalid");
    expect(plausible(invalid.length, ticks * 2, 0.2)).toBe(true);
    for (const kind of INVALID_KINDS) {
      const count = invalid.filter((m) => m.invalid === kind).length;
      expect(plausible(count, invalid.length, 1 / INVALID_KINDS.length), `${kind}: ${count}`).toBe(true);
    }
    const validIds = new Set(firstCopies(sent).map((m) => m.reading.readingId));
    expect(invalid.filter((m) => validIds.has(m.reading.readingId))).toEqual([]);
    for (const message of invalid) {
      const check = validateReading(message.reading, catalog, new Date(FROM + ticks * MINUTE));
      if (message.invalid === "implausible") expect(check.ok).toBe(false);
      else if (message.invalid === "unknown-station") {
        expect(check).toMatchObject({
          ok: false,
          problems: [expect.stringMatching(/^stationId: .*expected a station of the catalog/)],
        });
      } else expect(check.ok).toBe(true); // made invalid on the wire (invalid.test.ts)
    }
    // The valid readings are those of a run without invalid ones.
    expect(firstCopies(sent)).toEqual(firstCopies(run({}, ticks)));
  });

  it("makes a station fall silent, then flush what it held at once, in order", () => {
    const ticks = 5 * 1440;
    const winnipeg = DEFAULT_STATIONS.filter((station) => station.city === "winnipeg");
    const sent = run(
      { burstsPerDay: 3, burstLength: { kind: "fixed", ms: 45 * MINUTE } },
      ticks,
      "burst",
      winnipeg,
    );
    const readings = firstCopies(sent);
    const held = readings.filter((r) => r.held);
    // About 3 silences a day of 45 readings each, none overlapping.
    expect(held.length).toBeGreaterThan(5 * 45);
    expect(held.length % 45).toBe(0);
    // In order: silences delay, they do not reorder.
    expect(outOfOrderMs(sent).every((gap) => gap === 0)).toBe(true);
    for (const { message, releasedAt } of sent) {
      if (message.kind !== "reading") continue;
      const observed = message.reading.observedAt.getTime();
      if (message.held) expect(releasedAt).toBeGreaterThan(observed);
      else expect(releasedAt).toBe(observed);
    }
    // Each flush releases a whole silence in one tick.
    const flushes = new Map<number, number>();
    for (const { message, releasedAt } of sent) {
      if (message.kind === "reading" && message.held)
        flushes.set(releasedAt, (flushes.get(releasedAt) ?? 0) + 1);
    }
    expect(new Set(flushes.values())).toEqual(new Set([45]));
  });

  it("skews each station's clock by a fixed amount within the bound, the same for all its readings", () => {
    const sent = run({ clockSkewMs: 120_000 }, 300);
    const skewOf = new Map<string, Set<number>>();
    sent.forEach(({ message, releasedAt }) => {
      const skews = skewOf.get(message.reading.stationId) ?? new Set();
      skews.add(message.reading.observedAt.getTime() - releasedAt);
      skewOf.set(message.reading.stationId, skews);
    });
    const skews = [...skewOf.values()].map((set) => [...set]);
    for (const one of skews) {
      expect(one).toHaveLength(1);
      expect(Math.abs(one[0] ?? Infinity)).toBeLessThanOrEqual(120_000);
    }
    expect(skews[0]).not.toEqual(skews[1]);
    const stream = createMessyStream(DEFAULT_STATIONS, "mess", { ...NO_MESS, clockSkewMs: 120_000 }, MINUTE);
    expect(Object.values(stream.clockSkewMs)).toEqual(skews.map((one) => one[0]));
  });

  it("keeps each knob's decisions whatever the others do", () => {
    const late = { lateFraction: 0.05, lateness: { kind: "fixed", ms: 7 * MINUTE } } as const;
    const alone = firstCopies(run(late, 5_000)).map((m) => [m.reading.readingId, m.delayed]);
    const withOthers = firstCopies(
      run({ ...late, resendFraction: 0.1, invalidFraction: 0.1, invalidKinds: INVALID_KINDS }, 5_000),
    ).map((m) => [m.reading.readingId, m.delayed]);
    expect(withOthers).toEqual(alone);
  });

  it("never loses a reading: every simulated one goes out once as a first copy, whatever the knobs", () => {
    const simulation = createSimulation(DEFAULT_STATIONS, "mess");
    const simulated: WeatherReading[] = [];
    for (let i = 0; i < 4_000; i++) simulated.push(...simulation.readingsAt(new Date(FROM + i * MINUTE)));
    const sent = run(
      {
        lateFraction: 0.2,
        resendFraction: 0.2,
        invalidFraction: 0.2,
        invalidKinds: INVALID_KINDS,
        burstsPerDay: 10,
      },
      4_000,
    );
    const ids = firstCopies(sent).map((m) => m.reading.readingId);
    expect([...ids].sort()).toEqual(simulated.map((r) => r.readingId).sort());
  });
});
