/**
 * report: what PostgreSQL holds, per city: rows, time span, min/avg/max of temperature, wind and
 * humidity, and a temperature sparkline. Wiring only; see summary.ts and render.ts.
 */
import {
  CONNECTION_SETTINGS,
  type ConnectionSettings,
  collectProblems,
  DATABASE_SECURITY_SETTINGS,
  DependencyUnavailableError,
  LOGGING_SETTINGS,
  postgresOptions,
  readConnectionSettings,
  readSettings,
  runWorker,
  setting,
  switchSchema,
  throwIfProblems,
} from "@weather/service-kit";
import postgres from "postgres";
import { renderSummary } from "./render.ts";
import { summarizeCities } from "./summary.ts";

const REPORT_SETTINGS = Object.freeze({
  json: setting({
    env: "REPORT_JSON",
    flag: "json",
    switch: true,
    description: "print the summary as JSON instead of tables",
    default: "false",
    schema: switchSchema,
  }),
});

await runWorker({
  name: "report",
  summary: "Prints what PostgreSQL holds, per city table.",
  usage: "[--json]",
  settings: [
    { title: "report", settings: REPORT_SETTINGS },
    { title: "Connections", settings: { databaseUrl: CONNECTION_SETTINGS.databaseUrl } },
    { title: "PostgreSQL security", settings: DATABASE_SECURITY_SETTINGS },
    { title: "Logging", settings: LOGGING_SETTINGS },
  ],
  configure({ env, commandLine, problems }) {
    const { json } = readSettings(REPORT_SETTINGS, { env, commandLine }, problems);
    const connections = collectProblems(problems, "connections", () => readConnectionSettings(env));
    throwIfProblems(problems);
    return Object.freeze({ json, connections: connections as ConnectionSettings });
  },
  async run({ json, connections }) {
    const sql = postgres(connections.databaseUrl, {
      ...postgresOptions(connections),
      max: 1,
      connect_timeout: 10,
      onnotice: () => {},
    });
    try {
      const cities = await summarizeCities(sql).catch((error: unknown) => {
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
