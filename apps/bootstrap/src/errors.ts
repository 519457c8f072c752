import { ConfigError } from "@weather/service-kit";

/** The process's exit codes, so scripts and tests can tell the failures apart. */
export const EXIT = Object.freeze({
  ok: 0,
  /** A bug: an error nobody expected. Logged with its stack. */
  unexpected: 1,
  /** The environment variables do not validate; nothing was touched. */
  badConfiguration: 2,
  /** A service is unreachable or refused us (down, wrong address, wrong credentials). */
  serviceFailed: 3,
  /** Everything else is in place, but an existing topic contradicts the configuration. */
  conflict: 4,
});

/**
 * An expected failure of one step: what failed, where, why, and what to try. Rendered as one
 * line without a stack trace, because the operator needs the fix, not our call graph.
 */
export class BootstrapError extends Error {
  readonly where: string;
  readonly hint: string;

  /** @param note what we tried, e.g. "gave up after 5 attempts in 60 s" */
  constructor(what: string, where: string, cause: unknown, hint: string, note?: string) {
    super(`${what} at ${where}: ${reasonOf(cause)}${note ? ` (${note})` : ""}`, { cause });
    this.name = "BootstrapError";
    this.where = where;
    this.hint = hint;
  }
}

/** The shortest useful description of an error, with the code drivers attach (ECONNREFUSED, 28P01). */
export function reasonOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  const nested =
    error.cause instanceof Error && error.cause.message !== error.message ? error.cause : undefined;
  const message = error.message || (error instanceof AggregateError ? reasonOf(error.errors[0]) : error.name);
  const detail = nested ? `${message}: ${nested.message}` : message;
  return typeof code === "string" && !detail.includes(code) ? `${detail} (${code})` : detail;
}

/** One line for stderr, and the exit code that goes with it. */
export function describeFailure(error: unknown): { line: string; exitCode: number } {
  if (error instanceof ConfigError) {
    const problems = error.problems.map((p) => `${p.setting}: ${p.message}`).join("; ");
    return { line: `bootstrap: invalid configuration: ${problems}`, exitCode: EXIT.badConfiguration };
  }
  if (error instanceof BootstrapError) {
    return { line: `bootstrap: ${error.message}; hint: ${error.hint}`, exitCode: EXIT.serviceFailed };
  }
  return { line: `bootstrap: unexpected error: ${reasonOf(error)}`, exitCode: EXIT.unexpected };
}
