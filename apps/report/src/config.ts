import {
  CONNECTION_SETTINGS,
  type CommandLine,
  type ConfigProblem,
  type ConnectionSettings,
  collectProblems,
  DATABASE_SECURITY_SETTINGS,
  type Env,
  LOGGING_SETTINGS,
  readConnectionSettings,
  readSettings,
  type SettingsGroup,
  setting,
  switchSchema,
  throwIfProblems,
} from "@weather/service-kit";

export const REPORT_SETTINGS = Object.freeze({
  json: setting({
    env: "REPORT_JSON",
    flag: "json",
    switch: true,
    description: "print the summary as JSON instead of tables",
    default: "false",
    schema: switchSchema,
  }),
});

/** Every setting the report reads, as --help and its README show them. */
export const REPORT_SETTING_GROUPS: readonly SettingsGroup[] = Object.freeze([
  { title: "report", settings: REPORT_SETTINGS },
  { title: "Connections", settings: { databaseUrl: CONNECTION_SETTINGS.databaseUrl } },
  { title: "PostgreSQL security", settings: DATABASE_SECURITY_SETTINGS },
  { title: "Logging", settings: LOGGING_SETTINGS },
]);

export interface ReportConfig {
  readonly json: boolean;
  readonly connections: ConnectionSettings;
}

/** Reads the report's configuration, adding every problem to `problems`. */
export function configureReport(input: {
  readonly env: Env;
  readonly commandLine: CommandLine;
  readonly problems: ConfigProblem[];
}): ReportConfig {
  const { env, commandLine, problems } = input;
  const { json } = readSettings(REPORT_SETTINGS, { env, commandLine }, problems);
  const connections = collectProblems(problems, "connections", () => readConnectionSettings(env));
  throwIfProblems(problems);
  return Object.freeze({ json, connections: connections as ConnectionSettings });
}
