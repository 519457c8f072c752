/**
 * Settings come in groups: a group declares its settings once (they make its part of --help and
 * of the docs) and has one reader that turns their values into one typed, frozen value. A worker
 * names the groups it reads; its configuration is each group's value under the worker's name for
 * it (`config.kafka`, `config.postgres`), read one way for every worker, every problem at once.
 */
import type { ConfigProblem, Env } from "./config-error.ts";
import {
  readCommandLine,
  readSettings,
  type Settings,
  type SettingsSource,
  type SettingValues,
  sourceOf,
  throwIfProblems,
} from "./settings.ts";

/** What a group's reader is given besides the values. */
export interface GroupInput<S extends Settings = Settings> {
  /** Where the reader reports what is wrong, one problem each, so every one is reported at once. */
  readonly problems: ConfigProblem[];
  /** Where a setting's value came from, as a problem names it: `--flag`, `VARIABLE` or `VARIABLE default`. */
  sourceOf(key: keyof S): string;
  /**
   * Whether a setting's text did not parse: its problem is reported already, and its value is its
   * default's. A check across settings skips it, so a bad value is reported once, for what it is.
   */
  failed(key: keyof S): boolean;
  /** The instant the configuration is read at: what a default of "now" means. */
  readonly now: number;
}

/** A titled group of settings with the one reader of their values. */
export interface SettingsGroup<S extends Settings = Settings, T = unknown> {
  readonly title: string;
  readonly settings: S;
  /**
   * The group's value from its settings' values (a flag wins over its variable, the variable over
   * the default). Problems are pushed to `input.problems`, never thrown; after pushing one the
   * reader may return undefined, since a configuration with problems is never used.
   */
  read(values: SettingValues<S>, input: GroupInput<S>): T | undefined;
}

/**
 * Declares a group. Without `read`, its value is its settings' values, frozen.
 * @example defineSettingsGroup({ title: "Schema registry", settings: { url }, read: ({ url }) => ({ url }) })
 */
export function defineSettingsGroup<const S extends Settings, T = SettingValues<S>>(spec: {
  readonly title: string;
  readonly settings: S;
  readonly read?: (values: SettingValues<S>, input: GroupInput<S>) => T | undefined;
}): SettingsGroup<S, T> {
  const read = spec.read ?? ((values: SettingValues<S>) => Object.freeze({ ...values }) as T);
  return Object.freeze({ title: spec.title, settings: spec.settings, read });
}

/** The groups a worker reads, by the name its configuration gives each value. */
export type SettingsGroups = Readonly<Record<string, SettingsGroup>>;

/** The value a group's reader returns. */
export type GroupValue<G extends SettingsGroup> = Exclude<ReturnType<G["read"]>, undefined>;

/** A worker's configuration: each group's value under the worker's name for the group. */
export type ConfigOf<G extends SettingsGroups> = { readonly [K in keyof G]: GroupValue<G[K]> };

/** What a worker reads (its groups, in --help's order) and how its --help presents it. */
export interface WorkerSettings<G extends SettingsGroups = SettingsGroups> {
  /** The worker's name: its --help's, its logger's, the prefix of its error lines. */
  readonly name: string;
  /** One sentence: what the worker does. */
  readonly summary: string;
  /** What follows the name in the usage line; default "[options]". */
  readonly usage?: string;
  /** Paragraphs for --help after the summary (modes, examples). */
  readonly details?: readonly string[];
  readonly groups: G;
}

/** Declares what a worker reads; the identity, frozen, there for type inference. */
export function defineWorkerSettings<const G extends SettingsGroups>(
  spec: WorkerSettings<G>,
): WorkerSettings<G> {
  return Object.freeze({ ...spec, groups: Object.freeze({ ...spec.groups }) });
}

/** Where a configuration is read from. */
export interface ConfigurationInput {
  readonly env: Env;
  readonly argv: readonly string[];
  /** The instant "now" means; default the clock's. */
  readonly now?: number;
}

/** A configuration as read: whether --help was asked for, every problem, and each group's value. */
export interface ConfigurationRead<G extends SettingsGroups> {
  readonly help: boolean;
  readonly problems: readonly ConfigProblem[];
  /** Complete when there is no problem; a group whose reader reported one may be missing. */
  readonly values: Partial<ConfigOf<G>>;
}

/**
 * Reads every group of a worker from the command line and the environment, gathering every
 * problem: what runWorker does before running a worker, and what configurationOf does for tests.
 */
export function readConfiguration<G extends SettingsGroups>(
  worker: Pick<WorkerSettings<G>, "groups">,
  input: ConfigurationInput,
): ConfigurationRead<G> {
  const problems: ConfigProblem[] = [];
  const groups = Object.entries(worker.groups);
  const commandLine = readCommandLine(
    input.argv,
    groups.map(([, group]) => group.settings),
    problems,
  );
  const source: SettingsSource = { env: input.env, commandLine };
  const now = input.now ?? Date.now();
  const values: Record<string, unknown> = {};
  for (const [name, group] of groups) {
    const value = readGroup(group, source, now, problems);
    if (value !== undefined) values[name] = value;
  }
  return { help: commandLine.help, problems, values: Object.freeze(values) as Partial<ConfigOf<G>> };
}

function readGroup(
  group: SettingsGroup,
  source: SettingsSource,
  now: number,
  problems: ConfigProblem[],
): unknown {
  const before = problems.length;
  const { values, failed } = readSettings(group.settings, source, problems);
  const value = group.read(values, {
    problems,
    now,
    failed: (key) => failed.has(key),
    sourceOf: (key) => sourceOf(group.settings[key] as Settings[string], source),
  });
  if (value === undefined && problems.length === before) {
    throw new Error(
      `the reader of the settings group "${group.title}" returned no value and reported no problem`,
    );
  }
  return value;
}

/**
 * A worker's configuration from an environment and a command line, as runWorker reads it.
 * @throws ConfigError naming every problem at once.
 */
export function configurationOf<G extends SettingsGroups>(
  worker: Pick<WorkerSettings<G>, "groups">,
  env: Env,
  argv: readonly string[] = [],
  options: { readonly now?: number } = {},
): ConfigOf<G> {
  const read = readConfiguration(worker, { env, argv, ...options });
  throwIfProblems(read.problems);
  return read.values as ConfigOf<G>;
}
