import { readFileSync } from "node:fs";
import { join } from "node:path";
import { INFRA_DIR } from "./paths.ts";

/** The pom that declares the Kafka broker's jars; docker-compose.yml must name the same version. */
export const KAFKA_POM = join(INFRA_DIR, "kafka", "pom.xml");

export function kafkaVersion(): string {
  const match = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(readFileSync(KAFKA_POM, "utf8"));
  if (!match?.[1]) throw new Error(`no <kafka.version> in ${KAFKA_POM}`);
  return match[1];
}

/**
 * Apicurio Registry, fetched as its all-in-one archive. 3.3.x fixed several differences in the
 * Confluent-compatible API; it is built for Java 21. docker-compose.yml must name the same version.
 */
export const APICURIO_VERSION = "3.3.3";
export const APICURIO_MIN_JAVA = 21;
export const KAFKA_MIN_JAVA = 17;
