/**
 * Every setting of every worker is declared once, as a Setting: its environment variable, its
 * command-line flag if it has one, what it means and its default. Reading (validation with every
 * problem reported at once), `--help` and the variable tables in the docs all derive from these
 * declarations, so none of them can drift from the others. Settings come in groups (groups.ts).
 */
import { parseArgs } from "node:util";
import type { z } from "zod";
import { ConfigError, type ConfigProblem, type Env } from "./config-error.ts";

export interface Setting<T = unknown> {
  /** The environment variable. */
  readonly env: string;
  /** The command-line flag, without its dashes; absent: the variable only. */
  readonly flag?: string;
  /** A flag that takes no value (`--json`); its variable takes true/false. */
  readonly switch?: boolean;
  /** Placeholder for the value in --help, e.g. N, DURATION, URL. */
  readonly value?: string;
  readonly description: string;
  /** The default, as text a user could have typed; parsed like any input. */
  readonly default?: string;
  /** How the docs describe a default that is not a fixed text ("random, logged"). */
  readonly defaultText?: string;
  /** Turns the text (variable, flag or default) into the value, or says what is wrong with it. */
  readonly schema: z.ZodType<T>;
  /** Never printed, not even in an error message. */
  readonly secret?: boolean;
}

/**
 * Declares a setting; the identity function, there for type inference: what the schema outputs,
 * and whether a default makes the value always present.
 */
export function setting<const S extends Setting>(spec: S): S {
  return Object.freeze(spec);
}

export type Settings = Readonly<Record<string, Setting>>;

/** The values read: a setting with a default always has one. */
export type SettingValues<S extends Settings> = {
  readonly [K in keyof S]: S[K] extends Setting<infer T>
    ? S[K] extends { default: string }
      ? T
      : T | undefined
    : never;
};

/** What the command line held: flag values by flag name, and whether help was asked for. */
export interface CommandLine {
  readonly flags: Readonly<Record<string, string | boolean | undefined>>;
  readonly help: boolean;
}

/**
 * Parses the command line against the flags the settings declare (and --help). A leading `--`,
 * which npm and pnpm users type before a script's own flags, is dropped. An unknown flag or a
 * missing value is pushed as a problem (setting "command line") and the flags are then left empty,
 * so the caller still reports every other problem with it.
 */
export function readCommandLine(
  argv: readonly string[],
  settings: Iterable<Settings>,
  problems: ConfigProblem[],
): CommandLine {
  // Workers take no positional arguments, so a "--" separates nothing: npm and pnpm users type one
  // before a script's flags, and a root script that already passes flags (`pnpm verify -- --json`)
  // puts it in the middle.
  const args = argv.filter((arg) => arg !== "--");
  const options: Record<string, { type: "string" | "boolean"; short?: string }> = {
    help: { type: "boolean", short: "h" },
  };
  const known: string[] = [];
  for (const declared of settings) {
    for (const spec of Object.values(declared)) {
      if (spec.flag === undefined) continue;
      options[spec.flag] = { type: spec.switch ? "boolean" : "string" };
      known.push(`--${spec.flag}`);
    }
  }
  try {
    const { values } = parseArgs({ args, options, strict: true, allowPositionals: false });
    const { help, ...flags } = values as Record<string, string | boolean | undefined>;
    return { flags, help: help === true };
  } catch (error) {
    // parseArgs explains unknown flags and missing values well; keep its words, drop its advice on "--".
    const message = (error as Error).message.split(". To specify")[0] ?? String(error);
    const list = known.length === 0 ? "this command takes no flags but --help" : `known: ${known.join(", ")}`;
    problems.push({ setting: "command line", message: `${message}; ${list} (see --help)` });
    return { flags: {}, help: args.includes("--help") || args.includes("-h") };
  }
}

/** Where settings are read from: the environment and the parsed command line. */
export interface SettingsSource {
  readonly env: Env;
  readonly commandLine: CommandLine;
}

/** Where a setting's value came from, as an error message names it. */
export function sourceOf(spec: Setting, source: SettingsSource): string {
  const flag = spec.flag === undefined ? undefined : source.commandLine.flags[spec.flag];
  if (flag !== undefined && spec.flag !== undefined) return `--${spec.flag}`;
  if (present(source.env[spec.env]) !== undefined) return spec.env;
  return spec.flag !== undefined ? `--${spec.flag} default` : `${spec.env} default`;
}

const present = (value: string | undefined) =>
  value === undefined || value.trim() === "" ? undefined : value;

/** The values of some settings, and which of them did not parse. */
export interface ReadValues<S extends Settings> {
  readonly values: SettingValues<S>;
  /** Settings whose text did not parse (their problem is pushed); those with a default hold its value. */
  readonly failed: ReadonlySet<keyof S>;
}

/**
 * Reads the settings: a flag wins over its variable, the variable over the default; an empty
 * variable counts as unset (a shell's `VAR= cmd` usually means "use the default"). Problems are
 * pushed, named after where the value came from, so the caller reports every one at once. A
 * setting that does not parse takes its default's value, so the values stay as typed and the
 * checks across settings can still run (they skip what `failed` names).
 */
export function readSettings<S extends Settings>(
  settings: S,
  source: SettingsSource,
  problems: ConfigProblem[],
): ReadValues<S> {
  const values: Record<string, unknown> = {};
  const failed = new Set<keyof S>();
  for (const [key, spec] of Object.entries(settings)) {
    const flag = spec.flag === undefined ? undefined : source.commandLine.flags[spec.flag];
    let raw: string | undefined;
    if (typeof flag === "boolean") raw = String(flag);
    else raw = flag ?? present(source.env[spec.env]) ?? spec.default;
    if (raw === undefined) continue;
    const parsed = spec.schema.safeParse(raw);
    if (parsed.success) {
      values[key] = parsed.data;
      continue;
    }
    failed.add(key);
    const shown = spec.secret ? "(hidden)" : JSON.stringify(shorten(maskCredentials(raw)));
    problems.push({
      setting: sourceOf(spec, source),
      message: `${shown}: ${parsed.error.issues[0]?.message ?? "is not valid"}`,
    });
    const fallback = spec.default === undefined ? undefined : spec.schema.safeParse(spec.default);
    if (fallback?.success) values[key] = fallback.data;
  }
  return { values: values as SettingValues<S>, failed };
}

/** A URL's password, masked: an invalid DATABASE_URL is echoed in the error, its secret is not. */
function maskCredentials(text: string): string {
  return text.replace(/(\/\/[^:@/\s]*:)[^@/\s]+@/g, "$1***@");
}

function shorten(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

/** Throws the problems gathered so far, if any, as one ConfigError. */
export function throwIfProblems(problems: readonly ConfigProblem[]): void {
  if (problems.length > 0) throw new ConfigError(problems);
}
