/**
 * A failure of the local stack, always naming the service, the cause and where to look.
 * The CLI prints its message alone, without a stack trace: the message is the diagnosis.
 */
export class StackError extends Error {
  constructor(
    readonly service: string,
    readonly cause_: string,
    readonly logFile?: string,
    readonly hint?: string,
  ) {
    super(
      `${service}: ${cause_}` +
        (logFile ? `\n  log: ${logFile}` : "") +
        (hint ? `\n  hint: ${hint}` : ""),
    );
    this.name = "StackError";
  }
}
