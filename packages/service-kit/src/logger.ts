import { type Logger, pino } from "pino";

export type { Logger } from "pino";

/**
 * One structured JSON logger per worker, named after it, so every line says who wrote it.
 * The level comes from LOG_LEVEL (default "info"); pino writes to stdout, the usual place for a
 * process supervisor to collect it.
 */
export function createLogger(
  name: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Logger {
  return pino({ name, level: env.LOG_LEVEL?.trim() || "info" });
}
