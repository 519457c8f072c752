/**
 * sensor-producer: simulated weather stations sending readings to Kafka. Wiring only:
 * configuration -> simulation -> Kafka -> progress; the logic lives in the modules.
 */
import { type OpsServer, runWorker, startOpsServer } from "@weather/service-kit";
import { PRODUCER_WORKER } from "./config.ts";
import { describeDistribution } from "./distribution.ts";
import { createManifestBuilder, writeManifest } from "./manifest.ts";
import { createMessyStream } from "./messy-stream.ts";
import { createProducerMetrics } from "./metrics.ts";
import { produceReadings } from "./produce.ts";
import { startProgress } from "./progress.ts";
import { openReadingsProducer } from "./readings-producer.ts";
import { createSimulation } from "./simulate.ts";

await runWorker({
  ...PRODUCER_WORKER,
  // What is in flight when a stop signal comes is flushed; this bounds how long that may take.
  shutdownTimeoutMs: 30_000,
  async run(config, { logger, signal }) {
    const { producer, mess, stations } = config;
    const topic = config.topics.readings;
    const metrics = createProducerMetrics();
    let opsServer: OpsServer | undefined;
    try {
      if (producer.metricsPort !== null) {
        opsServer = await startOpsServer({
          port: producer.metricsPort,
          portSetting: "PRODUCER_METRICS_PORT",
          registry: metrics.registry,
        });
        logger.info({ port: opsServer.port }, "serving /healthz, /readyz and Prometheus metrics at /metrics");
      }
      logger.info({ brokers: config.kafka.brokers, registry: config.registry.url }, "connecting");
      const opening = openReadingsProducer({
        kafka: config.kafka,
        registry: config.registry,
        topic,
        format: producer.format,
        schemaVersion: producer.schemaVersion,
        compression: producer.compression,
        sendTimeoutMs: producer.sendTimeoutMs,
        unknownSchemaIds: mess.invalidFraction > 0 && mess.invalidKinds.includes("unknown-schema"),
        logger,
      });
      // A stop signal while still connecting (kafkajs may be retrying for a minute) ends the run at
      // once: nothing was generated, so nothing can be lost. The exit abandons the pending connect.
      const readingsProducer = await Promise.race([opening, abortion(signal)]);
      if (readingsProducer === undefined) {
        logger.info({ sent: 0 }, "stopped before connecting");
        return "OK";
      }
      const stationIds = stations.selected.map((station) => station.id);
      logger.info(
        {
          topic,
          format: producer.format,
          schemaVersion: producer.schemaVersion,
          schemaId: readingsProducer.schemaId,
          stations: stationIds,
          schedule: producer.schedule,
          ratePerSecond: producer.ratePerSecond,
          seed: producer.seed,
          mess,
        },
        "producing readings",
      );
      const progress = startProgress(logger, producer.progressIntervalMs, metrics);
      // Only a run that writes a manifest counts into one: its checksum hashes every reading
      // (SHA-256), a sixth of a backfill's CPU, for nothing when no manifest is asked for.
      const manifest = producer.manifestPath === null ? undefined : createManifestBuilder();
      const { schedule, seed } = producer;
      const stream = createMessyStream(
        stations.selected,
        seed,
        mess,
        schedule.kind === "simulated" ? schedule.stepMs : schedule.intervalMs,
        new Set(stations.catalog.stations.map((station) => station.id)),
      );
      try {
        await produceReadings({
          schedule,
          simulation: createSimulation(stations.selected, seed, { pressure: producer.schemaVersion >= 2 }),
          stream,
          destination: readingsProducer,
          batchSize: producer.batchSize,
          ratePerSecond: producer.ratePerSecond,
          signal,
          onSent: (batch, sendMs) => {
            progress.recordSent(batch, sendMs);
            manifest?.record(batch);
          },
        });
      } finally {
        progress.stop();
        await readingsProducer.close();
      }
      logger.info({ ...progress.summary(), stoppedBy: signal.aborted ? "signal" : "done" }, "stopped");
      if (producer.manifestPath !== null && manifest !== undefined) {
        const { lateness, resendDelay, burstLength, ...knobs } = mess;
        const written = manifest.build({
          run: {
            seed,
            topic,
            format: producer.format,
            schemaVersion: producer.schemaVersion,
            stations: stationIds,
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
        writeManifest(producer.manifestPath, written);
        logger.info(
          {
            path: producer.manifestPath,
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
      await opsServer?.close();
    }
  },
});

function abortion(signal: AbortSignal): Promise<undefined> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve(undefined);
    else signal.addEventListener("abort", () => resolve(undefined), { once: true });
  });
}
