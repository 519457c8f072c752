import type { Sql } from "postgres";

/** What one city's table holds. */
export interface CitySummary {
  readonly city: string;
  /** The city's table the rows are in (a partition of weather_readings, itself partitioned by month). */
  readonly table: string;
  /** Its month partitions, and the rows its DEFAULT partition holds (months without a partition). */
  readonly partitions: { readonly months: number; readonly rowsInDefault: number };
  readonly rows: number;
  readonly stations: number;
  readonly firstObservedAt: Date;
  readonly lastObservedAt: Date;
  readonly temperatureC: Stats;
  readonly windSpeedKmh: Stats;
  readonly humidityPct: Stats;
  /** Mean temperature over equal slices of the city's time span, oldest first. */
  readonly temperatureTrend: readonly number[];
}

export interface Stats {
  readonly min: number;
  readonly avg: number;
  readonly max: number;
}

interface SummaryRow {
  city: string;
  table_name: string;
  months: number;
  rows_in_default: string;
  rows: string;
  stations: string;
  first_observed_at: Date;
  last_observed_at: Date;
  t_min: number;
  t_avg: number;
  t_max: number;
  w_min: number;
  w_avg: number;
  w_max: number;
  h_min: number;
  h_avg: number;
  h_max: number;
}

/**
 * One pass over the partitioned table, grouped by city; each city is shown with its own table
 * (the partition of weather_readings its rows are in, found from any one row's leaf partition),
 * how many month partitions that table has, and how many rows wait in its DEFAULT partition.
 */
export async function summarizeCities(sql: Sql, trendPoints = 48): Promise<CitySummary[]> {
  const rows = await sql<SummaryRow[]>`
    with tables as (
      select c.oid as city_table, c.relname as table_name, nullif(p.partdefid, 0) as default_oid,
        (select count(*)::int from pg_inherits m where m.inhparent = c.oid and m.inhrelid <> p.partdefid) as months
      from pg_inherits i
      join pg_class c on c.oid = i.inhrelid
      left join pg_partitioned_table p on p.partrelid = c.oid
      where i.inhparent = 'weather_readings'::regclass
    ), per_city as (
      select city, min(tableoid) as leaf, count(*) filter (where tableoid in (select default_oid from tables)) as rows_in_default,
             count(*) as rows, count(distinct station_id) as stations,
             min(observed_at) as first_observed_at, max(observed_at) as last_observed_at,
             min(temperature_c) as t_min, avg(temperature_c) as t_avg, max(temperature_c) as t_max,
             min(wind_speed_kmh) as w_min, avg(wind_speed_kmh) as w_avg, max(wind_speed_kmh) as w_max,
             min(humidity_pct) as h_min, avg(humidity_pct) as h_avg, max(humidity_pct) as h_max
      from weather_readings
      group by city
    )
    select per_city.*, t.table_name, coalesce(t.months, 0) as months
    from per_city
    join tables t on t.city_table in (select relid from pg_partition_ancestors(per_city.leaf::regclass))
    order by city`;
  const trends = await sql<{ city: string; bucket: number; mean: number }[]>`
    select city, bucket, avg(temperature_c) as mean
    from (
      select city, temperature_c, ntile(${trendPoints}) over (partition by city order by observed_at) as bucket
      from weather_readings
    ) sliced
    group by city, bucket
    order by city, bucket`;
  return rows.map((row) => ({
    city: row.city,
    table: row.table_name,
    partitions: { months: row.months, rowsInDefault: Number(row.rows_in_default) },
    rows: Number(row.rows),
    stations: Number(row.stations),
    firstObservedAt: row.first_observed_at,
    lastObservedAt: row.last_observed_at,
    temperatureC: { min: row.t_min, avg: Number(row.t_avg), max: row.t_max },
    windSpeedKmh: { min: row.w_min, avg: Number(row.w_avg), max: row.w_max },
    humidityPct: { min: row.h_min, avg: Number(row.h_avg), max: row.h_max },
    temperatureTrend: trends.filter((trend) => trend.city === row.city).map((trend) => Number(trend.mean)),
  }));
}
