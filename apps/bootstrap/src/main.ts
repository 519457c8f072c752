/**
 * bootstrap: makes an environment ready in one idempotent run: database, migrations, city
 * tables, topics, schemas. Wiring only; see bootstrap.ts for the steps.
 */
import { runWorker } from "@weather/service-kit";
import { runBootstrap } from "./bootstrap.ts";
import { BOOTSTRAP_WORKER } from "./config.ts";
import { runMaintenance } from "./maintenance.ts";
import { formatMaintenance, summarizeMaintenance } from "./maintenance-outcome.ts";
import { formatSummary, summarize } from "./outcome.ts";

await runWorker({
  ...BOOTSTRAP_WORKER,
  async run(config, { logger }) {
    if (config.partitions.maintain) {
      const result = await runMaintenance(config, logger);
      const summary = summarizeMaintenance(result);
      logger.info({ summary, oldestKept: result.oldestKept }, "maintenance finished");
      console.log(formatMaintenance(summary, result));
      return "OK";
    }
    const summary = summarize(await runBootstrap(config, logger));
    logger.info({ summary }, "bootstrap finished");
    console.log(formatSummary(summary));
    return summary.conflicts.length > 0 ? "CONFLICT" : "OK";
  },
});
