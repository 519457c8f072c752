/**
 * pg-sink: consumes the readings topic and stores each reading exactly once in PostgreSQL.
 * Wiring only; see sink.ts for what it opens and batch-handler.ts for how a batch is stored.
 */
import { runWorker } from "@weather/service-kit";
import { configureSink, SINK_SETTING_GROUPS } from "./config.ts";
import { startSink } from "./sink.ts";

await runWorker({
  name: "pg-sink",
  summary:
    "Consumes the readings topic and stores each reading exactly once in PostgreSQL, one table per city.",
  usage: "[--until-caught-up]",
  details: [
    "Rows and each partition's offset commit in one transaction; messages it cannot store go to <topic>.dlq.",
    "/healthz, /readyz and /metrics are served on SINK_HTTP_PORT. SIGTERM finishes the chunk in flight.",
  ],
  settings: SINK_SETTING_GROUPS,
  configure: configureSink,
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
