import {
  createStationCatalog,
  DEFAULT_STATIONS,
  validateReading,
  type WeatherReading,
} from "@weather/schema";
import { describe, expect, it } from "vitest";
import { corruptEncoded, INVALID_KINDS, invalidReading, SINK_KIND_OF } from "./invalid.ts";
import { createPrng } from "./prng.ts";

const catalog = createStationCatalog(DEFAULT_STATIONS);
const known = new Set(catalog.stations.map((station) => station.id));
const reading: WeatherReading = {
  readingId: "0b6f3c4e-8a1d-4f2b-9c3e-5d7a1b2c3d4e",
  stationId: "CYWG",
  city: "winnipeg",
  observedAt: new Date("2025-01-15T12:00:00Z"),
  temperatureC: -21.5,
  windSpeedKmh: 18,
  humidityPct: 71,
};
/** A stand-in for an encoded reading: the wire header (schema 7) and a payload. */
const encoded = Buffer.concat([Buffer.from([0, 0, 0, 0, 7]), Buffer.from("H".repeat(60))]);

describe("invalid messages", () => {
  it("names, for each kind, the kind the sink dead-letters it with", () => {
    expect(Object.keys(SINK_KIND_OF).sort()).toEqual([...INVALID_KINDS].sort());
    expect(new Set(Object.values(SINK_KIND_OF))).toEqual(
      new Set(["invalid", "bad-magic-byte", "unknown-schema", "undecodable", "empty-value"]),
    );
  });

  it("gives every invalid message a fresh id", () => {
    const prng = createPrng("ids");
    const ids = INVALID_KINDS.map((kind) => invalidReading(kind, reading, prng, known).readingId);
    expect(new Set([...ids, reading.readingId]).size).toBe(INVALID_KINDS.length + 1);
  });

  it("makes implausible readings the catalog's validation refuses, one field at a time", () => {
    const prng = createPrng("implausible");
    const faults = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const check = validateReading(
        invalidReading("implausible", reading, prng, known),
        catalog,
        reading.observedAt,
      );
      expect(check.ok).toBe(false);
      if (!check.ok) {
        expect(check.problems).toHaveLength(1);
        faults.add(check.problems[0]?.split(":")[0] ?? "");
      }
    }
    expect(faults).toEqual(new Set(["temperatureC", "windSpeedKmh", "humidityPct"]));
  });

  it("makes an unknown station one the catalog does not have", () => {
    const unknown = invalidReading(
      "unknown-station",
      reading,
      createPrng("u"),
      new Set([...known, "CYWG-X"]),
    );
    expect(unknown.stationId).toBe("CYWG-XX");
    expect(validateReading(unknown, catalog, reading.observedAt)).toMatchObject({ ok: false });
  });

  it("corrupts the wire bytes as each kind says", () => {
    expect(corruptEncoded("implausible", encoded, 99)).toBe(encoded);
    const noHeader = corruptEncoded("bad-magic-byte", encoded, 99);
    expect(noHeader?.[0]).not.toBe(0);
    expect(noHeader).toEqual(encoded.subarray(5));
    const unknownSchema = corruptEncoded("unknown-schema", encoded, 2_000_000_000);
    expect([unknownSchema?.[0], unknownSchema?.readInt32BE(1)]).toEqual([0, 2_000_000_000]);
    expect(unknownSchema?.subarray(5)).toEqual(encoded.subarray(5));
    const cut = corruptEncoded("undecodable", encoded, 99);
    expect(cut).toEqual(encoded.subarray(0, 15));
    expect(corruptEncoded("empty-value", encoded, 99)).toBeNull();
  });
});
