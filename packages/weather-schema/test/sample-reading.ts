import type { WeatherReading } from "../src/reading.ts";

/** A plausible Winnipeg reading for tests; override what the test is about. */
export function sampleReading(overrides: Partial<WeatherReading> = {}): WeatherReading {
  return {
    readingId: "3f1c2b7e-8d4a-4c1e-9b2f-6a7d8e9f0a1b",
    stationId: "CYWG",
    city: "winnipeg",
    observedAt: new Date("2025-01-15T12:34:56.789Z"),
    temperatureC: -18.25,
    windSpeedKmh: 22.5,
    humidityPct: 74,
    ...overrides,
  };
}
