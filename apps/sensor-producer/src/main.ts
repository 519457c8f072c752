/**
 * sensor-producer: simulated weather stations sending readings to Kafka. Wiring only:
 * configuration -> simulation -> Kafka -> progress; the logic lives in the modules.
 */
import { type OpsServer, runWorker, startOpsServer } from "@weather/service-kit";
import { configureProducer, PRODUCER_HELP } from "./config.ts";
import { createMetricsRegistry } from "./metrics.ts";
import { produceReadings } from "./produce.ts";
import { startProgress } from "./progress.ts";
import { openReadingsProducer } from "./readings-producer.ts";
import { createSimulation } from "./simulate.ts";

await runWorker({
  ...PRODUCER_HELP,
  configure: (input) => configureProducer(input),
  // What is in flight when a stop signal comes is flushed; this bounds how long that may take.
  shutdownTimeoutMs: 30_000,
  async run(config, { logger, signal }) {
    const registry = createMetricsRegistry();
    let metrics: OpsServer | undefined;
    try {
      if (config.metricsPort !== null) {
        metrics = await startOpsServer({
          port: config.metricsPort,
          portSetting: "PRODUCER_METRICS_PORT",
          registry,
        });
        logger.info({ port: metrics.port }, "serving /healthz, /readyz and Prometheus metrics at /metrics");
      }
      logger.info({ brokers: config.kafkaBrokers, registry: config.schemaRegistryUrl }, "connecting");
      const opening = openReadingsProducer({
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
      const producer = await Promise.race([opening, abortion(signal)]);
      if (producer === undefined) {
        logger.info({ sent: 0 }, "stopped before connecting");
        return "OK";
      }
      logger.info(
        {
          topic: config.topic,
          format: config.format,
          schemaVersion: config.schemaVersion,
          schemaId: producer.schemaId,
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
          destination: producer,
          batchSize: config.batchSize,
          ratePerSecond: config.ratePerSecond,
          signal,
          onSent: (batch, sendMs) => progress.recordSent(batch, sendMs),
        });
      } finally {
        progress.stop();
        await producer.close();
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
