/**
 * report: what PostgreSQL holds, per city: rows, partitions, time span, min/avg/max of
 * temperature, wind and humidity, a temperature sparkline, and late arrivals. Wiring only; see
 * city-summary.ts, late-arrivals.ts and render.ts.
 */
import { DependencyUnavailableError, postgresOptions, runWorker } from "@weather/service-kit";
import postgres from "postgres";
import { summarizeCities } from "./city-summary.ts";
import { configureReport, REPORT_SETTING_GROUPS } from "./config.ts";
import { lateArrivals } from "./late-arrivals.ts";
import { type CityReport, renderSummary } from "./render.ts";

await runWorker({
  name: "report",
  summary: "Prints what PostgreSQL holds, per city table.",
  usage: "[--json]",
  settings: REPORT_SETTING_GROUPS,
  configure: configureReport,
  async run({ json, connections }) {
    const sql = postgres(connections.databaseUrl, {
      ...postgresOptions(connections),
      max: 1,
      connect_timeout: 10,
      onnotice: () => {},
    });
    try {
      const reported = async (): Promise<CityReport[]> => {
        const summaries = await summarizeCities(sql);
        const arrivals = await lateArrivals(sql);
        return summaries.map((city) => {
          const cityArrivals = arrivals.find((a) => a.city === city.city);
          return cityArrivals === undefined ? city : { ...city, arrivals: cityArrivals };
        });
      };
      const cities = await reported().catch((error: unknown) => {
        const missingTables = (error as { code?: string }).code === "42P01";
        throw new DependencyUnavailableError(
          "PostgreSQL",
          error,
          missingTables
            ? "weather_readings does not exist; run bootstrap first: pnpm --filter bootstrap start"
            : "is the stack up and bootstrap run? try: pnpm stack up && pnpm --filter bootstrap start",
        );
      });
      console.log(json ? JSON.stringify(cities, null, 2) : renderSummary(cities));
      return "OK";
    } finally {
      await sql.end({ timeout: 5 });
    }
  },
});
