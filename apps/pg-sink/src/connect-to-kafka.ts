import { DependencyUnavailableError } from "@weather/service-kit";

/**
 * Connects one of the sink's Kafka clients (producer, admin, consumer). A connection that fails at
 * start ends the run as DEPENDENCY_UNAVAILABLE, saying where.
 */
export async function connectToKafka<Client extends { connect(): Promise<void> }>(
  client: Client,
  brokers: readonly string[],
): Promise<Client> {
  try {
    await client.connect();
    return client;
  } catch (error) {
    const address = brokers.join(",");
    throw new DependencyUnavailableError(
      "Kafka",
      error,
      `cannot connect to Kafka at ${address}; is the stack up? run: pnpm stack up`,
    );
  }
}
