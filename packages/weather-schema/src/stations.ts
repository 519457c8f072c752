/** What the producer's simulation needs to make plausible weather for a station. */
export interface ClimateNormals {
  /** Mean daily temperature per month, °C, January first (12 values). */
  readonly monthlyMeanTempC: readonly number[];
  /** Typical daily maximum minus minimum, °C. */
  readonly diurnalRangeC: number;
  readonly meanWindKmh: number;
  readonly meanHumidityPct: number;
}

export interface Station {
  /** ICAO-style id, e.g. CYWG. */
  readonly id: string;
  /** City slug: a safe SQL identifier part ([a-z][a-z0-9_]*), used in the city's table name. */
  readonly city: string;
  readonly name: string;
  /** Degrees, north positive. */
  readonly latitude: number;
  /** Degrees, east positive. */
  readonly longitude: number;
  /** IANA time zone, e.g. America/Winnipeg. */
  readonly timeZone: string;
  readonly normals: ClimateNormals;
}

/**
 * The stations every environment has. Temperatures are the 1991-2020 Canadian climate normals of
 * the airports (monthly mean, rounded); wind and humidity are annual means of the same records.
 */
export const DEFAULT_STATIONS: readonly Station[] = Object.freeze([
  Object.freeze({
    id: "CYWG",
    city: "winnipeg",
    name: "Winnipeg James Armstrong Richardson International Airport",
    latitude: 49.91,
    longitude: -97.24,
    timeZone: "America/Winnipeg",
    normals: Object.freeze({
      monthlyMeanTempC: Object.freeze([
        -16.4, -13.2, -5.8, 4.3, 11.6, 17.0, 19.7, 18.8, 12.7, 5.0, -4.9, -13.2,
      ]),
      diurnalRangeC: 11.5,
      meanWindKmh: 16.5,
      meanHumidityPct: 71,
    }),
  }),
  Object.freeze({
    id: "CYVR",
    city: "vancouver",
    name: "Vancouver International Airport",
    latitude: 49.19,
    longitude: -123.18,
    timeZone: "America/Vancouver",
    normals: Object.freeze({
      monthlyMeanTempC: Object.freeze([4.1, 4.9, 6.9, 9.4, 12.8, 15.7, 18.0, 18.0, 14.9, 10.3, 6.4, 3.9]),
      diurnalRangeC: 7.5,
      meanWindKmh: 12.5,
      meanHumidityPct: 79,
    }),
  }),
]);
