/**
 * Every metric the workers serve, declared once. They live here, not in the apps, because other
 * members read them by name: the dashboard scrapes the sinks' /metrics, the tests and the
 * reliability suite assert on them. Each worker's README shows its table (`pnpm docs:settings`).
 */
import { defineWorkerMetrics } from "./metrics.ts";

/** Buckets for a duration from milliseconds to half a minute (a send, a chunk's transaction). */
const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export const SINK_METRICS = defineWorkerMetrics({
  worker: "sink",
  labels: {
    topic: "the readings topic the sink consumes (`READINGS_TOPIC`): one value",
    partition: "a partition of that topic: as many values as it has partitions (6 by default)",
    reason:
      "why a message was dead-lettered, as its dead letter's `dlq.error.kind` header says: one of the closed list of poison kinds (`PoisonKind` in `src/poison.ts`: `bad-magic-byte`, `unknown-schema`, `invalid`, `no-table`, ...)",
    dependency: "the dependency waited for: `PostgreSQL`, `schema registry` or `Kafka`",
  },
  metrics: {
    messagesConsumed: {
      type: "counter",
      name: "messages_consumed_total",
      help: "Kafka messages the sink processed (stored, dead-lettered or found already stored)",
      labels: ["topic", "partition"],
    },
    rowsWritten: {
      type: "counter",
      name: "rows_written_total",
      help: "Readings inserted into PostgreSQL",
      labels: ["topic"],
    },
    duplicatesSkipped: {
      type: "counter",
      name: "duplicate_readings_total",
      help: "Valid readings not inserted because their reading_id was already stored",
      labels: ["topic"],
    },
    deadLettered: {
      type: "counter",
      name: "dead_letters_total",
      help: "Messages sent to the dead-letter topic, by reason",
      labels: ["topic", "reason"],
    },
    chunkMessages: {
      type: "histogram",
      name: "chunk_messages",
      help: "Messages per chunk, each stored in one PostgreSQL transaction (at most SINK_BATCH_SIZE)",
      buckets: [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000],
    },
    chunkDuration: {
      type: "histogram",
      name: "chunk_duration_seconds",
      help: "Time to decode, store and commit one chunk, retries included",
      buckets: SECONDS_BUCKETS,
    },
    partitionLag: {
      type: "gauge",
      name: "partition_lag_messages",
      help: "Messages between the partition's high watermark and the sink's stored offset",
      labels: ["topic", "partition"],
    },
    waitingFor: {
      type: "gauge",
      name: "waiting_for",
      help: "1 while the sink waits for an unavailable dependency",
      labels: ["dependency"],
    },
  },
});

/**
 * The producer counts by city, not by station: a catalog may list many stations, while its cities
 * are few and are what PostgreSQL stores by (a table each), so the series are bounded by the
 * catalog's cities and line up with the sink's tables. Per-station counts are in the run's last
 * log line and its manifest.
 */
export const PRODUCER_METRICS = defineWorkerMetrics({
  worker: "producer",
  labels: {
    city: "the city of the station that sent the message: one of the station catalog's cities (two built in, plus those of `STATIONS_FILE`); an invalid message counts under its station's city",
  },
  metrics: {
    messagesSent: {
      type: "counter",
      name: "messages_sent_total",
      help: "Messages acknowledged by Kafka (readings, re-sends and invalid ones), by city",
      labels: ["city"],
    },
    sendDuration: {
      type: "histogram",
      name: "send_duration_seconds",
      help: "Time from handing a batch to the producer until Kafka acknowledged all of it",
      buckets: SECONDS_BUCKETS,
    },
  },
});
