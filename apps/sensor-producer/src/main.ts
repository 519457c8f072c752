import { loadStationCatalog } from "@weather/schema";
import { ConfigError, createLogger } from "@weather/service-kit";
import { parseCommandLine } from "./config.ts";
import { openKafkaSink } from "./kafka-sink.ts";
import { createMetricsRegistry, type MetricsServer, startMetricsServer } from "./metrics.ts";
import { produceReadings } from "./produce.ts";
import { startProgress } from "./progress.ts";
import { handleStopSignals } from "./shutdown.ts";
import { createSimulation } from "./simulate.ts";

// Wiring only: configuration -> simulation -> Kafka sink -> signals. The logic lives in the modules.
const logger = createLogger("sensor-producer");
const SHUTDOWN_GRACE_MS = 30_000;

function exitNow(code: number): never {
  process.exit(code);
}

async function main(): Promise<number> {
  let parsed: ReturnType<typeof parseCommandLine>;
  let catalog: ReturnType<typeof loadStationCatalog>;
  try {
    catalog = loadStationCatalog(process.env);
    parsed = parseCommandLine(
      process.argv.slice(2),
      process.env,
      catalog.stations.map((station) => station.id),
    );
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems)
      console.error(`sensor-producer: ${problem.setting}: ${problem.message}`);
    return 2;
  }
  if (parsed.kind === "help") {
    console.log(parsed.text);
    return 0;
  }
  const { config } = parsed;
  const stations = catalog.stations.filter((station) => config.stationIds.includes(station.id));

  const stop = handleStopSignals(logger, SHUTDOWN_GRACE_MS, exitNow);
  const registry = createMetricsRegistry();
  let metrics: MetricsServer | undefined;
  try {
    if (config.metricsPort !== null) metrics = await startMetricsServer(registry, config.metricsPort, logger);
    logger.info({ brokers: config.kafkaBrokers, registry: config.schemaRegistryUrl }, "connecting");
    const opening = openKafkaSink({
      brokers: config.kafkaBrokers,
      security: config.kafkaSecurity,
      schemaRegistryUrl: config.schemaRegistryUrl,
      topic: config.topic,
      format: config.format,
      schemaVersion: config.schemaVersion,
      compression: config.compression,
      logger,
    });
    // A stop signal while still connecting (kafkajs may be retrying for a minute) ends the run at
    // once: nothing was generated, so nothing can be lost. The exit abandons the pending connect.
    const sink = await Promise.race([opening, abortion(stop.signal)]);
    if (sink === undefined) {
      logger.info({ sent: 0 }, "stopped before connecting");
      return 0;
    }
    logger.info(
      {
        topic: config.topic,
        format: config.format,
        schemaVersion: config.schemaVersion,
        schemaId: sink.schemaId,
        stations: config.stationIds,
        schedule: config.schedule,
        ratePerSecond: config.ratePerSecond,
        seed: config.seed,
      },
      "producing readings",
    );
    const progress = startProgress(logger, config.progressIntervalMs, registry);
    try {
      await produceReadings({
        schedule: config.schedule,
        simulation: createSimulation(stations, config.seed, { pressure: config.schemaVersion >= 2 }),
        sink,
        batchSize: config.batchSize,
        ratePerSecond: config.ratePerSecond,
        signal: stop.signal,
        onSent: (batch, sendMs) => progress.recordSent(batch, sendMs),
      });
    } finally {
      progress.stop();
      await sink.close();
    }
    logger.info({ ...progress.summary(), stoppedBy: stop.signal.aborted ? "signal" : "done" }, "stopped");
    return 0;
  } finally {
    await metrics?.close();
    stop.dispose();
  }
}

function abortion(signal: AbortSignal): Promise<undefined> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve(undefined);
    else signal.addEventListener("abort", () => resolve(undefined), { once: true });
  });
}

main().then(exitNow, (error: unknown) => {
  // The message is written for an operator and already names its cause; the stack is for us.
  const message = error instanceof Error ? error.message : String(error);
  logger.fatal({ stack: error instanceof Error ? error.stack : undefined }, message);
  exitNow(1);
});
