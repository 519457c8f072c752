import { DEFAULT_STATIONS } from "@weather/schema";
import { describe, expect, it } from "vitest";
import {
  climatologyC,
  createSimulation,
  createStationSimulator,
  diurnalShape,
  type LocalTime,
  localTimeOf,
  VALID_RANGES,
} from "./simulate.ts";

const HOUR_MS = 3_600_000;

function stationById(id: string) {
  const station = DEFAULT_STATIONS.find((s) => s.id === id);
  if (station === undefined) throw new Error(`fixture lacks ${id}`);
  return station;
}
const winnipeg = stationById("CYWG");
const vancouver = stationById("CYVR");

/** Readings of one station every `stepMs` from `fromIso`. */
function series(station: typeof winnipeg, seed: string, fromIso: string, stepMs: number, count: number) {
  const simulator = createStationSimulator(station, seed);
  const start = Date.parse(fromIso);
  return Array.from({ length: count }, (_, i) => simulator.next(new Date(start + i * stepMs)));
}

function mean(values: readonly number[]): number {
  return values.reduce((sum, v) => sum + v, 0) / values.length;
}

describe("simulation", () => {
  it("gives the same readings, ids included, for the same seed", () => {
    const a = series(winnipeg, "42", "2024-03-01T00:00:00Z", 60_000, 500);
    const b = series(winnipeg, "42", "2024-03-01T00:00:00Z", 60_000, 500);
    const c = series(winnipeg, "43", "2024-03-01T00:00:00Z", 60_000, 500);
    expect(b).toEqual(a);
    expect(c.map((r) => r.readingId)).not.toEqual(a.map((r) => r.readingId));
    expect(new Set(a.map((r) => r.readingId)).size).toBe(a.length);
    expect(a[0]?.readingId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it("gives a station the same readings whichever other stations run with it", () => {
    const at = [0, 1, 2].map((i) => new Date(Date.UTC(2024, 0, 1) + i * HOUR_MS));
    const both = createSimulation([vancouver, winnipeg], "s");
    const alone = createSimulation([winnipeg], "s");
    for (const instant of at) expect(both.readingsAt(instant)[1]).toEqual(alone.readingsAt(instant)[0]);
  });

  // CPU-bound (about 20 s on a quiet 2-core machine); the bound only guards against a hang.
  it("keeps every value inside the schema's ranges over 100,000 readings", { timeout: 300_000 }, () => {
    // Extreme stations push the clamps: a polar one and a desert one, besides the real two.
    const polar = {
      ...winnipeg,
      id: "XPOL",
      normals: {
        ...winnipeg.normals,
        monthlyMeanTempC: Array(12).fill(-58),
        meanHumidityPct: 99,
        meanWindKmh: 120,
      },
    };
    const desert = {
      ...vancouver,
      id: "XDES",
      normals: {
        ...vancouver.normals,
        monthlyMeanTempC: Array(12).fill(47),
        diurnalRangeC: 20,
        meanHumidityPct: 3,
        meanWindKmh: 1,
      },
    };
    const simulation = createSimulation([winnipeg, vancouver, polar, desert], "ranges");
    const start = Date.UTC(2023, 0, 1);
    let checked = 0;
    for (let i = 0; i < 25_000; i++) {
      for (const reading of simulation.readingsAt(new Date(start + i * 20 * 60_000))) {
        expect(reading.temperatureC).toBeGreaterThanOrEqual(VALID_RANGES.temperatureC.min);
        expect(reading.temperatureC).toBeLessThanOrEqual(VALID_RANGES.temperatureC.max);
        expect(reading.windSpeedKmh).toBeGreaterThanOrEqual(VALID_RANGES.windSpeedKmh.min);
        expect(reading.windSpeedKmh).toBeLessThanOrEqual(VALID_RANGES.windSpeedKmh.max);
        expect(reading.humidityPct).toBeGreaterThanOrEqual(VALID_RANGES.humidityPct.min);
        expect(reading.humidityPct).toBeLessThanOrEqual(VALID_RANGES.humidityPct.max);
        expect(Number.isFinite(reading.temperatureC + reading.windSpeedKmh + reading.humidityPct)).toBe(true);
        expect(reading.observedAt.getTime() % 1).toBe(0);
        checked++;
      }
    }
    expect(checked).toBe(100_000);
  });

  it("adds a plausible, persistent pressureHpa for schema v2 and leaves every other value as in v1", () => {
    const at = Array.from({ length: 2_000 }, (_, i) => new Date(Date.UTC(2024, 0, 1) + i * HOUR_MS));
    const v1 = createSimulation([winnipeg, vancouver], "evolve");
    const v2 = createSimulation([winnipeg, vancouver], "evolve", { pressure: true });
    const pressures: number[] = [];
    for (const instant of at) {
      const [plain, withPressure] = [v1.readingsAt(instant), v2.readingsAt(instant)];
      for (const [i, reading] of withPressure.entries()) {
        const { pressureHpa, ...rest } = reading;
        expect(rest).toEqual(plain[i]);
        expect(plain[i]).not.toHaveProperty("pressureHpa");
        expect(pressureHpa).toBeGreaterThanOrEqual(VALID_RANGES.pressureHpa.min);
        expect(pressureHpa).toBeLessThanOrEqual(VALID_RANGES.pressureHpa.max);
        if (i === 0 && typeof pressureHpa === "number") pressures.push(pressureHpa);
      }
    }
    expect(mean(pressures)).toBeGreaterThan(995);
    expect(mean(pressures)).toBeLessThan(1030);
    // Hour to hour, pressure drifts by a little, not by its whole spread: weather systems persist.
    const steps = pressures.slice(1).map((p, i) => Math.abs(p - (pressures[i] ?? p)));
    expect(mean(steps)).toBeLessThan(2);
    expect(Math.max(...pressures) - Math.min(...pressures)).toBeGreaterThan(10);
  });

  it("makes Winnipeg's January far colder than Vancouver's", () => {
    const january = (station: typeof winnipeg) =>
      mean(series(station, "jan", "2024-01-01T00:00:00Z", HOUR_MS, 31 * 24).map((r) => r.temperatureC));
    const winnipegMean = january(winnipeg);
    const vancouverMean = january(vancouver);
    expect(vancouverMean - winnipegMean).toBeGreaterThan(10);
    expect(winnipegMean).toBeLessThan(-8);
    expect(vancouverMean).toBeGreaterThan(0);
  });

  it("is warmest in the local afternoon", () => {
    // Average over 60 days the temperature at each local hour; Winnipeg is UTC-6 in winter.
    const readings = series(winnipeg, "diurnal", "2024-01-10T06:00:00Z", 15 * 60_000, 60 * 96);
    const byLocalHour = Array.from({ length: 24 }, () => [] as number[]);
    for (const reading of readings) {
      const hour = Number(
        new Intl.DateTimeFormat("en-US", {
          timeZone: winnipeg.timeZone,
          hour: "numeric",
          hourCycle: "h23",
        }).format(reading.observedAt),
      );
      byLocalHour[hour]?.push(reading.temperatureC);
    }
    const means = byLocalHour.map((values) => mean(values));
    const warmest = means.indexOf(Math.max(...means));
    const coolest = means.indexOf(Math.min(...means));
    expect(warmest).toBeGreaterThanOrEqual(12);
    expect(warmest).toBeLessThanOrEqual(18);
    expect(coolest).toBeGreaterThanOrEqual(3);
    expect(coolest).toBeLessThanOrEqual(8);
  });

  it("makes humidity move against the daily temperature cycle", () => {
    const readings = series(vancouver, "humid", "2024-06-01T00:00:00Z", HOUR_MS, 90 * 24);
    const afternoon = readings.filter(
      (r) => diurnalShape(localHourOf(r.observedAt, vancouver.timeZone)) > 0.8,
    );
    const night = readings.filter((r) => diurnalShape(localHourOf(r.observedAt, vancouver.timeZone)) < -0.8);
    expect(mean(afternoon.map((r) => r.humidityPct))).toBeLessThan(mean(night.map((r) => r.humidityPct)) - 5);
  });

  it("carries temperature anomalies from one reading to the next", () => {
    const readings = series(winnipeg, "ar", "2024-02-01T00:00:00Z", HOUR_MS, 2_000);
    const anomalies = readings.map((r) => r.temperatureC - climatologyC(winnipeg, r.observedAt));
    expect(lag1Autocorrelation(anomalies)).toBeGreaterThan(0.5);
  });

  it("makes wind skewed and gusty: non-negative, mean near normal, a long upper tail", () => {
    const readings = series(vancouver, "wind", "2024-01-01T00:00:00Z", 10 * 60_000, 50_000);
    const winds = readings.map((r) => r.windSpeedKmh).sort((a, b) => a - b);
    const median = winds[Math.floor(winds.length / 2)] ?? 0;
    const p99 = winds[Math.floor(winds.length * 0.99)] ?? 0;
    expect(winds[0]).toBeGreaterThanOrEqual(0);
    expect(mean(winds)).toBeGreaterThan(median); // right-skewed
    expect(mean(winds)).toBeGreaterThan(vancouver.normals.meanWindKmh * 0.8);
    expect(mean(winds)).toBeLessThan(vancouver.normals.meanWindKmh * 1.3);
    expect(p99).toBeGreaterThan(2.5 * median);
  });
});

function localHourOf(at: Date, timeZone: string): number {
  return Number(new Intl.DateTimeFormat("en-US", { timeZone, hour: "numeric", hourCycle: "h23" }).format(at));
}

function lag1Autocorrelation(values: readonly number[]): number {
  const m = mean(values);
  let numerator = 0;
  let denominator = 0;
  for (let i = 0; i < values.length; i++) {
    const d = (values[i] ?? m) - m;
    denominator += d * d;
    if (i > 0) numerator += d * ((values[i - 1] ?? m) - m);
  }
  return numerator / denominator;
}

/** localTimeOf as first written, through Date's UTC getters: the reference for the integer arithmetic. */
function localTimeByDate(at: Date, timeZone: string): LocalTime {
  const parts: Record<string, number> = {};
  const quarterStart = Math.floor(at.getTime() / 900_000) * 900_000;
  const format = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "numeric",
    day: "numeric",
    hour: "numeric",
    minute: "numeric",
    second: "numeric",
  });
  for (const part of format.formatToParts(new Date(quarterStart)))
    if (part.type !== "literal") parts[part.type] = Number(part.value);
  const offset =
    Date.UTC(parts.year ?? 0, (parts.month ?? 1) - 1, parts.day, parts.hour, parts.minute, parts.second) -
    quarterStart;
  const wall = new Date(at.getTime() + offset);
  const month = wall.getUTCMonth() + 1;
  const hour =
    wall.getUTCHours() +
    wall.getUTCMinutes() / 60 +
    (wall.getUTCSeconds() + wall.getUTCMilliseconds() / 1000) / 3600;
  return {
    month,
    dayOfMonth: wall.getUTCDate() + hour / 24,
    daysInMonth: new Date(Date.UTC(wall.getUTCFullYear(), month, 0)).getUTCDate(),
    hour,
  };
}

describe("localTimeOf", () => {
  it("gives what Date's getters give, to the bit, across zones, leap years, DST and centuries", () => {
    const zones = [
      "America/Winnipeg",
      "America/St_Johns",
      "Asia/Kolkata",
      "Australia/Lord_Howe",
      "UTC",
      "Pacific/Chatham",
    ];
    let state = 12345;
    const random = () => {
      state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
      return state / 4_294_967_296;
    };
    const instants = [
      Date.UTC(1900, 1, 28, 23, 59, 59, 999),
      Date.UTC(2000, 1, 29, 12),
      Date.UTC(2100, 2, 1),
      Date.UTC(2024, 2, 10, 8, 0, 0, 1),
      Date.UTC(1969, 11, 31, 23, 59, 59, 999),
      0,
      -1,
      ...Array.from({ length: 20_000 }, () => Math.floor(-2.2e12 + random() * 6.4e12)),
    ];
    for (const [i, ms] of instants.entries()) {
      const zone = zones[i % zones.length] as string;
      expect(localTimeOf(new Date(ms), zone), `${new Date(ms).toISOString()} in ${zone}`).toEqual(
        localTimeByDate(new Date(ms), zone),
      );
    }
  });
});
