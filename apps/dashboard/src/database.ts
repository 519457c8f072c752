import { classifyFailure, type PostgresConnection, postgresOptions, redactUrl } from "@weather/service-kit";
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

/** query_canceled: here, a query that ran into the session's statement_timeout. */
const QUERY_CANCELED = "57014";

/** One line for the page and the log: what failed, where, and what to do about it. */
export function describeDatabaseError(error: unknown, databaseUrl: string): string {
  const url = new URL(databaseUrl);
  const where = redactUrl(databaseUrl);
  const failure = classifyFailure("PostgreSQL", error);
  const message = error instanceof Error ? error.message : String(error);
  const detail = failure.code === undefined ? message : `${failure.code}: ${message}`;
  switch (failure.kind) {
    case "outage":
      return failure.code === QUERY_CANCELED
        ? `a query took longer than DASHBOARD_SOURCE_TIMEOUT_MS and was cancelled at ${url.host} (${message})`
        : `cannot reach PostgreSQL at ${url.host} (${detail}); ${failure.hint}`;
    case "refused": {
      const role = decodeURIComponent(url.username) || "(the default user)";
      return `PostgreSQL refused role ${role} at ${where} (${detail}); ${failure.hint}; bootstrap creates the dashboard's read-only role (READER_DB_ROLE) and grants it every city table`;
    }
    case "missing":
      return `PostgreSQL at ${where} is not ready for the dashboard (${detail}); ${failure.hint}`;
    case "other":
      return `PostgreSQL at ${url.host} failed: ${detail}`;
  }
}
