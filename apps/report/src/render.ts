import type { CitySummary, Stats } from "./city-summary.ts";
import { sparkline } from "./sparkline.ts";

const stats = (s: Stats, unit: string) =>
  `${s.min.toFixed(1)} / ${s.avg.toFixed(1)} / ${s.max.toFixed(1)} ${unit}`;
const time = (d: Date) =>
  d
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, "Z");

/** The summary as a terminal table, one block per city. */
export function renderSummary(cities: readonly CitySummary[]): string {
  if (cities.length === 0) return "no readings stored yet (weather_readings is empty)";
  const lines: string[] = [];
  for (const city of cities) {
    lines.push(
      `${city.city}  (table ${city.table}: ${city.rows} rows from ${city.stations} station${city.stations === 1 ? "" : "s"})`,
      `  span         ${time(city.firstObservedAt)} .. ${time(city.lastObservedAt)}`,
      "               min / avg / max",
      `  temperature  ${stats(city.temperatureC, "°C")}`,
      `  wind         ${stats(city.windSpeedKmh, "km/h")}`,
      `  humidity     ${stats(city.humidityPct, "%")}`,
      `  temperature  ${sparkline(city.temperatureTrend)}`,
      "",
    );
  }
  const total = cities.reduce((sum, city) => sum + city.rows, 0);
  lines.push(`${total} rows in ${cities.length} city table${cities.length === 1 ? "" : "s"}`);
  return lines.join("\n");
}
