import { join } from "node:path";
import { DEPENDENCY_PLUGIN, downloadOnce } from "./maven.ts";
import type { StackPaths } from "./paths.ts";
import { KAFKA_POM, kafkaVersion } from "./versions.ts";

/** Where the stack keeps Kafka's jars. */
export function kafkaLibDir(paths: StackPaths): string {
  return join(paths.downloads, "kafka", "lib");
}

/**
 * Kafka's jars (broker, tools such as ProducerPerformance, logging), fetched once from Maven
 * Central into the stack's download cache, wherever the running broker came from: the bench
 * needs them too when another checkout's stack runs Kafka.
 * @returns the folder holding them, for a `-cp <folder>/*` classpath.
 */
export async function ensureKafkaJars(paths: StackPaths, log: (message: string) => void): Promise<string> {
  const version = kafkaVersion();
  const libDir = kafkaLibDir(paths);
  await downloadOnce({
    service: "kafka",
    targetDir: libDir,
    version: `kafka ${version}`,
    proof: `kafka_2.13-${version}.jar`,
    mavenArgs: [
      "-q",
      "-f",
      KAFKA_POM,
      `${DEPENDENCY_PLUGIN}:copy-dependencies`,
      `-DoutputDirectory=${libDir}`,
    ],
    logFile: join(paths.logs, "kafka-download.log"),
    log,
  });
  return libDir;
}
