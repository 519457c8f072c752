import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createReadingsChecksum, DEFAULT_STATIONS, type WeatherReading } from "@weather/schema";
import { describe, expect, it } from "vitest";
import { INVALID_KINDS } from "./invalid.ts";
import { createManifestBuilder, writeManifest } from "./manifest.ts";
import { createMessyStream, NO_MESS, type OutgoingMessage } from "./messy-stream.ts";
import { createSimulation } from "./simulate.ts";

const MINUTE = 60_000;
const at = (minute: number) => new Date(Date.UTC(2025, 0, 1, 0, minute));

function reading(stationId: string, minute: number, id: string): WeatherReading {
  return {
    readingId: `00000000-0000-4000-8000-${id.padStart(12, "0")}`,
    stationId,
    city: stationId === "CYWG" ? "winnipeg" : "vancouver",
    observedAt: at(minute),
    temperatureC: minute,
    windSpeedKmh: 1,
    humidityPct: 2,
  };
}

const first = (r: WeatherReading, delayed = false, held = false): OutgoingMessage => ({
  kind: "reading",
  reading: r,
  delayed,
  held,
});

const checksumOf = (readings: readonly WeatherReading[]) => {
  const checksum = createReadingsChecksum();
  for (const r of readings) checksum.add(r);
  return checksum.value();
};

describe("the manifest", () => {
  it("counts exactly what was sent: valid readings per city and station, re-sends, invalid by kind, late ones", () => {
    const w0 = reading("CYWG", 0, "1");
    const w1 = reading("CYWG", 1, "2");
    const w2 = reading("CYWG", 2, "3");
    const v0 = reading("CYVR", 0, "4");
    const v5 = reading("CYVR", 5, "5");
    const builder = createManifestBuilder();
    builder.record([first(w0), first(w2), first(v5), { kind: "resend", reading: w0 }]);
    builder.record([
      first(w1, true), // after w2: out of order by 1 minute
      first(v0, true), // after v5: by 5 minutes
      { kind: "invalid", invalid: "implausible", reading: reading("CYWG", 3, "6") },
      { kind: "invalid", invalid: "unknown-station", reading: reading("CYWG", 3, "7") },
      { kind: "invalid", invalid: "empty-value", reading: reading("CYVR", 3, "8") },
      { kind: "resend", reading: w1 },
      { kind: "resend", reading: w1 },
    ]);
    const manifest = builder.build({ run: { seed: "s" }, bursts: 0, clockSkewMs: { CYWG: 0, CYVR: 0 } });

    expect(manifest).toEqual({
      manifestVersion: 1,
      run: { seed: "s" },
      messages: 11,
      valid: {
        readings: 5,
        checksum: checksumOf([w0, w1, w2, v0, v5]),
        checksumAlgorithm: "sha256-sum64-v1",
        byCity: {
          vancouver: { readings: 2, byStation: { CYVR: 2 }, checksum: checksumOf([v0, v5]) },
          winnipeg: { readings: 3, byStation: { CYWG: 3 }, checksum: checksumOf([w0, w1, w2]) },
        },
      },
      resends: { sent: 3, byStation: { CYWG: 3 } },
      invalid: {
        sent: 3,
        byKind: { implausible: 1, "unknown-station": 1, "empty-value": 1 },
        bySinkKind: { invalid: 2, "empty-value": 1 },
      },
      late: {
        delayed: 2,
        outOfOrder: 2,
        maxOutOfOrderMs: 5 * MINUTE,
        byStation: { CYWG: { delayed: 1, outOfOrder: 1 }, CYVR: { delayed: 1, outOfOrder: 1 } },
      },
      bursts: { count: 0, readingsHeld: 0 },
      clockSkewMs: { CYWG: 0, CYVR: 0 },
    });
  });

  it("matches a messy stream counted by hand: every simulated reading valid once, each knob's messages", () => {
    const ticks = 3_000;
    const simulation = createSimulation(DEFAULT_STATIONS, "manifest");
    const stream = createMessyStream(
      DEFAULT_STATIONS,
      "manifest",
      {
        ...NO_MESS,
        lateFraction: 0.05,
        resendFraction: 0.05,
        invalidFraction: 0.05,
        invalidKinds: INVALID_KINDS,
        burstsPerDay: 6,
        clockSkewMs: 30_000,
      },
      MINUTE,
    );
    const builder = createManifestBuilder();
    const all: OutgoingMessage[] = [];
    const simulated: WeatherReading[] = [];
    for (let i = 0; i < ticks; i++) {
      const readings = simulation.readingsAt(at(i));
      simulated.push(...readings);
      const batch = stream.at(at(i).getTime(), readings);
      builder.record(batch);
      all.push(...batch);
    }
    const rest = stream.drain();
    builder.record(rest);
    all.push(...rest);
    const manifest = builder.build({
      run: {},
      bursts: stream.bursts,
      clockSkewMs: { ...stream.clockSkewMs },
    });

    expect(manifest.messages).toBe(all.length);
    expect(manifest.valid.byCity.winnipeg?.byStation).toEqual({ CYWG: ticks });
    expect(manifest.valid.byCity.vancouver?.byStation).toEqual({ CYVR: ticks });
    const skewed = simulated.map((r) => ({
      ...r,
      observedAt: new Date(r.observedAt.getTime() + (stream.clockSkewMs[r.stationId] ?? 0)),
    }));
    expect(manifest.valid.checksum).toBe(checksumOf(skewed));
    expect(manifest.resends.sent).toBe(all.filter((m) => m.kind === "resend").length);
    expect(manifest.invalid.sent).toBe(all.filter((m) => m.kind === "invalid").length);
    expect(manifest.resends.sent).toBeGreaterThan(0);
    expect(Object.keys(manifest.invalid.byKind).sort()).toEqual([...INVALID_KINDS].sort());
    expect(manifest.late.delayed).toBe(all.filter((m) => m.kind === "reading" && m.delayed).length);
    expect(manifest.late.outOfOrder).toBeGreaterThan(0);
    expect(manifest.late.outOfOrder).toBeLessThanOrEqual(manifest.late.delayed);
    expect(manifest.bursts.count).toBe(stream.bursts);
    expect(manifest.bursts.readingsHeld).toBe(all.filter((m) => m.kind === "reading" && m.held).length);
    expect(manifest.bursts.readingsHeld).toBeGreaterThan(0);
  });

  it("is written whole, through a file renamed into place", () => {
    const folder = mkdtempSync(join(tmpdir(), "manifest-"));
    const path = join(folder, "manifest.json");
    const manifest = createManifestBuilder().build({ run: { seed: "x" }, bursts: 0, clockSkewMs: {} });
    writeManifest(path, manifest);
    expect(JSON.parse(readFileSync(path, "utf8"))).toEqual(manifest);
    expect(readdirSync(folder)).toEqual(["manifest.json"]);
    expect(existsSync(`${path}.${process.pid}.tmp`)).toBe(false);
  });
});
