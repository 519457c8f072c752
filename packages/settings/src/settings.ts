/**
 * Every setting of every worker is declared once, as a Setting: its environment variable, its
 * command-line flag if it has one, what it means and its default. Reading (validation with every
 * problem reported at once), `--help` and the variable tables in the docs all derive from these
 * declarations, so none of them can drift from the others.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { z } from "zod";
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

/** A titled group of settings, as --help and the docs show them. */
export interface SettingsGroup {
  readonly title: string;
  readonly settings: Settings;
}

/** What the command line held: flag values by flag name, and whether help was asked for. */
export interface CommandLine {
  readonly flags: Readonly<Record<string, string | boolean | undefined>>;
  readonly help: boolean;
}

const SWITCH_TEXT: Readonly<Record<string, boolean>> = {
  true: true,
  "1": true,
  yes: true,
  on: true,
  false: false,
  "0": false,
  no: false,
  off: false,
};

/** The schema of a switch: true/false (or 1/0, yes/no, on/off) in its variable; present or not as a flag. */
/**
 * A whole number read from text, between `min` and `max` when given, with the messages every
 * worker uses ("must be a whole number of months", "must not be negative", "must be at most 60000").
 */
export function wholeNumber(options: { min?: number; max?: number; unit?: string } = {}) {
  const what =
    options.unit === undefined ? "must be a whole number" : `must be a whole number of ${options.unit}`;
  let schema = z.coerce.number({ error: what }).int(what);
  const { min, max } = options;
  if (min !== undefined)
    schema = schema.min(min, min === 0 ? "must not be negative" : `must be at least ${min}`);
  if (max !== undefined) schema = schema.max(max, `must be at most ${max}`);
  return schema;
}

export const switchSchema = z
  .string()
  .refine((text) => SWITCH_TEXT[text.trim().toLowerCase()] !== undefined, "expected true or false")
  .transform((text) => SWITCH_TEXT[text.trim().toLowerCase()] === true);

/**
 * Parses the command line against the flags the groups declare (and --help). A leading `--`, which
 * npm and pnpm users type before a script's own flags, is dropped. An unknown flag or a missing
 * value is pushed as a problem (setting "command line") and the flags are then left empty, so the
 * caller still reports every other problem with it.
 */
export function readCommandLine(
  argv: readonly string[],
  groups: readonly SettingsGroup[],
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
  for (const group of groups) {
    for (const spec of Object.values(group.settings)) {
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

/** What a worker's configure function reads: the environment, the parsed command line, and where its problems go. */
export interface SettingsInput {
  readonly env: Env;
  readonly commandLine: CommandLine;
  readonly problems: ConfigProblem[];
}

/** Reads a worker's configuration from its settings, adding every problem to `problems`. */
export type Configure<Config> = (input: SettingsInput) => Config;

/**
 * A worker's configuration from an environment and a command line, every problem at once: what
 * runWorker does before running it, for tests and tools.
 * @throws ConfigError
 */
export function configurationOf<Config>(
  groups: readonly SettingsGroup[],
  configure: Configure<Config>,
  env: Env,
  argv: readonly string[] = [],
): Config {
  const problems: ConfigProblem[] = [];
  const commandLine = readCommandLine(argv, groups, problems);
  const config = configure({ env, commandLine, problems });
  throwIfProblems(problems);
  return config;
}

/** Where a setting's value came from, as an error message names it. */
export function sourceOf(spec: Setting, input: { env: Env; commandLine?: CommandLine }): string {
  const flag = spec.flag === undefined ? undefined : input.commandLine?.flags[spec.flag];
  if (flag !== undefined && spec.flag !== undefined) return `--${spec.flag}`;
  if (present(input.env[spec.env]) !== undefined) return spec.env;
  return spec.flag !== undefined ? `--${spec.flag} default` : `${spec.env} default`;
}

const present = (value: string | undefined) =>
  value === undefined || value.trim() === "" ? undefined : value;

/**
 * Reads the settings: a flag wins over its variable, the variable over the default; an empty
 * variable counts as unset (a shell's `VAR= cmd` usually means "use the default"). Problems are
 * pushed, named after where the value came from, so the caller reports every one at once.
 */
export function readSettings<S extends Settings>(
  settings: S,
  input: { env: Env; commandLine?: CommandLine },
  problems: ConfigProblem[],
): SettingValues<S> {
  const values: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(settings)) {
    const flag = spec.flag === undefined ? undefined : input.commandLine?.flags[spec.flag];
    let raw: string | undefined;
    if (typeof flag === "boolean") raw = String(flag);
    else raw = flag ?? present(input.env[spec.env]) ?? spec.default;
    if (raw === undefined) continue;
    const parsed = spec.schema.safeParse(raw);
    if (parsed.success) {
      values[key] = parsed.data;
    } else {
      const shown = spec.secret ? "(hidden)" : JSON.stringify(shorten(maskCredentials(raw)));
      problems.push({
        setting: sourceOf(spec, input),
        message: `${shown}: ${parsed.error.issues[0]?.message ?? "is not valid"}`,
      });
    }
  }
  return values as SettingValues<S>;
}

/** A URL's password, masked: an invalid DATABASE_URL is echoed in the error, its secret is not. */
function maskCredentials(text: string): string {
  return text.replace(/(\/\/[^:@/\s]*:)[^@/\s]+@/g, "$1***@");
}

function shorten(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

/** The text shown for a setting's default. */
function defaultOf(spec: Setting): string | undefined {
  return spec.defaultText ?? spec.default;
}

/**
 * The `--help` text of a worker: usage, what it does, then every setting by group with its flag,
 * its variable and its default.
 */
export function helpText(options: {
  readonly name: string;
  readonly summary: string;
  readonly usage?: string;
  readonly details?: readonly string[];
  readonly groups: readonly SettingsGroup[];
}): string {
  const lines = [`Usage: ${options.name} ${options.usage ?? "[options]"}`, "", options.summary];
  if (options.details && options.details.length > 0) lines.push("", ...options.details);
  lines.push(
    "",
    "Every flag may also be set by its environment variable; a flag wins over the variable.",
    `  --help, -h: print this and exit`,
  );
  for (const group of options.groups) {
    lines.push("", `${group.title}:`);
    for (const spec of Object.values(group.settings)) {
      const flag =
        spec.flag === undefined ? "" : `--${spec.flag}${spec.switch ? "" : ` ${spec.value ?? "VALUE"}`}`;
      const fallback = defaultOf(spec);
      const name = [flag, spec.env].filter((part) => part !== "").join(", ");
      lines.push(
        `  ${name}`,
        `      ${spec.description}${fallback === undefined ? "" : ` (default: ${fallback})`}`,
      );
    }
  }
  return lines.join("\n");
}

/** A Markdown table of the settings, for the docs (`pnpm docs:settings`), aligned as Biome formats tables. */
export function settingsTable(settings: Settings): string {
  const cell = (text: string) => text.replaceAll("|", "\\|");
  const rows = Object.values(settings).map((spec) => {
    const fallback = defaultOf(spec);
    return [
      spec.flag === undefined ? `\`${spec.env}\`` : `\`${spec.env}\`, \`--${spec.flag}\``,
      fallback === undefined ? "" : cell(`\`${fallback}\``),
      cell(spec.description),
    ];
  });
  const header = ["Setting", "Default", "Meaning"];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => [...(row[column] ?? "")].length)),
  );
  const line = (cells: readonly string[]) =>
    `| ${cells.map((text, column) => text + " ".repeat((widths[column] ?? 0) - [...text].length)).join(" | ")} |`;
  return [line(header), line(widths.map((width) => "-".repeat(width))), ...rows.map(line)].join("\n");
}

/** Throws the problems gathered so far, if any, as one ConfigError. */
export function throwIfProblems(problems: readonly ConfigProblem[]): void {
  if (problems.length > 0) throw new ConfigError(problems);
}

/** Every group as a heading and a table: what the docs show for a worker's settings. */
function settingsMarkdown(groups: readonly SettingsGroup[]): string {
  return groups.map((group) => `#### ${group.title}\n\n${settingsTable(group.settings)}`).join("\n\n");
}

const GENERATED_START =
  "<!-- settings: generated from the declarations by `pnpm docs:settings`; edit those, not this -->";
const GENERATED_END = "<!-- end of generated settings -->";

/**
 * The document with its generated settings section replaced by `section` (markers included), or
 * undefined when it has no such section.
 */
function withSettingsSection(document: string, section: string): string | undefined {
  const start = document.indexOf(GENERATED_START);
  const end = document.indexOf(GENERATED_END);
  if (start < 0 || end < start) return undefined;
  return `${document.slice(0, start)}${GENERATED_START}\n\n${section}\n\n${document.slice(end)}`;
}

/**
 * Regenerates the settings section of a README from the declarations (`pnpm docs:settings`); with
 * `check`, only says whether it is current. @returns whether the file was current.
 */
export function documentSettings(readme: URL, groups: readonly SettingsGroup[], check = false): boolean {
  const path = fileURLToPath(readme);
  const before = readFileSync(path, "utf8");
  const after = withSettingsSection(before, settingsMarkdown(groups));
  if (after === undefined) {
    throw new Error(
      `${path} has no generated settings section; add the two lines ${GENERATED_START} and ${GENERATED_END}`,
    );
  }
  if (after !== before && !check) writeFileSync(path, after);
  return after === before;
}
