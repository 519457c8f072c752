import { MAX_FUTURE_SKEW_MS } from "@weather/schema";
import type { Sql } from "postgres";

/** A span of time charted per city, in buckets of equal length. */
export interface SeriesWindow {
  readonly name: "day" | "week";
  readonly spanMs: number;
  readonly bucketMs: number;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** The last 24 hours in 10-minute buckets (144 points) and the last 7 days in hours (168 points). */
export const DAY_WINDOW: SeriesWindow = Object.freeze({
  name: "day",
  spanMs: 24 * HOUR,
  bucketMs: 10 * MINUTE,
});
export const WEEK_WINDOW: SeriesWindow = Object.freeze({
  name: "week",
  spanMs: 7 * 24 * HOUR,
  bucketMs: HOUR,
});

/**
 * One city's window as columns (the shape uPlot draws): bucket start times in seconds, and per
 * bucket the count, the mean/min/max temperature and the mean wind, humidity and pressure.
 */
export interface CitySeries {
  readonly city: string;
  readonly time: number[];
  readonly count: number[];
  readonly temperatureAvg: number[];
  readonly temperatureMin: number[];
  readonly temperatureMax: number[];
  readonly windAvg: number[];
  readonly humidityAvg: number[];
  readonly pressureAvg: (number | null)[];
}

/** The whole window, summed up per city: the figures shown beside the chart. */
export interface CitySummary {
  readonly city: string;
  readonly readings: number;
  readonly temperatureMin: number;
  readonly temperatureAvg: number;
  readonly temperatureMax: number;
}

export interface SeriesResult {
  readonly window: SeriesWindow["name"];
  /** Inclusive start (a bucket boundary) and exclusive end of the rows counted, ISO 8601. */
  readonly from: string;
  readonly to: string;
  /** When the window was computed, ISO 8601: the charts end here. */
  readonly at: string;
  readonly bucketSeconds: number;
  readonly cities: readonly CitySeries[];
  readonly summaries: readonly CitySummary[];
}

interface Row {
  city: string;
  bucket: Date;
  n: number;
  t_avg: number;
  t_sum: number;
  t_min: number;
  t_max: number;
  w_avg: number;
  h_avg: number;
  p_avg: number | null;
}

/** The window at `now`: from the first bucket boundary within the span, to a little ahead of now. */
function boundsOf(window: SeriesWindow, now: Date): { from: Date; to: Date } {
  return {
    from: new Date(Math.ceil((now.getTime() - window.spanMs) / window.bucketMs) * window.bucketMs),
    // Readings may be stamped up to MAX_FUTURE_SKEW_MS ahead of the clock.
    to: new Date(now.getTime() + MAX_FUTURE_SKEW_MS),
  };
}

/**
 * The buckets of [from, to), aggregated by PostgreSQL: only (cities x buckets) rows leave the
 * server, never the readings. The range predicate on observed_at is what keeps this fast on a year
 * of readings: the BRIN index skips the blocks outside the range today, and the planner prunes
 * whole partitions should the city tables be split by month. `from` is a bucket boundary.
 */
async function queryBuckets(sql: Sql, window: SeriesWindow, from: Date, to: Date): Promise<Row[]> {
  const bucket = `${window.bucketMs / 1000} seconds`;
  return sql<Row[]>`
    select city, date_bin(${bucket}::interval, observed_at, timestamptz '2000-01-01 00:00:00+00') as bucket,
           count(*)::int as n,
           avg(temperature_c) as t_avg, sum(temperature_c) as t_sum, min(temperature_c) as t_min, max(temperature_c) as t_max,
           avg(wind_speed_kmh) as w_avg, avg(humidity_pct) as h_avg, avg(pressure_hpa) as p_avg
    from weather_readings
    where observed_at >= ${from} and observed_at < ${to}
    group by city, bucket
    order by city, bucket`;
}

function resultOf(window: SeriesWindow, now: Date, rows: readonly Row[]): SeriesResult {
  const { from, to } = boundsOf(window, now);
  return {
    window: window.name,
    from: from.toISOString(),
    to: to.toISOString(),
    at: now.toISOString(),
    bucketSeconds: window.bucketMs / 1000,
    cities: toColumns(rows),
    summaries: summarize(rows),
  };
}

/** The whole window in one query. */
export async function queryCitySeries(sql: Sql, window: SeriesWindow, now: Date): Promise<SeriesResult> {
  const { from, to } = boundsOf(window, now);
  return resultOf(window, now, await queryBuckets(sql, window, from, to));
}

/**
 * A window kept up to date cheaply: the first refresh (and one every `recomputeEveryMs`) queries
 * the whole window; the others only the two newest buckets (and any stamped ahead), keeping the
 * older ones. Readings arrive in time order give or take a bucket, so the steady cost is that of
 * a few minutes of readings, not of seven days. Readings stored later for older buckets (a backfill)
 * show at the next recomputation.
 */
export class CitySeriesCache {
  private readonly window: SeriesWindow;
  private readonly recomputeEveryMs: number;
  private readonly buckets = new Map<string, Row>();
  private computedAt = Number.NEGATIVE_INFINITY;

  constructor(window: SeriesWindow, recomputeEveryMs: number) {
    this.window = window;
    this.recomputeEveryMs = recomputeEveryMs;
  }

  async refresh(sql: Sql, now: Date): Promise<SeriesResult> {
    const { from, to } = boundsOf(this.window, now);
    const whole = now.getTime() - this.computedAt >= this.recomputeEveryMs;
    const newest = Math.floor(now.getTime() / this.window.bucketMs) * this.window.bucketMs;
    const since = whole ? from : new Date(Math.max(from.getTime(), newest - this.window.bucketMs));
    const rows = await queryBuckets(sql, this.window, since, to);
    if (whole) {
      this.buckets.clear();
      this.computedAt = now.getTime();
    }
    for (const [key, row] of this.buckets) {
      if (row.bucket < from || row.bucket >= since) this.buckets.delete(key);
    }
    for (const row of rows) this.buckets.set(`${row.city}|${row.bucket.getTime()}`, row);
    const kept = [...this.buckets.values()].sort(
      (a, b) => a.city.localeCompare(b.city) || a.bucket.getTime() - b.bucket.getTime(),
    );
    return resultOf(this.window, now, kept);
  }
}

/**
 * The window's figures per city from its buckets: counts add up, extremes are extremes of the
 * buckets', and the mean is the sum over the count (each bucket carries its exact sum).
 */
function summarize(rows: readonly Row[]): CitySummary[] {
  const byCity = new Map<string, { n: number; sum: number; min: number; max: number }>();
  for (const row of rows) {
    const city = byCity.get(row.city) ?? { n: 0, sum: 0, min: Infinity, max: -Infinity };
    city.n += row.n;
    city.sum += row.t_sum;
    city.min = Math.min(city.min, row.t_min);
    city.max = Math.max(city.max, row.t_max);
    byCity.set(row.city, city);
  }
  return [...byCity].map(([city, s]) => ({
    city,
    readings: s.n,
    temperatureMin: s.min,
    temperatureAvg: s.sum / s.n,
    temperatureMax: s.max,
  }));
}

function toColumns(rows: readonly Row[]): CitySeries[] {
  const byCity = new Map<string, CitySeries>();
  for (const row of rows) {
    let series = byCity.get(row.city);
    if (!series) {
      series = {
        city: row.city,
        time: [],
        count: [],
        temperatureAvg: [],
        temperatureMin: [],
        temperatureMax: [],
        windAvg: [],
        humidityAvg: [],
        pressureAvg: [],
      };
      byCity.set(row.city, series);
    }
    series.time.push(row.bucket.getTime() / 1000);
    series.count.push(row.n);
    series.temperatureAvg.push(row.t_avg);
    series.temperatureMin.push(row.t_min);
    series.temperatureMax.push(row.t_max);
    series.windAvg.push(row.w_avg);
    series.humidityAvg.push(row.h_avg);
    series.pressureAvg.push(row.p_avg);
  }
  return [...byCity.values()];
}
