import { createWorkerMetrics, packageVersion, SINK_METRICS, type WorkerMetrics } from "@weather/service-kit";

/** What the sink counts: SINK_METRICS (service-kit's worker-metrics.ts), on a registry of its own. */
export type SinkMetrics = WorkerMetrics<typeof SINK_METRICS>;

const VERSION = packageVersion(new URL("../package.json", import.meta.url));

/** A registry per sink, so several sinks in one process (tests) do not collide. */
export function createSinkMetrics(): SinkMetrics {
  return createWorkerMetrics(SINK_METRICS, VERSION);
}
