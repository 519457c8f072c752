import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultPartitionName, monthOf, monthPartitionName } from "@weather/db";
import { cityTableName, type RunManifest, readRunManifest } from "@weather/schema";
import { EXIT_CODES } from "@weather/service-kit";
import { killAllWorkers, parseLogLines, tail } from "@weather/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mebibytes, rate, runMeasured } from "../src/measure.ts";
import { report, seconds, since } from "../src/report.ts";
import { type VerifyRun, verifyWorld } from "../src/verify.ts";
import { bootstrapEnv, createWorld, type World } from "../src/world.ts";

const TEST = "year-backfill";
const MINUTE_MS = 60_000;

/**
 * Simulated minutes between two readings of a station: 1 (the default) is the year of issue 14,
 * 525,600 readings per station; `YEAR_BACKFILL_STEP_MINUTES=10` runs the same year ten times
 * lighter, for a quick look on a slow machine.
 */
function stepMinutes(text = "1"): number {
  const minutes = Number(text);
  if (!Number.isSafeInteger(minutes) || minutes < 1) {
    throw new Error(`YEAR_BACKFILL_STEP_MINUTES: "${text}": must be a whole number of minutes, 1 or more`);
  }
  return minutes;
}

const STEP_MS = stepMinutes(process.env.YEAR_BACKFILL_STEP_MINUTES) * MINUTE_MS;

/** The year up to the start of today (UTC): done days, nothing the sink finds in the future. */
function lastYear(now = new Date()): { readonly from: Date; readonly to: Date } {
  const [year, month, day] = [now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()];
  return { from: new Date(Date.UTC(year - 1, month, day)), to: new Date(Date.UTC(year, month, day)) };
}

/** First instants of the months from `from`'s to `to`'s, both included. */
function monthStarts(from: number, to: number): number[] {
  const starts: number[] = [];
  const first = new Date(from);
  for (let i = 0; ; i++) {
    const start = Date.UTC(first.getUTCFullYear(), first.getUTCMonth() + i, 1);
    if (start > to) return starts;
    starts.push(start);
  }
}

/**
 * The rows each month partition must hold, from the producer's own account: every station sends
 * one valid reading per step from `from`, stamped with its clock skew (which can carry a reading
 * over a month's edge), whatever the other knobs do to when it is sent.
 */
function expectedRowsByPartition(manifest: RunManifest, from: number, ticks: number): Record<string, number> {
  const expected: Record<string, number> = {};
  for (const [city, sent] of Object.entries(manifest.valid.byCity)) {
    for (const station of Object.keys(sent.byStation)) {
      const first = from + (manifest.clockSkewMs[station] ?? 0);
      const last = first + (ticks - 1) * STEP_MS;
      for (const start of monthStarts(first, last)) {
        const end = Date.UTC(new Date(start).getUTCFullYear(), new Date(start).getUTCMonth() + 1, 1);
        // Ticks k with start <= first + k * step < end.
        const tickAt = (instant: number) =>
          Math.min(ticks, Math.max(0, Math.ceil((instant - first) / STEP_MS)));
        const rows = tickAt(end) - tickAt(start);
        const partition = monthPartitionName(cityTableName(city), monthOf(new Date(start)));
        if (rows > 0) expected[partition] = (expected[partition] ?? 0) + rows;
      }
    }
  }
  return expected;
}

/** Rows per leaf partition of weather_readings (partitions without rows are left out). */
async function rowsByPartition(world: World): Promise<Record<string, number>> {
  const rows = await world.sql<{ partition: string; rows: number }[]>`
    select tableoid::regclass::text as partition, count(*)::int as rows
    from weather_readings group by 1 order by 1`;
  return Object.fromEntries(rows.map((row) => [row.partition, row.rows]));
}

/** Every month and DEFAULT partition of every city table, by name. */
async function partitionNames(world: World): Promise<string[]> {
  const rows = await world.sql<{ name: string }[]>`
    select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
    where i.inhparent in (select inhrelid from pg_inherits where inhparent = 'weather_readings'::regclass)
    order by 1`;
  return rows.map((row) => row.name);
}

describe("a year of readings for both cities, messy, through the pipeline", () => {
  let world: World;
  const folder = mkdtempSync(join(tmpdir(), "year-backfill-"));
  const manifestFile = join(folder, "manifest.json");
  let manifest: RunManifest;
  const { from, to } = lastYear();
  const ticks = Math.floor((to.getTime() - from.getTime()) / STEP_MS);
  let verification: VerifyRun;
  let start = 0;

  beforeAll(async () => {
    start = performance.now();
    // Thirteen months back, not bootstrap's twelve: a year from the 1st of a month, less a
    // station's negative clock skew, begins in the month before. Every reading then has its month.
    world = await createWorld("year", { env: { PARTITION_MONTHS_BACK: "13" } });
    report(
      TEST,
      `world ${world.runId}: ${from.toISOString()} to ${to.toISOString()} every ${STEP_MS / MINUTE_MS}m, ` +
        `${ticks.toLocaleString("en-US")} readings per station`,
    );

    // The README's year: late, re-sent, invalid (each kind the sink dead-letters), bursts, skew.
    const producer = await runMeasured(
      "sensor-producer",
      [
        ...["--from", from.toISOString(), "--to", to.toISOString(), "--step", `${STEP_MS / MINUTE_MS}m`],
        ...["--seed", "year-backfill", "--stations", "CYWG,CYVR"],
        ...["--late-fraction", "0.02", "--lateness", "exponential:20m"],
        ...["--resend-fraction", "0.01", "--resend-delay", "exponential:1m"],
        ...["--invalid-fraction", "0.002", "--bursts-per-day", "2", "--clock-skew", "90s"],
        ...["--manifest", manifestFile],
      ],
      world.producerEnv(),
      900_000,
    );
    expect(producer.exit.code, tail(producer.output)).toBe(0);
    manifest = readRunManifest(manifestFile);
    report(
      TEST,
      `produce: ${rate(manifest.messages, "messages", producer.wallMs)}, peak ${mebibytes(producer.peakRssBytes)}: ` +
        `${manifest.valid.readings} valid, ${manifest.resends.sent} re-sent, ${manifest.invalid.sent} invalid, ` +
        `${manifest.late.outOfOrder} out of order (at most ${Math.round(manifest.late.maxOutOfOrderMs / MINUTE_MS)} min), ` +
        `${manifest.bursts.count} bursts holding ${manifest.bursts.readingsHeld}`,
    );

    const sink = await runMeasured("pg-sink", ["--until-caught-up"], world.sinkEnv(), 900_000);
    expect(sink.exit.code, tail(sink.output)).toBe(0);
    report(
      TEST,
      `drain: ${rate(manifest.messages, "messages", sink.wallMs)}, peak ${mebibytes(sink.peakRssBytes)}`,
    );

    verification = await verifyWorld(world, manifestFile);
    report(
      TEST,
      `verify: ${rate(manifest.messages, "offsets", verification.wallMs)}, ` +
        `${rate(manifest.valid.readings, "rows", verification.wallMs)}, peak ${mebibytes(verification.peakRssBytes)}`,
      verification.summary,
    );
  }, 2_400_000);

  afterAll(async () => {
    await killAllWorkers();
    await world?.close();
    rmSync(folder, { recursive: true, force: true });
    report(TEST, `done in ${seconds(since(start))}`);
  });

  it("sent one valid reading per station and minute of the year, and every kind of mess", () => {
    expect(Object.keys(manifest.valid.byCity).sort()).toEqual(["vancouver", "winnipeg"]);
    for (const city of Object.values(manifest.valid.byCity)) expect(city.readings).toBe(ticks);
    expect(manifest.resends.sent).toBeGreaterThan(0);
    expect(manifest.invalid.sent).toBeGreaterThan(0);
    expect(manifest.late.outOfOrder).toBeGreaterThan(0);
    expect(manifest.bursts.count).toBeGreaterThan(0);
    expect(Object.values(manifest.clockSkewMs).some((skew) => skew !== 0)).toBe(true);
  });

  it("accounts for every offset exactly once, and verify and the manifest agree on every count", () => {
    const { exit, result } = verification;
    expect(result.manifest.filter((check) => !check.ok)).toEqual([]);
    expect(result.holds).toBe(true);
    expect(exit.code).toBe(EXIT_CODES.OK);
    const total = (pick: (p: (typeof result.partitions)[number]) => number) =>
      result.partitions.reduce((sum, p) => sum + pick(p), 0);
    expect({
      rows: total((p) => p.rows),
      resends: total((p) => p.resends),
      deadLetters: total((p) => p.deadLetters),
      notReturned: total((p) => p.notReturned),
      gaps: total((p) => p.gaps),
      duplicates: total((p) => p.duplicates),
      lag: total((p) => Number(p.lag)),
      idsStoredTwice: result.idsStoredTwice,
    }).toEqual({
      rows: manifest.valid.readings,
      resends: manifest.resends.sent,
      deadLetters: manifest.invalid.sent,
      notReturned: 0,
      gaps: 0,
      duplicates: 0,
      lag: 0,
      idsStoredTwice: 0,
    });
    // The manifest's own per-city counts were among the checks that passed.
    for (const [city, sent] of Object.entries(manifest.valid.byCity)) {
      expect(result.manifest).toContainEqual({
        what: `readings of ${city}`,
        sent: String(sent.readings),
        found: String(sent.readings),
        ok: true,
      });
    }
  });

  it("stores each reading in its month's partition, none in a DEFAULT one", async () => {
    const stored = await rowsByPartition(world);
    const expected = expectedRowsByPartition(manifest, from.getTime(), ticks);
    report(
      TEST,
      `partitions: ${Object.keys(stored).length} hold rows, ` +
        `${Math.min(...Object.values(stored))} to ${Math.max(...Object.values(stored))} each`,
    );
    expect(stored).toEqual(expected);
    for (const city of Object.keys(manifest.valid.byCity)) {
      expect(stored[defaultPartitionName(cityTableName(city))]).toBeUndefined();
    }
  });

  it("leaves nothing for bootstrap --maintain to do afterwards", async () => {
    const before = { partitions: await partitionNames(world), rows: await rowsByPartition(world) };
    const maintenance = await runMeasured(
      "bootstrap",
      ["--maintain"],
      bootstrapEnv(world, world.partitions),
      120_000,
    );
    expect(maintenance.exit.code, tail(maintenance.output)).toBe(0);
    const finished = parseLogLines(maintenance.output).find((line) => line.msg === "maintenance finished");
    report(TEST, `maintain: ${JSON.stringify(finished?.summary)} in ${seconds(maintenance.wallMs)}`);
    expect(finished?.summary).toEqual({ created: [], moved: [], dropped: [], kept: [] });
    expect({ partitions: await partitionNames(world), rows: await rowsByPartition(world) }).toEqual(before);
  });
});
