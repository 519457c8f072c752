import { describe, expect, it } from "vitest";
import { sampleReading } from "../test/sample-reading.ts";
import { createStationCatalog } from "./catalog.ts";
import { DEFAULT_STATIONS } from "./stations.ts";
import { validateReading } from "./validate.ts";

const catalog = createStationCatalog(DEFAULT_STATIONS);
const now = new Date("2025-01-15T12:40:00.000Z");

function problemsOf(input: unknown): readonly string[] {
  const result = validateReading(input, catalog, now);
  return result.ok ? [] : result.problems;
}

describe("validateReading", () => {
  it("accepts a plausible reading, with or without pressure", () => {
    expect(validateReading(sampleReading(), catalog, now)).toEqual({ ok: true, reading: sampleReading() });
    expect(validateReading(sampleReading({ pressureHpa: 1013.25 }), catalog, now).ok).toBe(true);
    expect(validateReading(sampleReading({ pressureHpa: null }), catalog, now).ok).toBe(true);
  });

  it.each([
    ["temperatureC", 50.5, /^temperatureC: got 50\.5; expected a finite number within -60\.\.50 °C$/],
    ["temperatureC", -61, /within -60\.\.50 °C/],
    ["windSpeedKmh", -1, /^windSpeedKmh: got -1; expected a finite number within 0\.\.250 km\/h$/],
    ["windSpeedKmh", 251, /0\.\.250 km\/h/],
    ["humidityPct", 100.1, /^humidityPct: got 100\.1; expected a finite number within 0\.\.100 %$/],
    [
      "pressureHpa",
      700,
      /^pressureHpa: got 700; expected a finite number within 870\.\.1085 hPa \(or null\)$/,
    ],
    ["temperatureC", Number.NaN, /^temperatureC: got NaN; expected a finite number/],
    ["humidityPct", Number.POSITIVE_INFINITY, /^humidityPct: got Infinity/],
    ["windSpeedKmh", "12", /^windSpeedKmh: got "12"; expected a finite number/],
    ["readingId", "not-a-uuid", /^readingId: got "not-a-uuid"; expected a UUID string$/],
    ["observedAt", new Date(Number.NaN), /^observedAt: got Invalid Date; expected a valid Date$/],
    ["observedAt", "2025-01-15T12:00:00Z", /^observedAt: got "2025-01-15T12:00:00Z"; expected a valid Date$/],
  ])("rejects %s = %s naming the field, the value and the allowed range", (field, value, message) => {
    expect(problemsOf({ ...sampleReading(), [field]: value })).toEqual([expect.stringMatching(message)]);
  });

  it("reports a missing field as missing", () => {
    const { humidityPct: _, ...rest } = sampleReading();
    expect(problemsOf(rest)).toEqual([
      "humidityPct: got nothing (missing); expected a finite number within 0..100 %",
    ]);
  });

  it("rejects an unknown station and lists the known ones", () => {
    expect(problemsOf(sampleReading({ stationId: "KXYZ" }))).toEqual([
      expect.stringMatching(/^stationId: got "KXYZ"; expected a station of the catalog \(CYWG, CYVR\)/),
    ]);
  });

  it("rejects a city that is not the station's", () => {
    expect(problemsOf(sampleReading({ city: "vancouver" }))).toEqual([
      'city: got "vancouver"; expected "winnipeg", the city of station CYWG',
    ]);
  });

  it("accepts up to five minutes in the future and rejects more", () => {
    expect(problemsOf(sampleReading({ observedAt: new Date(now.getTime() + 5 * 60_000) }))).toEqual([]);
    expect(problemsOf(sampleReading({ observedAt: new Date(now.getTime() + 5 * 60_000 + 1) }))).toEqual([
      expect.stringMatching(
        /^observedAt: got 2025-01-15T12:45:00\.001Z, 300 s ahead of now .*at most 5 minutes/,
      ),
    ]);
  });

  it("reports every problem of a message at once", () => {
    const problems = problemsOf({
      ...sampleReading({ stationId: "NOPE", temperatureC: 99 }),
      humidityPct: -3,
    });
    expect(problems.map((p) => p.split(":")[0]).sort()).toEqual(["humidityPct", "stationId", "temperatureC"]);
  });

  it("never throws, whatever it is given", () => {
    for (const input of [
      undefined,
      null,
      42,
      "reading",
      [],
      { observedAt: { toISOString: 1 } },
      Object.create(null),
    ]) {
      expect(() => validateReading(input, catalog, now)).not.toThrow();
      expect(validateReading(input, catalog, now).ok).toBe(false);
    }
    expect(problemsOf(null)).toEqual(["reading: expected an object, got null"]);
  });
});
