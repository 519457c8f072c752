import { setImmediate } from "node:timers/promises";
import { type MessyStream, type OutgoingMessage, plainMessages } from "./messy-stream.ts";
import {
  type Clock,
  chunkSizeOf,
  createRateLimiter,
  type Schedule,
  simulatedTick,
  systemClock,
  ticksOf,
} from "./schedule.ts";
import type { Simulation } from "./simulate.ts";

/** How many generated messages a backfill gives the event loop a turn after (see produceReadings). */
const MESSAGES_PER_TURN = 500;

/** Where messages go; `send` resolves once every message of the batch is acknowledged. */
export interface ReadingDestination {
  send(messages: readonly OutgoingMessage[]): Promise<void>;
}

export interface ProduceOptions {
  readonly schedule: Schedule;
  readonly simulation: Simulation;
  /** Makes the stream messy (late, re-sent, invalid, bursts, skew); absent: each reading on its tick. */
  readonly stream?: MessyStream;
  readonly destination: ReadingDestination;
  readonly batchSize: number;
  readonly ratePerSecond: number | null;
  /** Aborting stops generating; what was generated is still sent before produceReadings resolves. */
  readonly signal: AbortSignal;
  /** Called after each acknowledged batch, in sending order, for progress, metrics and the manifest. */
  readonly onSent?: (batch: readonly OutgoingMessage[], sendMs: number) => void;
  readonly clock?: Clock;
}

/**
 * Runs the simulation on the schedule and sends its readings in batches. One batch is in flight
 * while the next is generated, which keeps the broker busy without reordering anything: sends stay
 * strictly sequential. Resolves with the number of messages acknowledged; rejects on the first
 * failed send, since a reading that cannot be sent must not vanish silently. What a messy stream
 * still holds when the schedule ends (or a stop signal comes) is sent at the end.
 */
export async function produceReadings(options: ProduceOptions): Promise<number> {
  const { schedule, simulation, stream, destination, signal, onSent } = options;
  const clock = options.clock ?? systemClock;
  const chunkSize = chunkSizeOf(options.batchSize, options.ratePerSecond);
  const limiter = createRateLimiter(options.ratePerSecond, clock);
  let acknowledged = 0;
  let inFlight: Promise<void> = Promise.resolve();

  const sendChunk = async (chunk: OutgoingMessage[]): Promise<void> => {
    // Once stopping, the cap no longer matters: what was generated goes out at once.
    await limiter.acquire(chunk.length, signal);
    const previous = inFlight;
    const current = previous.then(async () => {
      const startedAt = performance.now();
      await destination.send(chunk);
      acknowledged += chunk.length;
      onSent?.(chunk, performance.now() - startedAt);
    });
    // Mark the rejection handled now (it is awaited below or at the end), so a failure while the
    // next batch is being generated is not reported as an unhandled rejection.
    current.catch(() => {});
    inFlight = current;
    await previous;
  };

  let buffer: OutgoingMessage[] = [];
  const gather = (messages: readonly OutgoingMessage[]): void => {
    for (const message of messages) buffer.push(message);
  };
  const flush = async (all: boolean): Promise<void> => {
    while (buffer.length >= chunkSize || (all && buffer.length > 0)) {
      const chunk = buffer.length <= chunkSize ? buffer : buffer.slice(0, chunkSize);
      buffer = buffer.length <= chunkSize ? [] : buffer.slice(chunkSize);
      await sendChunk(chunk);
    }
  };
  const take = (at: Date): void => {
    const readings = simulation.readingsAt(at);
    gather(stream === undefined ? plainMessages(readings) : stream.at(at.getTime(), readings));
  };

  if (schedule.kind === "simulated") {
    // Simulated ticks need no clock: a plain loop (an async iterator's promises for every tick were
    // a backfill's largest share of garbage). It gives the event loop a turn every few hundred
    // messages, so the batch in flight is written out and its acknowledgement handled while the
    // next one is generated; otherwise both wait for the whole next batch, and a batch's readings
    // live long enough for V8 to move them to the old generation (peak RSS).
    let sinceTurn = 0;
    for (let i = 0; i < schedule.ticks && !signal.aborted; i++) {
      const before = buffer.length;
      take(simulatedTick(schedule, i));
      sinceTurn += buffer.length - before;
      if (buffer.length >= chunkSize) await flush(false);
      if (sinceTurn >= MESSAGES_PER_TURN) {
        sinceTurn = 0;
        await setImmediate();
      }
    }
  } else {
    // Real-time readings go out on their tick.
    for await (const at of ticksOf(schedule, signal, clock)) {
      take(at);
      await flush(true);
    }
  }
  if (stream !== undefined) gather(stream.drain());
  await flush(true);
  await inFlight;
  return acknowledged;
}
