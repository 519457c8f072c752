/** One configuration problem: which setting, what is wrong with it, and how to fix it. */
export interface ConfigProblem {
  readonly setting: string;
  readonly message: string;
}

/**
 * Thrown when configuration does not validate. It carries every problem at once, so an operator
 * fixes them in one go instead of discovering them one restart at a time.
 */
export class ConfigError extends Error {
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
