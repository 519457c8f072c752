import type { Station, WeatherReading } from "@weather/schema";
import { type Distribution, sampleMs } from "./distribution.ts";
import { type InvalidKind, invalidReading } from "./invalid.ts";
import { createPrng, type Prng } from "./prng.ts";

/**
 * What real stations do to a stream, as seeded knobs. All are off by default; each draws from its
 * own generator per station (seed/station/knob), so turning one on changes nothing another one
 * decides, and the valid readings themselves (ids and values) stay those of the simulation.
 */
export interface MessyKnobs {
  /** Fraction of readings held back by a draw of `lateness`, so later readings overtake them. */
  readonly lateFraction: number;
  readonly lateness: Distribution;
  /** Fraction of readings sent a second time (same reading, same id), `resendDelay` after the first. */
  readonly resendFraction: number;
  readonly resendDelay: Distribution;
  /** Fraction of readings followed by an invalid message of one of `invalidKinds`, drawn evenly. */
  readonly invalidFraction: number;
  readonly invalidKinds: readonly InvalidKind[];
  /** Expected silences per station and day: the station holds its readings, then flushes them at once. */
  readonly burstsPerDay: number;
  readonly burstLength: Distribution;
  /** Each station's clock is off by a fixed amount drawn evenly from [-clockSkewMs, +clockSkewMs]. */
  readonly clockSkewMs: number;
}

export const NO_MESS: MessyKnobs = Object.freeze<MessyKnobs>({
  lateFraction: 0,
  lateness: { kind: "exponential", meanMs: 600_000 },
  resendFraction: 0,
  resendDelay: { kind: "exponential", meanMs: 60_000 },
  invalidFraction: 0,
  invalidKinds: [],
  burstsPerDay: 0,
  burstLength: { kind: "uniform", minMs: 600_000, maxMs: 7_200_000 },
  clockSkewMs: 0,
});

/** One message to send, with what the manifest needs to know about it. */
export type OutgoingMessage =
  | {
      /** A valid reading, sent for the first time. */
      readonly kind: "reading";
      readonly reading: WeatherReading;
      /** Held back by the lateness knob. */
      readonly delayed: boolean;
      /** Held back by its station's silence (a burst). */
      readonly held: boolean;
    }
  /** The same reading again: the sink stores it once. */
  | { readonly kind: "resend"; readonly reading: WeatherReading }
  /** Garbage of one kind, made from a reading (its key is that reading's station id). */
  | { readonly kind: "invalid"; readonly invalid: InvalidKind; readonly reading: WeatherReading };

/** Turns the simulation's readings, tick by tick, into the messages to send, in sending order. */
export interface MessyStream {
  /** The readings of the tick at `timeMs` (schedule time); returns the messages due by then. */
  at(timeMs: number, readings: readonly WeatherReading[]): OutgoingMessage[];
  /** Everything still held, in due order: the end of the run (or a stop signal). */
  drain(): OutgoingMessage[];
  /** Each station's clock skew, in ms. */
  readonly clockSkewMs: Readonly<Record<string, number>>;
  /** Silences started so far. */
  readonly bursts: number;
}

interface Pending {
  readonly dueMs: number;
  readonly seq: number;
  readonly message: OutgoingMessage;
}

/** A binary min-heap by (due, seq): the held messages, released in the order they fall due. */
class PendingQueue {
  private readonly items: Pending[] = [];

  private before(a: Pending, b: Pending): boolean {
    return a.dueMs < b.dueMs || (a.dueMs === b.dueMs && a.seq < b.seq);
  }

  push(item: Pending): void {
    const items = this.items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(items[i] as Pending, items[parent] as Pending)) break;
      [items[i], items[parent]] = [items[parent] as Pending, items[i] as Pending];
      i = parent;
    }
  }

  peek(): Pending | undefined {
    return this.items[0];
  }

  pop(): Pending | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < items.length && this.before(items[left] as Pending, items[smallest] as Pending))
          smallest = left;
        if (right < items.length && this.before(items[right] as Pending, items[smallest] as Pending))
          smallest = right;
        if (smallest === i) break;
        [items[i], items[smallest]] = [items[smallest] as Pending, items[i] as Pending];
        i = smallest;
      }
    }
    return top;
  }
}

interface StationState {
  readonly skewMs: number;
  readonly late: Prng;
  readonly resend: Prng;
  readonly invalid: Prng;
  readonly burst: Prng;
  /** When the current silence ends; undefined: the station is talking. */
  silentUntilMs: number | undefined;
}

const DAY_MS = 86_400_000;

/**
 * @param stepMs the time between ticks (the backfill's step, the real-time interval): bursts per
 *   day become a probability per tick.
 * @param knownStations every station id of the catalog, so an "unknown station" never is one.
 */
export function createMessyStream(
  stations: readonly Station[],
  seed: string,
  knobs: MessyKnobs,
  stepMs: number,
  knownStations: ReadonlySet<string> = new Set(stations.map((station) => station.id)),
): MessyStream {
  const state = new Map<string, StationState>();
  const skews: Record<string, number> = {};
  for (const station of stations) {
    const prng = (knob: string) => createPrng(`${seed}/${station.id}/${knob}`);
    const skewMs =
      knobs.clockSkewMs === 0 ? 0 : Math.round((2 * prng("skew").next() - 1) * knobs.clockSkewMs);
    skews[station.id] = skewMs;
    state.set(station.id, {
      skewMs,
      late: prng("late"),
      resend: prng("resend"),
      invalid: prng("invalid"),
      burst: prng("burst"),
      silentUntilMs: undefined,
    });
  }
  const burstChance = Math.min(1, (knobs.burstsPerDay * stepMs) / DAY_MS);
  const queue = new PendingQueue();
  let seq = 0;
  let bursts = 0;
  // Messages due at once while nothing held is due yet skip the queue (see at()).
  let direct: OutgoingMessage[] | undefined;
  const directSeqs: number[] = [];
  let directAtMs = 0;
  const hold = (dueMs: number, message: OutgoingMessage) => {
    const order = seq++;
    if (direct !== undefined && dueMs < directAtMs) {
      // Due before the tick (no parsed setting gives that): the queue orders it, and those taken directly.
      for (const [i, earlier] of direct.entries())
        queue.push({ dueMs: directAtMs, seq: directSeqs[i] as number, message: earlier });
      direct = undefined;
    }
    if (direct !== undefined && dueMs === directAtMs) {
      direct.push(message);
      directSeqs.push(order);
    } else queue.push({ dueMs, seq: order, message });
  };

  const release = (untilMs: number): OutgoingMessage[] => {
    const out: OutgoingMessage[] = [];
    for (let next = queue.peek(); next !== undefined && next.dueMs <= untilMs; next = queue.peek()) {
      out.push(next.message);
      queue.pop();
    }
    return out;
  };

  return {
    clockSkewMs: Object.freeze(skews),
    get bursts() {
      return bursts;
    },
    at(timeMs, readings) {
      // Every message held during this tick is due at timeMs or later. While no message in the queue
      // is due by timeMs, those due exactly at timeMs are the first the queue would release, in the
      // order they were held: they go out directly, without a queue entry each (the stream of a run
      // without knobs never touches the queue).
      const next = queue.peek();
      direct = next === undefined || next.dueMs > timeMs ? [] : undefined;
      directSeqs.length = 0;
      directAtMs = timeMs;
      for (const simulated of readings) {
        const station = state.get(simulated.stationId);
        if (station === undefined)
          throw new Error(`no messy-stream state for station ${simulated.stationId}`);
        const reading =
          station.skewMs === 0
            ? simulated
            : { ...simulated, observedAt: new Date(simulated.observedAt.getTime() + station.skewMs) };

        if (station.silentUntilMs !== undefined && timeMs >= station.silentUntilMs)
          station.silentUntilMs = undefined;
        if (station.silentUntilMs === undefined && burstChance > 0 && station.burst.next() < burstChance) {
          station.silentUntilMs = timeMs + Math.max(1, sampleMs(knobs.burstLength, station.burst));
          bursts += 1;
        }
        // A silent station sends nothing until its silence ends, then everything at once, in order.
        const earliestMs = station.silentUntilMs ?? timeMs;
        const held = station.silentUntilMs !== undefined;

        const late = knobs.lateFraction > 0 && station.late.next() < knobs.lateFraction;
        const delayMs = late ? sampleMs(knobs.lateness, station.late) : 0;
        const dueMs = Math.max(timeMs + delayMs, earliestMs);
        hold(dueMs, { kind: "reading", reading, delayed: delayMs > 0, held });

        if (knobs.resendFraction > 0 && station.resend.next() < knobs.resendFraction) {
          hold(dueMs + sampleMs(knobs.resendDelay, station.resend), { kind: "resend", reading });
        }
        if (
          knobs.invalidFraction > 0 &&
          knobs.invalidKinds.length > 0 &&
          station.invalid.next() < knobs.invalidFraction
        ) {
          const kind = knobs.invalidKinds[
            Math.floor(station.invalid.next() * knobs.invalidKinds.length)
          ] as InvalidKind;
          hold(earliestMs, {
            kind: "invalid",
            invalid: kind,
            reading: invalidReading(kind, reading, station.invalid, knownStations),
          });
        }
      }
      const released = direct ?? release(timeMs);
      direct = undefined;
      return released;
    },
    drain() {
      return release(Number.POSITIVE_INFINITY);
    },
  };
}

/** No knob turned: every reading goes out on its tick, as a first copy. */
export function plainMessages(readings: readonly WeatherReading[]): OutgoingMessage[] {
  return readings.map((reading) => ({ kind: "reading", reading, delayed: false, held: false }));
}
