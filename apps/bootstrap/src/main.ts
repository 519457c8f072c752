/**
 * bootstrap: makes an environment ready in one idempotent run: database, migrations, city
 * tables, topics, schemas. Wiring only; see bootstrap.ts for the steps.
 */
import { runWorker } from "@weather/service-kit";
import { runBootstrap } from "./bootstrap.ts";
import { BOOTSTRAP_SETTING_GROUPS, configureBootstrap } from "./config.ts";
import { runMaintenance } from "./maintenance.ts";
import { formatMaintenance, summarizeMaintenance } from "./maintenance-outcome.ts";
import { formatSummary, summarize } from "./outcome.ts";

await runWorker({
  name: "bootstrap",
  summary:
    "Makes an environment ready, idempotently: the database, its migrations and city tables, the sink's role, the topics and the reading schemas.",
  details: [
    "A second run changes nothing and says so; two runs at once both succeed with one set of objects.",
    "Exits 4 when an existing topic contradicts the configuration (its partition count), after doing the rest.",
    "With --maintain it only maintains the city tables' monthly partitions, for cron: months ahead created, rows moved out of the DEFAULT partitions, months past PARTITION_RETENTION_MONTHS dropped; safe to run concurrently and again.",
  ],
  settings: BOOTSTRAP_SETTING_GROUPS,
  configure: configureBootstrap,
  async run(config, { logger }) {
    if (config.maintain) {
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
