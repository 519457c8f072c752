import type { Logger } from "@weather/service-kit";
import { Counter, Histogram, type Registry } from "prom-client";
import type { OutgoingMessage } from "./messy-stream.ts";

export interface ProgressSummary {
  readonly sent: number;
  readonly sentByStation: Readonly<Record<string, number>>;
  readonly elapsedMs: number;
  readonly readingsPerSecond: number;
}

/** Counts acknowledged messages, logs a progress line periodically, and feeds the metrics. */
export interface Progress {
  recordSent(batch: readonly OutgoingMessage[], sendMs?: number): void;
  summary(): ProgressSummary;
  stop(): void;
}

export function startProgress(
  logger: Logger,
  intervalMs: number,
  registry: Registry,
  now: () => number = performance.now.bind(performance),
): Progress {
  const sentTotal = new Counter({
    name: "weather_producer_readings_sent_total",
    help: "Messages acknowledged by Kafka (readings, re-sends and invalid ones), by station",
    labelNames: ["station"] as const,
    registers: [registry],
  });
  const sendSeconds = new Histogram({
    name: "weather_producer_send_duration_seconds",
    help: "Time from handing a batch to the producer until Kafka acknowledged all of it",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });

  const startedAt = now();
  const sentByStation: Record<string, number> = {};
  let sent = 0;
  let lastLogAt = startedAt;
  let sentAtLastLog = 0;

  const timer = setInterval(() => {
    const at = now();
    const recent = ((sent - sentAtLastLog) * 1000) / Math.max(1, at - lastLogAt);
    logger.info(
      {
        sent,
        readingsPerSecond: Math.round(recent),
        averagePerSecond: Math.round((sent * 1000) / Math.max(1, at - startedAt)),
      },
      "progress",
    );
    lastLogAt = at;
    sentAtLastLog = sent;
  }, intervalMs);
  timer.unref();

  return {
    recordSent(batch, sendMs) {
      // The counter once per station and batch, not per message: prom-client hashes the labels on every inc.
      const inBatch = new Map<string, number>();
      for (const { reading } of batch)
        inBatch.set(reading.stationId, (inBatch.get(reading.stationId) ?? 0) + 1);
      for (const [station, count] of inBatch) {
        sentByStation[station] = (sentByStation[station] ?? 0) + count;
        sentTotal.inc({ station }, count);
      }
      sent += batch.length;
      if (sendMs !== undefined) sendSeconds.observe(sendMs / 1000);
    },
    summary() {
      const elapsedMs = Math.round(now() - startedAt);
      return {
        sent,
        sentByStation: { ...sentByStation },
        elapsedMs,
        readingsPerSecond: Math.round((sent * 1000) / Math.max(1, elapsedMs)),
      };
    },
    stop() {
      clearInterval(timer);
    },
  };
}
