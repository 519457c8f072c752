import { isDatabaseConnectionError } from "./database.ts";

/**
 * Errors a client library may raise outside any call of ours while a service is away: a
 * postgres.js connection failing between queries, a kafkajs connection or retry error. The
 * sources that use those clients see the outage on their next refresh and show it.
 */
export function isSurvivable(error: unknown): boolean {
  if (isDatabaseConnectionError(error)) return true;
  const name = (error as { name?: unknown }).name;
  return (
    typeof name === "string" &&
    /^KafkaJS(Connection|NumberOfRetriesExceeded|Request|Timeout|BrokerNotFound|Protocol)/.test(name)
  );
}
