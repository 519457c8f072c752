import type { Sql } from "postgres";

/**
 * When readings arrived compared with when they were observed, per city. Two views:
 * - late: a reading stored after a reading of the same station observed later than it (the
 *   station's readings arrived out of order); "late by" is how much later that one was observed.
 *   Arrival order is the order rows were stored: ingested_at, then the Kafka offset (a station's
 *   readings share one partition, so its offsets order them within a transaction).
 * - delay: ingested_at - observed_at, from observation to storage. In real time it is the
 *   pipeline's latency plus any lateness; for a backfill it is mostly the backfill's age.
 * The producer's manifest counts the first view the same way (late.outOfOrder), so the two agree
 * for a stream it sent.
 */
export interface LateArrivals {
  readonly city: string;
  readonly readings: number;
  /** Readings stored after a later observation of their station. */
  readonly late: number;
  /** Median and largest lateness of those, in ms; null when none is late. */
  readonly lateMedianMs: number | null;
  readonly lateMaxMs: number | null;
  /** Observation to storage, in ms: median, 95th percentile, largest. */
  readonly delayMedianMs: number;
  readonly delayP95Ms: number;
  readonly delayMaxMs: number;
}

interface Row {
  city: string;
  readings: string;
  late: string;
  late_median_ms: number | null;
  late_max_ms: number | null;
  delay_median_ms: number;
  delay_p95_ms: number;
  delay_max_ms: number;
}

/** One window pass over every reading (a sort by station and arrival): seconds per million rows. */
export async function lateArrivals(sql: Sql): Promise<LateArrivals[]> {
  const rows = await sql<Row[]>`
    select city, count(*) as readings,
      count(late_ms) as late,
      percentile_disc(0.5) within group (order by late_ms) as late_median_ms,
      max(late_ms) as late_max_ms,
      percentile_disc(0.5) within group (order by delay_ms) as delay_median_ms,
      percentile_disc(0.95) within group (order by delay_ms) as delay_p95_ms,
      max(delay_ms) as delay_max_ms
    from (
      select city,
        extract(epoch from (ingested_at - observed_at))::float8 * 1000 as delay_ms,
        nullif(greatest(extract(epoch from (max(observed_at) over arrived_before - observed_at))::float8 * 1000, 0), 0) as late_ms
      from weather_readings
      window arrived_before as (
        partition by station_id order by ingested_at, source_offset
        rows between unbounded preceding and 1 preceding)
    ) arrivals
    group by city
    order by city`;
  return rows.map((row) => ({
    city: row.city,
    readings: Number(row.readings),
    late: Number(row.late),
    lateMedianMs: row.late_median_ms,
    lateMaxMs: row.late_max_ms,
    delayMedianMs: row.delay_median_ms,
    delayP95Ms: row.delay_p95_ms,
    delayMaxMs: row.delay_max_ms,
  }));
}
