/**
 * The one life cycle every worker shares: read the settings (or print --help), run, stop on
 * SIGINT/SIGTERM, and end with an exit code from the one table (errors.ts). A worker's main.ts
 * only hands its definition to runWorker; the work lives in the worker's own modules.
 */

import {
  ConfigError,
  type ConfigOf,
  type ConfigurationRead,
  type Env,
  helpText,
  readConfiguration,
  type Settings,
  type SettingsGroup,
  type SettingsGroups,
  type WorkerSettings,
} from "@weather/settings";
import type { Logger } from "pino";
import { EXIT_CODES, type ExitCodeName, reasonOf, WorkerError } from "./errors.ts";
import { createLogger, type LoggingSettings } from "./logger.ts";

export interface WorkerContext {
  readonly logger: Logger;
  /**
   * Aborted by the first SIGINT or SIGTERM: take no new work, and finish or hand back what is in
   * flight. Its reason names the signal.
   */
  readonly signal: AbortSignal;
}

/** The groups of a worker: any it reads, and the logging group (LOGGING), which runWorker reads too. */
export type WorkerGroups = SettingsGroups & { readonly logging: SettingsGroup<Settings, LoggingSettings> };

/**
 * A worker: what it reads (its settings groups, which are also its --help and its README's
 * table) and what it does with the configuration read from them.
 */
export interface WorkerDefinition<G extends WorkerGroups> extends WorkerSettings<G> {
  /** The work; resolves once done or stopped, with how the process should end (default OK). */
  run(config: ConfigOf<G>, context: WorkerContext): Promise<ExitCodeName | undefined>;
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
export async function runWorker<G extends WorkerGroups>(
  definition: WorkerDefinition<G>,
  options: RunOptions = {},
): Promise<never> {
  const env = options.env ?? process.env;
  const exit = options.exit ?? ((code: number) => process.exit(code));

  const fail = (logger: Logger, jsonLogs: boolean, error: unknown): never => {
    const { line, exitCode } = describeFailure(definition.name, error);
    if (exitCode === EXIT_CODES.BUG) logger.fatal({ err: error }, `unexpected error: ${reasonOf(error)}`);
    else if (jsonLogs) logger.error({ code: (error as WorkerError | ConfigError).code }, line);
    process.stderr.write(`${line}\n`);
    return exit(exitCode);
  };

  let read: ConfigurationRead<G>;
  try {
    read = readConfiguration(definition, { env, argv: options.argv ?? process.argv.slice(2) });
  } catch (error) {
    return fail(createLogger(definition.name), false, error);
  }
  // The logger is made from the logging group; its defaults serve only to report that the
  // logging settings themselves (or others) are wrong.
  const logging: Partial<LoggingSettings> = read.values.logging ?? {};
  const logger = createLogger(definition.name, logging);
  // Expected failures are written for people on stderr; as JSON logs they are also for machines.
  const jsonLogs = logging.format === "json";
  if (read.help) {
    process.stdout.write(`${helpText(definition)}\n`);
    return exit(EXIT_CODES.OK);
  }
  if (read.problems.length > 0) return fail(logger, jsonLogs, new ConfigError(read.problems));
  const config = read.values as ConfigOf<G>;

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
    return fail(logger, jsonLogs, error);
  } finally {
    clearInterval(alive);
  }
}
