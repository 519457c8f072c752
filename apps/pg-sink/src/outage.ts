// What the sink waits out while a dependency is down: the shared outage error, re-exported here
// next to the sink's own rule for which database errors are outages.
export { type Dependency, DependencyUnavailableError } from "@weather/service-kit";

/** Node and postgres.js error codes of a connection that failed or broke. */
const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
]);

/**
 * SQLSTATE classes and codes worth waiting out: connection exceptions (08), transaction rollbacks
 * such as serialization failures and deadlocks (40), insufficient resources (53), operator
 * intervention such as pg_terminate_backend or a restart (57), system errors (58), a database not
 * created yet (3D000), tables not migrated yet (42P01), and a row with no partition (23514), which
 * happens when a partition is dropped between the sink's look and its insert; the retry looks again.
 */
const TRANSIENT_SQLSTATE_CLASSES = new Set(["08", "40", "53", "57", "58"]);
const TRANSIENT_SQLSTATES = new Set(["3D000", "42P01", "23514"]);

export function isTransientDatabaseError(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code !== "string") return false;
  if (CONNECTION_CODES.has(code)) return true;
  return (
    /^[0-9A-Z]{5}$/.test(code) &&
    (TRANSIENT_SQLSTATE_CLASSES.has(code.slice(0, 2)) || TRANSIENT_SQLSTATES.has(code))
  );
}
