import {
  type ClimateNormals,
  LATEST_READING_SCHEMA_VERSION,
  type ReadingFieldName,
  readingFields,
  type Station,
  type WeatherReading,
} from "@weather/schema";
import { createPrng, type Prng } from "./prng.ts";

/**
 * Simulated weather, pure and seeded: no clock, no I/O. A reading is the climatology of its station
 * (the seasonal normal for the local date plus a diurnal cycle in local time) plus anomalies that
 * persist from one reading to the next, so the series look like weather rather than dice.
 */

/** A numeric field's valid range, read off the schema so the two can never disagree. */
function rangeOf(name: ReadingFieldName): { readonly min: number; readonly max: number } {
  // The newest version has every field; older versions only lack some.
  const field = readingFields(LATEST_READING_SCHEMA_VERSION).find((candidate) => candidate.name === name);
  if (field?.min === undefined || field.max === undefined) {
    throw new Error(`the reading schema gives no range for ${name}; the simulation needs one to clamp to`);
  }
  return Object.freeze({ min: field.min, max: field.max });
}

/** The schema's valid ranges; every simulated value is clamped inside them. */
export const VALID_RANGES = Object.freeze({
  temperatureC: rangeOf("temperatureC"),
  windSpeedKmh: rangeOf("windSpeedKmh"),
  humidityPct: rangeOf("humidityPct"),
  pressureHpa: rangeOf("pressureHpa"),
});

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

// Persistence time scales (e-folding times of the anomalies) and their spreads. Synoptic weather
// (air masses, fronts) lasts days; mesoscale wiggles (clouds, showers) last tens of minutes.
const SYNOPTIC_TAU_MS = 2.5 * DAY_MS;
const MESOSCALE_TAU_MS = 0.75 * HOUR_MS;
const MESOSCALE_SIGMA_C = 0.6;
const SENSOR_NOISE_C = 0.1;
const HUMIDITY_TAU_MS = DAY_MS;
const HUMIDITY_SIGMA_PCT = 7;
const WIND_TAU_MS = 8 * HOUR_MS;
const WIND_LOG_SIGMA = 0.45;
const WIND_TURBULENCE_LOG_SIGMA = 0.12;
const GUST_PROBABILITY = 0.06;
// Sea-level pressure wanders with the same synoptic systems that carry the temperature anomalies.
const MEAN_SEA_LEVEL_PRESSURE_HPA = 1013.25;
const PRESSURE_SIGMA_HPA = 8;
const PRESSURE_NOISE_HPA = 0.2;

/** The local calendar position of an instant in a time zone. */
export interface LocalTime {
  /** 1..12 */
  readonly month: number;
  /** Fractional day of the month: 1.0 at local midnight of the 1st. */
  readonly dayOfMonth: number;
  readonly daysInMonth: number;
  /** Fractional hour of the local day, 0 <= hour < 24. */
  readonly hour: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/**
 * Zone offsets only change at quarter-hour UTC instants (every transition in the tz database since
 * the 1970s does), so one formatToParts per zone and quarter hour serves every reading inside it.
 * formatToParts per reading was the producer's single most expensive call (14 % of its CPU in a backfill).
 */
const QUARTER_HOUR_MS = 15 * 60_000;
const MAX_CACHED_QUARTERS = 100_000;
/** Per zone: every quarter hour's offset seen, and the last one asked for (readings come in time order). */
interface ZoneOffsets {
  readonly byQuarter: Map<number, number>;
  lastQuarter: number;
  lastOffsetMs: number;
}
const offsetCache = new Map<string, ZoneOffsets>();

/** Local wall-clock time minus UTC, in ms, for the quarter hour holding `atMs`. */
function utcOffsetMs(atMs: number, timeZone: string): number {
  const quarter = Math.floor(atMs / QUARTER_HOUR_MS);
  let zone = offsetCache.get(timeZone);
  if (zone === undefined) {
    zone = { byQuarter: new Map(), lastQuarter: Number.NaN, lastOffsetMs: 0 };
    offsetCache.set(timeZone, zone);
  }
  if (zone.lastQuarter === quarter) return zone.lastOffsetMs;
  let offset = zone.byQuarter.get(quarter);
  if (offset === undefined) {
    const startMs = quarter * QUARTER_HOUR_MS;
    const parts: Record<string, number> = {};
    for (const part of formatterFor(timeZone).formatToParts(new Date(startMs))) {
      if (part.type !== "literal") parts[part.type] = Number(part.value);
    }
    const wallMs = Date.UTC(
      parts.year ?? 1970,
      (parts.month ?? 1) - 1,
      parts.day ?? 1,
      parts.hour ?? 0,
      parts.minute ?? 0,
      parts.second ?? 0,
    );
    offset = wallMs - startMs;
    if (zone.byQuarter.size >= MAX_CACHED_QUARTERS) zone.byQuarter.clear();
    zone.byQuarter.set(quarter, offset);
  }
  zone.lastQuarter = quarter;
  zone.lastOffsetMs = offset;
  return offset;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * The proleptic Gregorian date of a day number (days since 1970-01-01), as Date's UTC getters give
 * it, in integer arithmetic (Howard Hinnant's civil_from_days): no Date object per reading.
 */
function civilDate(days: number): { year: number; month: number; day: number } {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra -
      Math.floor(dayOfEra / 1460) +
      Math.floor(dayOfEra / 36_524) -
      Math.floor(dayOfEra / 146_096)) /
      365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const monthFromMarch = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * monthFromMarch + 2) / 5) + 1;
  const month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9;
  return { year: yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

function daysInMonthOf(year: number, month: number): number {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] as number);
}

/** Where `at` falls on the wall clock and calendar of `timeZone`, daylight saving time included. */
export function localTimeOf(at: Date, timeZone: string): LocalTime {
  // The local wall clock as milliseconds, split into calendar and clock fields by integer
  // arithmetic: the same integers Date's UTC getters give, so the same hour to the last bit.
  const atMs = at.getTime();
  const wallMs = atMs + utcOffsetMs(atMs, timeZone);
  const days = Math.floor(wallMs / DAY_MS);
  const msOfDay = wallMs - days * DAY_MS;
  const hours = Math.floor(msOfDay / HOUR_MS);
  const minutes = Math.floor((msOfDay % HOUR_MS) / 60_000);
  const seconds = Math.floor((msOfDay % 60_000) / 1000);
  const millis = msOfDay % 1000;
  const { year, month, day } = civilDate(days);
  const hour = hours + minutes / 60 + (seconds + millis / 1000) / 3600;
  return {
    month,
    dayOfMonth: day + hour / 24,
    daysInMonth: daysInMonthOf(year, month),
    hour,
  };
}

/**
 * The normal temperature for a local date: the twelve monthly means sit at mid-month and are
 * interpolated linearly between neighbours, wrapping December into January.
 */
export function seasonalNormalC(normals: ClimateNormals, local: LocalTime): number {
  const means = normals.monthlyMeanTempC;
  const monthPosition = local.month - 1 + (local.dayOfMonth - 1) / local.daysInMonth; // 0..12
  const x = monthPosition - 0.5;
  const lower = Math.floor(x);
  const fraction = x - lower;
  const from = means[(lower + 12) % 12] ?? 0;
  const to = means[(lower + 13) % 12] ?? 0;
  return from + (to - from) * fraction;
}

const COOLEST_HOUR = 6;
const WARMEST_HOUR = 15;

/**
 * The shape of the daily temperature cycle, -1 at dawn (06:00) and +1 at 15:00 local time: a quick
 * half-cosine rise over 9 hours and a slow half-cosine decline over the other 15, as observed
 * temperatures do. Each half averages zero, so the cycle does not shift the daily mean.
 */
export function diurnalShape(localHour: number): number {
  if (localHour >= COOLEST_HOUR && localHour < WARMEST_HOUR) {
    return -Math.cos((Math.PI * (localHour - COOLEST_HOUR)) / (WARMEST_HOUR - COOLEST_HOUR));
  }
  const sinceWarmest = (localHour - WARMEST_HOUR + 24) % 24;
  return Math.cos((Math.PI * sinceWarmest) / (24 - WARMEST_HOUR + COOLEST_HOUR));
}

/** The expected temperature of a station at an instant: seasonal normal plus the diurnal cycle. */
export function climatologyC(station: Station, at: Date): number {
  const local = localTimeOf(at, station.timeZone);
  return (
    seasonalNormalC(station.normals, local) + (station.normals.diurnalRangeC / 2) * diurnalShape(local.hour)
  );
}

/**
 * One Ornstein-Uhlenbeck step: the continuous-time AR(1). Scaling by the elapsed time keeps the
 * persistence realistic whatever the interval between readings (1 s in real time, 1 h in a backfill).
 */
function ouStep(value: number, elapsedMs: number, tauMs: number, sigma: number, prng: Prng): number {
  const phi = Math.exp(-elapsedMs / tauMs);
  return phi * value + sigma * Math.sqrt(1 - phi * phi) * prng.normal();
}

function clamp(value: number, range: { min: number; max: number }): number {
  return Math.min(range.max, Math.max(range.min, value));
}

function round(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}

/** Produces the successive readings of one station; `at` should not go backwards. */
export interface StationSimulator {
  readonly station: Station;
  next(at: Date): WeatherReading;
}

export interface SimulationOptions {
  /** Also simulate sea-level pressure (reading schema v2's pressureHpa). */
  readonly pressure?: boolean;
}

/**
 * Each station draws from its own generator, seeded by the run's seed and the station id, so a
 * station's readings do not depend on which other stations run alongside it. Pressure draws from
 * a generator of its own, so turning it on leaves every other value of a seed exactly as it was.
 */
export function createStationSimulator(
  station: Station,
  seed: string,
  options: SimulationOptions = {},
): StationSimulator {
  const prng = createPrng(`${seed}/${station.id}`);
  const pressurePrng = options.pressure === true ? createPrng(`${seed}/${station.id}/pressure`) : undefined;
  const { normals } = station;
  // Continental climates (a large daily range) also swing more from day to day.
  const synopticSigmaC = 1.5 + 0.25 * normals.diurnalRangeC;
  const humidityAmplitudePct = Math.min(25, 1.5 * normals.diurnalRangeC);
  // Choose the log-mean so the lognormal wind's mean equals the station's normal mean wind.
  const windLogMean = Math.log(Math.max(normals.meanWindKmh, 0.1)) - WIND_LOG_SIGMA ** 2 / 2;

  // The first reading starts the anomalies from their long-run (stationary) distribution.
  let synopticC = synopticSigmaC * prng.normal();
  let mesoscaleC = MESOSCALE_SIGMA_C * prng.normal();
  let humidityAnomalyPct = HUMIDITY_SIGMA_PCT * prng.normal();
  let windLogAnomaly = WIND_LOG_SIGMA * prng.normal();
  let pressureAnomalyHpa = PRESSURE_SIGMA_HPA * (pressurePrng?.normal() ?? 0);
  let previousMs: number | undefined;

  return {
    station,
    next(at: Date): WeatherReading {
      const atMs = Math.round(at.getTime());
      if (previousMs !== undefined) {
        const elapsedMs = Math.max(0, atMs - previousMs);
        synopticC = ouStep(synopticC, elapsedMs, SYNOPTIC_TAU_MS, synopticSigmaC, prng);
        mesoscaleC = ouStep(mesoscaleC, elapsedMs, MESOSCALE_TAU_MS, MESOSCALE_SIGMA_C, prng);
        humidityAnomalyPct = ouStep(humidityAnomalyPct, elapsedMs, HUMIDITY_TAU_MS, HUMIDITY_SIGMA_PCT, prng);
        windLogAnomaly = ouStep(windLogAnomaly, elapsedMs, WIND_TAU_MS, WIND_LOG_SIGMA, prng);
        if (pressurePrng !== undefined) {
          pressureAnomalyHpa = ouStep(
            pressureAnomalyHpa,
            elapsedMs,
            SYNOPTIC_TAU_MS,
            PRESSURE_SIGMA_HPA,
            pressurePrng,
          );
        }
      }
      previousMs = atMs;

      const observedAt = new Date(atMs);
      const local = localTimeOf(observedAt, station.timeZone);
      const shape = diurnalShape(local.hour);
      const temperatureC =
        seasonalNormalC(normals, local) +
        (normals.diurnalRangeC / 2) * shape +
        synopticC +
        mesoscaleC +
        SENSOR_NOISE_C * prng.normal();

      // Relative humidity falls as the air warms through the day, and rises again overnight.
      const humidityPct = normals.meanHumidityPct - humidityAmplitudePct * shape + humidityAnomalyPct;

      // Afternoon mixing brings stronger wind down to the surface; turbulence and the odd gust on top.
      const gust = prng.next() < GUST_PROBABILITY ? 1.3 + 0.6 * prng.next() : 1;
      const windSpeedKmh =
        Math.exp(windLogMean + windLogAnomaly + WIND_TURBULENCE_LOG_SIGMA * prng.normal()) *
        (1 + 0.2 * shape) *
        gust;

      const reading: WeatherReading = {
        readingId: prng.uuid(),
        stationId: station.id,
        city: station.city,
        observedAt,
        temperatureC: round(clamp(temperatureC, VALID_RANGES.temperatureC), 1),
        windSpeedKmh: round(clamp(windSpeedKmh, VALID_RANGES.windSpeedKmh), 1),
        humidityPct: round(clamp(humidityPct, VALID_RANGES.humidityPct), 0),
      };
      if (pressurePrng === undefined) return reading;
      const pressureHpa =
        MEAN_SEA_LEVEL_PRESSURE_HPA + pressureAnomalyHpa + PRESSURE_NOISE_HPA * pressurePrng.normal();
      return { ...reading, pressureHpa: round(clamp(pressureHpa, VALID_RANGES.pressureHpa), 1) };
    },
  };
}

/** The simulators of several stations, advanced together: one reading per station per instant. */
export interface Simulation {
  readonly stations: readonly Station[];
  readingsAt(at: Date): WeatherReading[];
}

export function createSimulation(
  stations: readonly Station[],
  seed: string,
  options: SimulationOptions = {},
): Simulation {
  const simulators = stations.map((station) => createStationSimulator(station, seed, options));
  return {
    stations,
    readingsAt: (at) => simulators.map((simulator) => simulator.next(at)),
  };
}
