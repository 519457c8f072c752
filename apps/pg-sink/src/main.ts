/**
 * pg-sink: consumes the readings topic and stores each reading exactly once in PostgreSQL.
 * Wiring only; see sink.ts for what it opens and batch-handler.ts for how a batch is stored.
 */
import { runWorker } from "@weather/service-kit";
import { SINK_WORKER } from "./config.ts";
import { startSink } from "./sink.ts";

await runWorker({
  ...SINK_WORKER,
  shutdownTimeoutMs: 30_000,
  async run(config, { logger, signal }) {
    const sink = await startSink(config, { logger });
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
