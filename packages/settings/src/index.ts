export {
  ConfigError,
  type ConfigProblem,
  collectProblems,
  type Env,
  presentVariables,
} from "./config-error.ts";
export {
  type CommandLine,
  helpText,
  readCommandLine,
  readSettings,
  type Setting,
  type Settings,
  type SettingsGroup,
  type SettingValues,
  setting,
  settingsTable,
  sourceOf,
  switchSchema,
  throwIfProblems,
} from "./settings.ts";
