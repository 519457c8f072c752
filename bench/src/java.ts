import { ensureKafkaJars, findJava, KAFKA_MIN_JAVA, stackPaths } from "@weather/infra";

export interface KafkaTools {
  readonly java: string;
  /** The classpath of the stack's Kafka distribution, kafka-tools included. */
  readonly classpath: string;
}

/**
 * The Java and jars the stack runs Kafka with, which also hold ProducerPerformance. The jars come
 * from the stack's download cache, fetched now if this checkout never started Kafka itself.
 */
export async function findKafkaTools(log: (message: string) => void): Promise<KafkaTools> {
  const java = findJava(KAFKA_MIN_JAVA, "KAFKA_JAVA_HOME");
  if ("problem" in java) throw new Error(`ProducerPerformance ${java.problem}`);
  const libDir = await ensureKafkaJars(stackPaths(), log);
  return { java: java.runtime.executable, classpath: `${libDir}/*` };
}
