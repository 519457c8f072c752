import type { Station, WeatherReading } from "@weather/schema";
import { seededRandom } from "@weather/test-support";

/**
 * Seeded readings with every field's edge cases mixed in, for the tests that hold the fast path to
 * the general one and the stored values to the sent ones: range ends, -0.0, subnormals, the largest
 * doubles below a limit, pressure null and present, millisecond timestamps from before 1970 up to
 * the five minutes ahead validation allows, UUIDs of every version in either case.
 */

const EDGES = [0, -0, 5e-324, -5e-324, Number.MIN_VALUE, 2.2250738585072014e-308, 1e-300, 0.1, 1 / 3];

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

/** The neighbouring double of a non-zero value, one step further from zero (+1) or closer to it (-1). */
function step(value: number, direction: 1 | -1): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value);
  view.setBigUint64(0, view.getBigUint64(0) + BigInt(direction));
  return view.getFloat64(0);
}

/** The doubles right at and right inside the limits. */
function limits(min: number, max: number): number[] {
  const aboveMin = min === 0 ? Number.MIN_VALUE : step(min, min > 0 ? 1 : -1);
  const belowMax = max === 0 ? -Number.MIN_VALUE : step(max, max > 0 ? -1 : 1);
  return [min, max, aboveMin, belowMax];
}

function inRange(random: () => number, min: number, max: number): number {
  const roll = random();
  if (roll < 0.03) return pick(random, limits(min, max));
  if (roll < 0.12) {
    const edge = pick(random, EDGES);
    if (edge >= min && edge <= max) return edge;
  }
  const value = min + random() * (max - min);
  return roll < 0.5 ? Math.round(value * 10) / 10 : value;
}

function hex(random: () => number, count: number): string {
  let out = "";
  for (let i = 0; i < count; i++) out += Math.floor(random() * 16).toString(16);
  return out;
}

/** A UUID of any version, in either case: ids as other producers may write them. */
function anyUuid(random: () => number): string {
  const id = [
    hex(random, 8),
    hex(random, 4),
    String(1 + Math.floor(random() * 8)) + hex(random, 3),
    pick(random, ["8", "9", "a", "b"]) + hex(random, 3),
    hex(random, 12),
  ].join("-");
  return random() < 0.1 ? id.toUpperCase() : id;
}

export function edgeReadings(
  count: number,
  seed: number,
  stations: readonly Station[],
  nowMs = Date.now(),
): WeatherReading[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => {
    const station = pick(random, stations);
    const roll = random();
    const observedAtMs =
      roll < 0.05
        ? nowMs - Math.floor(random() * 4_000_000_000_000)
        : roll < 0.08
          ? nowMs + Math.floor(random() * 240_000)
          : nowMs - Math.floor(random() * 10 * 365 * 86_400_000);
    return {
      readingId: anyUuid(random),
      stationId: station.id,
      city: station.city,
      observedAt: new Date(observedAtMs),
      temperatureC: inRange(random, -60, 50),
      windSpeedKmh: inRange(random, 0, 250),
      humidityPct: inRange(random, 0, 100),
      pressureHpa: random() < 0.3 ? null : inRange(random, 870, 1085),
    };
  });
}
