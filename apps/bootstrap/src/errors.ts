import { reasonOf, WorkerError } from "@weather/service-kit";

/**
 * A service was unreachable or refused a step: what failed, where, why, and what to try. It ends
 * the run with DEPENDENCY_UNAVAILABLE, as one line without a stack trace, because the operator
 * needs the fix, not our call graph.
 */
export class BootstrapError extends WorkerError {
  readonly where: string;

  /** @param note what we tried, e.g. "gave up after 5 attempts in 60 s" */
  constructor(what: string, where: string, cause: unknown, hint: string, note?: string) {
    super("DEPENDENCY_UNAVAILABLE", `${what} at ${where}: ${reasonOf(cause)}${note ? ` (${note})` : ""}`, {
      cause,
      hint,
    });
    this.name = "BootstrapError";
    this.where = where;
  }
}
