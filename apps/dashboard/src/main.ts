/**
 * dashboard: a live web page of the weather and the pipeline. Wiring only; see dashboard.ts for
 * what it opens and each source's module for what it reads.
 */
import { runWorker } from "@weather/service-kit";
import { DASHBOARD_WORKER } from "./config.ts";
import { startDashboard } from "./dashboard.ts";
import { isSurvivable } from "./survivable.ts";

await runWorker({
  ...DASHBOARD_WORKER,
  // Closing the page streams, the refresh in flight and the connections.
  shutdownTimeoutMs: 10_000,
  // A dependency going away must never end the process: its source shows it.
  survivable(error, logger) {
    if (!isSurvivable(error)) return false;
    logger.warn(
      { err: error },
      "a client library failed outside any call while a service was away; carrying on",
    );
    return true;
  },
  async run(config, { logger, signal }) {
    const dashboard = await startDashboard(config, logger);
    try {
      await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
      return "OK";
    } finally {
      await dashboard.stop();
    }
  },
});
