/**
 * pg-sink: consumes the readings topic and stores each reading exactly once in PostgreSQL.
 * Wiring only; see sink.ts for what it opens and batch-handler.ts for how a batch is stored.
 */
import { runWorker } from "@weather/service-kit";
import { SINK_WORKER } from "./config.ts";
import { isPostgresNullSocketBug } from "./database.ts";
import { isTransientDatabaseError } from "./outage.ts";
import { type Sink, startSink } from "./sink.ts";

let started: Sink | undefined;

await runWorker({
  ...SINK_WORKER,
  shutdownTimeoutMs: 30_000,
  // postgres.js 3.4.9 can throw from a timer when a backend dies under it, or leave a dead query's
  // rejection unobserved (porsager/postgres#1208): the transaction concerned has already failed
  // and is retried, so the process survives it on a fresh pool (see database.ts).
  survivable(error, logger) {
    if (!isPostgresNullSocketBug(error) && !isTransientDatabaseError(error)) return false;
    logger.warn(
      { err: error },
      "postgres.js failed outside any query (porsager/postgres#1208); renewing the pool",
    );
    started?.renewDatabasePool();
    return true;
  },
  async run(config, { logger, signal }) {
    const sink = await startSink(config, { logger });
    started = sink;
    try {
      const stopped = new Promise<"stopped">((resolve) =>
        signal.addEventListener("abort", () => resolve("stopped")),
      );
      const ending = await Promise.race([
        sink.caughtUp.then(() => "caught up" as const),
        sink.failed,
        stopped,
      ]);
      logger.info({ reason: ending }, "pg-sink shutting down");
      return "OK";
    } finally {
      await sink.stop();
    }
  },
});
