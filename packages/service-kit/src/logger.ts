import { type Logger, pino } from "pino";

export type { Logger } from "pino";

/** Keys whose values are secrets wherever they appear in a logged object. */
const SECRET_KEY = /^(pass|password|secret|token|sasl)$|password$|secret$/i;
/** user:password@ in any URL-looking string. */
const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/[^:@/\s]*:)[^@/\s]+@/gi;
const MAX_DEPTH = 8;

/** A URL or text with every embedded URL's password masked. */
export function maskUrlPasswords(text: string): string {
  return text.replace(URL_CREDENTIALS, "$1***@");
}

/**
 * A copy of a log object with secrets replaced: values under secret-looking keys, and passwords
 * inside URLs. Copies instead of pino's `redact`, which writes into the logged object and throws
 * on our frozen settings. Errors and other class instances pass untouched to pino's serializers.
 */
export function redactSecrets(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return maskUrlPasswords(value);
  if (depth >= MAX_DEPTH || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((item) => redactSecrets(item, depth + 1));
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    copy[key] = SECRET_KEY.test(key) ? "[redacted]" : redactSecrets(inner, depth + 1);
  }
  return copy;
}

/**
 * One structured JSON logger per worker, named after it, so every line says who wrote it.
 * The level comes from LOG_LEVEL (default "info"); pino writes to stdout, the usual place for a
 * process supervisor to collect it. Secrets never reach the output (redactSecrets), as a backstop:
 * code does not log settings objects in the first place.
 */
export function createLogger(
  name: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
  destination?: pino.DestinationStream,
): Logger {
  const options: pino.LoggerOptions = {
    name,
    level: env.LOG_LEVEL?.trim() || "info",
    formatters: { log: (object) => redactSecrets(object) as Record<string, unknown> },
    hooks: {
      logMethod(args, method) {
        method.apply(
          this,
          args.map((arg) => (typeof arg === "string" ? maskUrlPasswords(arg) : arg)) as Parameters<
            typeof method
          >,
        );
      },
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
