import { SchemaRegistry } from "@kafkajs/confluent-schema-registry";
import { createKafka, type Logger, postgresOptions } from "@weather/service-kit";
import type { BootstrapConfig } from "./config.ts";
import { prepareProductDatabase } from "./database.ts";
import { ensureTopics, topicSpecsOf } from "./ensure-topics.ts";
import { BootstrapError } from "./errors.ts";
import type { BootstrapOutcome } from "./outcome.ts";
import { registerSchemas } from "./schemas.ts";
import { kafkaProbe, postgresProbe, registryProbe, waitForServices } from "./wait-for-services.ts";

/**
 * Makes an environment ready: waits for the services, then the database, the topics and the
 * schemas, in that order. Each step is idempotent; the outcome says what was created and found.
 * @throws BootstrapError when a service is unreachable or refuses a step.
 */
export async function runBootstrap(config: BootstrapConfig, log: Logger): Promise<BootstrapOutcome> {
  const { kafkaBrokers, schemaRegistryUrl, databaseUrl } = config.connections;
  const pg = postgresOptions(config.connections);
  await waitForServices(
    [kafkaProbe(config.connections), registryProbe(schemaRegistryUrl), postgresProbe(databaseUrl, pg)],
    { waitMs: config.waitMs, log },
  );

  const database = await prepareProductDatabase(
    databaseUrl,
    config.cities,
    { sink: config.sinkRole, reader: config.readerRole },
    pg,
    config.months,
  );
  log.info({ step: "database", ...database }, "database ready");

  const kafka = createKafka(config.connections, { clientId: "bootstrap", logger: log });
  const admin = kafka.admin();
  let topics: BootstrapOutcome["topics"];
  try {
    await admin.connect();
    topics = await ensureTopics(admin, topicSpecsOf(config));
  } catch (error) {
    if (error instanceof BootstrapError) throw error;
    throw new BootstrapError(
      "cannot create topics",
      kafkaBrokers.join(","),
      error,
      "check KAFKA_BROKERS and the broker log",
    );
  } finally {
    await admin.disconnect();
  }
  log.info({ step: "topics", topics }, "topics ready");

  const registry = new SchemaRegistry({ host: schemaRegistryUrl });
  const schemas = await registerSchemas(registry, schemaRegistryUrl, config.readingsTopic);
  log.info({ step: "schemas", ...schemas }, "schemas ready");

  return { database, topics, schemas };
}
