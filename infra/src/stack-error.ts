/**
 * A failure of the local stack, always naming the service, the cause and where to look.
 * The CLI prints its message alone, without a stack trace: the message is the diagnosis.
 */
export class StackError extends Error {
  readonly service: string;
  readonly logFile: string | undefined;

  constructor(service: string, cause: string, logFile?: string, hint?: string) {
    super(`${service}: ${cause}${logFile ? `\n  log: ${logFile}` : ""}${hint ? `\n  hint: ${hint}` : ""}`);
    this.name = "StackError";
    this.service = service;
    this.logFile = logFile;
  }
}
