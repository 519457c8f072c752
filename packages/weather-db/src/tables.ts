import { sql } from "drizzle-orm";
import {
  bigint,
  doublePrecision,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uuid,
} from "drizzle-orm/pg-core";

/**
 * One logical table for every reading, LIST-partitioned by `city` into `weather_readings_<city>`
 * (see ensureCityPartitions), each of which is RANGE-partitioned by month of observed_at, with a
 * DEFAULT partition (see monthly-partitions.ts). drizzle-kit cannot express PARTITION BY, so the
 * migrations drizzle/0000_*.sql and 0001_*.sql were edited by hand; the snapshot in drizzle/meta
 * does not know, and need not: later `drizzle-kit generate` runs diff columns and indexes, which
 * partitioning leaves alone.
 *
 * Why the primary key is (city, reading_id, observed_at) and not reading_id alone: PostgreSQL only
 * enforces a unique constraint on a partitioned table when it includes every partition key column
 * of every level, because each leaf partition checks uniqueness on its own. That still means a
 * reading is never stored twice: a reading's city is fixed by its station and its observed_at by
 * the reading itself (a re-send carries the same bytes), so the same reading_id always lands in the
 * same leaf partition and collides there. packages/weather-db/README.md has the full argument.
 */
export const weatherReadings = pgTable(
  "weather_readings",
  {
    readingId: uuid("reading_id").notNull(),
    stationId: text("station_id").notNull(),
    city: text("city").notNull(),
    observedAt: timestamp("observed_at", { withTimezone: true, precision: 3, mode: "date" }).notNull(),
    temperatureC: doublePrecision("temperature_c").notNull(),
    windSpeedKmh: doublePrecision("wind_speed_kmh").notNull(),
    humidityPct: doublePrecision("humidity_pct").notNull(),
    pressureHpa: doublePrecision("pressure_hpa"),
    ingestedAt: timestamp("ingested_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    // Where the row came from, so any row can be traced back to its Kafka message.
    sourceTopic: text("source_topic").notNull(),
    sourcePartition: integer("source_partition").notNull(),
    sourceOffset: bigint("source_offset", { mode: "bigint" }).notNull(),
  },
  (t) => [
    primaryKey({ name: "weather_readings_pkey", columns: [t.city, t.readingId, t.observedAt] }),
    // "Latest reading per station": an index-only walk from the newest entry of each station, and
    // station-scoped time ranges.
    index("weather_readings_station_observed_idx").on(t.stationId, t.observedAt.desc()),
    // Time ranges across stations: BRIN, not btree. Readings are inserted in roughly observed
    // order, so a block's physical position correlates with observed_at; a BRIN index is then a few
    // pages instead of a btree as large as the column, and costs next to nothing per insert on this
    // append-mostly table. Late arrivals widen a range's min/max a little, which only costs a recheck.
    index("weather_readings_observed_brin").using("brin", t.observedAt),
  ],
);

/**
 * The next Kafka offset to consume per (consumer group, topic, partition). The sink writes it in
 * the same transaction as the readings, so rows and progress commit or roll back together.
 */
export const consumerOffsets = pgTable(
  "consumer_offsets",
  {
    consumerGroup: text("consumer_group").notNull(),
    topic: text("topic").notNull(),
    partition: integer("partition").notNull(),
    nextOffset: bigint("next_offset", { mode: "bigint" }).notNull(),
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().default(sql`now()`),
  },
  (t) => [primaryKey({ name: "consumer_offsets_pkey", columns: [t.consumerGroup, t.topic, t.partition] })],
);

/**
 * Messages whose reading was stored before, from another offset: a producer that re-sent, a
 * backfill run twice. The sink records each one in the transaction that moves the offset past it,
 * so that `verify` can account for every offset of the topic: a stored row, a dead letter, or one
 * of these. The reading itself stays where it was first stored.
 */
export const readingResends = pgTable(
  "reading_resends",
  {
    sourceTopic: text("source_topic").notNull(),
    sourcePartition: integer("source_partition").notNull(),
    sourceOffset: bigint("source_offset", { mode: "bigint" }).notNull(),
    readingId: uuid("reading_id").notNull(),
    city: text("city").notNull(),
    observedAt: timestamp("observed_at", { withTimezone: true, precision: 3, mode: "date" }).notNull(),
    recordedAt: timestamp("recorded_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: "reading_resends_pkey", columns: [t.sourceTopic, t.sourcePartition, t.sourceOffset] }),
  ],
);

export type WeatherReadingRow = typeof weatherReadings.$inferSelect;
export type NewWeatherReadingRow = typeof weatherReadings.$inferInsert;
export type ConsumerOffsetRow = typeof consumerOffsets.$inferSelect;
