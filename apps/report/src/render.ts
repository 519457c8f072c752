import type { CitySummary, Stats } from "./city-summary.ts";
import type { LateArrivals } from "./late-arrivals.ts";
import { sparkline } from "./sparkline.ts";

/** A city as the report shows it: what its table holds and, when asked, how its readings arrived. */
export type CityReport = CitySummary & { readonly arrivals?: LateArrivals };

const stats = (s: Stats, unit: string) =>
  `${s.min.toFixed(1)} / ${s.avg.toFixed(1)} / ${s.max.toFixed(1)} ${unit}`;
const time = (d: Date) =>
  d
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, "Z");

/** A duration as people read it: 850 ms, 4.2 s, 9m 30s, 2h 13m, 3d 4h. */
function formatDuration(ms: number): string {
  const abs = Math.abs(ms);
  const sign = ms < 0 ? "-" : "";
  if (abs < 1_000) return `${sign}${Math.round(abs)} ms`;
  if (abs < 60_000) return `${sign}${(abs / 1_000).toFixed(1)} s`;
  const whole = (unit: number) => Math.floor(abs / unit);
  if (abs < 3_600_000) return `${sign}${whole(60_000)}m ${Math.floor((abs % 60_000) / 1_000)}s`;
  if (abs < 86_400_000) return `${sign}${whole(3_600_000)}h ${Math.floor((abs % 3_600_000) / 60_000)}m`;
  return `${sign}${whole(86_400_000)}d ${Math.floor((abs % 86_400_000) / 3_600_000)}h`;
}

function arrivalLines(arrivals: LateArrivals): string[] {
  const late =
    arrivals.late === 0
      ? `none of ${arrivals.readings} readings arrived after a later one of its station`
      : `${arrivals.late} of ${arrivals.readings} readings arrived after a later one of their station ` +
        `(late by: median ${formatDuration(arrivals.lateMedianMs ?? 0)}, max ${formatDuration(arrivals.lateMaxMs ?? 0)})`;
  return [
    `  late         ${late}`,
    `  delay        observed to stored: median ${formatDuration(arrivals.delayMedianMs)}, ` +
      `p95 ${formatDuration(arrivals.delayP95Ms)}, max ${formatDuration(arrivals.delayMaxMs)}`,
  ];
}

/** The summary as a terminal table, one block per city. */
export function renderSummary(cities: readonly CityReport[]): string {
  if (cities.length === 0) return "no readings stored yet (weather_readings is empty)";
  const lines: string[] = [];
  for (const city of cities) {
    const { months, rowsInDefault } = city.partitions;
    lines.push(
      `${city.city}  (table ${city.table}: ${city.rows} rows from ${city.stations} station${city.stations === 1 ? "" : "s"})`,
      `  partitions   ${months} month${months === 1 ? "" : "s"}; ${rowsInDefault} row${rowsInDefault === 1 ? "" : "s"} in the default partition${rowsInDefault > 0 ? " (run the maintenance: pnpm --filter bootstrap start --maintain)" : ""}`,
      `  span         ${time(city.firstObservedAt)} .. ${time(city.lastObservedAt)}`,
      "               min / avg / max",
      `  temperature  ${stats(city.temperatureC, "°C")}`,
      `  wind         ${stats(city.windSpeedKmh, "km/h")}`,
      `  humidity     ${stats(city.humidityPct, "%")}`,
      `  temperature  ${sparkline(city.temperatureTrend)}`,
      ...(city.arrivals === undefined ? [] : arrivalLines(city.arrivals)),
      "",
    );
  }
  const total = cities.reduce((sum, city) => sum + city.rows, 0);
  lines.push(`${total} rows in ${cities.length} city table${cities.length === 1 ? "" : "s"}`);
  return lines.join("\n");
}
