import type { Logger } from "@weather/service-kit";

export interface StopSignals {
  /** Aborts on the first SIGINT or SIGTERM. */
  readonly signal: AbortSignal;
  /** Removes the handlers and the grace timer; call once shut down. */
  dispose(): void;
}

/**
 * The first SIGINT/SIGTERM asks for a graceful stop: generation ends, what is in flight is flushed.
 * If that takes longer than `graceMs`, or a second signal arrives, `forceExit` ends the process:
 * an operator pressing Ctrl-C twice means it.
 */
export function handleStopSignals(
  logger: Logger,
  graceMs: number,
  forceExit: (code: number) => never,
): StopSignals {
  const controller = new AbortController();
  let graceTimer: NodeJS.Timeout | undefined;

  const onSignal = (name: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      logger.warn({ signal: name }, "second stop signal: exiting without waiting for in-flight readings");
      forceExit(130);
    }
    logger.info({ signal: name, graceMs }, "stopping: no new readings; flushing those in flight");
    controller.abort(new Error(`stopped by ${name}`));
    graceTimer = setTimeout(() => {
      logger.fatal(
        { graceMs },
        `could not flush in-flight readings within ${graceMs} ms of ${name}; exiting`,
      );
      forceExit(1);
    }, graceMs);
    // The grace timer must not be what keeps the process alive.
    graceTimer.unref();
  };

  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return {
    signal: controller.signal,
    dispose() {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      clearTimeout(graceTimer);
    },
  };
}
