import { ConfigError, createLogger } from "@weather/service-kit";
import { readDashboardConfig } from "./config.ts";
import { type Dashboard, startDashboard } from "./dashboard.ts";
import { isSurvivable } from "./survivable.ts";

// Wiring only: configuration -> dashboard -> signals. The logic lives in the modules.
const logger = createLogger("dashboard");
/** Longest a shutdown may take: closing the page streams, the refresh in flight, the connections. */
const SHUTDOWN_TIMEOUT_MS = 10_000;

let config: ReturnType<typeof readDashboardConfig>;
try {
  config = readDashboardConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  logger.fatal(error.message);
  console.error(`dashboard: ${error.message}`);
  process.exit(2);
}

// A dependency going away must never end the process: its source shows it. Anything else is a bug.
for (const event of ["uncaughtException", "unhandledRejection"] as const) {
  process.on(event, (error: unknown) => {
    if (isSurvivable(error)) {
      logger.warn({ err: error }, `${event} from a client library while a service was away; carrying on`);
      return;
    }
    logger.fatal({ err: error }, `${event}; exiting`);
    process.exit(1);
  });
}

let dashboard: Dashboard;
try {
  dashboard = await startDashboard(config, logger);
} catch (error) {
  logger.fatal({ err: error }, (error as Error).message);
  console.error(`dashboard: ${(error as Error).message}`);
  process.exit(1);
}

let exiting = false;
async function exit(reason: string): Promise<void> {
  if (exiting) return;
  exiting = true;
  logger.info({ reason }, "dashboard shutting down");
  setTimeout(() => {
    logger.error(`shutdown took longer than ${SHUTDOWN_TIMEOUT_MS} ms; exiting anyway`);
    process.exit(1);
  }, SHUTDOWN_TIMEOUT_MS).unref();
  await dashboard.stop();
  process.exit(0);
}

process.once("SIGTERM", () => void exit("SIGTERM"));
process.once("SIGINT", () => void exit("SIGINT"));
