import { createKafka, createRegistryClient, type Logger, postgresOptions } from "@weather/service-kit";
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
  const { bootstrap } = config;
  const pg = postgresOptions(config.postgres);
  await waitForServices(
    [kafkaProbe(config.kafka), registryProbe(config.registry), postgresProbe(config.postgres.url, pg)],
    { waitMs: bootstrap.waitMs, log },
  );

  const database = await prepareProductDatabase(
    config.postgres.url,
    config.catalog.cities,
    { sink: bootstrap.sinkRole, reader: bootstrap.readerRole },
    pg,
    config.partitions.window,
  );
  log.info({ step: "database", ...database }, "database ready");

  const kafka = createKafka(config.kafka, { clientId: "bootstrap", logger: log });
  const admin = kafka.admin();
  let topics: BootstrapOutcome["topics"];
  try {
    await admin.connect();
    topics = await ensureTopics(admin, topicSpecsOf(config));
  } catch (error) {
    if (error instanceof BootstrapError) throw error;
    throw new BootstrapError(
      "cannot create topics",
      config.kafka.brokers.join(","),
      error,
      "check KAFKA_BROKERS and the broker log",
    );
  } finally {
    await admin.disconnect();
  }
  log.info({ step: "topics", topics }, "topics ready");

  const schemas = await registerSchemas(createRegistryClient(config.registry), config.topics.readings);
  log.info({ step: "schemas", ...schemas }, "schemas ready");

  return { database, topics, schemas };
}
