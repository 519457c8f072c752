import { type MaintenanceResult, maintainPartitions, NotBootstrappedError } from "@weather/db";
import { type Logger, postgresOptions, WorkerError } from "@weather/service-kit";
import type { BootstrapConfig } from "./config.ts";
import { BootstrapError } from "./errors.ts";
import { postgresProbe, waitForServices } from "./wait-for-services.ts";

/**
 * The maintenance of the monthly partitions (`--maintain`), for cron: waits for PostgreSQL only,
 * then maintainPartitions (packages/weather-db): months ahead created, rows moved out of the
 * DEFAULT partitions, months past the retention dropped. Concurrent runs take turns on the schema
 * lock; a second run finds nothing to do.
 * @throws WorkerError DEPENDENCY_UNAVAILABLE when PostgreSQL is unreachable, refuses a step, or
 *   the database was never bootstrapped.
 */
export async function runMaintenance(
  config: BootstrapConfig,
  log: Logger,
  now: Date = new Date(),
): Promise<MaintenanceResult> {
  const databaseUrl = config.postgres.url;
  const pg = postgresOptions(config.postgres);
  const probe = postgresProbe(databaseUrl, pg);
  await waitForServices([probe], { waitMs: config.bootstrap.waitMs, log });
  const where = `${probe.address}${new URL(databaseUrl).pathname}`;
  const { window } = config.partitions;
  try {
    return await maintainPartitions(
      databaseUrl,
      { now, monthsAhead: window.monthsAhead, retentionMonths: window.retentionMonths },
      pg,
    );
  } catch (error) {
    if (error instanceof NotBootstrappedError) {
      throw new WorkerError("DEPENDENCY_UNAVAILABLE", `nothing to maintain at ${where}: ${error.message}`, {
        cause: error,
        hint: "run bootstrap first: pnpm --filter bootstrap start",
      });
    }
    throw new BootstrapError(
      "cannot maintain the monthly partitions",
      where,
      error,
      "check DATABASE_URL and the PostgreSQL server log; a run that waited too long for a lock (55P03) can simply run again",
    );
  }
}
