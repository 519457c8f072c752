/**
 * sensor-producer: simulated weather stations sending readings to Kafka. Wiring only:
 * configuration -> simulation -> Kafka -> progress; the logic lives in the modules.
 */
import { runWorker } from "@weather/service-kit";
import { configureProducer, PRODUCER_HELP } from "./config.ts";
import { openKafkaSink } from "./kafka-sink.ts";
import { createMetricsRegistry, type MetricsServer, startMetricsServer } from "./metrics.ts";
import { produceReadings } from "./produce.ts";
import { startProgress } from "./progress.ts";
import { createSimulation } from "./simulate.ts";

await runWorker({
  ...PRODUCER_HELP,
  configure: (input) => configureProducer(input),
  // What is in flight when a stop signal comes is flushed; this bounds how long that may take.
  shutdownTimeoutMs: 30_000,
  async run(config, { logger, signal }) {
    const registry = createMetricsRegistry();
    let metrics: MetricsServer | undefined;
    try {
      if (config.metricsPort !== null)
        metrics = await startMetricsServer(registry, config.metricsPort, logger);
      logger.info({ brokers: config.kafkaBrokers, registry: config.schemaRegistryUrl }, "connecting");
      const opening = openKafkaSink({
        brokers: config.kafkaBrokers,
        security: config.kafkaSecurity,
        schemaRegistryUrl: config.schemaRegistryUrl,
        topic: config.topic,
        format: config.format,
        schemaVersion: config.schemaVersion,
        compression: config.compression,
        sendTimeoutMs: config.sendTimeoutMs,
        logger,
      });
      // A stop signal while still connecting (kafkajs may be retrying for a minute) ends the run at
      // once: nothing was generated, so nothing can be lost. The exit abandons the pending connect.
      const sink = await Promise.race([opening, abortion(signal)]);
      if (sink === undefined) {
        logger.info({ sent: 0 }, "stopped before connecting");
        return "OK";
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
          simulation: createSimulation(config.stations, config.seed, { pressure: config.schemaVersion >= 2 }),
          sink,
          batchSize: config.batchSize,
          ratePerSecond: config.ratePerSecond,
          signal,
          onSent: (batch, sendMs) => progress.recordSent(batch, sendMs),
        });
      } finally {
        progress.stop();
        await sink.close();
      }
      logger.info({ ...progress.summary(), stoppedBy: signal.aborted ? "signal" : "done" }, "stopped");
      return "OK";
    } finally {
      await metrics?.close();
    }
  },
});

function abortion(signal: AbortSignal): Promise<undefined> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve(undefined);
    else signal.addEventListener("abort", () => resolve(undefined), { once: true });
  });
}
