import {
  createWorkerMetrics,
  PRODUCER_METRICS,
  packageVersion,
  type WorkerMetrics,
} from "@weather/service-kit";

/** What the producer counts: PRODUCER_METRICS (service-kit's worker-metrics.ts). */
export type ProducerMetrics = WorkerMetrics<typeof PRODUCER_METRICS>;

const VERSION = packageVersion(new URL("../package.json", import.meta.url));

/** A registry of its own, so tests and several producers in one process never share counters. */
export function createProducerMetrics(): ProducerMetrics {
  return createWorkerMetrics(PRODUCER_METRICS, VERSION);
}
