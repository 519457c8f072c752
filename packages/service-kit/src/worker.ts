/**
 * The one life cycle every worker shares: read the settings (or print --help), run, stop on
 * SIGINT/SIGTERM, and end with an exit code from the one table (errors.ts). A worker's main.ts
 * only hands its definition to runWorker; the work lives in the worker's own modules.
 */

import {
  ConfigError,
  type ConfigProblem,
  type Env,
  helpText,
  readCommandLine,
  type SettingsGroup,
  type SettingsInput,
} from "@weather/settings";
import type { Logger } from "pino";
import { EXIT_CODES, type ExitCodeName, reasonOf, WorkerError } from "./errors.ts";
import { createLogger, logFormatOf } from "./logger.ts";

export interface WorkerContext {
  readonly logger: Logger;
  /**
   * Aborted by the first SIGINT or SIGTERM: take no new work, and finish or hand back what is in
   * flight. Its reason names the signal.
   */
  readonly signal: AbortSignal;
}

export interface WorkerDefinition<Config> {
  /** The worker's name: its logger's name, its --help's, the prefix of its error lines. */
  readonly name: string;
  /** One sentence: what the worker does. */
  readonly summary: string;
  /** What follows the name in the usage line; default "[options]". */
  readonly usage?: string;
  /** Paragraphs for --help after the summary (modes, examples). */
  readonly details?: readonly string[];
  /** Every setting the worker reads, for --help (and the docs, scripts/docs.ts). */
  readonly settings: readonly SettingsGroup[];
  /**
   * Reads the settings into the worker's frozen configuration, adding its problems to `problems`
   * (which may already hold the command line's); runWorker throws them all as one ConfigError.
   */
  configure(input: SettingsInput): Config;
  /** The work; resolves once done or stopped, with how the process should end (default OK). */
  run(config: Config, context: WorkerContext): Promise<ExitCodeName | undefined>;
  /** Longest the stop after a signal may take before the process exits anyway; default 30 s. */
  readonly shutdownTimeoutMs?: number;
  /**
   * Uncaught errors the worker knows to be harmless (the dashboard's: a dependency's failure that a
   * client library raised outside any call); any other uncaught error is a bug and ends the process
   * with BUG.
   */
  readonly survivable?: (error: unknown, logger: Logger) => boolean;
}

export interface RunOptions {
  readonly argv?: readonly string[];
  readonly env?: Env;
  /** Ends the process; replaced in tests. */
  readonly exit?: (code: number) => never;
}

const DEFAULT_SHUTDOWN_TIMEOUT_MS = 30_000;

/** The help text of a worker, generated from its definition. */
function workerHelp(definition: WorkerDefinition<unknown>): string {
  return helpText({
    name: definition.name,
    summary: definition.summary,
    ...(definition.usage !== undefined ? { usage: definition.usage } : {}),
    ...(definition.details !== undefined ? { details: definition.details } : {}),
    groups: definition.settings,
  });
}

/**
 * The one line an operator reads about a failure, and the exit code that goes with it: every
 * configuration problem at once; an expected failure with where it happened and what to try; a bug
 * without its stack (that goes to the log).
 */
export function describeFailure(name: string, error: unknown): { line: string; exitCode: number } {
  if (error instanceof ConfigError) {
    const problems = error.problems.map((p) => `${p.setting}: ${p.message}`).join("; ");
    return { line: `${name}: invalid configuration: ${problems}`, exitCode: EXIT_CODES.CONFIGURATION };
  }
  if (error instanceof WorkerError) {
    const hint = error.hint === undefined ? "" : `; hint: ${error.hint}`;
    return { line: `${name}: ${error.message}${hint}`, exitCode: EXIT_CODES[error.code] };
  }
  return {
    line: `${name}: unexpected error (a bug; the log has its stack): ${reasonOf(error)}`,
    exitCode: EXIT_CODES.BUG,
  };
}

/**
 * Runs a worker to its end and exits the process with the code of how it ended: OK, CONFIGURATION
 * (nothing was touched), DEPENDENCY_UNAVAILABLE, CONFLICT, CHECK_FAILED, BUG (logged with its
 * stack), or INTERRUPTED after a second signal.
 */
export async function runWorker<Config>(
  definition: WorkerDefinition<Config>,
  options: RunOptions = {},
): Promise<never> {
  const env = options.env ?? process.env;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const logger = createLogger(definition.name, env);
  // Expected failures are written for people on stderr; as JSON logs they are also for machines.
  const jsonLogs = logFormatOf(env, process.stdout.isTTY === true) === "json";

  const fail = (error: unknown): never => {
    const { line, exitCode } = describeFailure(definition.name, error);
    if (exitCode === EXIT_CODES.BUG) logger.fatal({ err: error }, `unexpected error: ${reasonOf(error)}`);
    else if (jsonLogs) logger.error({ code: (error as WorkerError | ConfigError).code }, line);
    process.stderr.write(`${line}\n`);
    return exit(exitCode);
  };

  let config: Config;
  try {
    const problems: ConfigProblem[] = [];
    const commandLine = readCommandLine(options.argv ?? process.argv.slice(2), definition.settings, problems);
    if (commandLine.help) {
      process.stdout.write(`${workerHelp(definition as WorkerDefinition<unknown>)}\n`);
      return exit(EXIT_CODES.OK);
    }
    config = definition.configure({ env, commandLine, problems });
    if (problems.length > 0) throw new ConfigError(problems);
  } catch (error) {
    return fail(error);
  }

  const stop = new AbortController();
  const shutdownTimeoutMs = definition.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stop.signal.aborted) {
      logger.warn({ signal }, "second stop signal: exiting without waiting for the work in flight");
      exit(EXIT_CODES.INTERRUPTED);
    }
    logger.info({ signal }, `${signal}: stopping; finishing the work in flight`);
    stop.abort(new Error(`stopped by ${signal}`));
    setTimeout(() => {
      logger.fatal(
        { shutdownTimeoutMs },
        `could not stop within ${shutdownTimeoutMs} ms of ${signal}; exiting`,
      );
      exit(EXIT_CODES.BUG);
    }, shutdownTimeoutMs).unref();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const onUncaught = (error: unknown) => {
    if (definition.survivable?.(error, logger)) return;
    logger.fatal({ err: error }, `uncaught error: ${reasonOf(error)}`);
    exit(EXIT_CODES.BUG);
  };
  process.on("uncaughtException", onUncaught);
  process.on("unhandledRejection", onUncaught);

  // A run waiting only for a signal holds no socket or timer, and Node would end the process
  // under it ("unsettled top-level await", exit 13); this keeps it alive until the run ends.
  const alive = setInterval(() => {}, 2 ** 30);
  try {
    const ending = await definition.run(config, { logger, signal: stop.signal });
    return exit(EXIT_CODES[ending ?? "OK"]);
  } catch (error) {
    return fail(error);
  } finally {
    clearInterval(alive);
  }
}
