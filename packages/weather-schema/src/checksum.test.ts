import { describe, expect, it } from "vitest";
import {
  canonicalReadingBytes,
  combineChecksums,
  createReadingsChecksum,
  readingDigest,
} from "./checksum.ts";
import type { WeatherReading } from "./reading.ts";

const reading: WeatherReading = {
  readingId: "0b6f3c4e-8a1d-4f2b-9c3e-5d7a1b2c3d4e",
  stationId: "CYWG",
  city: "winnipeg",
  observedAt: new Date("2026-01-15T12:00:00.123Z"),
  temperatureC: -21.5,
  windSpeedKmh: 18,
  humidityPct: 71,
};

function checksumOf(readings: readonly WeatherReading[]): string {
  const checksum = createReadingsChecksum();
  for (const r of readings) checksum.add(r);
  return checksum.value();
}

describe("the readings checksum", () => {
  it("lays a reading out as its definition says: id, millis, three floats, pressure flag, station, city", () => {
    const bytes = canonicalReadingBytes(reading);
    expect(bytes.subarray(0, 16).toString("hex")).toBe("0b6f3c4e8a1d4f2b9c3e5d7a1b2c3d4e");
    expect(bytes.readBigInt64BE(16)).toBe(BigInt(Date.parse("2026-01-15T12:00:00.123Z")));
    expect([bytes.readDoubleBE(24), bytes.readDoubleBE(32), bytes.readDoubleBE(40)]).toEqual([-21.5, 18, 71]);
    expect(bytes[48]).toBe(0);
    expect(bytes.readInt32BE(49)).toBe(4);
    expect(bytes.subarray(53, 57).toString()).toBe("CYWG");
    expect(bytes.readInt32BE(57)).toBe(8);
    expect(bytes.subarray(61).toString()).toBe("winnipeg");
    const withPressure = canonicalReadingBytes({ ...reading, pressureHpa: 1013.2 });
    expect([withPressure[48], withPressure.readDoubleBE(49)]).toEqual([1, 1013.2]);
  });

  it("does not depend on the order of the readings", () => {
    const others = [1, 2, 3].map((i) => ({
      ...reading,
      readingId: reading.readingId.replace(/.$/, String(i)),
    }));
    expect(checksumOf([reading, ...others])).toBe(checksumOf([...others].reverse().concat(reading)));
  });

  it("counts a reading twice as a different checksum (a sum, not an XOR)", () => {
    expect(checksumOf([reading, reading])).not.toBe(checksumOf([]));
    expect(checksumOf([reading, reading])).not.toBe(checksumOf([reading]));
  });

  it("treats -0 as 0, and an absent pressure as a null one", () => {
    expect(readingDigest({ ...reading, temperatureC: -0 })).toBe(
      readingDigest({ ...reading, temperatureC: 0 }),
    );
    expect(readingDigest({ ...reading, pressureHpa: null })).toBe(readingDigest(reading));
  });

  it("changes with any field, down to a float's last bit and a millisecond", () => {
    const digest = readingDigest(reading);
    const next = (x: number) => {
      const view = new DataView(new ArrayBuffer(8));
      view.setFloat64(0, x);
      view.setBigUint64(0, view.getBigUint64(0) + 1n);
      return view.getFloat64(0);
    };
    for (const changed of [
      { ...reading, temperatureC: next(reading.temperatureC) },
      { ...reading, humidityPct: next(reading.humidityPct) },
      { ...reading, observedAt: new Date(reading.observedAt.getTime() + 1) },
      { ...reading, stationId: "CYVR" },
      { ...reading, pressureHpa: 0 },
    ]) {
      expect(readingDigest(changed)).not.toBe(digest);
    }
  });

  it("adds up: the checksum of two disjoint sets combines from theirs", () => {
    const a = [reading];
    const b = [{ ...reading, readingId: "ffffffff-ffff-4fff-bfff-ffffffffffff" }];
    expect(combineChecksums(checksumOf(a), checksumOf(b))).toBe(checksumOf([...a, ...b]));
    expect(checksumOf([])).toBe("0000000000000000");
  });
});
