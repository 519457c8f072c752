import { classifyFailure } from "@weather/service-kit";

/**
 * The database failures the sink waits out, retrying the chunk unchanged: outages (see
 * classifyFailure), and what bootstrap has not created yet: the database, the tables, or a
 * month's partition (also one dropped between the sink's look and its insert; the retry looks
 * again). A refusal or anything else fails the run.
 */
export function isTransientDatabaseError(error: unknown): boolean {
  const { kind } = classifyFailure("PostgreSQL", error);
  return kind === "outage" || kind === "missing";
}
