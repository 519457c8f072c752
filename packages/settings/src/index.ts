export { ConfigError, type ConfigProblem, type Env, presentVariables } from "./config-error.ts";
export { documentSection, documentSettings, helpText, markdownTable, settingsTable } from "./docs.ts";
export {
  type ConfigOf,
  type ConfigurationInput,
  type ConfigurationRead,
  configurationOf,
  defineSettingsGroup,
  defineWorkerSettings,
  type GroupInput,
  type GroupValue,
  readConfiguration,
  type SettingsGroup,
  type SettingsGroups,
  type WorkerSettings,
} from "./groups.ts";
export {
  duration,
  formatDuration,
  fraction,
  parseDurationMs,
  port,
  switchSchema,
  wholeNumber,
} from "./schemas.ts";
export {
  type CommandLine,
  readCommandLine,
  type Setting,
  type Settings,
  type SettingValues,
  setting,
  throwIfProblems,
} from "./settings.ts";
