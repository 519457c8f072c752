/**
 * sensor-producer: simulated weather stations sending readings to Kafka. Wiring only:
 * configuration -> simulation -> Kafka -> progress; the logic lives in the modules.
 */
import { type OpsServer, runWorker, startOpsServer } from "@weather/service-kit";
import { configureProducer, PRODUCER_HELP } from "./config.ts";
import { describeDistribution } from "./distribution.ts";
import { createManifestBuilder, writeManifest } from "./manifest.ts";
import { createMessyStream } from "./messy-stream.ts";
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
        unknownSchemaIds:
          config.mess.invalidFraction > 0 && config.mess.invalidKinds.includes("unknown-schema"),
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
          mess: config.mess,
        },
        "producing readings",
      );
      const progress = startProgress(logger, config.progressIntervalMs, registry);
      // Only a run that writes a manifest counts into one: its checksum hashes every reading
      // (SHA-256), a sixth of a backfill's CPU, for nothing when no manifest is asked for.
      const manifest = config.manifestPath === null ? undefined : createManifestBuilder();
      const { schedule } = config;
      const stream = createMessyStream(
        config.stations,
        config.seed,
        config.mess,
        schedule.kind === "simulated" ? schedule.stepMs : schedule.intervalMs,
        new Set(config.catalogStationIds),
      );
      try {
        await produceReadings({
          schedule,
          simulation: createSimulation(config.stations, config.seed, { pressure: config.schemaVersion >= 2 }),
          stream,
          destination: producer,
          batchSize: config.batchSize,
          ratePerSecond: config.ratePerSecond,
          signal,
          onSent: (batch, sendMs) => {
            progress.recordSent(batch, sendMs);
            manifest?.record(batch);
          },
        });
      } finally {
        progress.stop();
        await producer.close();
      }
      logger.info({ ...progress.summary(), stoppedBy: signal.aborted ? "signal" : "done" }, "stopped");
      if (config.manifestPath !== null && manifest !== undefined) {
        const { lateness, resendDelay, burstLength, ...knobs } = config.mess;
        const written = manifest.build({
          run: {
            seed: config.seed,
            topic: config.topic,
            format: config.format,
            schemaVersion: config.schemaVersion,
            stations: config.stationIds,
            schedule,
            mess: {
              ...knobs,
              lateness: describeDistribution(lateness),
              resendDelay: describeDistribution(resendDelay),
              burstLength: describeDistribution(burstLength),
            },
            stoppedBy: signal.aborted ? "signal" : "done",
          },
          bursts: stream.bursts,
          clockSkewMs: { ...stream.clockSkewMs },
        });
        writeManifest(config.manifestPath, written);
        logger.info(
          {
            path: config.manifestPath,
            valid: written.valid.readings,
            checksum: written.valid.checksum,
            resends: written.resends.sent,
            invalid: written.invalid.sent,
            late: written.late.outOfOrder,
          },
          "manifest written",
        );
      }
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
