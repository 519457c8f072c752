/**
 * The closed list of ways a worker ends, and the exit code of each: one table for every worker, so
 * scripts, supervisors and tests can tell "fix the configuration" from "the broker is down" from
 * "a bug" without reading log text. Errors a worker expects carry one of these codes; callers
 * branch on the code, never on the message.
 */
export const EXIT_CODES = Object.freeze({
  /** Done, or stopped by SIGINT/SIGTERM after finishing or handing back the work in flight. */
  OK: 0,
  /** A bug: an error nobody expected. Logged with its stack. */
  BUG: 1,
  /** The settings (environment, flags, files they name) do not validate; nothing was touched. */
  CONFIGURATION: 2,
  /** Kafka, the schema registry or PostgreSQL is unreachable, or refused us (credentials, permissions). */
  DEPENDENCY_UNAVAILABLE: 3,
  /** What exists contradicts the configuration (e.g. a topic with another partition count). */
  CONFLICT: 4,
  /** A check ran and found what it looks for (verify: an offset not accounted for, a duplicate). */
  CHECK_FAILED: 5,
  /** A second SIGINT/SIGTERM: the operator did not want to wait for the graceful stop. */
  INTERRUPTED: 130,
});

export type ExitCodeName = keyof typeof EXIT_CODES;

/** The failure codes an error may carry (every exit but OK and INTERRUPTED). */
export type WorkerErrorCode = Exclude<ExitCodeName, "OK" | "INTERRUPTED">;

/**
 * An expected failure: what failed, where, why, and what to do about it. Rendered as one line
 * without a stack trace, because the operator needs the fix, not our call graph.
 */
export class WorkerError extends Error {
  readonly code: WorkerErrorCode;
  /** What to try; appended to the line an operator reads. */
  readonly hint: string | undefined;

  constructor(code: WorkerErrorCode, message: string, options: { cause?: unknown; hint?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "WorkerError";
    this.code = code;
    this.hint = options.hint;
  }
}

/** The services a worker depends on. */
export type Dependency = "PostgreSQL" | "schema registry" | "Kafka";

/**
 * A dependency could not be reached or refused us. A long-running worker waits such outages out and
 * retries the work unchanged (nothing is skipped); a one-shot worker exits with
 * DEPENDENCY_UNAVAILABLE. Bad input is never an outage: it is dead-lettered as poison.
 */
export class DependencyUnavailableError extends WorkerError {
  readonly dependency: Dependency;

  constructor(dependency: Dependency, cause: unknown, hint?: string) {
    super("DEPENDENCY_UNAVAILABLE", `${dependency} unavailable: ${reasonOf(cause)}`, {
      cause,
      ...(hint !== undefined ? { hint } : {}),
    });
    this.name = "DependencyUnavailableError";
    this.dependency = dependency;
  }
}

/** The shortest useful description of an error, with the code drivers attach (ECONNREFUSED, 28P01). */
export function reasonOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  const nested =
    error.cause instanceof Error && error.cause.message !== error.message ? error.cause : undefined;
  const message = error.message || (error instanceof AggregateError ? reasonOf(error.errors[0]) : error.name);
  const detail = nested && !message.includes(nested.message) ? `${message}: ${nested.message}` : message;
  return typeof code === "string" && !detail.includes(code) ? `${detail} (${code})` : detail;
}
