import { loadStationCatalog } from "@weather/schema";
import { createLogger } from "@weather/service-kit";
import { readSinkConfig } from "./config.ts";
import { guardAgainstPostgresDefects } from "./database.ts";
import { type Sink, startSink } from "./sink.ts";

/** Longest a shutdown may take: the chunk in flight, the Kafka commit, leaving the group. */
const SHUTDOWN_TIMEOUT_MS = 30_000;

const logger = createLogger("pg-sink");

let config: ReturnType<typeof readSinkConfig>;
let catalog: ReturnType<typeof loadStationCatalog>;
try {
  config = readSinkConfig(process.env, process.argv.slice(2));
  catalog = loadStationCatalog(process.env);
} catch (error) {
  logger.fatal((error as Error).message);
  process.exit(2);
}

let started: Sink | undefined;
// Before anything connects: survives postgres.js's known defects, exits 1 on any other uncaught error.
guardAgainstPostgresDefects(logger, () => started?.renewDatabasePool());

const sink = await startSink(config, { logger, catalog }).catch((error: unknown) => {
  logger.fatal({ err: error }, "pg-sink could not start; is the stack up? run: pnpm stack up");
  process.exit(1);
});

started = sink;

let exiting = false;
async function exit(reason: string, code: number): Promise<void> {
  if (exiting) return;
  exiting = true;
  logger.info({ reason }, "pg-sink shutting down");
  setTimeout(() => {
    logger.error(`shutdown took longer than ${SHUTDOWN_TIMEOUT_MS} ms; exiting anyway`);
    process.exit(1);
  }, SHUTDOWN_TIMEOUT_MS).unref();
  await sink.stop();
  process.exit(code);
}

process.once("SIGTERM", () => void exit("SIGTERM", 0));
process.once("SIGINT", () => void exit("SIGINT", 0));
void sink.caughtUp.then(() => exit("caught up", 0));
sink.failed.catch((error: unknown) => {
  logger.fatal({ err: error }, "the Kafka consumer failed and will not restart");
  void exit("consumer failed", 1);
});
