import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "@weather/service-kit";

/**
 * What the page knows of one data source. `data` is the last good answer and is kept while the
 * source is unavailable, so the page can show it greyed out next to the reason.
 */
export interface SourceState<T> {
  readonly status: "starting" | "ok" | "unavailable";
  readonly data: T | null;
  /** Why the source is unavailable: what failed, where, and what to do. */
  readonly error: string | null;
  /** When the status last changed (ISO 8601). */
  readonly since: string;
  /** When the source last answered (ISO 8601); null: never. */
  readonly updatedAt: string | null;
}

export interface PollerOptions<T> {
  /** Names the source in logs. */
  readonly name: string;
  readonly intervalMs: number;
  /** A refresh taking longer counts as a failure: the source is shown unavailable. */
  readonly timeoutMs: number;
  /** One refresh; throws when the source cannot be read. The signal aborts on timeout and stop. */
  readonly poll: (signal: AbortSignal) => Promise<T>;
  /** Turns a failure into the one line shown on the page. */
  readonly describeError: (error: unknown) => string;
  /** Called after every refresh whose outcome differs from the one before. */
  readonly onChange: (state: SourceState<T>) => void;
  readonly logger: Logger;
  readonly now?: () => Date;
}

export interface Poller<T> {
  state(): SourceState<T>;
  /** Refreshes now instead of waiting for the interval (e.g. when a page asks). */
  refreshSoon(): void;
  /** Stops refreshing; resolves once the refresh in flight, if any, has settled. */
  stop(): Promise<void>;
}

/**
 * Refreshes one source forever, one refresh at a time, and never throws: a failure becomes an
 * "unavailable" state with the reason, and the next successful refresh makes it "ok" again. This is
 * how the dashboard outlives PostgreSQL and Kafka going away.
 */
export function startPoller<T>(options: PollerOptions<T>): Poller<T> {
  const now = options.now ?? (() => new Date());
  const stopping = new AbortController();
  let wake = new AbortController();
  let state: SourceState<T> = {
    status: "starting",
    data: null,
    error: null,
    since: now().toISOString(),
    updatedAt: null,
  };
  let lastPublished = "";

  const publish = (next: SourceState<T>) => {
    state = next;
    // updatedAt moves on every refresh; only a change of what is shown is worth a push.
    const shown = JSON.stringify([next.status, next.data, next.error]);
    if (shown === lastPublished) return;
    lastPublished = shown;
    options.onChange(next);
  };

  // A refresh given up on (timed out) may still be running: the next one waits until it has
  // settled, so one source never has two refreshes at once (two reads of the dead-letter topic,
  // two updates of a chart's buckets, a pool filling with stuck queries).
  let inFlight: Promise<unknown> | undefined;

  async function refreshOnce(): Promise<void> {
    if (inFlight) return;
    const timeout = AbortSignal.timeout(options.timeoutMs);
    const signal = AbortSignal.any([timeout, stopping.signal]);
    try {
      const polling = options.poll(signal);
      const settled = polling.then(
        () => {},
        () => {},
      );
      inFlight = settled;
      void settled.then(() => {
        if (inFlight === settled) inFlight = undefined;
      });
      const data = await abortable(polling, signal);
      const at = now().toISOString();
      if (state.status !== "ok") {
        if (state.status === "unavailable") options.logger.info({ source: options.name }, "source is back");
        publish({ status: "ok", data, error: null, since: at, updatedAt: at });
      } else {
        publish({ ...state, data, updatedAt: at });
      }
    } catch (error) {
      if (stopping.signal.aborted) return;
      const reason = timeout.aborted
        ? `no answer within ${options.timeoutMs} ms (DASHBOARD_SOURCE_TIMEOUT_MS)`
        : options.describeError(error);
      if (state.status !== "unavailable" || state.error !== reason) {
        options.logger.warn({ source: options.name, reason }, "source unavailable");
      }
      publish({
        status: "unavailable",
        data: state.data,
        error: reason,
        since: state.status === "unavailable" ? state.since : now().toISOString(),
        updatedAt: state.updatedAt,
      });
    }
  }

  const loop = (async () => {
    while (!stopping.signal.aborted) {
      await refreshOnce();
      const woken = AbortSignal.any([stopping.signal, wake.signal]);
      await sleep(options.intervalMs, undefined, { signal: woken }).catch(() => {});
      if (wake.signal.aborted) wake = new AbortController();
    }
  })();

  return {
    state: () => state,
    refreshSoon: () => wake.abort(),
    async stop() {
      stopping.abort();
      await loop;
    },
  };
}

/** Settles with `work`, or rejects as soon as `signal` aborts (the work may go on in the background). */
function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
