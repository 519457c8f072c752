import { combineChecksums, READINGS_CHECKSUM_ALGORITHM } from "@weather/schema";
import type { Sql } from "postgres";

/**
 * One stored row's digest, as a signed bigint: @weather/schema's readingDigest in SQL (the
 * definition is written out there, READINGS_CHECKSUM_ALGORITHM). `+ 0::float8` turns -0 into +0
 * as the JavaScript side does; extract(epoch ...) is numeric from PostgreSQL 14 on, so the
 * milliseconds are exact. Signed or unsigned, the sum is the same modulo 2^64.
 */
export const READING_DIGEST_SQL = `('x' || encode(substr(sha256(
    uuid_send(reading_id)
    || int8send((extract(epoch from observed_at) * 1000)::bigint)
    || float8send(temperature_c + 0::float8)
    || float8send(wind_speed_kmh + 0::float8)
    || float8send(humidity_pct + 0::float8)
    || case when pressure_hpa is null then '\\x00'::bytea else '\\x01'::bytea || float8send(pressure_hpa + 0::float8) end
    || int4send(length(convert_to(station_id, 'UTF8'))) || convert_to(station_id, 'UTF8')
    || int4send(length(convert_to(city, 'UTF8'))) || convert_to(city, 'UTF8')
  ), 1, 8), 'hex'))::bit(64)::bigint`;

/** sum(digest) as numeric (exact) -> the checksum's 16 hex digits, reduced modulo 2^64 in SQL. */
const CHECKSUM_OF_SUM_SQL = `lpad(to_hex((case when s.m >= 9223372036854775808 then s.m - 18446744073709551616 else s.m end)::bigint), 16, '0')`;

export interface StoredChecksum {
  readonly city: string;
  readonly readings: number;
  /** 16 hex digits, READINGS_CHECKSUM_ALGORITHM. */
  readonly checksum: string;
}

export interface StoredChecksums {
  readonly algorithm: string;
  readonly readings: number;
  readonly checksum: string;
  /** Per city, in city order. */
  readonly cities: readonly StoredChecksum[];
}

/**
 * The checksum of the readings weather_readings holds, per city and in all: one sequential pass,
 * about two seconds per million rows on a 2-core machine. The producer's manifest carries the same figures for what it
 * sent, so the two compare exactly when every valid reading was stored once.
 */
export async function storedReadingsChecksums(sql: Sql): Promise<StoredChecksums> {
  const rows = await sql.unsafe<{ city: string; readings: string; checksum: string }[]>(`
    select s.city, s.readings, ${CHECKSUM_OF_SUM_SQL} as checksum
    from (
      select city, count(*)::text as readings,
        mod(mod(sum(${READING_DIGEST_SQL}), 18446744073709551616) + 18446744073709551616, 18446744073709551616) as m
      from weather_readings group by city
    ) s
    order by s.city`);
  const cities = rows.map((row) => ({
    city: row.city,
    readings: Number(row.readings),
    checksum: row.checksum,
  }));
  return {
    algorithm: READINGS_CHECKSUM_ALGORITHM,
    readings: cities.reduce((sum, city) => sum + city.readings, 0),
    checksum: combineChecksums(...cities.map((city) => city.checksum)),
    cities,
  };
}
