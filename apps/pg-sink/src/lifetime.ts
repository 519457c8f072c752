import type { Logger } from "@weather/service-kit";

/** What a worker opened, closed again in reverse order when it stops. */
export interface Lifetime {
  /** Aborted once stopping begins: nothing waits any longer for an outage to end or to catch up. */
  readonly signal: AbortSignal;
  /** Registers how to close what was just opened. */
  closeOnStop(name: string, close: () => Promise<unknown>): void;
  /** Closes everything in reverse order of opening; a failure is logged and the rest still closed. Idempotent. */
  stop(): Promise<void>;
}

export function createLifetime(logger: Logger, stoppedMessage: string): Lifetime {
  const stopping = new AbortController();
  const closers: { name: string; close: () => Promise<unknown> }[] = [];
  let stopped: Promise<void> | undefined;
  return {
    signal: stopping.signal,
    closeOnStop(name, close) {
      closers.push({ name, close });
    },
    stop() {
      stopped ??= (async () => {
        stopping.abort();
        for (const { name, close } of closers.reverse()) {
          await close().catch((error: unknown) => logger.warn({ err: error }, `closing ${name} failed`));
        }
        logger.info(stoppedMessage);
      })();
      return stopped;
    },
  };
}
