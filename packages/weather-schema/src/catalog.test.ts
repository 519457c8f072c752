import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, configurationOf } from "@weather/settings";
import { describe, expect, it } from "vitest";
import { cityTableName, STATION_CATALOG } from "./catalog.ts";
import { DEFAULT_STATIONS } from "./stations.ts";

const dir = mkdtempSync(join(tmpdir(), "stations-"));
let files = 0;
function stationsFile(content: unknown): string {
  const path = join(dir, `stations-${files++}.json`);
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

const calgary = {
  id: "CYYC",
  city: "calgary",
  name: "Calgary International Airport",
  latitude: 51.11,
  longitude: -114.02,
  timeZone: "America/Edmonton",
  normals: {
    monthlyMeanTempC: [-7.1, -5.5, -1.6, 4.1, 9.4, 13.7, 16.7, 15.9, 11.2, 4.9, -2.3, -6.7],
    diurnalRangeC: 12.5,
    meanWindKmh: 14.5,
    meanHumidityPct: 60,
  },
};

const loadStationCatalog = (env: Record<string, string>) =>
  configurationOf({ groups: { catalog: STATION_CATALOG } }, env).catalog;

function configErrorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("station catalog", () => {
  it("has Winnipeg and Vancouver built in, with twelve monthly normals each", () => {
    const catalog = loadStationCatalog({});
    expect(catalog.cities).toEqual(["winnipeg", "vancouver"]);
    expect(catalog.byId("CYWG")).toMatchObject({
      city: "winnipeg",
      latitude: 49.91,
      longitude: -97.24,
      timeZone: "America/Winnipeg",
    });
    expect(catalog.byId("CYVR")).toMatchObject({
      city: "vancouver",
      latitude: 49.19,
      longitude: -123.18,
      timeZone: "America/Vancouver",
    });
    for (const station of DEFAULT_STATIONS) expect(station.normals.monthlyMeanTempC).toHaveLength(12);
    expect(catalog.byId("CYWG")?.normals.monthlyMeanTempC[0]).toBe(-16.4);
    expect(catalog.byId("nope")).toBeUndefined();
  });

  it("adds the stations of STATIONS_FILE, as an array or as {stations: [...]}", () => {
    for (const content of [[calgary], { stations: [calgary] }]) {
      const catalog = loadStationCatalog({ STATIONS_FILE: stationsFile(content) });
      expect(catalog.cities).toEqual(["winnipeg", "vancouver", "calgary"]);
      expect(catalog.byId("CYYC")?.name).toBe("Calgary International Airport");
    }
  });

  it("lets a file station override a built-in one with the same id", () => {
    const renamed = { ...DEFAULT_STATIONS[0], name: "Winnipeg (test)" };
    const catalog = loadStationCatalog({ STATIONS_FILE: stationsFile([renamed]) });
    expect(catalog.stations).toHaveLength(2);
    expect(catalog.byId("CYWG")?.name).toBe("Winnipeg (test)");
  });

  it("names the file, the entry and the field of every bad value", () => {
    const path = stationsFile([
      calgary,
      {
        ...calgary,
        id: "CYEG",
        city: "Edmonton; drop table",
        normals: { ...calgary.normals, monthlyMeanTempC: [1, 2] },
      },
      { ...calgary, id: "CYQR", timeZone: "Mars/Olympus" },
    ]);
    const error = configErrorOf(() => loadStationCatalog({ STATIONS_FILE: path }));
    const messages = error.problems.map((p) => p.message);
    expect(error.problems.every((p) => p.setting === "STATIONS_FILE")).toBe(true);
    expect(messages).toEqual([
      expect.stringContaining(`${path}: station [1] (id "CYEG"), field city: must match [a-z][a-z0-9_]*`),
      expect.stringContaining(
        `${path}: station [1] (id "CYEG"), field normals.monthlyMeanTempC: must have 12 values`,
      ),
      expect.stringContaining(`${path}: station [2] (id "CYQR"), field timeZone: must be an IANA time zone`),
    ]);
  });

  it("rejects duplicate ids within the file", () => {
    const error = configErrorOf(() =>
      loadStationCatalog({ STATIONS_FILE: stationsFile([calgary, calgary]) }),
    );
    expect(error.message).toContain('station [1] (id "CYYC"): duplicate id, already defined by station [0]');
  });

  it("reports a missing file, bad JSON and a wrong top level as ConfigError", () => {
    expect(
      configErrorOf(() => loadStationCatalog({ STATIONS_FILE: join(dir, "absent.json") })).message,
    ).toMatch(/STATIONS_FILE: cannot read .*absent\.json/);
    expect(configErrorOf(() => loadStationCatalog({ STATIONS_FILE: stationsFile("{oops") })).message).toMatch(
      /is not valid JSON/,
    );
    expect(
      configErrorOf(() => loadStationCatalog({ STATIONS_FILE: stationsFile({ station: [] }) })).message,
    ).toMatch(/expected a JSON array of stations/);
  });
});

describe("cityTableName", () => {
  it("names the city's table and refuses unsafe slugs", () => {
    expect(cityTableName("winnipeg")).toBe("weather_readings_winnipeg");
    expect(cityTableName("st_johns2")).toBe("weather_readings_st_johns2");
    for (const bad of ["Winnipeg", "1city", "new-york", "x; drop table y", "", "a".repeat(41)]) {
      expect(() => cityTableName(bad)).toThrow(/not a safe table name part/);
    }
  });
});
