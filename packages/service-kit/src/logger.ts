import { defineSettingsGroup, setting } from "@weather/settings";
import { type Logger, pino } from "pino";
import pretty from "pino-pretty";
import { z } from "zod";

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

const LOG_FORMATS = ["json", "pretty"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The logging group's value: how a worker logs. */
export interface LoggingSettings {
  readonly level: LogLevel;
  readonly format: LogFormat;
}

/** The format when LOG_FORMAT does not say: people read terminals, machines read everything else. */
function defaultLogFormat(): LogFormat {
  return process.stdout.isTTY === true ? "pretty" : "json";
}

/** How every worker logs; runWorker reads it like any other group and makes the logger from it. */
export const LOGGING = defineSettingsGroup({
  title: "Logging",
  settings: {
    level: setting({
      env: "LOG_LEVEL",
      description: `least severe level logged: ${LOG_LEVELS.join(", ")}`,
      default: "info",
      schema: z
        .string()
        .trim()
        .toLowerCase()
        .pipe(z.enum(LOG_LEVELS, { error: `expected one of ${LOG_LEVELS.join(", ")}` })),
    }),
    format: setting({
      env: "LOG_FORMAT",
      description:
        "json: one JSON object per line, for log collectors; pretty: one readable, coloured line per event, for people",
      defaultText: "pretty on a terminal, json otherwise",
      schema: z
        .string()
        .trim()
        .toLowerCase()
        .pipe(z.enum(LOG_FORMATS, { error: "expected json or pretty" })),
    }),
  },
  read: ({ level, format }): LoggingSettings =>
    Object.freeze({ level, format: format ?? defaultLogFormat() }),
});

/**
 * One structured logger per worker, named after it, so every line says who wrote it. JSON to
 * stdout (the usual place for a process supervisor to collect it), or, on a terminal or with
 * LOG_FORMAT=pretty, one readable line per event (pino-pretty, written synchronously so the last
 * line before an exit is never lost). Unset, the level is "info" and the format the terminal's
 * (see LOGGING). Secrets
 * never reach the output (redactSecrets), as a backstop: code does not log settings objects in
 * the first place.
 */
export function createLogger(
  name: string,
  logging: Partial<LoggingSettings> = {},
  destination?: pino.DestinationStream,
): Logger {
  const options: pino.LoggerOptions = {
    name,
    level: logging.level ?? "info",
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
  if (destination) return pino(options, destination);
  if ((logging.format ?? defaultLogFormat()) === "json") return pino(options);
  return pino(
    options,
    pretty({
      sync: true,
      colorize: process.stdout.isTTY === true,
      translateTime: "HH:MM:ss.l",
      ignore: "pid,hostname",
      singleLine: true,
    }),
  );
}
