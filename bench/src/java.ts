import { existsSync } from "node:fs";
import { join } from "node:path";
// The stack's manager owns where the Kafka jars live and which Java runs them; infra has no
// exports map (it is no package), so its modules are imported by path rather than copied.
import { findJava, KAFKA_MIN_JAVA, stackPaths } from "@weather/infra";

export interface KafkaTools {
  readonly java: string;
  /** The classpath of the stack's Kafka distribution, kafka-tools included. */
  readonly classpath: string;
}

/** The Java and jars the stack runs Kafka with, which also hold ProducerPerformance. */
export function findKafkaTools(): KafkaTools {
  const java = findJava(KAFKA_MIN_JAVA, "KAFKA_JAVA_HOME");
  if ("problem" in java) throw new Error(`ProducerPerformance ${java.problem}`);
  const libDir = join(stackPaths().downloads, "kafka", "lib");
  if (!existsSync(libDir))
    throw new Error(`no Kafka jars in ${libDir}; the stack downloads them: run pnpm stack up`);
  return { java: java.runtime.executable, classpath: `${libDir}/*` };
}
