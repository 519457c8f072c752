import type { Logger } from "@weather/service-kit";
import type { OutgoingMessage } from "./messy-stream.ts";
import type { ProducerMetrics } from "./metrics.ts";

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
  metrics: ProducerMetrics,
  now: () => number = performance.now.bind(performance),
): Progress {
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
      // The counter once per city and batch, not per message: prom-client hashes the labels on every inc.
      const byCity = new Map<string, number>();
      for (const { reading } of batch) {
        sentByStation[reading.stationId] = (sentByStation[reading.stationId] ?? 0) + 1;
        byCity.set(reading.city, (byCity.get(reading.city) ?? 0) + 1);
      }
      for (const [city, count] of byCity) metrics.messagesSent.inc({ city }, count);
      sent += batch.length;
      if (sendMs !== undefined) metrics.sendDuration.observe(sendMs / 1000);
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
