import type { Station } from "@weather/schema";
import type { Sql } from "postgres";

/** A station's newest stored reading. */
export interface LatestReading {
  readonly stationId: string;
  readonly city: string;
  /** ISO 8601, UTC; the page shows it in the city's time zone. */
  readonly observedAt: string;
  readonly temperatureC: number;
  readonly windSpeedKmh: number;
  readonly humidityPct: number;
  /** null when the station has no barometer (or sent schema version 1). */
  readonly pressureHpa: number | null;
}

export interface LatestReadings {
  /** The server's clock when it asked, so the page can age readings against the same clock. */
  readonly at: string;
  /** One per catalog station that has stored anything; stations without readings are absent. */
  readonly readings: readonly LatestReading[];
}

interface Row {
  station_id: string;
  city: string;
  observed_at: Date;
  temperature_c: number;
  wind_speed_kmh: number;
  humidity_pct: number;
  pressure_hpa: number | null;
  now: Date;
}

/**
 * The newest reading of each catalog station: per station, one descending walk of
 * (station_id, observed_at desc) in its city's table only (the city predicate prunes the other
 * partitions at run time), stopping at the first row. Costs the same on a year of readings as on
 * an hour, and stays so if a city table is later split by month (it then walks the newest month first).
 */
export async function queryLatestReadings(sql: Sql, stations: readonly Station[]): Promise<LatestReadings> {
  const rows = await sql<Row[]>`
    select s.station_id, r.city, r.observed_at, r.temperature_c, r.wind_speed_kmh, r.humidity_pct,
           r.pressure_hpa, now() as now
    from unnest(${stations.map((s) => s.city)}::text[], ${stations.map((s) => s.id)}::text[])
      as s(city, station_id)
    cross join lateral (
      select w.city, w.observed_at, w.temperature_c, w.wind_speed_kmh, w.humidity_pct, w.pressure_hpa
      from weather_readings w
      where w.city = s.city and w.station_id = s.station_id
      -- NULLS LAST as in the index (station_id, observed_at desc nulls last): with the default NULLS
      -- FIRST the index cannot give this order and PostgreSQL sorts the whole city table instead
      -- (1.2 s instead of 0.2 ms on a year of readings).
      order by w.observed_at desc nulls last
      limit 1
    ) r
    order by s.city, s.station_id`;
  return {
    at: (rows[0]?.now ?? new Date()).toISOString(),
    readings: rows.map((row) => ({
      stationId: row.station_id,
      city: row.city,
      observedAt: row.observed_at.toISOString(),
      temperatureC: row.temperature_c,
      windSpeedKmh: row.wind_speed_kmh,
      humidityPct: row.humidity_pct,
      pressureHpa: row.pressure_hpa,
    })),
  };
}
