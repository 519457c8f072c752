import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

export interface SinkMetrics {
  readonly registry: Registry;
  readonly messagesConsumed: Counter<"topic" | "partition">;
  readonly rowsWritten: Counter<"topic">;
  readonly duplicatesSkipped: Counter<"topic">;
  readonly deadLettered: Counter<"topic" | "reason">;
  readonly batchSize: Histogram;
  readonly batchDuration: Histogram;
  readonly partitionLag: Gauge<"topic" | "partition">;
  readonly waitingFor: Gauge<"dependency">;
}

/**
 * The sink's metrics, on a registry of its own rather than prom-client's global one, so several
 * sinks in one process (tests) do not collide.
 */
export function createSinkMetrics(): SinkMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "pg_sink_" });
  const registers = [registry];
  return {
    registry,
    messagesConsumed: new Counter({
      name: "pg_sink_messages_consumed_total",
      help: "Kafka messages the sink processed (stored, dead-lettered or found already stored)",
      labelNames: ["topic", "partition"],
      registers,
    }),
    rowsWritten: new Counter({
      name: "pg_sink_rows_written_total",
      help: "Readings inserted into PostgreSQL",
      labelNames: ["topic"],
      registers,
    }),
    duplicatesSkipped: new Counter({
      name: "pg_sink_duplicate_readings_total",
      help: "Valid readings not inserted because their reading_id was already stored",
      labelNames: ["topic"],
      registers,
    }),
    deadLettered: new Counter({
      name: "pg_sink_dead_lettered_total",
      help: "Messages sent to the dead-letter topic, by reason",
      labelNames: ["topic", "reason"],
      registers,
    }),
    batchSize: new Histogram({
      name: "pg_sink_batch_size",
      help: "Messages per PostgreSQL transaction",
      buckets: [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000],
      registers,
    }),
    batchDuration: new Histogram({
      name: "pg_sink_batch_duration_seconds",
      help: "Time to decode, store and commit one batch, retries included",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    partitionLag: new Gauge({
      name: "pg_sink_partition_lag",
      help: "Messages between the partition's high watermark and the sink's stored offset",
      labelNames: ["topic", "partition"],
      registers,
    }),
    waitingFor: new Gauge({
      name: "pg_sink_waiting_for",
      help: "1 while the sink waits for an unavailable dependency",
      labelNames: ["dependency"],
      registers,
    }),
  };
}
