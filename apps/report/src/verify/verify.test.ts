import { MANIFEST_VERSION, READINGS_CHECKSUM_ALGORITHM, type RunManifest } from "@weather/schema";
import { describe, expect, it } from "vitest";
import type { StoredCounts } from "./sources.ts";
import { compareManifest } from "./verify.ts";

const manifest: RunManifest = {
  manifestVersion: MANIFEST_VERSION,
  run: {},
  messages: 13,
  valid: {
    readings: 10,
    checksum: "00000000000000ff",
    checksumAlgorithm: READINGS_CHECKSUM_ALGORITHM,
    byCity: {
      winnipeg: { readings: 6, byStation: { CYWG: 6 }, checksum: "00000000000000aa" },
      vancouver: { readings: 4, byStation: { CYVR: 4 }, checksum: "0000000000000055" },
    },
  },
  resends: { sent: 2, byStation: { CYWG: 2 } },
  invalid: { sent: 1, byKind: { undecodable: 1 }, bySinkKind: { undecodable: 1 } },
  late: { delayed: 0, outOfOrder: 0, maxOutOfOrderMs: 0, byStation: {} },
  bursts: { count: 0, readingsHeld: 0 },
  clockSkewMs: { CYWG: 0, CYVR: 0 },
};

/** What PostgreSQL holds when every valid reading of the manifest was stored once. */
const exact: StoredCounts = {
  cities: [
    { city: "vancouver", readings: 4, checksum: "0000000000000055" },
    { city: "winnipeg", readings: 6, checksum: "00000000000000aa" },
  ],
  byStation: new Map([
    ["CYWG", 6],
    ["CYVR", 4],
  ]),
};

const failed = (checks: ReturnType<typeof compareManifest>) => checks.filter((c) => !c.ok);

describe("compareManifest: what a run sent against what is stored", () => {
  it("passes every check when the counts, checksums, re-sends and dead letters agree", () => {
    const checks = compareManifest(manifest, exact, [{ resends: 1 }, { resends: 1 }], { undecodable: 1 });
    expect(checks.map((c) => c.what)).toEqual([
      "readings of vancouver",
      "checksum of vancouver",
      "readings of station CYVR",
      "readings of winnipeg",
      "checksum of winnipeg",
      "readings of station CYWG",
      "re-sends recorded",
      "dead letters undecodable",
    ]);
    expect(failed(checks)).toEqual([]);
  });

  it("fails on a reading missing from a station, and on a changed value (the checksum)", () => {
    const stored: StoredCounts = {
      cities: [
        { city: "vancouver", readings: 4, checksum: "0000000000000056" },
        { city: "winnipeg", readings: 5, checksum: "00000000000000aa" },
      ],
      byStation: new Map([
        ["CYWG", 5],
        ["CYVR", 4],
      ]),
    };
    expect(failed(compareManifest(manifest, stored, [{ resends: 2 }], { undecodable: 1 }))).toEqual([
      { what: "checksum of vancouver", sent: "0000000000000055", found: "0000000000000056", ok: false },
      { what: "readings of winnipeg", sent: "6", found: "5", ok: false },
      { what: "readings of station CYWG", sent: "6", found: "5", ok: false },
    ]);
  });

  it("compares a city, a dead-letter kind or re-sends found on one side only with nothing", () => {
    const stored: StoredCounts = {
      cities: [...exact.cities, { city: "toronto", readings: 1, checksum: "0000000000000001" }],
      byStation: new Map([...exact.byStation, ["CYYZ", 1]]),
    };
    expect(failed(compareManifest(manifest, stored, [], { undecodable: 1, invalid: 2 }))).toEqual([
      { what: "readings of toronto", sent: "0", found: "1", ok: false },
      { what: "checksum of toronto", sent: "(none)", found: "0000000000000001", ok: false },
      { what: "re-sends recorded", sent: "2", found: "0", ok: false },
      { what: "dead letters invalid", sent: "0", found: "2", ok: false },
    ]);
  });
});
