/**
 * dashboard: a live web page of the weather and the pipeline. Wiring only; see dashboard.ts for
 * what it opens and each source's module for what it reads.
 */
import { classifyFailure, dependencyOf, runWorker } from "@weather/service-kit";
import { DASHBOARD_WORKER } from "./config.ts";
import { startDashboard } from "./dashboard.ts";

await runWorker({
  ...DASHBOARD_WORKER,
  // Closing the page streams, the refresh in flight and the connections.
  shutdownTimeoutMs: 10_000,
  // A dependency going away (or refusing us) must never end the process: its source shows it.
  // postgres.js may raise a connection's failure between queries; kafkajs wraps its socket
  // errors in its own classes, so a bare socket error is postgres.js's.
  survivable(error, logger) {
    if (classifyFailure(dependencyOf(error) ?? "PostgreSQL", error).kind === "other") return false;
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
