import { type PostgresConnection, postgresOptions, redactUrl } from "@weather/service-kit";
import postgres, { type Sql } from "postgres";

/**
 * The dashboard's PostgreSQL pool. Every session is read-only (default_transaction_read_only),
 * whatever role DATABASE_URL names: a second line behind the read-only role bootstrap creates.
 * postgres.js reconnects by itself on the next query once the server is back, so an outage costs
 * failed refreshes, never the process. statement_timeout bounds a query the server is stuck on.
 */
export function openReadOnlyPool(connection: PostgresConnection, statementTimeoutMs: number): Sql {
  return postgres(connection.url, {
    ...postgresOptions(connection),
    // Four sources refresh independently; two connections keep them from queueing behind the slow 7-day one.
    max: 3,
    connect_timeout: Math.max(1, Math.ceil(statementTimeoutMs / 1000)),
    idle_timeout: 60,
    onnotice: () => {},
    connection: {
      application_name: "dashboard",
      default_transaction_read_only: true,
      statement_timeout: statementTimeoutMs,
    },
  });
}

const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENOTFOUND",
  "EPIPE",
  "CONNECT_TIMEOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  // admin_shutdown, crash_shutdown, cannot_connect_now: the server is going down or starting.
  "57P01",
  "57P02",
  "57P03",
]);

/** One line for the page and the log: what failed, where, and what to do about it. */
export function describeDatabaseError(error: unknown, databaseUrl: string): string {
  const where = redactUrl(databaseUrl);
  const code = String((error as { code?: unknown }).code ?? "");
  const message = error instanceof Error ? error.message : String(error);
  const url = new URL(databaseUrl);
  const role = decodeURIComponent(url.username) || "(the default user)";
  if (CONNECTION_CODES.has(code)) {
    return `cannot reach PostgreSQL at ${url.host} (${code}: ${message}); is it up? locally: pnpm stack up`;
  }
  switch (code) {
    case "28000":
    case "28P01":
      return `PostgreSQL refused role ${role} at ${where} (${message}); run bootstrap, which creates the read-only role (READER_DB_ROLE), and check DATABASE_PASSWORD`;
    case "3D000":
      return `database ${url.pathname.slice(1)} does not exist at ${url.host}; run bootstrap: pnpm --filter bootstrap start`;
    case "42P01":
      return `the readings tables do not exist in ${where}; run bootstrap: pnpm --filter bootstrap start`;
    case "42501":
      return `role ${role} may not read the readings (${message}); run bootstrap again, it grants the read-only role every city table`;
    case "57014":
      return `a query took longer than DASHBOARD_SOURCE_TIMEOUT_MS and was cancelled at ${url.host} (${message})`;
    default:
      return `PostgreSQL at ${url.host} failed: ${code ? `${code} ` : ""}${message}`;
  }
}

/** True when `error` means the server or the network is away, not that a query is wrong. */
export function isDatabaseConnectionError(error: unknown): boolean {
  return CONNECTION_CODES.has(String((error as { code?: unknown }).code ?? ""));
}
