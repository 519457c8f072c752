import { randomUUID } from "node:crypto";
import { createReadingsChecksum, type WeatherReading } from "@weather/schema";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prepareDatabase, storedReadingsChecksums } from "../src/index.ts";
import { type FreshDatabase, freshDatabase } from "./fresh-database.ts";

/** Readings with the values a checksum can trip over: -0, null and present pressure, odd floats, millis. */
function awkwardReadings(): WeatherReading[] {
  const base = (city: string, stationId: string, i: number): WeatherReading => ({
    readingId: randomUUID(),
    stationId,
    city,
    observedAt: new Date(Date.UTC(2026, i % 12, 1 + (i % 28), i % 24, i % 60, i % 60, (i * 37) % 1000)),
    temperatureC: Math.round((i - 50) * 0.7) / 10,
    windSpeedKmh: (i * 1.1) % 90,
    humidityPct: (i * 3) % 101,
  });
  const readings: WeatherReading[] = [];
  for (let i = 0; i < 200; i++) {
    const reading = base(i % 3 === 0 ? "vancouver" : "winnipeg", i % 3 === 0 ? "CYVR" : "CYWG", i);
    readings.push(i % 2 === 0 ? { ...reading, pressureHpa: 1013.25 - i / 7 } : reading);
  }
  readings.push({ ...base("winnipeg", "CYWG", 1000), temperatureC: -0, windSpeedKmh: 0, humidityPct: -0 });
  readings.push({
    ...base("winnipeg", "CYWG", 1001),
    temperatureC: 0.1 + 0.2,
    windSpeedKmh: 5e-324,
    humidityPct: 1e-7,
  });
  readings.push({ ...base("vancouver", "CYVR", 1002), temperatureC: 49.99999999999999, pressureHpa: null });
  return readings;
}

async function store(db: FreshDatabase, readings: readonly WeatherReading[]): Promise<void> {
  // As the sink stores them today: numbers as text parameters (so -0 arrives as 0), timestamps as ISO.
  await db.sql`
    insert into weather_readings (reading_id, station_id, city, observed_at, temperature_c, wind_speed_kmh,
      humidity_pct, pressure_hpa, source_topic, source_partition, source_offset)
    select *, 't', 0, 0 from unnest(
      ${readings.map((r) => r.readingId)}::uuid[], ${readings.map((r) => r.stationId)}::text[],
      ${readings.map((r) => r.city)}::text[], ${readings.map((r) => r.observedAt.toISOString())}::timestamptz[],
      ${readings.map((r) => r.temperatureC)}::float8[], ${readings.map((r) => r.windSpeedKmh)}::float8[],
      ${readings.map((r) => r.humidityPct)}::float8[], ${readings.map((r) => r.pressureHpa ?? null)}::float8[])`;
}

describe("the readings checksum", () => {
  let db: FreshDatabase;

  beforeAll(async () => {
    db = await freshDatabase("checksum");
    await prepareDatabase(db.url, ["winnipeg", "vancouver"]);
  });
  afterAll(() => db?.close());

  it("is 0 over no readings", async () => {
    expect(await storedReadingsChecksums(db.sql)).toMatchObject({
      readings: 0,
      checksum: "0000000000000000",
    });
  });

  it("comes out of PostgreSQL as @weather/schema computes it, per city and in all", async () => {
    const readings = awkwardReadings();
    await store(db, readings);
    const expected = (city?: string) => {
      const checksum = createReadingsChecksum();
      for (const reading of readings) if (city === undefined || reading.city === city) checksum.add(reading);
      return { readings: checksum.count, checksum: checksum.value() };
    };
    const stored = await storedReadingsChecksums(db.sql);
    expect(stored).toEqual({
      algorithm: "sha256-sum64-v1",
      ...expected(),
      cities: [
        { city: "vancouver", ...expected("vancouver") },
        { city: "winnipeg", ...expected("winnipeg") },
      ],
    });
  });

  it("changes when one stored value changes by a trillionth", async () => {
    const before = await storedReadingsChecksums(db.sql);
    const [row] = await db.sql<{ v: number }[]>`
      update weather_readings set temperature_c = temperature_c + 1e-12
      where reading_id = (select reading_id from weather_readings where city = 'winnipeg' limit 1)
      returning temperature_c as v`;
    expect(row).toBeDefined();
    const after = await storedReadingsChecksums(db.sql);
    expect(after.readings).toBe(before.readings);
    expect(after.checksum).not.toBe(before.checksum);
    expect(after.cities[0]).toEqual(before.cities[0]); // vancouver untouched
  });
});
