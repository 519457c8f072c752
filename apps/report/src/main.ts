/**
 * pnpm --filter report start [--json] — what PostgreSQL holds, per city: rows, time span,
 * min/avg/max of temperature, wind and humidity, and a temperature sparkline.
 */
import { parseArgs } from "node:util";
import { ConfigError, postgresOptions, readConnectionSettings } from "@weather/service-kit";
import postgres from "postgres";
import { renderSummary } from "./render.ts";
import { summarizeCities } from "./summary.ts";

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { json: { type: "boolean", default: false } } });
  const settings = readConnectionSettings(process.env);
  const sql = postgres(settings.databaseUrl, {
    ...postgresOptions(settings),
    max: 1,
    connect_timeout: 10,
    onnotice: () => {},
  });
  try {
    const cities = await summarizeCities(sql);
    console.log(values.json ? JSON.stringify(cities, null, 2) : renderSummary(cities));
  } finally {
    await sql.end({ timeout: 5 });
  }
}

main().catch((error: unknown) => {
  const code = (error as { code?: string }).code;
  const message =
    error instanceof ConfigError
      ? error.message
      : code === "42P01"
        ? "weather_readings does not exist; run bootstrap first: pnpm --filter bootstrap start"
        : code === "ECONNREFUSED" || code === "3D000"
          ? `cannot read PostgreSQL (${(error as Error).message}); is the stack up and bootstrap run? try: pnpm stack up && pnpm --filter bootstrap start`
          : (error as Error).message;
  console.error(`report: ${message}`);
  process.exitCode = 1;
});
