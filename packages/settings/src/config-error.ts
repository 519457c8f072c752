/** One configuration problem: which setting, what is wrong with it, and how to fix it. */
export interface ConfigProblem {
  readonly setting: string;
  readonly message: string;
}

/**
 * Thrown when configuration does not validate. It carries every problem at once, so an operator
 * fixes them in one go instead of discovering them one restart at a time. Its code is the
 * CONFIGURATION of service-kit's exit-code table.
 */
export class ConfigError extends Error {
  readonly code = "CONFIGURATION";
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    super(
      `invalid configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
        problems.map((p) => `  - ${p.setting}: ${p.message}`).join("\n"),
    );
    this.name = "ConfigError";
    this.problems = problems;
  }
}

/** Environment variables as a worker reads them. */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * The variables that carry a value. Empty ones count as unset, as a shell's `VAR= cmd` usually
 * means "use the default".
 */
export function presentVariables(env: Env): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter(
      (entry): entry is [string, string] => entry[1] !== undefined && entry[1].trim() !== "",
    ),
  );
}
