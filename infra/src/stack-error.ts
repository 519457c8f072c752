import { EXIT_CODES } from "@weather/service-kit";

/**
 * A failure of the local stack, always naming the service, the cause and where to look.
 * The CLI prints its message alone, without a stack trace: the message is the diagnosis.
 */
export class StackError extends Error {
  readonly service: string;
  readonly logFile: string | undefined;
  /** The CLI's exit code (packages/service-kit/src/errors.ts); a service that failed to start is 1. */
  readonly exitCode: number = 1;

  constructor(service: string, cause: string, logFile?: string, hint?: string) {
    super(`${service}: ${cause}${logFile ? `\n  log: ${logFile}` : ""}${hint ? `\n  hint: ${hint}` : ""}`);
    this.name = "StackError";
    this.service = service;
    this.logFile = logFile;
  }
}

/**
 * What runs contradicts what was asked (a port another process holds, a failover with no standby,
 * two primaries): nothing was changed, and the one-line message says what to do. Exit code CONFLICT.
 */
export class StackConflict extends StackError {
  override readonly exitCode: number = EXIT_CODES.CONFLICT;

  constructor(service: string, cause: string) {
    super(service, cause);
    this.name = "StackConflict";
  }
}
